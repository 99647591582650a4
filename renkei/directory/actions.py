"""Workflows that change facilities: audited, transactional, optimistic-locked."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from pydantic import Field
from pydantic.json_schema import WithJsonSchema

from renkei.accounts.models import AuditEntry, Membership
from renkei.directory.models import Capability, Facility, VacancyReport, VacancyStatus
from renkei.lib.actions import ActionError, StaleVersion, bump_version, full_clean
from renkei.lib.inputs import Input
from renkei.regions.models import Municipality

__all__ = [
    "VacancyConfirmInput",
    "StaleVersion",
    "VacancyInput",
    "confirm_vacancy",
    "update_vacancy",
]

REPORTABLE = [s.value for s in VacancyStatus if s != VacancyStatus.UNKNOWN]

FACILITY_STALE = (
    "他の方が先にこの施設の情報を更新しました。最新の内容を確認してから、もう一度保存してください。"
)


def _bump_version(facility: Facility, expected: int | None) -> None:
    bump_version(facility, expected, message=FACILITY_STALE)


class VacancyInput(Input):
    """What a facility reports about its places; the screen's form and the API's body."""

    # 「未登録」 is what a facility that never reported shows, not a report (the action refuses
    # it with its message); the schema lists the three a report can say.
    status: Annotated[
        VacancyStatus,
        WithJsonSchema({"type": "string", "enum": REPORTABLE, "title": "空き状況"}),
    ] = Field(..., description="空き状況（unknown は指定できません）")
    count: int | None = Field(None, ge=0, le=9999, description="空き数（床・人）")
    note: str = Field("", max_length=300, description="補足")
    version: int | None = Field(
        None, description="楽観的ロック: 読み込んだ時点の version。異なれば409"
    )


@transaction.atomic
def update_vacancy(
    facility: Facility,
    *,
    by: Membership,
    data: VacancyInput,
    request: HttpRequest | None = None,
) -> Facility:
    """Record the facility's vacancy: a history row, fresh confirmation time, audit entry."""
    if data.status == VacancyStatus.UNKNOWN:
        raise ActionError("空き状況に「未登録」は指定できません", field="status")
    if data.status == VacancyStatus.NONE and data.count:
        raise ActionError("満床の場合は空き数を0にするか空欄にしてください", field="count")
    status, count, note = data.status.value, data.count, data.note
    _bump_version(facility, data.version)
    now = timezone.now()
    before = {"status": facility.vacancy_status, "count": facility.vacancy_count}
    facility.vacancy_status = status
    facility.vacancy_count = count
    facility.vacancy_note = note
    facility.vacancy_confirmed_at = now
    facility.vacancy_confirmed_by = by.user
    facility.save(
        update_fields=[
            "vacancy_status",
            "vacancy_count",
            "vacancy_note",
            "vacancy_confirmed_at",
            "vacancy_confirmed_by",
            "updated_at",
        ]
    )
    VacancyReport.objects.create(
        facility=facility,
        status=status,
        count=count,
        note=note,
        reported_by=by.user,
        reported_at=now,
    )
    AuditEntry.record(
        "directory.vacancy_updated",
        request=request,
        by=by,
        target=facility,
        detail={"before": before, "after": {"status": status, "count": count}},
    )
    return facility


class VacancyConfirmInput(Input):
    """「変わりなし」: the vacancy as last reported still holds."""

    version: int | None = Field(
        None, description="楽観的ロック: 読み込んだ時点の version。異なれば409"
    )


