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
from typing import Annotated, Any

from django.db import connections, models, router, transaction
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
    BackupBedOffer,
    BackupBedRegistration,
    CoverAgreement,
    RegistrationStatus,
    Rota,
    RotaKind,
    Shift,
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
    row = store_agreement(
        patient,
        by=by,
        primary=by.organization,
        secondary=secondary,
        primary_doctor=data.primary_doctor,
        primary_phone=data.primary_phone,
        night_arrangement=data.night_arrangement,
        night_phone=data.night_phone,
        secondary_doctor=data.secondary_doctor if secondary else "",
        secondary_phone=data.secondary_phone if secondary else "",
        agreed_on=data.agreed_on if secondary else None,
        municipality=muni,
        valid_from=data.valid_from,
        valid_until=data.valid_until,
    )
    AuditEntry.record("oncall.cover_saved", by=by, target=patient, request=request)
    return row


def store_agreement(
    patient: Patient,
    *,
    by: Membership,
    primary: Organization,
    secondary: Organization | None,
    **fields: Any,
) -> CoverAgreement:
    """Write one agreement (validated by the caller); the open one ends the day before it
    starts. Shared by the 主治医's form and the 副主治医 search's choice."""
    valid_from: dt.date = fields["valid_from"]
    open_rows = CoverAgreement.objects.filter(patient=patient, valid_until__isnull=True)
    open_rows.filter(valid_from__lt=valid_from).update(
        valid_until=valid_from - dt.timedelta(days=1)
    )
    open_rows.filter(valid_from__gte=valid_from).delete()
    row = CoverAgreement(
        patient=patient, primary=primary, secondary=secondary, created_by=by.user, **fields
    )
    full_clean(row)
    row.save()
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
    AuditEntry.record("oncall.absence_recorded", by=by, target=row, request=request)
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
    return _doctor_line(role, org, doctor, phone, is_absent(org, doctor, moment))


def _rota_steps(kind: str, role: str, muni: Municipality, moment: dt.datetime) -> list[Step]:
    rotas = Rota.objects.covering(muni).filter(kind=kind).order_by("name")
    steps = []
    for rota, shift, _next in on_duty(rotas, moment):
        if shift is None or shift.member is None:
            continue
        member = shift.member
        steps.append(
            Step(
                role,
                str(member),
                member.phone,
                f"{rota.name} {shift.label}",
                organization=member.organization.name,
                doctor=member.doctor,
            )
        )
    return steps


# Which agreement `agreement_at` and which registration `backup_bed_step` would load, in one
# statement of two ids: the patient page draws the chain on every view, and the two filtered
# QuerySets cost more CPU to build than the rows; a patient without an agreement or a bed
# (most, so far) costs this statement and nothing more (ADR 0060). Same filters and orders
# as theirs, pinned by tests/test_cover.py.
_PROBE = """SELECT
(SELECT a.id FROM oncall_coveragreement a WHERE a.patient_id = %s AND a.valid_from <= %s
  AND (a.valid_until IS NULL OR a.valid_until >= %s) ORDER BY a.valid_from DESC, a.id DESC LIMIT 1),
(SELECT r.id FROM oncall_backupbedregistration r WHERE r.patient_id = %s AND r.status = %s
  ORDER BY r.registered_at DESC, r.id DESC LIMIT 1)"""


def chain_ids(patient: Patient, moment: dt.datetime) -> tuple[int | None, int | None]:
    """(the agreement in force at `moment`, the accepted backup-bed registration), by id."""
    using = router.db_for_read(CoverAgreement)
    day = connections[using].ops.adapt_datefield_value(timezone.localdate(moment))
    with connections[using].cursor() as cursor:
        cursor.execute(
            _PROBE, [patient.pk, day, day, patient.pk, RegistrationStatus.ACCEPTED.value]
        )
        agreement_id, registration_id = cursor.fetchone()
    return agreement_id, registration_id


