"""Workflows that change facilities: audited, transactional, optimistic-locked."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from renkei.accounts.models import AuditEntry, Membership
from renkei.directory.models import Capability, Facility, VacancyReport, VacancyStatus
from renkei.regions.models import Municipality


class StaleVersion(Exception):
    """Someone saved the facility after this form was loaded (security R22)."""

    def __init__(self, current: Facility) -> None:
        super().__init__(
            "他の方が先にこの施設の情報を更新しました。最新の内容を確認してから、もう一度保存してください。"
        )
        self.current = current


def _bump_version(facility: Facility, expected: int | None) -> None:
    qs = Facility.objects.filter(pk=facility.pk)
    if expected is not None:
        qs = qs.filter(version=expected)
    if qs.update(version=F("version") + 1) != 1:
        raise StaleVersion(Facility.objects.get(pk=facility.pk))
    facility.refresh_from_db(fields=["version"])


@transaction.atomic
def update_vacancy(
    facility: Facility,
    *,
    by: Membership,
    status: str,
    count: int | None,
    note: str = "",
    expected_version: int | None = None,
    request: HttpRequest | None = None,
) -> Facility:
    if status not in VacancyStatus.values:
        raise ValueError("空き状況の値が正しくありません")
    _bump_version(facility, expected_version)
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
        actor=by.user,
        membership=by,
        target=facility,
        detail={"before": before, "after": {"status": status, "count": count}},
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
    facility.full_clean(exclude=["capabilities", "service_municipalities"], validate_unique=False)
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
        actor=by.user,
        membership=by,
        target=facility,
        detail=diff,
    )
    return facility


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
        actor=by.user,
        membership=by,
        target=facility,
        detail={k: _jsonable(v) for k, v in fields.items()},
    )
    return facility


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
