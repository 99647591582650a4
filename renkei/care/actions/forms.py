"""Shared forms (issue 13 §4, ADR 0046): draft from the record, save versions, send inside the
consent, receive with a receipt, reply (連絡票).

Both doors call these with the same typed inputs. Reads are audited with the patient's code
(`care.patient_viewed`, `what` naming the form); audit rows and mails carry no item values.
"""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

import pydantic
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from pydantic import Field

from renkei.accounts.models import AuditEntry, Membership, Organization, Role
from renkei.care.actions.emergency import doctor_contacts, sheet_of
from renkei.care.actions.patients import audit_read, require_on_team
from renkei.care.form_kinds import CONTENT_MODELS, Content, PatientItems
from renkei.care.models import (
    CareLevel,
    CareTeamMember,
    Consent,
    FormKind,
    Patient,
    ProvisionBasis,
    ProvisionRecord,
    Sex,
    SharedForm,
    SharedFormVersion,
    TeamRole,
    shares_with,
)
from renkei.lib import mail
from renkei.lib.actions import ActionError, Conflict, Forbidden, bump_version, notify
from renkei.lib.inputs import CalendarDate, Input, required

NOT_SENDER = "この様式を編集・送付できるのは、作成した組織のチームメンバーです"
NOT_RECIPIENT = "返信できるのは送付先の組織のチームメンバーです"


class NewFormInput(Input):
    """Start a draft: the items are copied from the patient's record and team."""

    kind: FormKind = Field(..., description="様式（admission / discharge / doctor_cm）")
    admission_date: CalendarDate | None = Field(None, description="入院日（入院時・退院時の様式）")


class FormSaveInput(Input):
    """A new version of the form's items (the whole form, as on paper)."""

    content: Content
    admission_date: CalendarDate | None = Field(None, description="入院日")
    version: int | None = Field(None, description="編集を始めたときの版（古ければ 409）")


class SendInput(Input):
    recipient: uuid.UUID = Field(..., description="送付先の組織（チームに参加している組織）")
    version: int | None = Field(None, description="送付する版（最新でなければ 409）")


class ReplyInput(Input):
    reply: Annotated[
        str, Field(min_length=1, max_length=2000), required("返信の内容を入力してください")
    ]


# Prefill ------------------------------------------------------------------------------


def _team(patient: Patient) -> list[CareTeamMember]:
    return list(patient.current_team())


def _first(rows: list[CareTeamMember], role: TeamRole) -> CareTeamMember | None:
    return next((r for r in rows if r.team_role == role), None)


def prefill(patient: Patient, kind: str, by: Membership) -> PatientItems:
    """The first version of a new form: what the record and the team already say."""
    team = _team(patient)
    cm = _first(team, TeamRole.CARE_MANAGER)
    liaison = _first(team, TeamRole.HOSPITAL_LIAISON)
    doctors = doctor_contacts(patient)
    sheet = sheet_of(patient)
    values: dict[str, Any] = {
        "kind": kind,
        "patient_name": patient.name,
        "patient_kana": patient.kana,
        "birth_date": patient.birth_date,
        "sex": Sex(patient.sex).label,
        "care_level": CareLevel(patient.care_level).label,
    }
    me_org = by.organization
    if kind == FormKind.ADMISSION:
        values |= {
            "office_name": me_org.name,
            "care_manager": str(by.user),
            "office_phone": me_org.phone,
            "address": patient.address,
            "phone": patient.phone,
            "key_person": patient.key_person,
            "hospital_name": liaison.membership.organization.name if liaison else "",
            "medicines": sheet.medicines if sheet else "",
        }
        if doctors:
            values |= {
                "doctor_clinic": doctors[0].organization,
                "doctor_name": doctors[0].name,
                "doctor_phone": doctors[0].phone,
            }
    elif kind == FormKind.DISCHARGE:
        values |= {
            "hospital_name": me_org.name,
            "staff": f"{by.get_role_display()} {by.user}",
            "hospital_phone": me_org.phone,
            "office_name": cm.membership.organization.name if cm else "",
            "care_manager": str(cm.membership.user) if cm else "",
            "medical_management": doctors[0].organization if doctors else "",
            "diseases": sheet.diagnoses if sheet else "",
        }
    else:
        to_doctor = by.role != Role.DOCTOR
        other = (doctors[0].organization, doctors[0].name) if to_doctor and doctors else ("", "")
        if not to_doctor and cm:
            other = (cm.membership.organization.name, str(cm.membership.user))
        values |= {
            "direction": "ケアマネジャーから医師へ" if to_doctor else "医師からケアマネジャーへ",
            "to_org": other[0],
            "to_name": other[1],
            "from_org": me_org.name,
            "from_name": str(by.user),
            "from_phone": me_org.phone,
        }
    model = CONTENT_MODELS[kind]
    # Values from the record may break an item's shape (an old phone format): keep the rest.
    try:
        return model.model_validate(values)
    except pydantic.ValidationError as e:
        bad = {str(err["loc"][0]) for err in e.errors() if err["loc"]}
        return model.model_validate({k: v for k, v in values.items() if k not in bad})


