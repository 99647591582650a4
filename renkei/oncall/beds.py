"""Backup beds (後方ベッド) and care facilities' 協力医療機関 (issue 14 §3, ADR 0047).

A hospital offers backup beds (在宅療養後方支援病院, or a 医師会 scheme). The 主治医's clinic
registers a patient with one hospital only, within a consent that covers the hospital, and
sends the information in advance; the hospital accepts or declines, keeps the information fresh
(alerted once when the last exchange is older than three months) and records each use of a bed.
Care facilities record their 協力医療機関 and the yearly confirmation filed to the municipality.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from pydantic import Field

from renkei.accounts.models import AuditEntry, Membership, Organization, OrgKind
from renkei.care.actions import require_on_team
from renkei.care.models import CARE_ROLES, Consent, Patient, ProvisionBasis, ProvisionRecord
from renkei.lib.actions import ActionError, Conflict, Forbidden, bump_version, full_clean, notify
from renkei.lib.dates import fiscal_year, fiscal_year_range
from renkei.lib.inputs import CalendarDate, FiscalYear, Input, Phone, required
from renkei.lib.mail import site_url
from renkei.oncall.actions import _emails
from renkei.oncall.models import (
    BackupBedExchange,
    BackupBedOffer,
    BackupBedRegistration,
    BackupBedUse,
    BedOutcome,
    BedScheme,
    CooperatingInstitution,
    CooperationConfirmation,
    RegistrationStatus,
)

DOCTOR_KINDS = (OrgKind.CLINIC, OrgKind.HOSPITAL)
CARE_FACILITY_KINDS = (OrgKind.CARE_PROVIDER,)
STALE_MONTHS = 3
# The reminder for a missing yearly confirmation waits this long into the fiscal year.
CONFIRMATION_GRACE_DAYS = 30
PROVIDED_ITEMS = "後方ベッドの事前情報（氏名・生年月日・病状・急変時の方針）"


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day `months` earlier (the 31st falls back to the month's last day)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


# Inputs -------------------------------------------------------------------------------------


class OfferInput(Input):
    """What the hospital offers: its own form and the API's body."""

    scheme: BedScheme = Field(..., description="在宅療養後方支援病院 / 医師会等の事業")
    name: str = Field(
        ..., min_length=1, max_length=100, description="名称（例: 県央医師会 後方ベッド）"
    )
    phone: Annotated[Phone, required("入院依頼の連絡先電話を入力してください")]
    beds: int | None = Field(None, ge=0, le=999, description="確保病床数")
    note: str = Field("", max_length=300)
    is_active: bool = True


class RegisterInput(Input):
    """The 主治医's clinic registers the patient with one hospital and sends the information."""

    offer: uuid.UUID = Field(..., description="後方ベッドの提供（コード）")
    summary: str = Field(
        ..., min_length=1, max_length=2000, description="事前に送る情報（病状・方針・服薬など）"
    )


class DecisionInput(Input):
    accept: bool
    reason: str = Field("", max_length=200, description="お断りの理由")
    version: int | None = None


class ExchangeInput(Input):
    summary: str = Field(..., min_length=1, max_length=2000, description="共有する情報")


class BedUseInput(Input):
    admitted_on: CalendarDate
    outcome: BedOutcome
    discharged_on: CalendarDate | None = None
    note: str = Field("", max_length=300)


class CooperationInput(Input):
    """A care facility names its 協力医療機関 (on the platform or not)."""

    institution: uuid.UUID | None = Field(None, description="登録済みの医療機関（組織コード）")
    name: str = Field("", max_length=120, description="名称（未登録の医療機関のとき）")
    phone: Annotated[Phone, required("急変時の連絡先電話を入力してください")]
    valid_from: CalendarDate
    valid_until: CalendarDate | None = None


class ConfirmationInput(Input):
    fiscal_year: FiscalYear
    confirmed_on: CalendarDate
    filed_on: CalendarDate | None = Field(None, description="自治体（指定権者）に届け出た日")
    note: str = Field("", max_length=500, description="確認した急変時の対応")


# Helpers ------------------------------------------------------------------------------------


