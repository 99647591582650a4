"""Deterministic builders for care teams, shared by the tests and the demo seed.

Every person here is synthetic (（仮名） in the demo). The builders go through the actions, as
the screens do, so a test and the demo see the same audit rows and provision records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.utils import timezone

from renkei.accounts.models import Membership, Organization, User
from renkei.care import actions
from renkei.care.models import (
    CareTeamMember,
    Consent,
    ConsentScope,
    MemberStatus,
    Patient,
    Post,
    TeamRole,
)


def make_patient(
    by: Membership,
    *,
    name: str = "連携 花子",
    kana: str = "れんけい はなこ",
    birth_date: dt.date = dt.date(1938, 4, 12),
    team_role: str = TeamRole.PRIMARY_DOCTOR,
    allow_duplicate: bool = False,
    **fields: Any,
) -> Patient:
    data = actions.NewPatientInput.model_validate(
        {
            "name": name,
            "kana": kana,
            "birth_date": birth_date,
            "team_role": team_role,
            "allow_duplicate": allow_duplicate,
            "address": fields.pop("address", "神奈川県海老名市中央一丁目1-1"),
            "phone": fields.pop("phone", "046-200-0000"),
            "insured_number": fields.pop("insured_number", "1400000001"),
            "care_level": fields.pop("care_level", "care2"),
            "key_person": fields.pop("key_person", "連携 一郎（長男）090-0000-0001"),
            **fields,
        }
    )
    return actions.create_patient(by=by, data=data)


def add_to_team(
    patient: Patient,
    member: Membership,
    *,
    by: Membership,
    team_role: str = TeamRole.VISITING_NURSE,
    start_date: dt.date | None = None,
) -> CareTeamMember:
    """Invite `member` as `by` and accept it as `member` (the consent must cover them)."""
    row = actions.invite_member(
        patient,
        by=by,
        data=actions.InviteInput(
            organization=member.organization.code,
            username=member.user.username,
            team_role=TeamRole(team_role),
            start_date=start_date,
        ),
    )
    return actions.accept_invitation(row, by=member)


def make_consent(
    patient: Patient,
    *,
    by: Membership,
    scope: str = ConsentScope.ALL,
    organizations: Iterable[Organization] = (),
    people: Iterable[User] = (),
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
    purpose: str = "在宅療養を支える医療・介護関係者の情報共有のため",
    given_by: str = "本人",
    form_file: Any = None,
) -> Consent:
    from renkei.care.actions import consent as consent_actions

    data = consent_actions.ConsentInput(
        scope=ConsentScope(scope),
        purpose=purpose,
        given_by=given_by,
        valid_from=valid_from or timezone.localdate(),
        valid_until=valid_until,
        organizations=[o.code for o in organizations],
        people=[u.username for u in people],
    )
    return consent_actions.record_consent(patient, by=by, data=data, form_file=form_file)


def make_post(
    patient: Patient,
    by: Membership,
    *,
    body: str = "本日訪問。食事は半分程度。血圧 132/78。",
    category: str = "daily",
    reply_due: dt.date | None = None,
    parent: Post | None = None,
    **visit: Any,
) -> Post:
    from renkei.care.actions import timeline

    data = timeline.PostInput.model_validate(
        {
            "category": category,
            "body": body,
            "reply_due": reply_due,
            "parent": parent.code if parent else None,
            **visit,
        }
    )
    return timeline.create_post(patient, by=by, data=data)


def team_of(patient: Patient) -> Sequence[CareTeamMember]:
    return list(CareTeamMember.objects.filter(patient=patient, status=MemberStatus.ACTIVE))