def _dump(content: PatientItems) -> str:
    return json.dumps(content.model_dump(mode="json"), ensure_ascii=False)


def content_of(form: SharedForm, number: int | None = None) -> PatientItems:
    """The items of version `number` (default: the latest) as their typed model."""
    row = form.versions.filter(number=number or form.version).first()
    values = row.values() if row else {"kind": form.kind}
    return CONTENT_MODELS[form.kind].model_validate(values)


def shown_version(form: SharedForm, m: Membership) -> int:
    """The recipient sees what was sent; the sender's organisation sees the latest draft."""
    if form.recipient_id == m.organization_id and form.sender_id != m.organization_id:
        return form.sent_version or form.version
    return form.version


# Workflows ----------------------------------------------------------------------------


def _require_sender(form: SharedForm, by: Membership) -> None:
    require_on_team(form.patient, by)
    if form.sender_id != by.organization_id:
        raise Forbidden(NOT_SENDER)


@transaction.atomic
def create_form(
    patient: Patient, *, by: Membership, data: NewFormInput, request: HttpRequest | None = None
) -> SharedForm:
    require_on_team(patient, by)
    form = SharedForm.objects.create(
        patient=patient,
        kind=data.kind,
        sender=by.organization,
        created_by=by,
        admission_date=data.admission_date,
    )
    content = prefill(patient, data.kind, by)
    SharedFormVersion.objects.create(
        form=form, number=1, content=_dump(content), changed=[], saved_by=by
    )
    AuditEntry.record(
        "care.form_created",
        request=request,
        by=by,
        target=patient,
        detail={"form": str(form.code), "kind": form.kind},
    )
    return form


@transaction.atomic
def save_form(
    form: SharedForm, *, by: Membership, data: FormSaveInput, request: HttpRequest | None = None
) -> SharedForm:
    _require_sender(form, by)
    if data.content.kind != form.kind:
        raise ActionError("様式の種類は変更できません", field="content.kind")
    before = content_of(form).model_dump(mode="json")
    bump_version(form, data.version)
    after = data.content.model_dump(mode="json")
    changed = [k for k in after if before.get(k) != after[k]]
    if data.admission_date != form.admission_date:
        changed.append("admission_date")
        form.admission_date = data.admission_date
        form.save(update_fields=["admission_date"])
    SharedFormVersion.objects.create(
        form=form, number=form.version, content=_dump(data.content), changed=changed, saved_by=by
    )
    AuditEntry.record(
        "care.form_saved",
        request=request,
        by=by,
        target=form.patient,
        detail={"form": str(form.code), "version": form.version, "fields": changed},
    )
    return form


def recipients(form: SharedForm) -> list[Organization]:
    """Organisations the form may go to: others on the team now, within the consent."""
    orgs = {
        r.membership.organization_id: r.membership.organization
        for r in _team(form.patient)
        if r.membership.organization_id != form.sender_id
    }
    return sorted((o for o in orgs.values() if shares_with(form.patient, o)), key=lambda o: o.name)


@transaction.atomic
def send_form(
    form: SharedForm, *, by: Membership, data: SendInput, request: HttpRequest | None = None
) -> SharedForm:
    _require_sender(form, by)
    form = SharedForm.objects.select_for_update().select_related("patient").get(pk=form.pk)
    if data.version is not None and data.version != form.version:
        raise Conflict("この様式は他の方が更新しました。最新の内容を確認してから送付してください")
    org = Organization.objects.filter(code=data.recipient, is_active=True).first()
    team_orgs = {r.membership.organization_id for r in _team(form.patient)}
    if org is None or org.pk not in team_orgs or org.pk == form.sender_id:
        raise ActionError(
            "送付先は、この患者のチームに参加している他の組織から選んでください",
            field="recipient",
        )
    if not shares_with(form.patient, org):
        raise Forbidden(
            f"{org.name}は本人の同意の範囲に含まれていないため送付できません。"
            "同意の記録を確認・追加してから送付してください。",
            field="recipient",
        )
    if form.kind in (FormKind.ADMISSION, FormKind.DISCHARGE) and form.admission_date is None:
        raise ActionError("入院日を入力して保存してから送付してください", field="admission_date")
    now = timezone.now()
    form.recipient = org
    form.sent_version = form.version
    form.sent_at = now
    form.first_sent_at = form.first_sent_at or now
    form.sent_by = by
    # A new version needs its own receipt.
    form.delivered_at = form.read_at = form.read_by = None
    form.save()
    if org.pk != form.patient.owner_id:
        consent = Consent.objects.active().filter(patient=form.patient).covering_org(org).first()
        ProvisionRecord.objects.create(
            patient=form.patient,
            recipient=org,
            items=form.get_kind_display(),
            basis=ProvisionBasis.CONSENT,
            consent=consent,
            recorded_by=by,
        )
    AuditEntry.record(
        "care.form_sent",
        request=request,
        by=by,
        target=form.patient,
        detail={
            "form": str(form.code),
            "kind": form.kind,
            "version": form.version,
            "recipient": str(org.code),
        },
    )
    team = [r for r in _team(form.patient) if r.membership.organization_id == org.pk]
    notify(
        to=[r.membership.user.email for r in team if r.membership.user.email],
        subject=f"{form.get_kind_display()}が届きました",
        template="care_form_sent.txt",
        context={
            "kind": form.get_kind_display(),
            "sender": by.organization.name,
            "url": mail.site_url(reverse("care:form", args=[form.patient.code, form.code])),
        },
    )
    return form