def is_hospital_side(reg: BackupBedRegistration, by: Membership) -> bool:
    return reg.hospital_id == by.organization_id


def _require_hospital(reg: BackupBedRegistration, by: Membership) -> None:
    if not is_hospital_side(reg, by):
        raise Forbidden("登録先の病院の方だけができる操作です")


def _require_clinic(reg: BackupBedRegistration, by: Membership) -> None:
    require_on_team(reg.patient, by)
    if by.organization.kind not in DOCTOR_KINDS:
        raise Forbidden("後方ベッドの登録は主治医の医療機関が行います")


def _provide(reg: BackupBedRegistration, by: Membership) -> None:
    """個人情報保護法 第29条: the information reaching the hospital, on the consent."""
    ProvisionRecord.objects.create(
        patient=reg.patient,
        recipient=reg.hospital,
        items=PROVIDED_ITEMS,
        basis=ProvisionBasis.CONSENT,
        consent=reg.consent,
        recorded_by=by,
    )


def _locked(reg: BackupBedRegistration) -> BackupBedRegistration:
    """The row as committed now, locked: the caller's copy may predate the other side's step."""
    return (
        BackupBedRegistration.objects.select_for_update(of=("self",))
        .select_related("patient", "hospital", "clinic", "consent")
        .get(pk=reg.pk)
    )


def _url(reg: BackupBedRegistration) -> str:
    return site_url(reverse("oncall:bed", args=[reg.code]))


# Offers -------------------------------------------------------------------------------------


@transaction.atomic
def save_offer(
    *,
    by: Membership,
    data: OfferInput,
    offer: BackupBedOffer | None = None,
    request: HttpRequest | None = None,
) -> BackupBedOffer:
    if by.organization.kind != OrgKind.HOSPITAL:
        raise Forbidden("後方ベッドを提供できるのは病院です")
    if offer is None:
        offer = BackupBedOffer(hospital=by.organization)
    elif offer.hospital_id != by.organization_id:
        raise Forbidden("自院の後方ベッドだけを変更できます")
    for name in ("scheme", "name", "phone", "beds", "note", "is_active"):
        setattr(offer, name, getattr(data, name))
    full_clean(offer, exclude=["hospital"])
    offer.save()
    AuditEntry.record(
        "oncall.bed_offer_saved", by=by, target=offer, request=request, detail={"name": offer.name}
    )
    return offer


# Registrations ------------------------------------------------------------------------------


def open_registration(patient: Patient) -> BackupBedRegistration | None:
    return (
        BackupBedRegistration.objects.filter(
            patient=patient, status__in=[RegistrationStatus.REQUESTED, RegistrationStatus.ACCEPTED]
        )
        .select_related("hospital", "offer")
        .first()
    )


@transaction.atomic
def register_patient(
    patient: Patient, *, by: Membership, data: RegisterInput, request: HttpRequest | None = None
) -> BackupBedRegistration:
    """One hospital only: a second open registration is refused with the first one named.

    Two clinics' members registering at once are serialised on the patient's row; the partial
    unique constraint is the last line if anything writes around this action."""
    require_on_team(patient, by)
    if by.organization.kind not in DOCTOR_KINDS:
        raise Forbidden("後方ベッドの登録は主治医の医療機関が行います")
    offer = (
        BackupBedOffer.objects.filter(code=data.offer, is_active=True)
        .select_related("hospital")
        .first()
    )
    if offer is None:
        raise ActionError("受付中の後方ベッドが見つかりません", field="offer")
    consent = (
        Consent.objects.active()
        .filter(patient=patient)
        .covering_org(offer.hospital)
        .order_by("-recorded_at")
        .first()
    )
    if consent is None:
        raise ActionError(
            f"{offer.hospital.name}への情報提供について本人の同意が記録されていません。"
            "先に同意（一括、または病院を含む施設リスト）を記録してください",
            field="offer",
        )
    Patient.objects.select_for_update().filter(pk=patient.pk).first()
    existing = open_registration(patient)
    if existing is not None:
        raise Conflict(
            f"この患者は既に{existing.hospital.name}に後方ベッドを登録しています"
            "（登録は1か所のみです。変更するには先に登録を終了してください）",
            field="offer",
        )
    now = timezone.now()
    try:
        with transaction.atomic():
            reg = BackupBedRegistration.objects.create(
                patient=patient,
                offer=offer,
                hospital=offer.hospital,
                clinic=by.organization,
                consent=consent,
                registered_by=by,
                last_exchange_at=now,
            )
    except IntegrityError as e:
        raise Conflict(
            "この患者は既に別の病院に後方ベッドを登録しています（登録は1か所のみです）",
            field="offer",
        ) from e
    BackupBedExchange.objects.create(registration=reg, at=now, summary=data.summary, by=by)
    _provide(reg, by)
    AuditEntry.record(
        "oncall.bed_registered",
        by=by,
        target=patient,
        request=request,
        detail={"hospital": offer.hospital.name},
    )
    notify(
        to=_emails([offer.hospital]),
        subject=f"後方ベッドの事前登録の依頼: {by.organization.name}",
        template="oncall_bed_registered.txt",
        context={"reg": reg, "offer": offer, "clinic": by.organization, "url": _url(reg)},
    )
    return reg