def _agreement(pk: int) -> CoverAgreement | None:
    # .first(), not .get(): a new agreement may replace (delete) this one between the probe
    # and this read, and the patient's page must not become a 500 for it.
    return (
        CoverAgreement.objects.select_related(
            "primary", "secondary", "municipality__parent", "municipality__secondary_area"
        )
        .filter(pk=pk)
        .first()
    )


def _bed(pk: int | None) -> Step | None:
    if pk is None:
        return None
    reg = (
        BackupBedRegistration.objects.select_related("offer", "hospital")
        .filter(pk=pk, status=RegistrationStatus.ACCEPTED)
        .first()
    )
    return _bed_step(reg) if reg is not None else None


def cover_chain(patient: Patient, moment: dt.datetime | None = None) -> list[Step]:
    """Who answers for `patient` at `moment`, in order (skipped lines kept, marked)."""
    moment = moment or timezone.now()
    agreement_id, registration_id = chain_ids(patient, moment)
    agreement = _agreement(agreement_id) if agreement_id is not None else None
    if agreement_id is not None and agreement is None:
        # Replaced since the probe: read the one in force now, as before ADR 0060.
        agreement = agreement_at(patient, moment)
    if agreement is None:
        bed = _bed(registration_id)
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
    bed = _bed(registration_id)
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
    return None if reg is None else _bed_step(reg)


def _bed_step(reg: BackupBedRegistration) -> Step:
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


# The chain for many patients over a month, in bulk (issue 14 §4's benchmark) ------------------


@dataclass(frozen=True)
class Period:
    """[start, end): the chain is the same for the whole period."""

    start: dt.datetime
    end: dt.datetime
    steps: tuple[Step, ...]


def _local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), timezone.get_current_timezone())


def _first_of_next(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _rota_timeline(
    rotas: list[Rota], shifts: dict[int, list[Any]], start: dt.datetime, end: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime, tuple[Step, ...]]]:
    """One municipality's rota lines over [start, end): the night rotas then the hospital
    rotas, each by name, each its earliest shift covering the moment (as on_duty picks it)."""
    cuts = {start, end}
    for rota in rotas:
        for s in shifts.get(rota.pk, ()):
            cuts.update(t for t in (s.starts_at, s.ends_at) if start < t < end)
    points = sorted(cuts)
    out = []
    for a, b in zip(points, points[1:], strict=False):
        steps: list[Step] = []
        for rota in rotas:
            role = "地域の当番医" if rota.kind == RotaKind.NIGHT_HOLIDAY else "当番病院"
            live = next((s for s in shifts.get(rota.pk, ()) if s.starts_at <= a < s.ends_at), None)
            if live is not None and live.member is not None:
                m = live.member
                steps.append(
                    Step(
                        role,
                        str(m),
                        m.phone,
                        f"{rota.name} {live.label}",
                        organization=m.organization.name,
                        doctor=m.doctor,
                    )
                )
        out.append((a, b, tuple(steps)))
    return out


@dataclass(frozen=True)
class Terms:
    """An agreement's terms as month_chains reads them: plain values, the clinics shared."""

    primary: Organization
    primary_doctor: str
    primary_phone: str
    night_arrangement: str
    night_phone: str
    secondary: Organization | None
    secondary_doctor: str
    secondary_phone: str
    municipality_id: int
    valid_from: dt.date
    valid_until: dt.date | None

    @property
    def primary_id(self) -> int:
        return self.primary.pk

    @property
    def secondary_id(self) -> int | None:
        return self.secondary.pk if self.secondary else None


TERMS = (
    "patient_id",
    "primary_id",
    "primary_doctor",
    "primary_phone",
    "night_arrangement",
    "night_phone",
    "secondary_id",
    "secondary_doctor",
    "secondary_phone",
    "municipality_id",
    "valid_from",
    "valid_until",
)


