"""How a request reaches one desk record: scoped to the membership, 404 for everyone else.

The screens and the API fetch through these and nothing else, so that an outsider gets the
same 404 on every door and no door forgets a select_related the pages rely on.
"""

from __future__ import annotations

import uuid

from renkei.accounts.models import Membership
from renkei.desk.models import Consultation, Desk, FollowUp, Topic
from renkei.lib.actions import get_visible

DESK_NOT_FOUND = "相談窓口が見つかりません"


def member_desk(m: Membership | None, code: uuid.UUID) -> Desk:
    """A desk whose case records the membership works with."""
    return get_visible(
        Desk.objects.for_member(m).select_related("organization"), DESK_NOT_FOUND, code=code
    )


def reportable_desk(m: Membership | None, code: uuid.UUID) -> Desk:
    """A desk whose tallies the membership reads (the operator or a 委託元)."""
    return get_visible(
        Desk.objects.reportable_by(m).select_related("organization"), DESK_NOT_FOUND, code=code
    )


def visible_consultation(m: Membership | None, code: uuid.UUID) -> Consultation:
    return get_visible(
        Consultation.objects.visible_to(m).select_related(
            "desk__organization", "subject_municipality", "entered_by", "confirmed_by"
        ),
        "相談記録が見つかりません",
        code=code,
    )


def visible_followup(m: Membership | None, pk: int) -> FollowUp:
    return get_visible(
        FollowUp.objects.filter(consultation__in=Consultation.objects.visible_to(m)).select_related(
            "consultation__desk", "assignee"
        ),
        "フォローアップが見つかりません",
        pk=pk,
    )


def desk_topic(desk: Desk, pk: int) -> Topic:
    """One of the desk's own categories (the shared ones belong to no desk)."""
    return get_visible(
        Topic.objects.filter(desk=desk).select_related("desk"), "分類が見つかりません", pk=pk
    )
