"""Adding a day to a round people applied to, or dropping one, tells them by mail as moving a
day does (on commit), and the audit says how many were told; a round nobody applied to tells
nobody."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail

from renkei.accounts.models import AuditEntry, Membership
from renkei.courses import actions
from renkei.courses.models import Course, CourseSession
from renkei.courses.testing import apply_nurses
from renkei.events.models import wareki_day

pytestmark = pytest.mark.django_db


def _extra_day(course: Course, number: int = 1) -> actions.SessionInput:
    last = course.rounds.get(number=number).sessions.order_by("-date").first()
    assert last is not None
    return actions.SessionInput.model_validate(
        {
            "date": last.date + dt.timedelta(days=7),
            "starts": last.starts,
            "ends": last.ends,
            "kind": last.kind,
            "title": "フォローアップ研修",
            "venue": "県庁 第3会議室",
            "online": False,
        }
    )


def test_adding_a_day_tells_the_rounds_applicants(
    course: Course, alice: Membership, django_capture_on_commit_callbacks: Any
) -> None:
    apply_nurses(course, 1, 1, contact_email="a@example.jp")
    apply_nurses(course, 2, 1, start=20, contact_email="other-round@example.jp")
    mail.outbox.clear()
    data = _extra_day(course)
    with django_capture_on_commit_callbacks(execute=True):
        actions.add_session(course.rounds.get(number=1), data, by=alice)
    told = {addr for m in mail.outbox for addr in m.to}
    assert "a@example.jp" in told
    assert "other-round@example.jp" not in told
    contact = next(m for m in mail.outbox if "a@example.jp" in m.to)
    assert "【日程追加】" in contact.subject
    assert "日程が追加されました" in contact.body
    assert wareki_day(data.date) in contact.body and "県庁 第3会議室" in contact.body
    entry = AuditEntry.objects.get(action="courses.session_added")
    assert entry.detail["told"] == len(mail.outbox)


def test_dropping_a_day_tells_the_rounds_applicants(
    course: Course, alice: Membership, django_capture_on_commit_callbacks: Any
) -> None:
    rnd = course.rounds.get(number=1)
    extra = actions.add_session(rnd, _extra_day(course), by=alice)
    apply_nurses(course, 1, 1, contact_email="a@example.jp")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        actions.delete_session(extra, by=alice)
    assert not CourseSession.objects.filter(pk=extra.pk).exists()
    contact = next(m for m in mail.outbox if "a@example.jp" in m.to)
    assert "【日程削除】" in contact.subject
    assert "日程が1日なくなりました" in contact.body
    assert wareki_day(extra.date) in contact.body and "フォローアップ研修" in contact.body
    assert "取り消してください" not in contact.body
    entry = AuditEntry.objects.get(action="courses.session_deleted")
    assert entry.detail["told"] == len(mail.outbox) >= 1


def test_a_round_nobody_applied_to_tells_nobody(
    course: Course, alice: Membership, django_capture_on_commit_callbacks: Any
) -> None:
    rnd = course.rounds.get(number=1)
    with django_capture_on_commit_callbacks(execute=True):
        extra = actions.add_session(rnd, _extra_day(course), by=alice)
        actions.delete_session(extra, by=alice)
    assert mail.outbox == []
    assert AuditEntry.objects.get(action="courses.session_added").detail["told"] == 0
    assert AuditEntry.objects.get(action="courses.session_deleted").detail["told"] == 0