def month_chains(
    patients: list[int] | models.QuerySet[Patient], month: dt.date
) -> dict[int, list[Period]]:
    """For each patient, the chain over the whole month as periods where it does not change:
    the same answer as cover_chain(patient, moment) for every moment of the month, from a
    handful of queries instead of a dozen per patient and moment. Agreements are read as plain
    rows and their clinics once each (model instances for 10,000 patients cost more than the
    chains); a queryset of patients is used as a subquery."""
    start, end = _local_midnight(month), _local_midnight(_first_of_next(month))
    last_day = _first_of_next(month) - dt.timedelta(days=1)
    if isinstance(patients, models.QuerySet):
        wanted: Any = patients.values("pk")
        patient_ids = list(patients.values_list("pk", flat=True))
    else:
        wanted = patient_ids = list(patients)
    rows = list(
        CoverAgreement.objects.filter(patient_id__in=wanted, valid_from__lte=last_day)
        .filter(models.Q(valid_until__isnull=True) | models.Q(valid_until__gte=month))
        .order_by("-valid_from", "-pk")
        .values_list(*TERMS)
    )
    org_ids = {r[1] for r in rows} | {r[6] for r in rows if r[6]}
    orgs = {o.pk: o for o in Organization.objects.filter(pk__in=org_ids)}
    agreements: dict[int, list[Terms]] = {}
    for r in rows:
        agreements.setdefault(r[0], []).append(
            Terms(orgs[r[1]], r[2], r[3], r[4], r[5], orgs.get(r[6]) if r[6] else None, *r[7:])
        )
    absences: dict[int, list[Absence]] = {}
    for ab in Absence.objects.filter(
        organization_id__in=org_ids, starts_at__lt=end, ends_at__gt=start
    ).order_by("starts_at", "pk"):
        absences.setdefault(ab.organization_id, []).append(ab)
    offers = {
        o.pk: Step(
            "後方支援病院（登録済み）",
            o.hospital.name,
            o.phone,
            o.get_scheme_display(),
            organization=o.hospital.name,
        )
        for o in BackupBedOffer.objects.select_related("hospital").filter(
            pk__in=BackupBedRegistration.objects.filter(
                patient_id__in=wanted, status=RegistrationStatus.ACCEPTED
            ).values("offer_id")
        )
    }
    beds = {
        pid: offers[offer_id]
        for pid, offer_id in BackupBedRegistration.objects.filter(
            patient_id__in=wanted, status=RegistrationStatus.ACCEPTED
        ).values_list("patient_id", "offer_id")
    }
    munis = {
        m.pk: m
        for m in Municipality.objects.filter(
            pk__in={t.municipality_id for ts in agreements.values() for t in ts}
        ).select_related("parent", "secondary_area")
    }
    rotas_of: dict[int, list[Rota]] = {}
    for muni_id, muni in munis.items():
        covering = list(Rota.objects.covering(muni).order_by("name", "pk"))
        rotas_of[muni_id] = [r for r in covering if r.kind == RotaKind.NIGHT_HOLIDAY] + [
            r for r in covering if r.kind == RotaKind.HOSPITAL
        ]
    shifts: dict[int, list[Any]] = {}
    all_rotas = {r.pk for rows in rotas_of.values() for r in rows}
    for s in (
        Shift.objects.published()
        .filter(rota_id__in=all_rotas, starts_at__lt=end, ends_at__gt=start)
        .select_related("member__organization")
        .order_by("starts_at", "pk")
    ):
        shifts.setdefault(s.rota_id, []).append(s)
    timelines = {m: _rota_timeline(rotas_of[m], shifts, start, end) for m in munis}

    out: dict[int, list[Period]] = {}
    # Patients with the same terms (clinics, doctors, phones, municipality, period) and the same
    # backup bed have the same chain: computed once, the list shared (callers must not mutate).
    shared: dict[tuple[Any, ...], list[Period]] = {}
    for pid in patient_ids:
        bed = (beds[pid],) if pid in beds else ()
        rows = agreements.get(pid, [])
        key = (tuple(_terms(a) for a in rows), bed)
        found = shared.get(key)
        if found is None:
            found = shared[key] = _periods(rows, bed, absences, timelines, start, end)
        out[pid] = found
    return out


