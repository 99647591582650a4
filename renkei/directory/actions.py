"""Workflows that change facilities: audited, transactional, optimistic-locked."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Any

from django.db import models, transaction
from django.http import HttpRequest
from django.utils import timezone
from pydantic import Field, field_validator
from pydantic.json_schema import WithJsonSchema

from renkei.accounts.models import AuditEntry, Membership
from renkei.directory.models import (
    Capability,
    Facility,
    FacilityKind,
    VacancyReport,
    VacancyStatus,
    phone_validator,
)
from renkei.lib.actions import ActionError, StaleVersion, bump_version, full_clean
from renkei.lib.inputs import CapabilityCode, Input, MunicipalityCode
from renkei.regions.models import Municipality

__all__ = [
    "CuratorInput",
    "ProfileInput",
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


# The facility's own phone numbers as its model checks them, or "" to clear.
PHONE_OR_BLANK = r"^([0-9０-９\-‐ー()（） +]{6,20})?$"


class ProfileInput(Input):
    """What a facility's staff keep up: the edit screen's form and the API's PATCH body. Only
    the fields given change, and null clears an optional one."""

    # The pattern is shown in the schema; the check is the model's, so that both doors refuse a
    # bad number with the same words.
    phone: str | None = Field(
        None, max_length=20, json_schema_extra={"pattern": PHONE_OR_BLANK}, description="電話番号"
    )
    fax: str | None = Field(
        None, max_length=20, json_schema_extra={"pattern": PHONE_OR_BLANK}, description="FAX番号"
    )
    website: str | None = Field(None, max_length=300, description="ウェブサイト（http(s)://）")
    hours: str | None = Field(None, max_length=300, description="受付時間・営業日")
    closed_days: str | None = Field(None, max_length=200, description="休業日")
    description: str | None = Field(None, description="紹介文")
    liaison_contact: str | None = Field(
        None, max_length=200, description="連携窓口（関係者のみ表示）"
    )
    capabilities: list[CapabilityCode] | None = None
    care_level_min: int | None = Field(None, ge=0, le=7)
    care_level_max: int | None = Field(None, ge=0, le=7)
    accepts_dementia: bool | None = None
    accepts_infection: bool | None = None
    sex_accepted: str | None = Field(None, pattern="^(any|male|female)$")
    cost_min: int | None = Field(None, ge=0, le=10_000_000)
    cost_max: int | None = Field(None, ge=0, le=10_000_000)
    conditions_note: str | None = Field(None, max_length=2000)
    service_radius_km: float | None = Field(None, gt=0, le=100)
    service_municipalities: list[MunicipalityCode] | None = None
    version: int | None = None

    @field_validator("phone", "fax")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value and not re.fullmatch(PHONE_OR_BLANK, value):
            raise ValueError(str(phone_validator.message))
        return value


class CuratorInput(ProfileInput):
    """What a curator (a government member) corrects besides: the open data's own columns.
    The edit screen's form only; the model's rules check them on saving."""

    kind: FacilityKind | None = None
    name: str | None = Field(None, min_length=1, max_length=200)
    kana: str | None = Field(None, max_length=200)
    short_name: str | None = Field(None, max_length=100)
    postal_code: str | None = Field(None, max_length=10)
    address: str | None = Field(None, min_length=1, max_length=200)
    address_extra: str | None = Field(None, max_length=200)
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)
    capacity: int | None = Field(None, ge=0)
    beds: int | None = Field(None, ge=0)
    is_home_care_support: bool | None = None
    is_backup_hospital: bool | None = None
    is_active: bool | None = None


# Given but not a plain column of the facility.
NOT_COLUMNS = {"capabilities", "service_municipalities", "version"}


def _column_value(name: str, value: Any) -> Any:
    """null clears a text column to "" (the columns are NOT NULL: it was a 500, found by
    fuzzing); other columns take null as it is."""
    field = Facility._meta.get_field(name)
    if value is None and isinstance(field, models.CharField | models.TextField):
        return ""
    return value


@transaction.atomic
def update_facility(
    facility: Facility,
    *,
    by: Membership,
    data: ProfileInput,
    request: HttpRequest | None = None,
) -> Facility:
    """The fields given (plain columns and the two many-to-many sets) change; the others stay."""
    given = data.model_fields_set
    capabilities = capabilities_of(data.capabilities or []) if "capabilities" in given else None
    service_municipalities = (
        municipalities_of(data.service_municipalities or [])
        if "service_municipalities" in given
        else None
    )
    _bump_version(facility, data.version)
    diff: dict[str, Any] = {}
    for name in sorted(given - NOT_COLUMNS):
        value = _column_value(name, getattr(data, name))
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
