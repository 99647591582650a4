"""Builders for rotas, shared by the tests and the demo seed."""

from __future__ import annotations

import datetime as dt

from renkei.accounts.models import Membership, Organization, OrgKind, Role
from renkei.oncall import actions
from renkei.oncall.models import DayType, Rota, RotaKind, RotaMember, RotaMonth
from renkei.regions.models import SecondaryArea
from renkei.testing import make_member, make_org

# 医師会 night rotas as they are posted today: weekday and Saturday nights, and Sundays and
# holidays in two halves.
NIGHT_RULES: list[tuple[str, str, str, str]] = [
    (DayType.WEEKDAY, "夜間", "18:00", "09:00"),
    (DayType.SATURDAY, "夜間", "18:00", "09:00"),
    (DayType.HOLIDAY, "日中", "09:00", "18:00"),
    (DayType.HOLIDAY, "夜間", "18:00", "09:00"),
]
HOSPITAL_RULES: list[tuple[str, str, str, str]] = [
    (DayType.WEEKDAY, "夜間・休日", "17:00", "09:00"),
    (DayType.SATURDAY, "夜間・休日", "09:00", "09:00"),
    (DayType.HOLIDAY, "夜間・休日", "09:00", "09:00"),
]


def make_organiser(name: str = "県央医師会", *, username: str | None = None) -> Membership:
    org = make_org(name, OrgKind.MEDICAL_ASSOCIATION, municipality_code="142123")
    return make_member(org, Role.DOCTOR, username=username or f"{org.pk}-organiser")


def make_clinic(name: str, municipality_code: str = "142123", **extra: str) -> Organization:
    return make_org(name, OrgKind.CLINIC, municipality_code=municipality_code, **extra)


def make_rota(
    organiser: Membership,
    clinics: list[Organization],
    *,
    name: str = "県央地区 夜間・休日当番",
    kind: str = RotaKind.NIGHT_HOLIDAY,
    area: str = "県央",
    rules: list[tuple[str, str, str, str]] | None = None,
    swap_freely: bool = False,
    phones: list[str] | None = None,
) -> Rota:
    """A rota of `clinics` (phones 046-200-0001, …) over a 二次医療圏, through the actions."""
    area_id = SecondaryArea.objects.get(prefecture__code="14", name=area).pk if area else None
    rota = actions.save_rota(
        by=organiser,
        data=actions.RotaInput(
            name=name, kind=kind, area_id=area_id, members_swap_freely=swap_freely
        ),
    )
    for i, clinic in enumerate(clinics):
        phone = phones[i] if phones else f"046-200-{i + 1:04d}"
        actions.add_member(
            rota,
            by=organiser,
            data=actions.MemberInput(organization=clinic.code, phone=phone, sort_order=i + 1),
        )
    for day_type, label, start, end in rules or NIGHT_RULES:
        actions.add_rule(
            rota,
            by=organiser,
            data=actions.RuleInput(
                day_type=day_type,
                label=label,
                start=dt.time.fromisoformat(start),
                end=dt.time.fromisoformat(end),
            ),
        )
    return rota


def publish(rota: Rota, organiser: Membership, month: str) -> RotaMonth:
    data = actions.MonthInput(month=month)
    actions.generate_month(rota, by=organiser, data=data)
    return actions.publish_month(rota, by=organiser, data=data)


def member_of(rota: Rota, org: Organization) -> RotaMember:
    return rota.members.get(organization=org)