def _terms(a: Terms) -> tuple[Any, ...]:
    return (
        a.primary.pk,
        a.primary_doctor,
        a.primary_phone,
        a.night_arrangement,
        a.night_phone,
        a.secondary.pk if a.secondary else None,
        a.secondary_doctor,
        a.secondary_phone,
        a.municipality_id,
        a.valid_from,
        a.valid_until,
    )


def _periods(
    rows: list[Terms],
    bed: tuple[Step, ...],
    absences: dict[int, list[Absence]],
    timelines: dict[int, list[tuple[dt.datetime, dt.datetime, tuple[Step, ...]]]],
    start: dt.datetime,
    end: dt.datetime,
) -> list[Period]:
    if not rows:
        return [Period(start, end, bed)]
    periods: list[Period] = []
    # Agreements change at midnight; the latest start wins where two overlap.
    days = sorted(
        {start, end}
        | {
            t
            for a in rows
            for t in (
                _local_midnight(a.valid_from),
                _local_midnight(a.valid_until + dt.timedelta(days=1)) if a.valid_until else end,
            )
            if start < t < end
        }
    )
    for d0, d1 in zip(days, days[1:], strict=False):
        day = timezone.localdate(d0)
        current = next(
            (
                row
                for row in rows
                if row.valid_from <= day and (row.valid_until is None or row.valid_until >= day)
            ),
            None,
        )
        if current is None:
            periods.append(Period(d0, d1, bed))
            continue
        a = current
        away = [
            ab
            for o in (a.primary_id, a.secondary_id)
            if o
            for ab in absences.get(o, ())
            if ab.starts_at < d1 and ab.ends_at > d0
        ]
        timeline = timelines[a.municipality_id]
        cuts = {d0, d1} | {t for ab in away for t in (ab.starts_at, ab.ends_at) if d0 < t < d1}
        cuts.update(t for t0, t1, _ in timeline for t in (t0, t1) if d0 < t < d1)
        points = sorted(cuts)
        # The doctor lines change only where an absence starts or ends.
        doctors: dict[tuple[int, ...], tuple[Step, ...]] = {}
        ti = 0
        for p0, p1 in zip(points, points[1:], strict=False):
            while timeline[ti][1] <= p0:
                ti += 1
            state = tuple(ab.pk for ab in away if ab.starts_at <= p0 < ab.ends_at)
            lines = doctors.get(state)
            if lines is None:
                lines = doctors[state] = _doctor_steps_at(a, away, p0)
            periods.append(Period(p0, p1, lines + timeline[ti][2] + bed))
    return periods


def _absent_in(
    away: list[Absence], org: Organization, doctor: str, moment: dt.datetime
) -> Absence | None:
    """is_absent() over rows already loaded (the whole clinic first, then the named doctor)."""
    here = [
        ab for ab in away if ab.organization_id == org.pk and ab.starts_at <= moment < ab.ends_at
    ]
    whole = next((ab for ab in here if ab.doctor == ""), None)
    if whole is not None or not doctor:
        return whole
    return next((ab for ab in here if ab.doctor == doctor), None)


def _doctor_line(
    role: str, org: Organization, doctor: str, phone: str, away: Absence | None
) -> Step:
    name = f"{org.name}（{doctor}）" if doctor else org.name
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


def _doctor_steps_at(a: Terms, away: list[Absence], moment: dt.datetime) -> tuple[Step, ...]:
    first = _doctor_line(
        "主治医",
        a.primary,
        a.primary_doctor,
        a.primary_phone,
        _absent_in(away, a.primary, a.primary_doctor, moment),
    )
    steps = [first]
    if a.night_phone or a.night_arrangement:
        steps.append(
            Step(
                "主治医の夜間体制",
                a.night_arrangement or a.primary.name,
                a.night_phone or a.primary_phone,
                skipped=first.skipped,
                note="不在" if first.skipped else "",
                organization=a.primary.name,
                doctor=a.primary_doctor,
            )
        )
    if a.secondary is not None:
        steps.append(
            _doctor_line(
                "副主治医",
                a.secondary,
                a.secondary_doctor,
                a.secondary_phone,
                _absent_in(away, a.secondary, a.secondary_doctor, moment),
            )
        )
    return tuple(steps)
