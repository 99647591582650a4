from __future__ import annotations

import pytest

from renkei.accounts.models import Membership
from renkei.directory.models import Facility
from renkei.lib.inputs import parse
from renkei.referrals import actions
from renkei.referrals.inputs import MessageInput
from renkei.referrals.models import PlacementCase, PlacementRequest, RequestMessage
from renkei.referrals.testing import send

pytestmark = pytest.mark.django_db


@pytest.fixture
def reqs(
    case: PlacementCase,
    msw: Membership,
    tokuyo: tuple[Facility, Membership],
    roken: tuple[Facility, Membership],
) -> list[PlacementRequest]:
    return send(case, msw, [tokuyo[0], roken[0]])


def test_question_and_answer_go_to_the_other_side(
    reqs: list[PlacementRequest],
    msw: Membership,
    tokuyo: tuple[Facility, Membership],
    django_capture_on_commit_callbacks: object,
    mailoutbox: list[object],
) -> None:
    """The facility asks, the hospital is flagged and mailed; the hospital answers, the facility is."""
    req = reqs[0]
    actions.mark_read(req, by=tokuyo[1])
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        actions.post_message(
            req, by=tokuyo[1], data=MessageInput(body="夜間の吸引回数を教えてください")
        )
    req.refresh_from_db()
    assert req.unread_by_hospital and not req.unread_by_facility
    assert mailoutbox[-1].to == [msw.user.email]  # type: ignore[attr-defined]
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        actions.post_message(req, by=msw, data=MessageInput(body="夜間は2回程度です"))
    assert PlacementRequest.objects.get(pk=req.pk).unread_by_facility
    assert mailoutbox[-1].to == [tokuyo[1].user.email]  # type: ignore[attr-defined]
    assert [m.from_hospital for m in req.messages.all()] == [False, True]


def test_another_facility_cannot_join_the_thread(
    reqs: list[PlacementRequest], roken: tuple[Facility, Membership]
) -> None:
    """A facility posting on another facility's request gets NotFound and nothing is stored."""
    with pytest.raises(actions.NotFound):
        actions.post_message(reqs[0], by=roken[1], data=MessageInput(body="こちらでも受けられます"))
    assert RequestMessage.objects.count() == 0


@pytest.mark.parametrize(
    "body, message",
    [("", "本文を入力"), ("a" * 1001, "1000文字"), ("携帯は090-1234-5678です", "電話番号")],
)
def test_bad_messages_are_refused(
    reqs: list[PlacementRequest], msw: Membership, body: str, message: str
) -> None:
    """Empty, too long or identifying messages are refused with the reason."""
    with pytest.raises(actions.ActionError, match=message):
        actions.post_message(reqs[0], by=msw, data=parse(MessageInput, {"body": body}))
    assert RequestMessage.objects.count() == 0


def test_no_messages_on_withdrawn_requests(reqs: list[PlacementRequest], msw: Membership) -> None:
    """A withdrawn request's thread is closed."""
    actions.withdraw_request(reqs[0], by=msw)
    with pytest.raises(actions.Conflict):
        actions.post_message(reqs[0], by=msw, data=MessageInput(body="念のため"))
