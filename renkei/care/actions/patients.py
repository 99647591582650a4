"""Patients: register (with the duplicate check), edit, read (audited), break-glass read.

Each workflow takes one typed input, produced alike by the screen's form and the API's body;
refusals are renkei.lib.actions errors. No message, audit row or mail carries a patient's
name: audit rows name the patient by its code.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Annotated, Any

from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from pydantic import AfterValidator, Field

from renkei.accounts.models import AuditEntry, Membership
from renkei.care.models import (
    BREAK_GLASS_HOURS,
    BREAK_GLASS_ROLES,
    CARE_ROLES,
    BreakGlassGrant,
    CareLevel,
    CareTeamMember,
    MemberStatus,
    Patient,
    ProvisionBasis,
    ProvisionRecord,
    Sex,
    TeamRole,
    kana_birth_key,
)
from renkei.lib import mail
from renkei.lib.actions import Conflict, Forbidden, NotFound, bump_version, notify
from renkei.lib.inputs import Input, required
from renkei.lib.text import normalize_search

NOT_CARE_ROLE = "患者を登録・閲覧できるのは医療・介護の職種の方です"
DUPLICATE = (
    "同じふりがな・生年月日の患者が既に登録されています。同じ方であれば一覧からその記録を開き、"
    "別の方であれば「別の方として登録する」にチェックを入れてください。"
)
BREAK_GLASS_NONE = "ふりがなと生年月日が一致する患者が見つかりません"
BREAK_GLASS_ROLE = "緊急時の閲覧ができるのは医師・看護師・薬剤師の方です"
PATIENT_ITEMS = "氏名、ふりがな、生年月日、性別、住所、電話番号、被保険者番号、要介護度、キーパーソン、緊急連絡先、タイムライン"

_KANA = re.compile(r"^[\u3041-\u309f\u30a0-\u30ff\uff66-\uff9f\s　・ー]+$")


def _kana(value: str) -> str:
    if not _KANA.match(value):
        raise ValueError("ふりがなは、ひらがなかカタカナで入力してください")
    return value


def _birth_date(value: dt.date) -> dt.date:
    if not dt.date(1900, 1, 1) <= value <= timezone.localdate():
        raise ValueError("生年月日は1900年以降、今日までの日付を入力してください")
    return value


def _phone(value: str) -> str:
    if value and not re.fullmatch(r"[0-9０-９\-－ー() （）]+", value):
        raise ValueError("電話番号は数字とハイフンで入力してください")
    return value


def _insured(value: str) -> str:
    if value and not re.fullmatch(r"[0-9０-９]{6,10}", value):
        raise ValueError("被保険者番号は6〜10桁の数字で入力してください")
    return value


# The same rule for the schema, on the text as sent (the input strips it first): some kana,
# and nothing but kana and spaces.
_KANA_SCHEMA = (
    r"^\s*[\u3041-\u309f\u30a0-\u30ff\uff66-\uff9f][\u3041-\u309f\u30a0-\u30ff\uff66-\uff9f\s]*$"
)

Kana = Annotated[
    str,
    Field(
        min_length=1,
        max_length=100,
        description="ひらがなかカタカナ",
        json_schema_extra={"pattern": _KANA_SCHEMA},
    ),
    required("ふりがなを入力してください"),
    AfterValidator(_kana),
]
BirthDate = Annotated[
    dt.date, AfterValidator(_birth_date), Field(description="1900-01-01 から今日まで")
]


class PatientInput(Input):
    """A patient's identity and contacts: the screen's form and the API's body."""

    name: Annotated[str, Field(min_length=1, max_length=60), required("氏名を入力してください")]
    kana: Kana
    birth_date: BirthDate
    sex: Sex = Sex.UNKNOWN
    address: str = Field("", max_length=200)
    phone: Annotated[str, Field(max_length=20), AfterValidator(_phone)] = ""
    insured_number: Annotated[str, Field(max_length=10), AfterValidator(_insured)] = Field(
        "", description="被保険者番号（数字6〜10桁）"
    )
    care_level: CareLevel = CareLevel.NONE
    key_person: str = Field("", max_length=200, description="キーパーソン（氏名・続柄・連絡先）")
    emergency_contacts: str = Field("", max_length=500)


class NewPatientInput(PatientInput):
    team_role: TeamRole = Field(..., description="登録する方のチームでの役割")
    allow_duplicate: bool = Field(False, description="同じふりがな・生年月日の別の方として登録する")


class PatientUpdate(PatientInput):
    version: int | None = None


class BreakGlassInput(Input):
    kana: Kana
    birth_date: BirthDate
    reason: Annotated[
        str,
        Field(min_length=10, max_length=300),
        required("緊急に閲覧する理由を入力してください"),
    ]


IDENTITY_FIELDS = list(PatientInput.model_fields)


def _apply(patient: Patient, data: PatientInput) -> list[str]:
    changed = []
    for name in IDENTITY_FIELDS:
        value = getattr(data, name)
        if getattr(patient, name) != value:
            changed.append(name)
            setattr(patient, name, value)
    patient.refresh_indexes()
    return changed


def _care_role(by: Membership) -> None:
    if by.role not in CARE_ROLES:
        raise Forbidden(NOT_CARE_ROLE)


def audit_read(
    patient: Patient,
    *,
    by: Membership,
    what: str,
    request: HttpRequest | None = None,
    on_team: bool | None = None,
) -> None:
    """Every read of a patient's record, on any door: who, which patient, what was shown.
    `on_team` when the caller already knows it from the current team it loaded."""
    if on_team is None:
        on_team = CareTeamMember.objects.current().filter(patient=patient, membership=by).exists()
    AuditEntry.record(
        "care.patient_viewed",
        request=request,
        by=by,
        target=patient,
        detail={"what": what, "via": "team" if on_team else "break_glass"},
    )


