"""Care teams across organisations: invite (within the consent), accept there, leave, remove.

Joining a team of another organisation's patient is a provision of the record to a third
party: it writes the 第29条 record, and is refused outside the patient's consent.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from pydantic import Field

from renkei.accounts.models import AuditEntry, Membership
from renkei.care.actions.patients import PATIENT_ITEMS, require_on_team
from renkei.care.models import (
    CARE_ROLES,
    CareTeamMember,
    Consent,
    MemberStatus,
    Patient,
    ProvisionBasis,
    ProvisionRecord,
    TeamRole,
    shares_with,
)
from renkei.lib import mail
from renkei.lib.actions import ActionError, Conflict, Forbidden, notify
from renkei.lib.inputs import CalendarDate, Input, required

INVITEE_UNKNOWN = "招待する方が見つかりません（組織とログインIDを確認してください）"
ALREADY_ON_TEAM = "この方は既にチームのメンバーか、招待中です"
LAST_MEMBER = "チームの最後のメンバーは外せません。先に他の方を招待してください。"


def outside_consent(org_name: str) -> str:
    return (
        f"「{org_name}」は患者さんの情報共有の同意の範囲外のため、共有できません。"
        "同意の範囲を確認し、必要なら同意を追加してから招待してください。"
    )


class InviteInput(Input):
    organization: uuid.UUID = Field(..., description="招待する方の組織のID")
    username: Annotated[
        str,
        Field(min_length=1, max_length=150),
        required("招待する方のログインIDを入力してください"),
    ]
    team_role: TeamRole
    start_date: CalendarDate | None = Field(None, description="参加の開始日（空欄は承諾した日）")


class EndInput(Input):
    reason: str = Field("", max_length=200)


@transaction.atomic
def invite_member(
    patient: Patient, *, by: Membership, data: InviteInput, request: HttpRequest | None = None
) -> CareTeamMember:
    require_on_team(patient, by)
    invitee = (
        Membership.objects.filter(
            organization__code=data.organization,
            organization__is_active=True,
            user__username=data.username,
            user__is_active=True,
            is_active=True,
            role__in=CARE_ROLES,
        )
        .select_related("user", "organization")
        .order_by("pk")
        .first()
    )
    if invitee is None:
        raise ActionError(INVITEE_UNKNOWN, field="username")
    if not shares_with(patient, invitee.organization):
        raise Forbidden(outside_consent(invitee.organization.name), field="organization")
    try:
        with transaction.atomic():
            row = CareTeamMember.objects.create(
                patient=patient,
                membership=invitee,
                team_role=data.team_role,
                status=MemberStatus.INVITED,
                start_date=data.start_date or timezone.localdate(),
                invited_by=by,
                invited_at=timezone.now(),
            )
    except IntegrityError:
        raise Conflict(ALREADY_ON_TEAM, field="username") from None
    AuditEntry.record(
        "care.team_invited",
        request=request,
        by=by,
        target=patient,
        detail={"invitee": invitee.user.username, "organization": str(invitee.organization.code)},
    )
    notify(
        to=[invitee.user.email] if invitee.user.email else [],
        subject="ケアチームへの招待が届いています",
        template="care_invited.txt",
        context={
            "user": invitee.user,
            "inviter": by.user,
            "inviter_org": by.organization,
            "role": row.get_team_role_display(),
            "url": mail.site_url(reverse("care:invitations")),
        },
    )
    return row


@transaction.atomic
def accept_invitation(
    row: CareTeamMember, *, by: Membership, request: HttpRequest | None = None
) -> CareTeamMember:
    row = CareTeamMember.objects.select_for_update().select_related("patient").get(pk=row.pk)
    if row.membership_id != by.pk or row.status != MemberStatus.INVITED:
        raise Conflict("この招待は既に回答済みか、取り消されています")
    patient = row.patient
    # The consent may have changed since the invitation was sent.
    if not shares_with(patient, by.organization):
        raise Forbidden(outside_consent(by.organization.name))
    today = timezone.localdate()
    row.status = MemberStatus.ACTIVE
    row.start_date = max(row.start_date, today)
    row.answered_at = timezone.now()
    row.save(update_fields=["status", "start_date", "answered_at"])
    if by.organization_id != patient.owner_id:
        consent = (
            Consent.objects.active(today)
            .filter(patient=patient)
            .covering_org(by.organization)
            .order_by("-recorded_at")
            .first()
        )
        ProvisionRecord.objects.create(
            patient=patient,
            recipient=by.organization,
            recipient_member=by,
            items=PATIENT_ITEMS,
            basis=ProvisionBasis.CONSENT,
            consent=consent,
            recorded_by=row.invited_by,
        )
    AuditEntry.record("care.team_joined", request=request, by=by, target=patient)
    return row


@transaction.atomic
def decline_invitation(
    row: CareTeamMember, *, by: Membership, request: HttpRequest | None = None
) -> CareTeamMember:
    row = CareTeamMember.objects.select_for_update().select_related("patient").get(pk=row.pk)
    if row.membership_id != by.pk or row.status != MemberStatus.INVITED:
        raise Conflict("この招待は既に回答済みか、取り消されています")
    row.status = MemberStatus.DECLINED
    row.answered_at = timezone.now()
    row.save(update_fields=["status", "answered_at"])
    AuditEntry.record("care.team_declined", request=request, by=by, target=row.patient)
    return row


def may_end(row: CareTeamMember, by: Membership) -> bool:
    """The member themself (leaving), a current member of the registering organisation, or
    the administrator of the member's own organisation."""
    if row.membership_id == by.pk:
        return True
    if by.is_org_admin and by.organization_id == row.membership.organization_id:
        return True
    return (
        by.organization_id == row.patient.owner_id
        and CareTeamMember.objects.current().filter(patient=row.patient, membership=by).exists()
    )


@transaction.atomic
def end_membership(
    row: CareTeamMember,
    *,
    by: Membership,
    data: EndInput,
    request: HttpRequest | None = None,
) -> CareTeamMember:
    row = (
        CareTeamMember.objects.select_for_update()
        .select_related("patient", "membership")
        .get(pk=row.pk)
    )
    if row.status not in (MemberStatus.ACTIVE, MemberStatus.INVITED):
        raise Conflict("このメンバーは既にチームを離れています")
    if not may_end(row, by):
        raise Forbidden(
            "このメンバーを外せるのは、本人、登録した組織のメンバー、本人の組織の管理者です"
        )
    if row.status == MemberStatus.ACTIVE:
        others = (
            CareTeamMember.objects.current().filter(patient=row.patient).exclude(pk=row.pk).exists()
        )
        if not others:
            raise Conflict(LAST_MEMBER)
    today = timezone.localdate()
    row.status = MemberStatus.ENDED
    row.end_date = today
    row.ended_by = by
    row.end_reason = data.reason
    row.save(update_fields=["status", "end_date", "ended_by", "end_reason"])
    AuditEntry.record(
        "care.team_left" if row.membership_id == by.pk else "care.team_removed",
        request=request,
        by=by,
        target=row.patient,
        detail={"member": row.membership.user.username, "reason": data.reason},
    )
    return row
