"""Consent: record one of the three shapes, attach the scanned form, revoke (ADR 0033).

Visibility reads the consents on every request (PatientQuerySet.visible_to), so a revocation
needs no cache to clear: the next request of an uncovered organisation gets 404.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from pydantic import Field, model_validator

from renkei.accounts.models import AuditEntry, Membership, Organization, User
from renkei.care.actions.patients import require_on_team
from renkei.care.models import Consent, ConsentScope, Patient, ProvisionRecord
from renkei.lib.actions import ActionError, Conflict
from renkei.lib.inputs import CalendarDate, Input, required

FORM_TYPES = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
FORM_MAX_BYTES = 10 * 1024 * 1024
ORGS_REQUIRED = "施設リストの同意では、共有先の組織を1つ以上選んでください"
PEOPLE_REQUIRED = "個人の同意では、共有先の職員のログインIDを1つ以上入力してください"


class ConsentInput(Input):
    scope: ConsentScope
    purpose: Annotated[
        str, Field(min_length=1, max_length=300), required("利用目的を入力してください")
    ]
    given_by: Annotated[
        str,
        Field(min_length=1, max_length=60),
        required("同意した人（本人、家族（続柄）など）を入力してください"),
    ]
    valid_from: CalendarDate
    valid_until: CalendarDate | None = None
    organizations: list[uuid.UUID] = Field(
        default_factory=list, max_length=100, description="施設リストのときの共有先の組織ID"
    )
    people: list[Annotated[str, Field(min_length=1, max_length=150)]] = Field(
        default_factory=list, max_length=100, description="個人のときの共有先の職員のログインID"
    )

    @model_validator(mode="after")
    def _shape(self) -> ConsentInput:
        if self.valid_until is not None and self.valid_until < self.valid_from:
            raise ValueError("有効期間の終了は開始以降の日付にしてください")
        return self


class RevokeInput(Input):
    reason: str = Field("", max_length=300)


@transaction.atomic
def record_consent(
    patient: Patient,
    *,
    by: Membership,
    data: ConsentInput,
    form_file: UploadedFile[bytes] | None = None,
    request: HttpRequest | None = None,
) -> Consent:
    require_on_team(patient, by)
    orgs: list[Organization] = []
    people: list[User] = []
    if data.scope == ConsentScope.ORGANIZATIONS:
        if not data.organizations:
            raise ActionError(ORGS_REQUIRED, field="organizations")
        orgs = list(Organization.objects.filter(code__in=data.organizations, is_active=True))
        if len(orgs) != len(set(data.organizations)):
            raise ActionError("見つからない組織が含まれています", field="organizations")
    elif data.scope == ConsentScope.PEOPLE:
        if not data.people:
            raise ActionError(PEOPLE_REQUIRED, field="people")
        people = list(
            User.objects.filter(
                username__in=data.people, is_active=True, memberships__is_active=True
            ).distinct()
        )
        missing = sorted(set(data.people) - {u.username for u in people})
        if missing:
            raise ActionError(
                f"見つからないログインIDがあります: {', '.join(missing)}", field="people"
            )
    consent = Consent(
        patient=patient,
        scope=data.scope,
        purpose=data.purpose,
        given_by=data.given_by,
        valid_from=data.valid_from,
        valid_until=data.valid_until,
        recorded_by=by,
    )
    if form_file is not None:
        _check_form(form_file)
        consent.form_file = form_file
    consent.save()
    consent.organizations.set(orgs)
    consent.people.set(people)
    AuditEntry.record(
        "care.consent_recorded",
        request=request,
        by=by,
        target=patient,
        detail={
            "consent": str(consent.code),
            "scope": data.scope.value,
            "organizations": [str(o.code) for o in orgs],
            "people": [u.username for u in people],
        },
    )
    return consent


def _check_form(f: UploadedFile[bytes]) -> None:
    if f.size is not None and f.size > FORM_MAX_BYTES:
        raise ActionError("同意書のファイルは10MB以下にしてください", field="form_file")
    if f.content_type not in FORM_TYPES:
        raise ActionError("同意書はPDF・JPEG・PNGのいずれかで添付してください", field="form_file")
    head = f.read(8)
    f.seek(0)
    magic = {b"%PDF": "pdf", b"\xff\xd8\xff": "jpg", b"\x89PNG": "png"}
    if not any(head.startswith(k) for k in magic):
        raise ActionError("同意書のファイルの形式を確認できません", field="form_file")


@transaction.atomic
def revoke_consent(
    consent: Consent, *, by: Membership, data: RevokeInput, request: HttpRequest | None = None
) -> Consent:
    require_on_team(consent.patient, by)
    consent = Consent.objects.select_for_update().get(pk=consent.pk)
    if consent.revoked_at is not None:
        raise Conflict("この同意は既に撤回されています")
    consent.revoked_at = timezone.now()
    consent.revoked_by = by
    consent.revoke_reason = data.reason
    consent.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    AuditEntry.record(
        "care.consent_revoked",
        request=request,
        by=by,
        target=consent.patient,
        detail={"consent": str(consent.code), "reason": data.reason},
    )
    return consent


def consents_of(patient: Patient) -> list[Consent]:
    return list(
        Consent.objects.filter(patient=patient)
        .select_related("recorded_by__user", "recorded_by__organization", "revoked_by__user")
        .prefetch_related("organizations", "people")
    )


@transaction.atomic
def purge_expired_provisions(today: dt.date | None = None) -> int:
    """Delete provision records kept past their period (個人情報保護法 第29条, 施行規則 第21条:
    3 years here). A record is kept through its `keep_until` day itself; the deletion is
    audited with the count and the cut-off, never with patients' data. Safe to run twice."""
    today = today or timezone.localdate()
    expired = ProvisionRecord.objects.filter(keep_until__lt=today)
    patients = sorted({str(c) for c in expired.values_list("patient__code", flat=True)})
    count, _ = expired.delete()
    if count:
        AuditEntry.record(
            "care.provisions_purged",
            actor_label="定期処理（第三者提供記録の保存期間満了）",
            detail={"count": count, "kept_from": today.isoformat(), "patients": patients},
        )
    return count