@transaction.atomic
def decide_registration(
    reg: BackupBedRegistration,
    *,
    by: Membership,
    data: DecisionInput,
    request: HttpRequest | None = None,
) -> BackupBedRegistration:
    _require_hospital(reg, by)
    reg = _locked(reg)
    if reg.status != RegistrationStatus.REQUESTED:
        raise Conflict("この登録には既に回答済みです")
    if not data.accept and not data.reason.strip():
        raise ActionError("お断りの理由を入力してください", field="reason")
    bump_version(reg, data.version)
    reg.status = RegistrationStatus.ACCEPTED if data.accept else RegistrationStatus.DECLINED
    reg.decided_at = timezone.now()
    reg.decided_by = by
    reg.decline_reason = "" if data.accept else data.reason.strip()
    reg.save(update_fields=["status", "decided_at", "decided_by", "decline_reason"])
    AuditEntry.record(
        "oncall.bed_decided", by=by, target=reg, request=request, detail={"accept": data.accept}
    )
    notify(
        to=_emails([reg.clinic]),
        subject=f"後方ベッドの事前登録: {by.organization.name}が{reg.get_status_display()}",
        template="oncall_bed_decided.txt",
        context={"reg": reg, "hospital": by.organization, "url": _url(reg)},
    )
    return reg


@transaction.atomic
def send_information(
    reg: BackupBedRegistration,
    *,
    by: Membership,
    data: ExchangeInput,
    request: HttpRequest | None = None,
) -> BackupBedExchange:
    """Either side refreshes the shared information; the three-month clock starts again."""
    from_hospital = is_hospital_side(reg, by)
    if not from_hospital:
        _require_clinic(reg, by)
    reg = _locked(reg)
    if not reg.is_open:
        raise Conflict("終了した登録には情報を送れません")
    now = timezone.now()
    row = BackupBedExchange.objects.create(
        registration=reg, at=now, from_hospital=from_hospital, summary=data.summary, by=by
    )
    BackupBedRegistration.objects.filter(pk=reg.pk).update(
        last_exchange_at=now, stale_alerted_at=None
    )
    reg.last_exchange_at, reg.stale_alerted_at = now, None
    if not from_hospital:
        _provide(reg, by)
    AuditEntry.record(
        "oncall.bed_information_sent",
        by=by,
        target=reg,
        request=request,
        detail={"from_hospital": from_hospital},
    )
    notify(
        to=_emails([reg.clinic if from_hospital else reg.hospital]),
        subject=f"後方ベッドの情報が更新されました（{by.organization.name}）",
        template="oncall_bed_exchange.txt",
        context={"reg": reg, "sender": by.organization, "url": _url(reg)},
    )
    return row