def view_form(
    form: SharedForm,
    *,
    by: Membership,
    request: HttpRequest | None = None,
    receipt: bool = True,
) -> PatientItems:
    """Read a form (audited); the recipient's first reading by a person is the read receipt
    (`receipt` False: a system's token read it, and no one has yet)."""
    audit_read(form.patient, by=by, what=f"shared_form:{form.code}", request=request)
    if (
        receipt
        and form.recipient_id == by.organization_id
        and form.sent_at is not None
        and form.read_at is None
    ):
        now = timezone.now()
        claimed = SharedForm.objects.filter(pk=form.pk, read_at__isnull=True).update(
            read_at=now, read_by=by, delivered_at=form.delivered_at or now
        )
        if claimed:
            form.refresh_from_db()
            AuditEntry.record(
                "care.form_received",
                request=request,
                by=by,
                target=form.patient,
                detail={"form": str(form.code), "version": form.sent_version},
            )
    return content_of(form, shown_version(form, by))


def forms_of(patient: Patient, by: Membership) -> list[SharedForm]:
    return list(
        SharedForm.objects.filter(patient=patient)
        .for_org(by)
        .select_related("sender", "recipient", "read_by__user")
    )


def view_forms(
    patient: Patient, *, by: Membership, request: HttpRequest | None = None
) -> list[SharedForm]:
    audit_read(patient, by=by, what="shared_forms", request=request)
    found = forms_of(patient, by)
    _delivered(by, [f for f in found if f.recipient_id == by.organization_id])
    return found


def _delivered(by: Membership, forms: list[SharedForm]) -> None:
    """Shown in the recipient's list: the delivery receipt (not yet the read receipt)."""
    todo = [f.pk for f in forms if f.delivered_at is None and f.sent_at is not None]
    if todo:
        now = timezone.now()
        SharedForm.objects.filter(pk__in=todo, delivered_at__isnull=True).update(delivered_at=now)
        for f in forms:
            if f.pk in todo:
                f.delivered_at = now


def inbox(*, by: Membership, request: HttpRequest | None = None) -> list[SharedForm]:
    """Forms sent to the member's organisation about patients the member may open now."""
    found = list(
        SharedForm.objects.filter(
            recipient_id=by.organization_id,
            sent_at__isnull=False,
            patient__in=Patient.objects.visible_to(by),
        )
        .exclude(sender_id=by.organization_id)
        .select_related("patient", "sender", "read_by__user")
        .order_by("-sent_at")[:200]
    )
    if found:
        AuditEntry.record(
            "care.patients_listed",
            request=request,
            by=by,
            detail={"patients": sorted({str(f.patient.code) for f in found}), "what": "inbox"},
        )
    _delivered(by, found)
    return found


@transaction.atomic
def reply_form(
    form: SharedForm, *, by: Membership, data: ReplyInput, request: HttpRequest | None = None
) -> SharedForm:
    require_on_team(form.patient, by)
    if form.kind != FormKind.DOCTOR_CM:
        raise ActionError("返信欄があるのは医師とケアマネジャーの連絡票です")
    if form.recipient_id != by.organization_id or form.sent_at is None:
        raise Forbidden(NOT_RECIPIENT)
    form.reply = data.reply
    form.replied_at = timezone.now()
    form.replied_by = by
    if form.read_at is None:
        form.read_at, form.read_by = form.replied_at, by
    form.save(update_fields=["reply", "replied_at", "replied_by", "read_at", "read_by"])
    AuditEntry.record(
        "care.form_replied",
        request=request,
        by=by,
        target=form.patient,
        detail={"form": str(form.code)},
    )
    senders = CareTeamMember.objects.current().filter(
        Q(membership=form.sent_by) | Q(membership=form.created_by), patient=form.patient
    )
    notify(
        to=sorted({r.membership.user.email for r in senders if r.membership.user.email}),
        subject="連絡票に返信がありました",
        template="care_form_replied.txt",
        context={"url": mail.site_url(reverse("care:form", args=[form.patient.code, form.code]))},
    )
    return form
