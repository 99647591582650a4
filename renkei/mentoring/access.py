"""How a request reaches one 同行研修 record: the office's own, or a party's signed link.

The screens and the API fetch through these and nothing else: another office gets the same
404 on every door, and a tampered or expired link is a 404 too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from renkei.accounts.models import Membership
from renkei.lib.actions import NotFound, get_visible
from renkei.mentoring.models import Match, Mentor, TraineeApplication, TrainingProgram

PROGRAM_NOT_FOUND = "同行研修が見つかりません"


def office_program(m: Membership | None, code: uuid.UUID) -> TrainingProgram:
    return get_visible(
        TrainingProgram.objects.for_office(m).select_related("organizer"),
        PROGRAM_NOT_FOUND,
        code=code,
    )


def public_program(code: uuid.UUID) -> TrainingProgram:
    """Any programme, for its public application form (whether it is open is the action's)."""
    return get_visible(
        TrainingProgram.objects.select_related("organizer"), PROGRAM_NOT_FOUND, code=code
    )


def office_application(m: Membership | None, code: uuid.UUID) -> TraineeApplication:
    return get_visible(
        TraineeApplication.objects.for_office(m).select_related(
            "program__organizer", "entered_by", "match__mentor"
        ),
        "申込が見つかりません",
        code=code,
    )


def office_match(m: Membership | None, code: uuid.UUID) -> Match:
    return get_visible(
        Match.objects.for_office(m).select_related(
            "application__program__organizer", "mentor", "decided_by", "honorarium_recorded_by"
        ),
        "マッチングが見つかりません",
        code=code,
    )


def office_mentor(m: Membership | None, code: uuid.UUID) -> Mentor:
    if m is None:
        raise NotFound("指導医が見つかりません")
    return get_visible(
        Mentor.objects.for_office(m.organization), "指導医が見つかりません", code=code
    )


@dataclass(frozen=True)
class Party:
    """A mentor's or trainee's view of their own match, reached through their link."""

    match: Match
    side: str


def party(token: str) -> Party:
    # Tokens are short; a long one is not ours, and is not worth a signature check.
    found = Match.from_token(token) if len(token) < 500 else None
    if found is None:
        raise NotFound("リンクが無効です")
    return Party(*found)
