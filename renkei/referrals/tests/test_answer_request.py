from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from renkei.accounts.menu import count_together
from renkei.accounts.models import Membership
from renkei.directory.models import Facility
from renkei.lib.inputs import parse
from renkei.referrals import actions
from renkei.referrals.inputs import RequestAnswerInput, WithdrawRequestInput
from renkei.referrals.models import (
    Answer,
    DeclineReason,
    EventKind,
    PlacementCase,
    PlacementRequest,
    RequestStatus,
    unread_badge,
    unread_count,
)
from renkei.referrals.testing import send

pytestmark = pytest.mark.django_db


def badge(m: Membership) -> int:
    """The menu's badge as the menu counts it (ADR 0060)."""
    item: dict[str, Any] = {}
    count_together([(item, unread_badge(m))])
    return int(item["badge"])


@pytest.fixture
def req(
    case: PlacementCase, msw: Membership, tokuyo: tuple[Facility, Membership]
) -> PlacementRequest:
    return send(case, msw, [tokuyo[0]])[0]


def test_opening_marks_read_once(
    req: PlacementRequest, tokuyo: tuple[Facility, Membership]
) -> None:
    """The first open by the facility sets 既読 and one event; later opens change nothing."""
    staff = tokuyo[1]
    assert unread_count(staff) == 1
    assert actions.mark_read(req, by=staff) is True
    assert actions.mark_read(req, by=staff) is False
    req.refresh_from_db()
    assert req.status == RequestStatus.READ and req.read_at is not None
    assert req.events.filter(kind=EventKind.READ).count() == 1
    assert unread_count(staff) == 0


def test_hospital_opening_does_not_mark_read(req: PlacementRequest, msw: Membership) -> None:
    """Only the receiving facility's opening counts as 既読."""
    assert actions.mark_read(req, by=msw) is False
    req.refresh_from_db()
    assert req.status == RequestStatus.SENT


def test_accept_notifies_the_hospital(
    req: PlacementRequest,
    msw: Membership,
    tokuyo: tuple[Facility, Membership],
    django_capture_on_commit_callbacks: object,
    mailoutbox: list[object],
) -> None:
    """受入可 is recorded with who and when, flags the hospital's badge and e-mails its staff."""
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        actions.answer_request(
            req,
            by=tokuyo[1],
            data=RequestAnswerInput(answer=Answer.ACCEPTED, note="来週から受入れ可能"),
        )
    req.refresh_from_db()
    assert req.status == RequestStatus.ACCEPTED == req.answer
    assert req.answered_by == tokuyo[1].user
    assert req.unread_by_hospital is True
    assert unread_count(msw) == 1 == badge(msw)  # the hospital's side
    assert badge(tokuyo[1]) == unread_count(tokuyo[1])
    assert [m.to for m in mailoutbox] == [[msw.user.email]]  # type: ignore[attr-defined]
    assert "受入可" in mailoutbox[0].subject  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"answer": Answer.DECLINED}, "受入不可の理由"),
        ({"answer": Answer.CONDITIONAL, "conditions": "  "}, "条件を入力"),
        ({"answer": Answer.INTERVIEW}, "候補日時を1つ以上"),
        ({"answer": Answer.DECLINED, "decline_reason": DeclineReason.OTHER}, "補足を入力"),
        ({"answer": "maybe"}, "回答を選んで"),
        ({"answer": Answer.ACCEPTED, "note": "担当は山田花子さんです"}, "氏名"),
    ],
)
def test_incomplete_answers_are_refused(
    req: PlacementRequest,
    tokuyo: tuple[Facility, Membership],
    kwargs: dict[str, object],
    message: str,
) -> None:
    """Each answer kind needs its details; free text is screened; nothing changes on refusal."""
    with pytest.raises(actions.ActionError, match=message):
        actions.answer_request(req, by=tokuyo[1], data=parse(RequestAnswerInput, kwargs))
    req.refresh_from_db()
    assert req.status == RequestStatus.SENT and req.answered_at is None


def test_each_answer_kind_is_stored(
    req: PlacementRequest, tokuyo: tuple[Facility, Membership]
) -> None:
    """Declined keeps its reason, conditional its conditions, interview its dates; changing the
    answer clears the previous details."""
    staff = tokuyo[1]
    actions.answer_request(
        req,
        by=staff,
        data=RequestAnswerInput(answer=Answer.DECLINED, decline_reason=DeclineReason.FULL),
    )
    req.refresh_from_db()
    assert (req.status, req.decline_reason) == (RequestStatus.DECLINED, DeclineReason.FULL)
    when = timezone.now().replace(microsecond=0) + dt.timedelta(days=2)
    actions.answer_request(
        req, by=staff, data=RequestAnswerInput(answer=Answer.INTERVIEW, interview_dates=[when])
    )
    req.refresh_from_db()
    assert req.decline_reason == ""
    assert len(req.interview_dates) == 1
    assert dt.datetime.fromisoformat(req.interview_dates[0]) == when
    actions.answer_request(
        req,
        by=staff,
        data=RequestAnswerInput(answer=Answer.CONDITIONAL, conditions="胃ろう物品は持参"),
    )
    req.refresh_from_db()
    assert req.status == RequestStatus.CONDITIONAL and req.interview_dates == []
    assert req.conditions == "胃ろう物品は持参"


def test_only_the_receiving_facility_can_answer(
    req: PlacementRequest, msw: Membership, roken: tuple[Facility, Membership]
) -> None:
    """Neither the hospital nor another facility can answer someone else's request."""
    for who in (msw, roken[1]):
        with pytest.raises(actions.NotFound):
            actions.answer_request(req, by=who, data=RequestAnswerInput(answer=Answer.ACCEPTED))


def test_withdrawn_and_expired_requests_cannot_be_answered(
    req: PlacementRequest, msw: Membership, tokuyo: tuple[Facility, Membership]
) -> None:
    """After 取下げ the answer is refused as a conflict."""
    actions.withdraw_request(req, by=msw)
    with pytest.raises(actions.Conflict, match="取り下げ"):
        actions.answer_request(req, by=tokuyo[1], data=RequestAnswerInput(answer=Answer.ACCEPTED))
    PlacementRequest.objects.filter(pk=req.pk).update(status=RequestStatus.EXPIRED)
    with pytest.raises(actions.Conflict, match="回答期限"):
        actions.answer_request(req, by=tokuyo[1], data=RequestAnswerInput(answer=Answer.ACCEPTED))


def test_withdrawing_a_request_notifies_that_facility(
    req: PlacementRequest,
    msw: Membership,
    tokuyo: tuple[Facility, Membership],
    django_capture_on_commit_callbacks: object,
    mailoutbox: list[object],
) -> None:
    """The hospital withdraws one request: its facility is told, a second withdrawal conflicts."""
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        actions.withdraw_request(req, by=msw, data=WithdrawRequestInput(note="家族の意向で在宅へ"))
    req.refresh_from_db()
    assert req.status == RequestStatus.WITHDRAWN and req.unread_by_facility
    assert [m.to for m in mailoutbox] == [[tokuyo[1].user.email]]  # type: ignore[attr-defined]
    with pytest.raises(actions.Conflict):
        actions.withdraw_request(req, by=msw)


def test_facility_cannot_withdraw(
    req: PlacementRequest, tokuyo: tuple[Facility, Membership]
) -> None:
    """Withdrawal is the requester's decision."""
    with pytest.raises(actions.NotFound):
        actions.withdraw_request(req, by=tokuyo[1])
