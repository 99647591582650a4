"""The cover chain per patient (ADR 0036): who answers for this patient at this moment, in order.

主治医 (unless absent), the clinic's own night arrangement, the 副主治医 who agreed to cover (unless
absent), the region's duty doctor from the published night rota covering the patient's
municipality, then the duty hospital from the hospital rota. oncall depends on care, never the
reverse: the patient page shows the chain through the panel registered in OncallConfig.ready.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Annotated

from django.db import models, transaction
from django.http import HttpRequest
from django.utils import timezone
from pydantic import AfterValidator, Field

from renkei.accounts.models import AuditEntry, Membership, Organization, OrgKind
from renkei.care.actions import require_on_team
from renkei.care.actions.emergency import DoctorContact
from renkei.care.models import Patient
from renkei.lib.actions import ActionError, Forbidden, full_clean
from renkei.lib.inputs import CalendarDate, CalendarDateTime, Input, Phone, _phone, required
from renkei.oncall.actions import on_duty
from renkei.oncall.models import (
    Absence,
    BackupBedRegistration,
    CoverAgreement,
    RegistrationStatus,
    Rota,
    RotaKind,
)
from renkei.regions.models import Municipality

DOCTOR_KINDS = (OrgKind.CLINIC, OrgKind.HOSPITAL)


def _optional_phone(value: str) -> str:
    return _phone(value) if value.strip() else ""


OptionalPhone = Annotated[str, Field(max_length=30), AfterValidator(_optional_phone)]


@dataclass(frozen=True)
class Step:
    """One line of the chain: who, the number to call, and why this line is (or is not) used."""

    role: str
    name: str
    phone: str
    note: str = ""
    skipped: bool = False
    organization: str = ""
    doctor: str = ""


class CoverInput(Input):
    """The 主治医's clinic records who covers its patient (the clinic is the caller's)."""

    primary_doctor: str = Field("", max_length=60, description="主治医の氏名")
    primary_phone: Annotated[Phone, required("主治医の連絡先電話を入力してください")]
    night_arrangement: str = Field("", max_length=200, description="夜間の体制（例: 院長携帯）")
    night_phone: OptionalPhone = ""
    secondary: uuid.UUID | None = Field(None, description="副主治医の医療機関（組織コード）")
    secondary_doctor: str = Field("", max_length=60)
    secondary_phone: OptionalPhone = ""
    agreed_on: CalendarDate | None = Field(None, description="副主治医が引き受けた日")
    municipality: Annotated[str, required("患者の市区町村コードを入力してください")] = Field(
        ..., max_length=6, description="患者の市区町村コード（6桁）"
    )
    valid_from: CalendarDate
    valid_until: CalendarDate | None = None


class AbsenceInput(Input):
    doctor: str = Field("", max_length=60, description="医師の氏名（空欄なら医療機関全体）")
    starts_at: CalendarDateTime
    ends_at: CalendarDateTime
    note: str = Field("", max_length=100)


def _audit(action: str, target: models.Model, request: HttpRequest | None, by: Membership) -> None:
    AuditEntry.record(action, request=request, actor=by.user, membership=by, target=target)


@transaction.atomic
def save_cover(
    patient: Patient, *, by: Membership, data: CoverInput, request: HttpRequest | None = None
) -> CoverAgreement:
    """A team member of the 主治医's clinic records the agreement; it supersedes the open one."""
    require_on_team(patient, by)
    if by.organization.kind not in DOCTOR_KINDS:
        raise Forbidden("主治医・副主治医の取り決めを記録できるのは医療機関の方だけです")
    muni = Municipality.objects.filter(code=data.municipality).first()
    if muni is None:
        raise ActionError("市区町村コードが見つかりません", field="municipality")
    secondary = None
    if data.secondary is not None:
        secondary = Organization.objects.filter(
            code=data.secondary, is_active=True, kind__in=DOCTOR_KINDS
        ).first()
        if secondary is None:
            raise ActionError("副主治医の医療機関が見つかりません", field="secondary")
        if secondary.pk == by.organization_id:
            raise ActionError("副主治医は別の医療機関にしてください", field="secondary")
        if not data.secondary_phone:
            raise ActionError("副主治医の連絡先電話を入力してください", field="secondary_phone")
    if data.valid_until and data.valid_until < data.valid_from:
        raise ActionError("終了日は開始日以降にしてください", field="valid_until")
    # The open agreement ends the day before the new one starts.
    open_rows = CoverAgreement.objects.filter(patient=patient, valid_until__isnull=True)
    open_rows.filter(valid_from__lt=data.valid_from).update(
        valid_until=data.valid_from - dt.timedelta(days=1)
    )
    open_rows.filter(valid_from__gte=data.valid_from).delete()
    row = CoverAgreement(
        patient=patient,
        primary=by.organization,
        primary_doctor=data.primary_doctor,
        primary_phone=data.primary_phone,
        night_arrangement=data.night_arrangement,
        night_phone=data.night_phone,
        secondary=secondary,
        secondary_doctor=data.secondary_doctor if secondary else "",
        secondary_phone=data.secondary_phone if secondary else "",
        agreed_on=data.agreed_on if secondary else None,
        municipality=muni,
        valid_from=data.valid_from,
        valid_until=data.valid_until,
        created_by=by.user,
    )
    full_clean(row)
    row.save()
    _audit("oncall.cover_saved", patient, request, by)
    return row