@transaction.atomic
def create_patient(
    *, by: Membership, data: NewPatientInput, request: HttpRequest | None = None
) -> Patient:
    _care_role(by)
    key = kana_birth_key(data.kana, data.birth_date)
    if not data.allow_duplicate:
        # Only among records the registrant's organisation holds or sees: whether another
        # organisation cares for someone of that kana and birth date is not theirs to learn.
        same = Patient.objects.filter(kana_birth_index=key).filter(
            Q(owner=by.organization) | Q(pk__in=Patient.objects.visible_to(by).values("pk"))
        )
        if same.exists():
            raise Conflict(DUPLICATE, field="allow_duplicate")
    patient = Patient(owner=by.organization, created_by=by.user)
    _apply(patient, data)
    patient.save()
    today = timezone.localdate()
    CareTeamMember.objects.create(
        patient=patient,
        membership=by,
        team_role=data.team_role,
        status=MemberStatus.ACTIVE,
        start_date=today,
        answered_at=timezone.now(),
    )
    AuditEntry.record("care.patient_created", request=request, by=by, target=patient)
    return patient


@transaction.atomic
def update_patient(
    patient: Patient, *, by: Membership, data: PatientUpdate, request: HttpRequest | None = None
) -> Patient:
    require_on_team(patient, by)
    bump_version(patient, data.version)
    changed = _apply(patient, data)
    patient.save()
    AuditEntry.record(
        "care.patient_updated",
        request=request,
        by=by,
        target=patient,
        detail={"fields": changed},  # names of the fields, never their values
    )
    return patient


def require_on_team(patient: Patient, by: Membership) -> CareTeamMember:
    """The actor's current team row; a break-glass reader may read, not write."""
    row = CareTeamMember.objects.current().filter(patient=patient, membership=by).first()
    if row is None:
        raise Forbidden("チームのメンバーだけが記録を変更できます（緊急時の閲覧は読むだけです）")
    return row


def view_patient(
    patient: Patient, *, by: Membership, what: str = "patient", request: HttpRequest | None = None
) -> Patient:
    audit_read(patient, by=by, what=what, request=request)
    return patient


LIST_FIELDS = ("pk", "code", "owner_id", "name", "kana", "birth_date", "care_level")


def list_patients(
    *, by: Membership, query: str = "", request: HttpRequest | None = None, brief: bool = False
) -> list[Patient]:
    """The member's patients by kana; `query` narrows by name or kana (folded, in Python:
    the names are sealed). The list shows names, so it is a read of each, audited.
    `brief`: only what the list screen shows (LIST_FIELDS) is loaded and decrypted."""
    if by.role not in CARE_ROLES:
        return []
    rows = Patient.objects.on_team_of(by).order_by("pk")
    patients = list(rows.only(*LIST_FIELDS) if brief else rows)
    if query:
        q = normalize_search(query)
        patients = [p for p in patients if q in normalize_search(p.name + p.kana)]
    patients.sort(key=lambda p: normalize_search(p.kana))
    if patients:
        AuditEntry.record(
            "care.patients_listed",
            request=request,
            by=by,
            detail={"patients": [str(p.code) for p in patients]},
        )
    return patients


def _emails(members: Iterable[Membership]) -> list[str]:
    return [m.user.email for m in members if m.user.email]


@transaction.atomic
def break_glass(
    *, by: Membership, data: BreakGlassInput, request: HttpRequest | None = None
) -> list[Patient]:
    """Open a record outside the team for BREAK_GLASS_HOURS, with a reason; the team and
    both organisations' administrators are told at once (security R29)."""
    if by.role not in BREAK_GLASS_ROLES:
        raise Forbidden(BREAK_GLASS_ROLE)
    key = kana_birth_key(data.kana, data.birth_date)
    patients = list(Patient.objects.filter(kana_birth_index=key).select_related("owner"))
    if not patients:
        raise NotFound(BREAK_GLASS_NONE)
    now = timezone.now()
    for patient in patients:
        BreakGlassGrant.objects.create(
            patient=patient,
            membership=by,
            reason=data.reason,
            created_at=now,
            expires_at=now + dt.timedelta(hours=BREAK_GLASS_HOURS),
        )
        AuditEntry.record(
            "care.break_glass",
            request=request,
            by=by,
            target=patient,
            detail={"reason": data.reason, "hours": BREAK_GLASS_HOURS},
        )
        if by.organization_id != patient.owner_id:
            ProvisionRecord.objects.create(
                patient=patient,
                recipient=by.organization,
                recipient_member=by,
                items=PATIENT_ITEMS,
                basis=ProvisionBasis.EMERGENCY,
                recorded_by=by,
            )
        team = [r.membership for r in patient.current_team()]
        admins = Membership.objects.filter(
            organization_id__in={by.organization_id, patient.owner_id},
            is_org_admin=True,
            is_active=True,
        ).select_related("user")
        notify(
            to=_emails([*team, *admins]),
            subject="緊急時の閲覧がありました",
            template="care_break_glass.txt",
            context={
                "who": by.user,
                "organization": by.organization,
                "at": now,
                "url": mail.site_url(reverse("care:access_log", args=[patient.code])),
            },
        )
    return patients


def patient_values(patient: Patient) -> dict[str, Any]:
    """The stored identity as an input's values (the edit form's initial data)."""
    return {name: getattr(patient, name) for name in IDENTITY_FIELDS}
