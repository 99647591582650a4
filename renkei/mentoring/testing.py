"""Deterministic builders for 同行研修, shared by tests and the demo seed (synthetic people only)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from renkei.accounts.models import Membership, Organization, OrgKind, Role
from renkei.mentoring import actions
from renkei.mentoring.models import (
    Mentor,
    Profession,
    TraineeApplication,
    TrainingProgram,
    weekday_mask,
)
from renkei.regions.models import Municipality
from renkei.testing import make_member, make_org


def make_program(
    organizer: Organization | None = None,
    *,
    fiscal_year: int = 2025,
    planned_count: int = 10,
    honorarium_amount: int = 20_000,
    is_open: bool = True,
) -> TrainingProgram:
    organizer = organizer or make_org(
        "横須賀市 地域医療推進課", OrgKind.MUNICIPALITY, municipality_code="142018"
    )
    return TrainingProgram.objects.create(
        organizer=organizer,
        co_organizer="横須賀市医師会",
        fiscal_year=fiscal_year,
        planned_count=planned_count,
        honorarium_amount=honorarium_amount,
        is_open=is_open,
        contact="地域医療推進課 046-000-0000",
    )


def make_mentor(
    office: Organization,
    name: str = "指導 一郎（仮名）",
    *,
    kana: str = "しどう いちろう",
    affiliation: str = "見本在宅クリニック（仮名）",
    email: str = "",
    area_codes: Iterable[str] = ("142018",),
    weekdays: Iterable[int] = (1, 3),
    recommended: bool = True,
    is_active: bool = True,
) -> Mentor:
    mentor = Mentor.objects.create(
        office=office,
        name=name,
        kana=kana,
        affiliation=affiliation,
        email=email or f"mentor{Mentor.objects.count() + 1}@example.jp",
        recommended=recommended,
        recommended_on=dt.date(2025, 4, 1) if recommended else None,
        weekdays=weekday_mask(list(weekdays)),
        is_active=is_active,
    )
    mentor.areas.set(Municipality.objects.filter(code__in=list(area_codes)))
    return mentor


def make_application(
    program: TrainingProgram,
    name: str = "受講 花子（仮名）",
    *,
    kana: str = "じゅこう はなこ",
    email: str = "trainee@example.jp",
    profession: str = Profession.CLINIC_NEW,
    area_codes: Iterable[str] = ("142018",),
    weekdays: Iterable[int] = (1,),
    today: dt.date | None = None,
    by: Membership | None = None,
) -> TraineeApplication:
    return actions.apply(
        program,
        fields={
            "trainee_name": name,
            "trainee_kana": kana,
            "profession": profession,
            "affiliation": "見本診療所（仮名）",
            "email": email,
            "phone": "046-000-0001",
            "preferred_weekdays": weekday_mask(list(weekdays)),
            "preferred_dates": "平日の午後",
            "motivation": "在宅医療を始めるにあたり、現場を見て学びたい。",
        },
        areas=Municipality.objects.filter(code__in=list(area_codes)),
        by=by,
        today=today,
    )


def make_office_member(program: TrainingProgram, username: str = "office") -> Membership:
    return make_member(
        program.organizer, Role.MUNICIPAL_OFFICER, username=username, is_org_admin=True
    )