@transaction.atomic
def confirm_vacancy(
    facility: Facility,
    *,
    by: Membership,
    data: VacancyConfirmInput,
    request: HttpRequest | None = None,
) -> Facility:
    """「変わりなし」 in one tap: the reported vacancy is confirmed as it stands, so its
    freshness is renewed (confirmation time and person, a history row, an audit entry)."""
    if facility.vacancy_status == VacancyStatus.UNKNOWN:
        raise ActionError(
            "空き状況が未登録のため「変わりなし」にできません。空き状況を選んで更新してください",
            field="status",
        )
    _bump_version(facility, data.version)
    now = timezone.now()
    previous = facility.vacancy_confirmed_at
    facility.vacancy_confirmed_at = now
    facility.vacancy_confirmed_by = by.user
    facility.save(update_fields=["vacancy_confirmed_at", "vacancy_confirmed_by", "updated_at"])
    VacancyReport.objects.create(
        facility=facility,
        status=facility.vacancy_status,
        count=facility.vacancy_count,
        note=facility.vacancy_note,
        reported_by=by.user,
        reported_at=now,
    )
    AuditEntry.record(
        "directory.vacancy_confirmed",
        request=request,
        by=by,
        target=facility,
        detail={
            "status": facility.vacancy_status,
            "count": facility.vacancy_count,
            "previously_confirmed_at": previous.isoformat() if previous else None,
        },
    )
    return facility


@transaction.atomic
def update_facility(
    facility: Facility,
    *,
    by: Membership,
    changes: dict[str, Any],
    capabilities: Iterable[Capability] | None = None,
    service_municipalities: Iterable[Municipality] | None = None,
    expected_version: int | None = None,
    request: HttpRequest | None = None,
) -> Facility:
    """Apply a validated form: plain field changes plus the two many-to-many sets."""
    _bump_version(facility, expected_version)
    diff: dict[str, Any] = {}
    for name, value in changes.items():
        old = getattr(facility, name)
        if old != value:
            diff[name] = {"before": _jsonable(old), "after": _jsonable(value)}
            setattr(facility, name, value)
    now = timezone.now()
    facility.info_updated_at = now
    facility.info_updated_by = by.user
    full_clean(facility, exclude=["capabilities", "service_municipalities"], validate_unique=False)
    facility.save()
    if capabilities is not None:
        caps = list(capabilities)
        before = sorted(facility.capabilities.values_list("code", flat=True))
        after = sorted(c.code for c in caps)
        if before != after:
            diff["capabilities"] = {"before": before, "after": after}
        facility.set_capabilities(caps)
    if service_municipalities is not None:
        munis = list(service_municipalities)
        before = sorted(facility.service_municipalities.values_list("code", flat=True))
        after = sorted(m.code for m in munis)
        if before != after:
            diff["service_municipalities"] = {"before": before, "after": after}
        facility.service_municipalities.set(munis)
    AuditEntry.record(
        "directory.facility_updated",
        request=request,
        by=by,
        target=facility,
        detail=diff,
    )
    return facility


def capabilities_of(codes: Iterable[str]) -> list[Capability]:
    """The capabilities named by these codes; an unknown code is refused, by name."""
    wanted = list(codes)
    found = list(Capability.objects.filter(code__in=wanted))
    missing = sorted(set(wanted) - {c.code for c in found})
    if missing:
        raise ActionError(f"処置項目が見つかりません: {', '.join(missing)}", field="capabilities")
    return found


def municipalities_of(codes: Iterable[str]) -> list[Municipality]:
    """The municipalities of these codes, for a service area; an unknown code is refused."""
    wanted = set(codes)
    found = list(Municipality.objects.filter(code__in=wanted))
    if len(found) != len(wanted):
        raise ActionError(
            "サービス提供地域に存在しない市区町村コードがあります", field="service_municipalities"
        )
    return found


@transaction.atomic
def create_facility(
    *,
    by: Membership,
    fields: dict[str, Any],
    capabilities: Iterable[Capability] = (),
    request: HttpRequest | None = None,
) -> Facility:
    """A facility added by hand by a curator (not in the open data, e.g. 住宅型有料老人ホーム)."""
    facility = Facility(**fields, source="manual", organization=None)
    if facility.lat is None and facility.municipality_id:
        # No geocoder offline: the municipality's office point stands in until someone corrects it.
        point = facility.municipality.point()
        if point:
            facility.lat, facility.lng = point
    facility.info_updated_at = timezone.now()
    facility.info_updated_by = by.user
    facility.full_clean(exclude=["capabilities", "service_municipalities"])
    facility.save()
    facility.set_capabilities(capabilities)
    AuditEntry.record(
        "directory.facility_created",
        request=request,
        by=by,
        target=facility,
        detail={k: _jsonable(v) for k, v in fields.items()},
    )
    return facility


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
