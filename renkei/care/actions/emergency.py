"""The emergency information sheet, its ambulance QR code, and the ACP record (ADR 0034).

Both doors call these with the same inputs. Reads are audited with the patient's code; the
audit rows and e-mails carry item names, never values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from pydantic import AfterValidator, Field, model_validator

from renkei.accounts.models import AuditEntry, Membership
from renkei.care.actions.patients import audit_read, require_on_team
from renkei.care.models import (
    AMBULANCE_WINDOW,
    AcpRecord,
    AmbulanceCode,
    CareTeamMember,
    EmergencySheet,
    Patient,
    Resuscitation,
    TeamRole,
)
from renkei.care.models.emergency import AMBULANCE_CODE_DAYS, hash_token
from renkei.lib import mail
from renkei.lib.actions import NotFound, StaleVersion, bump_version, notify
from renkei.lib.inputs import Input, required

CODE_NOT_FOUND = (
    "このコードは使えません（使用済み・期限切れ・無効）。119番の指令、またはシートに書かれた"
    "連絡先に問い合わせてください。"
)
SHEET_FIELDS = (
    "diagnoses",
    "medicines",
    "allergies",
    "family_doctor",
    "resuscitation",
    "resuscitation_confirmed_on",
    "notes",
)
ACP_FIELDS = (
    "what_matters",
    "place_of_care",
    "place_of_death",
    "treatment_wishes",
    "proxy",
    "participants",
    "discussed_on",
    "next_review_on",
)


# How to reach a doctor now ----------------------------------------------------------


@dataclass(frozen=True)
class DoctorContact:
    """One way to reach a doctor for this patient now, best first."""

    label: str  # 「主治医」「副主治医」, later 「当番医（○○の代行）」
    name: str
    organization: str
    phone: str
    source: str = "team"  # "team" today; "oncall" when the cover chain fills it


ContactProvider = Callable[[Patient, dt.datetime], list[DoctorContact]]
# Apps that depend on care register here in AppConfig.ready (renkei.oncall: the cover chain,
# ADR 0036); care never imports them.
CONTACT_PROVIDERS: list[ContactProvider] = []


def register_contacts(provider: ContactProvider) -> None:
    if provider not in CONTACT_PROVIDERS:
        CONTACT_PROVIDERS.append(provider)


def doctor_contacts(patient: Patient, *, at: dt.datetime | None = None) -> list[DoctorContact]:
    """Who to call about `patient` now, for the emergency sheet and the ambulance view.

    The hook for the on-call app (renkei/oncall): today it is the team's 主治医 then 副主治医,
    each with their organisation's main phone. When the cover chain exists, it should return
    the doctor covering at `at` first (source="oncall"), then these. Callers show the list in
    order and must not assume its length. No audit here: callers have already audited the read.
    """
    for provider in CONTACT_PROVIDERS:
        found = provider(patient, at or timezone.now())
        if found:  # the cover chain answers; the team's phones are the fallback
            return found
    order = {TeamRole.PRIMARY_DOCTOR: 0, TeamRole.SECONDARY_DOCTOR: 1}
    rows = [r for r in patient.current_team() if r.team_role in order]
    rows.sort(key=lambda r: (order[TeamRole(r.team_role)], r.pk))
    return [
        DoctorContact(
            label=r.get_team_role_display(),
            name=str(r.membership.user),
            organization=r.membership.organization.name,
            phone=r.membership.organization.phone,
        )
        for r in rows
    ]


# The sheet --------------------------------------------------------------------------


def _not_future(value: dt.date | None) -> dt.date | None:
    if value is not None and value > timezone.localdate():
        raise ValueError("確認した日に未来の日付は入力できません")
    return value


class SheetInput(Input):
    """The sheet's items; key person and contacts come from the patient's basic record."""

    diagnoses: str = Field("", max_length=1000, description="病名・既往歴")
    medicines: str = Field("", max_length=1000, description="服薬中の薬")
    allergies: str = Field("", max_length=500, description="アレルギー（なければ「なし」）")
    family_doctor: str = Field("", max_length=300, description="かかりつけ医（医療機関・電話）")
    resuscitation: Resuscitation | None = Field(None, description="蘇生についての希望（三択）")
    resuscitation_confirmed_on: Annotated[dt.date | None, AfterValidator(_not_future)] = Field(
        None, description="希望を本人・家族と確認した日"
    )
    notes: str = Field("", max_length=500)
    version: int | None = None

    @model_validator(mode="after")
    def _confirmed_with_wish(self) -> SheetInput:
        if self.resuscitation and self.resuscitation_confirmed_on is None:
            raise ValueError("蘇生についての希望を選んだら、確認した日を入力してください")
        return self


def sheet_of(patient: Patient) -> EmergencySheet | None:
    return EmergencySheet.objects.filter(patient=patient).select_related("updated_by__user").first()


def view_sheet(
    patient: Patient,
    *,
    by: Membership,
    what: str = "emergency_sheet",
    request: HttpRequest | None = None,
) -> EmergencySheet | None:
    audit_read(patient, by=by, what=what, request=request)
    return sheet_of(patient)


@transaction.atomic
def save_sheet(
    patient: Patient, *, by: Membership, data: SheetInput, request: HttpRequest | None = None
) -> EmergencySheet:
    require_on_team(patient, by)
    sheet = EmergencySheet.objects.select_for_update().filter(patient=patient).first()
    if sheet is None:
        if data.version not in (None, 0):
            raise NotFound("救急医療情報シートが見つかりません")
        sheet = EmergencySheet(patient=patient, updated_by=by)
        changed = [f for f in SHEET_FIELDS if getattr(data, f) not in ("", None)]
    else:
        bump_version(sheet, data.version)
        changed = [f for f in SHEET_FIELDS if getattr(sheet, f) != (getattr(data, f) or _blank(f))]
    for f in SHEET_FIELDS:
        setattr(sheet, f, getattr(data, f) if getattr(data, f) is not None else _blank(f))
    sheet.updated_by = by
    sheet.save()
    AuditEntry.record(
        "care.emergency_sheet_updated",
        request=request,
        by=by,
        target=patient,
        detail={"fields": changed, "version": sheet.version},
    )
    return sheet


def _blank(field: str) -> object:
    return None if field == "resuscitation_confirmed_on" else ""


# The ambulance crew's view ----------------------------------------------------------


@transaction.atomic
def issue_ambulance_code(
    patient: Patient, *, by: Membership, request: HttpRequest | None = None
) -> str:
    """A new one-time code for a printed sheet; returns the token (kept only as a hash)."""
    require_on_team(patient, by)
    token = AmbulanceCode.new_token()
    now = timezone.now()
    AmbulanceCode.objects.create(
        patient=patient,
        token_hash=hash_token(token),
        issued_by=by,
        issued_at=now,
        expires_at=now + dt.timedelta(days=AMBULANCE_CODE_DAYS),
    )
    AuditEntry.record("care.ambulance_code_issued", request=request, by=by, target=patient)
    return token


@transaction.atomic
def revoke_ambulance_codes(
    patient: Patient, *, by: Membership, request: HttpRequest | None = None
) -> int:
    """Invalidate every printed code (a sheet was lost, or the patient moved)."""
    require_on_team(patient, by)
    n = AmbulanceCode.objects.filter(patient=patient, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    AuditEntry.record(
        "care.ambulance_codes_revoked",
        request=request,
        by=by,
        target=patient,
        detail={"count": n},
    )
    return n


def active_codes(patient: Patient) -> int:
    return AmbulanceCode.objects.filter(
        patient=patient,
        revoked_at__isnull=True,
        used_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).count()


@transaction.atomic
def open_ambulance_view(
    token: str, *, session_key: str, request: HttpRequest | None = None
) -> tuple[Patient, EmergencySheet | None]:
    """The crew's read: the first opening uses the code and binds it to that browser for
    AMBULANCE_WINDOW; any other browser, or later, gets NotFound. The team is alerted."""
    now = timezone.now()
    code = (
        AmbulanceCode.objects.select_for_update()
        .select_related("patient")
        .filter(token_hash=hash_token(token), revoked_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if code is None or not session_key:
        raise NotFound(CODE_NOT_FOUND)
    session = hash_token(session_key)
    first = code.used_at is None
    if first:
        code.used_at = now
        code.session_hash = session
        code.save(update_fields=["used_at", "session_hash"])
    elif code.session_hash != session or now > code.used_at + AMBULANCE_WINDOW:  # type: ignore[operator]
        raise NotFound(CODE_NOT_FOUND)
    patient = code.patient
    AuditEntry.record(
        "care.patient_viewed",
        request=request,
        target=patient,
        actor_label="救急隊（シートのコード）",
        detail={"what": "ambulance_view", "via": "ambulance_code", "first": first},
    )
    if first:
        team = (
            CareTeamMember.objects.current()
            .filter(patient=patient)
            .select_related("membership__user")
        )
        notify(
            to=[r.membership.user.email for r in team if r.membership.user.email],
            subject="救急医療情報シートのコードが使われました",
            template="care_ambulance_view.txt",
            context={
                "at": now,
                "url": mail.site_url(reverse("care:emergency", args=[patient.code])),
            },
        )
    return patient, sheet_of(patient)


# ACP (人生会議) ------------------------------------------------------------------------


class AcpInput(Input):
    """One new version of the ACP record (the whole record, as agreed at the meeting)."""

    what_matters: str = Field("", max_length=2000, description="大切にしていること")
    place_of_care: str = Field("", max_length=300, description="療養したい場所")
    place_of_death: str = Field("", max_length=300, description="最期を迎えたい場所")
    treatment_wishes: str = Field("", max_length=2000, description="治療・ケアについての希望")
    proxy: str = Field("", max_length=300, description="代理で意思決定する人（氏名・続柄・連絡先）")
    participants: str = Field("", max_length=500, description="話し合いの参加者")
    discussed_on: Annotated[
        dt.date, required("話し合った日を入力してください"), AfterValidator(_not_future)
    ]
    next_review_on: dt.date | None = Field(None, description="次に見直す日")
    base: int | None = Field(
        None, description="編集を始めたときの版（他の方が先に保存していれば 409）"
    )

    @model_validator(mode="after")
    def _review_after_discussion(self) -> AcpInput:
        if self.next_review_on is not None and self.next_review_on < self.discussed_on:
            raise ValueError("次に見直す日は、話し合った日より後にしてください")
        return self


def acp_history(patient: Patient) -> list[AcpRecord]:
    return list(
        AcpRecord.objects.filter(patient=patient)
        .select_related("recorded_by__user", "recorded_by__organization")
        .order_by("-number")
    )


def view_acp(
    patient: Patient, *, by: Membership, request: HttpRequest | None = None
) -> list[AcpRecord]:
    audit_read(patient, by=by, what="acp", request=request)
    return acp_history(patient)


@transaction.atomic
def save_acp(
    patient: Patient, *, by: Membership, data: AcpInput, request: HttpRequest | None = None
) -> AcpRecord:
    require_on_team(patient, by)
    Patient.objects.select_for_update().filter(pk=patient.pk).first()  # serialise versions
    latest = AcpRecord.objects.filter(patient=patient).order_by("-number").first()
    if latest is not None and data.base is not None and data.base != latest.number:
        raise StaleVersion(latest)
    values = {f: getattr(data, f) for f in ACP_FIELDS}
    changed = [
        f
        for f in ACP_FIELDS
        if latest is None
        and values[f] not in ("", None)
        or latest is not None
        and getattr(latest, f) != values[f]
    ]
    record = AcpRecord.objects.create(
        patient=patient,
        number=(latest.number + 1) if latest else 1,
        changed=changed,
        recorded_by=by,
        **values,
    )
    AuditEntry.record(
        "care.acp_recorded",
        request=request,
        by=by,
        target=patient,
        detail={"fields": changed, "number": record.number},
    )
    return record