@transaction.atomic
def record_use(
    reg: BackupBedRegistration,
    *,
    by: Membership,
    data: BedUseInput,
    request: HttpRequest | None = None,
) -> BackupBedUse:
    """The hospital (or the 主治医's clinic) records a use of the bed, for the indicators."""
    if not is_hospital_side(reg, by):
        _require_clinic(reg, by)
    reg = _locked(reg)
    if reg.status != RegistrationStatus.ACCEPTED:
        raise Conflict("受入れが決まった登録だけに利用を記録できます")
    if data.admitted_on > timezone.localdate():
        raise ActionError("受診・入院日に未来の日付は入力できません", field="admitted_on")
    if data.discharged_on and data.discharged_on < data.admitted_on:
        raise ActionError("退院日は受診・入院日以降にしてください", field="discharged_on")
    row = BackupBedUse.objects.create(
        registration=reg,
        admitted_on=data.admitted_on,
        outcome=data.outcome,
        discharged_on=data.discharged_on,
        note=data.note,
        recorded_by=by,
    )
    AuditEntry.record(
        "oncall.bed_used", by=by, target=reg, request=request, detail={"outcome": data.outcome}
    )
    return row


@transaction.atomic
def end_registration(
    reg: BackupBedRegistration, *, by: Membership, request: HttpRequest | None = None
) -> BackupBedRegistration:
    """Either side ends it (moved, died, another hospital chosen); a new one may then be made."""
    if not is_hospital_side(reg, by):
        _require_clinic(reg, by)
    reg = _locked(reg)
    if not reg.is_open:
        raise Conflict("この登録は既に終了しています")
    reg.status = RegistrationStatus.ENDED
    reg.decided_at = timezone.now()
    reg.save(update_fields=["status", "decided_at"])
    AuditEntry.record("oncall.bed_ended", by=by, target=reg, request=request)
    return reg