@transaction.atomic
def record_absence(
    *, by: Membership, data: AbsenceInput, request: HttpRequest | None = None
) -> Absence:
    """A clinic records its own (or one doctor's) absence; the chain skips it for that period."""
    if by.organization.kind not in DOCTOR_KINDS:
        raise Forbidden("不在を記録できるのは医療機関の方だけです")
    if data.ends_at <= data.starts_at:
        raise ActionError("終了は開始より後にしてください", field="ends_at")
    row = Absence.objects.create(
        organization=by.organization,
        doctor=data.doctor,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        note=data.note,
        created_by=by.user,
    )
    _audit("oncall.absence_recorded", row, request, by)
    return row


def is_absent(org: Organization, doctor: str, moment: dt.datetime) -> Absence | None:
    """The absence covering `moment`: the whole clinic, or the named doctor."""
    absences = Absence.objects.at(moment).filter(organization=org)
    return absences.filter(doctor="").first() or (
        absences.filter(doctor=doctor).first() if doctor else None
    )


def agreement_at(patient: Patient, moment: dt.datetime) -> CoverAgreement | None:
    return (
        CoverAgreement.objects.active(timezone.localdate(moment))
        .filter(patient=patient)
        .select_related(
            "primary", "secondary", "municipality__parent", "municipality__secondary_area"
        )
        .first()
    )


def _doctor_step(
    role: str, org: Organization, doctor: str, phone: str, moment: dt.datetime
) -> Step:
    name = f"{org.name}（{doctor}）" if doctor else org.name
    away = is_absent(org, doctor, moment)
    if away is not None:
        until = timezone.localtime(away.ends_at)
        return Step(
            role,
            name,
            phone,
            f"不在（{until:%-m/%-d %H:%M}まで）",
            skipped=True,
            organization=org.name,
            doctor=doctor,
        )
    return Step(role, name, phone, organization=org.name, doctor=doctor)


def _rota_steps(kind: str, role: str, muni: Municipality, moment: dt.datetime) -> list[Step]:
    rotas = Rota.objects.covering(muni).filter(kind=kind).order_by("name")
    steps = []
    for rota, shift, _next in on_duty(rotas, moment):
        if shift is None or shift.member is None:
            continue
        member = shift.member
        steps.append(Step(role, str(member), member.phone, f"{rota.name} {shift.label}"))
    return steps


def cover_chain(patient: Patient, moment: dt.datetime | None = None) -> list[Step]:
    """Who answers for `patient` at `moment`, in order (skipped lines kept, marked)."""
    moment = moment or timezone.now()
    agreement = agreement_at(patient, moment)
    if agreement is None:
        bed = backup_bed_step(patient)
        return [bed] if bed is not None else []
    steps = [
        _doctor_step(
            "主治医", agreement.primary, agreement.primary_doctor, agreement.primary_phone, moment
        )
    ]
    if agreement.night_phone or agreement.night_arrangement:
        steps.append(
            Step(
                "主治医の夜間体制",
                agreement.night_arrangement or agreement.primary.name,
                agreement.night_phone or agreement.primary_phone,
                skipped=steps[0].skipped,
                note="不在" if steps[0].skipped else "",
                organization=agreement.primary.name,
                doctor=agreement.primary_doctor,
            )
        )
    if agreement.secondary is not None:
        steps.append(
            _doctor_step(
                "副主治医",
                agreement.secondary,
                agreement.secondary_doctor,
                agreement.secondary_phone,
                moment,
            )
        )
    steps += _rota_steps(RotaKind.NIGHT_HOLIDAY, "地域の当番医", agreement.municipality, moment)
    steps += _rota_steps(RotaKind.HOSPITAL, "当番病院", agreement.municipality, moment)
    bed = backup_bed_step(patient)
    if bed is not None:
        steps.append(bed)
    return steps


def backup_bed_step(patient: Patient) -> Step | None:
    """The hospital that accepted the patient's pre-registration (ADR 0047); a registration
    still awaiting the hospital's answer is not a bed anyone can count on."""
    reg = (
        BackupBedRegistration.objects.filter(patient=patient, status=RegistrationStatus.ACCEPTED)
        .select_related("offer", "hospital")
        .first()
    )
    if reg is None:
        return None
    return Step(
        "後方支援病院（登録済み）",
        reg.hospital.name,
        reg.offer.phone,
        reg.offer.get_scheme_display(),
        organization=reg.hospital.name,
    )


def first_to_call(steps: list[Step]) -> Step | None:
    return next((s for s in steps if not s.skipped), None)


def doctor_contacts(patient: Patient, moment: dt.datetime) -> list[DoctorContact]:
    """The emergency sheet's 「いま医師に連絡するには」 (care's hook): the chain's live lines."""
    return [
        DoctorContact(
            label=s.role,
            name=s.doctor or "担当医",
            organization=s.organization,
            phone=s.phone,
            source="oncall",
        )
        for s in cover_chain(patient, moment)
        if not s.skipped
    ]
