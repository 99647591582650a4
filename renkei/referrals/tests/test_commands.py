from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from renkei.accounts.models import Membership
from renkei.directory.models import Facility
from renkei.referrals import actions, jobs
from renkei.referrals.inputs import RequestAnswerInput
from renkei.referrals.models import (
    Answer,
    EventKind,
    PlacementCase,
    PlacementRequest,
    RequestStatus,
)
from renkei.referrals.testing import send

pytestmark = pytest.mark.django_db


def _age(req: PlacementRequest, hours: float) -> None:
    PlacementRequest.objects.filter(pk=req.pk).update(
        sent_at=timezone.now() - dt.timedelta(hours=hours)
    )


def test_reminder_goes_once_to_unanswered_requests(
    case: PlacementCase,
    msw: Membership,
    tokuyo: tuple[Facility, Membership],
    roken: tuple[Facility, Membership],
    third: tuple[Facility, Membership],
    mailoutbox: list[object],
    settings: object,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """After REFERRAL_REMINDER_HOURS without an answer, one reminder per request; a second run
    (cron overlap) sends nothing; answered and fresh requests are left alone."""
    settings.REFERRAL_REMINDER_HOURS = 24  # type: ignore[attr-defined]
    old, answered, fresh = send(case, msw, [tokuyo[0], roken[0], third[0]], hours=96)
    _age(old, 30)
    _age(answered, 30)
    _age(fresh, 2)
    actions.answer_request(answered, by=roken[1], data=RequestAnswerInput(answer=Answer.ACCEPTED))
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):  # the mail queue runs after commit
        call_command("send_referral_reminders", stdout=out)
    assert "督促した依頼: 1件" in out.getvalue()
    assert [m.to for m in mailoutbox] == [[tokuyo[1].user.email]]  # type: ignore[attr-defined]
    assert "回答をお願いします" in mailoutbox[0].subject  # type: ignore[attr-defined]
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_referral_reminders", stdout=StringIO())
    assert len(mailoutbox) == 1
    assert old.events.filter(kind=EventKind.REMINDED).count() == 1


def test_reminder_hours_is_configurable(
    case: PlacementCase,
    msw: Membership,
    tokuyo: tuple[Facility, Membership],
    mailoutbox: list[object],
    settings: object,
) -> None:
    """With REFERRAL_REMINDER_HOURS=48, a request 30 hours old is not reminded yet."""
    settings.REFERRAL_REMINDER_HOURS = 48  # type: ignore[attr-defined]
    (req,) = send(case, msw, [tokuyo[0]], hours=96)
    _age(req, 30)
    call_command("send_referral_reminders", stdout=StringIO())
    assert mailoutbox == []


def test_expiry_closes_unanswered_requests_past_their_deadline(
    case: PlacementCase,
    msw: Membership,
    tokuyo: tuple[Facility, Membership],
    roken: tuple[Facility, Membership],
) -> None:
    """Unanswered and overdue becomes 期限切れ (once); an answered request is kept."""
    late, answered = send(case, msw, [tokuyo[0], roken[0]])
    actions.answer_request(answered, by=roken[1], data=RequestAnswerInput(answer=Answer.ACCEPTED))
    PlacementRequest.objects.update(deadline=timezone.now() - dt.timedelta(minutes=1))
    out = StringIO()
    call_command("expire_referral_requests", stdout=out)
    assert "1件" in out.getvalue()
    late.refresh_from_db()
    answered.refresh_from_db()
    assert late.status == RequestStatus.EXPIRED and late.unread_by_hospital
    assert answered.status == RequestStatus.ACCEPTED
    assert jobs.expire_overdue() == 0


def test_old_idempotency_keys_are_purged(msw: Membership) -> None:
    """The expiry run also removes form tokens and API keys older than a week, not newer ones."""
    from renkei.accounts.models import IdempotencyKey

    old = IdempotencyKey.objects.create(user=msw.user, key="old-key-0001", scope="x")
    IdempotencyKey.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(days=8)
    )
    IdempotencyKey.objects.create(user=msw.user, key="new-key-0001", scope="x")
    out = StringIO()
    call_command("expire_referral_requests", stdout=out)
    assert "削除した二重送信防止キー: 1件" in out.getvalue()
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new-key-0001"]