def alert_stale(now: dt.datetime | None = None) -> int:
    """Tell each hospital, once per registration, when the last information exchange of an
    accepted registration is older than three months. A conditional UPDATE claims each row,
    so two workers never send twice; a new exchange clears the claim."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    cutoff = dt.datetime.combine(
        months_before(today, STALE_MONTHS), dt.time(), timezone.get_current_timezone()
    )
    rows = (
        BackupBedRegistration.objects.filter(
            status=RegistrationStatus.ACCEPTED,
            last_exchange_at__lt=cutoff,
            stale_alerted_at__isnull=True,
        )
        .select_related("hospital", "clinic")
        .order_by("hospital_id", "last_exchange_at")
    )
    by_hospital: dict[int, list[BackupBedRegistration]] = {}
    for reg in rows[:2000]:
        with transaction.atomic():
            claimed = BackupBedRegistration.objects.filter(
                pk=reg.pk, stale_alerted_at__isnull=True, last_exchange_at__lt=cutoff
            ).update(stale_alerted_at=now)
            if claimed:
                by_hospital.setdefault(reg.hospital_id, []).append(reg)
    for regs in by_hospital.values():
        hospital = regs[0].hospital
        notify(
            to=_emails([hospital]),
            subject=f"後方ベッド登録患者の情報が{STALE_MONTHS}か月以上更新されていません（{len(regs)}件）",
            template="oncall_bed_stale.txt",
            context={
                "hospital": hospital,
                "regs": regs,
                "url": site_url(reverse("oncall:beds")),
            },
        )
    return sum(len(r) for r in by_hospital.values())


# 協力医療機関 ---------------------------------------------------------------------------------


def _require_care_facility(by: Membership) -> None:
    if by.organization.kind not in CARE_FACILITY_KINDS:
        raise Forbidden("協力医療機関を記録できるのは介護施設・事業所です")


@transaction.atomic
def save_cooperation(
    *, by: Membership, data: CooperationInput, request: HttpRequest | None = None
) -> CooperatingInstitution:
    _require_care_facility(by)
    institution = None
    name = data.name.strip()
    if data.institution is not None:
        institution = Organization.objects.filter(
            code=data.institution, is_active=True, kind__in=DOCTOR_KINDS
        ).first()
        if institution is None:
            raise ActionError("協力医療機関が見つかりません", field="institution")
        name = name or institution.name
    if not name:
        raise ActionError("協力医療機関の名称を入力してください", field="name")
    if data.valid_until and data.valid_until < data.valid_from:
        raise ActionError("終了日は開始日以降にしてください", field="valid_until")
    row = CooperatingInstitution(
        facility=by.organization,
        institution=institution,
        name=name,
        phone=data.phone,
        valid_from=data.valid_from,
        valid_until=data.valid_until,
        created_by=by.user,
    )
    full_clean(row)
    row.save()
    AuditEntry.record(
        "oncall.cooperation_saved", by=by, target=row, request=request, detail={"name": name}
    )
    return row


@transaction.atomic
def record_confirmation(
    coop: CooperatingInstitution,
    *,
    by: Membership,
    data: ConfirmationInput,
    request: HttpRequest | None = None,
) -> CooperationConfirmation:
    """The year's confirmation; recorded again for the same year, it is updated (the filing
    date usually comes later than the meeting)."""
    if coop.facility_id != by.organization_id:
        raise Forbidden("自施設の協力医療機関だけを記録できます")
    today = timezone.localdate()
    if data.confirmed_on > today:
        raise ActionError("確認した日に未来の日付は入力できません", field="confirmed_on")
    if data.filed_on is not None:
        if data.filed_on > today:
            raise ActionError("届け出た日に未来の日付は入力できません", field="filed_on")
        if data.filed_on < data.confirmed_on:
            raise ActionError("届け出た日は確認した日以降にしてください", field="filed_on")
    start, end = fiscal_year_range(data.fiscal_year)
    if not start <= data.confirmed_on <= end:
        raise ActionError(
            f"確認した日が{data.fiscal_year}年度の中にありません", field="confirmed_on"
        )
    row, _ = CooperationConfirmation.objects.update_or_create(
        cooperation=coop,
        fiscal_year=data.fiscal_year,
        defaults={
            "confirmed_on": data.confirmed_on,
            "filed_on": data.filed_on,
            "note": data.note,
            "recorded_by": by,
        },
    )
    AuditEntry.record(
        "oncall.cooperation_confirmed",
        by=by,
        target=coop,
        request=request,
        detail={"fiscal_year": data.fiscal_year},
    )
    return row


def cooperations_missing_confirmation(
    today: dt.date | None = None,
) -> models.QuerySet[CooperatingInstitution]:
    """Current 協力医療機関 with no confirmation filed for this fiscal year."""
    today = today or timezone.localdate()
    fy = fiscal_year(today)
    filed = CooperationConfirmation.objects.filter(fiscal_year=fy, filed_on__isnull=False)
    return CooperatingInstitution.objects.filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=today), valid_from__lte=today
    ).exclude(pk__in=filed.values("cooperation_id"))


def remind_confirmations(today: dt.date | None = None) -> int:
    """Once a fiscal year, a month into it, remind each facility whose confirmation of the year
    is not yet filed. Returns how many 協力医療機関 were reminded."""
    today = today or timezone.localdate()
    fy = fiscal_year(today)
    if today < fiscal_year_range(fy)[0] + dt.timedelta(days=CONFIRMATION_GRACE_DAYS):
        return 0
    sent = 0
    rows = (
        cooperations_missing_confirmation(today)
        .filter(Q(reminded_fiscal_year__isnull=True) | ~Q(reminded_fiscal_year=fy))
        .select_related("facility")
    )
    for coop in rows[:2000]:
        with transaction.atomic():
            claimed = (
                CooperatingInstitution.objects.filter(pk=coop.pk)
                .filter(Q(reminded_fiscal_year__isnull=True) | ~Q(reminded_fiscal_year=fy))
                .update(reminded_fiscal_year=fy)
            )
            if not claimed:
                continue
            notify(
                to=_emails([coop.facility]),
                subject=f"{fy}年度の協力医療機関との確認（急変時の対応）が未届です",
                template="oncall_cooperation_reminder.txt",
                context={
                    "coop": coop,
                    "fiscal_year": fy,
                    "url": site_url(reverse("oncall:cooperation")),
                },
            )
            sent += 1
    return sent


def hospital_may_read(m: Membership) -> bool:
    return m.role in CARE_ROLES
