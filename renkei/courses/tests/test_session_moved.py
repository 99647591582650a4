"""Moving a session's date, time or venue after people applied tells them by mail (on commit,
through the job queue) and is audited with what moved; a refused or idle change tells nobody."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from renkei.accounts.models import AuditEntry, Membership
from renkei.courses import actions
from renkei.courses.models import Course, CourseSession
from renkei.courses.testing import apply_nurses, course_application, nurse
from renkei.courses.tests.conftest import client_for
from renkei.events import actions as event_actions
from renkei.events.models import wareki_day
from renkei.lib.actions import ActionError

pytestmark = pytest.mark.django_db


def _first_day(course: Course, number: int = 1) -> CourseSession:
    day = course.rounds.get(number=number).sessions.order_by("date").first()
    assert day is not None
    return day


def _moved(day: CourseSession, **over: Any) -> actions.SessionInput:
    values = {
        "date": day.date,
        "starts": day.starts,
        "ends": day.ends,
        "kind": day.kind,
        "title": day.title,
        "venue": day.venue,
        "online": day.online,
        **over,
    }
    return actions.SessionInput.model_validate(values)


def _form(day: CourseSession, **over: str) -> dict[str, str]:
    return {
        "date": day.date.isoformat(),
        "starts": f"{day.starts:%H:%M}",
        "ends": f"{day.ends:%H:%M}",
        "kind": day.kind,
        "title": day.title,
        "venue": day.venue,
        **over,
    }


def test_moving_a_day_mails_each_contact_and_own_address_once(
    course: Course, alice: Membership, django_capture_on_commit_callbacks: Any
) -> None:
    """Two applications to round 1 (one with a nurse of her own address) and one to round 2:
    round 1's two contacts and that nurse are told, with before and after; round 2 is not."""
    rnd = course.rounds.get(number=1)
    actions.apply(rnd, course_application([nurse(1)], contact_email="a@example.jp"), notify=False)
    apply_nurses(course, 1, 2, start=10, contact_email="b@example.jp")
    apply_nurses(course, 2, 1, start=20, contact_email="c@example.jp")
    own_address = rnd.event.applicants.get(application__contact_email="a@example.jp").email
    day = _first_day(course)
    new_date = day.date - dt.timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        actions.update_session(day, _moved(day, date=new_date, venue="県庁 第2会議室"), by=alice)
    told = sorted(addr for m in mail.outbox for addr in m.to)
    round1 = course.rounds.get(number=1).event.applicants.all()
    own = {p.email for p in round1}
    assert own_address in own and len(own) == 3
    assert told == sorted({"a@example.jp", "b@example.jp", *own})
    body = next(m.body for m in mail.outbox if "a@example.jp" in m.to)
    assert "日程が変更になりました" in body
    assert "県総合医療会館 2階 講堂" in body and "県庁 第2会議室" in body
    assert wareki_day(new_date) in body and wareki_day(day.date) in body
    assert "/courses/progress/" in body
    entry = AuditEntry.objects.get(action="courses.session_updated")
    assert set(entry.detail["moved"]) == {"date", "venue"}
    assert entry.detail["told"] == len(told)


def test_a_cancelled_applicant_is_not_told(
    course: Course, alice: Membership, django_capture_on_commit_callbacks: Any
) -> None:
    app = apply_nurses(course, 1, 1, contact_email="gone@example.jp")
    event_actions.cancel(app)
    mail.outbox.clear()
    day = _first_day(course)
    with django_capture_on_commit_callbacks(execute=True):
        actions.update_session(day, _moved(day, starts=dt.time(10, 0)), by=alice)
    assert mail.outbox == []
    assert AuditEntry.objects.get(action="courses.session_updated").detail["told"] == 0


def test_a_change_of_title_only_tells_nobody(
    course: Course, alice: Membership, django_capture_on_commit_callbacks: Any
) -> None:
    apply_nurses(course, 1, 2)
    day = _first_day(course)
    with django_capture_on_commit_callbacks(execute=True):
        actions.update_session(day, _moved(day, title="オリエンテーション"), by=alice)
    assert mail.outbox == []
    assert AuditEntry.objects.get(action="courses.session_updated").detail["moved"] == {}


def test_a_refused_move_changes_nothing_and_tells_nobody(
    course: Course, alice: Membership, django_capture_on_commit_callbacks: Any
) -> None:
    """A day moved before the round's deadline is refused whole: no mail, no audit."""
    apply_nurses(course, 1, 2)
    day = _first_day(course)
    deadline = course.rounds.get(number=1).event.apply_until
    assert deadline is not None
    too_early = timezone.localdate(deadline) - dt.timedelta(days=2)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ActionError):
        actions.update_session(day, _moved(day, date=too_early), by=alice)
    assert mail.outbox == []
    day.refresh_from_db()
    assert day.date != too_early
    assert not AuditEntry.objects.filter(action="courses.session_updated").exists()


def test_both_doors_tell_the_applicants(
    course: Course, alice: Membership, django_capture_on_commit_callbacks: Any
) -> None:
    apply_nurses(course, 1, 1, contact_email="html@example.jp")
    day = _first_day(course)
    c = client_for(alice)
    url = f"/courses/manage/{course.code}/1/sessions/{day.code}/edit/"
    with django_capture_on_commit_callbacks(execute=True):
        r = c.post(url, _form(day, starts="10:00"))
    assert r.status_code == 302
    assert any("html@example.jp" in m.to for m in mail.outbox)
    mail.outbox.clear()
    api = f"/api/v1/courses/manage/courses/{course.code}/rounds/1/sessions/{day.code}"
    body = {**_form(day, starts="10:30"), "online": True}
    with django_capture_on_commit_callbacks(execute=True):
        r = c.put(api, data=json.dumps(body), content_type="application/json")
    assert r.status_code == 200, r.json()
    assert any("html@example.jp" in m.to for m in mail.outbox)


def test_bad_input_on_the_edit_form_is_refused_and_tells_nobody(
    course: Course, alice: Membership, client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    apply_nurses(course, 1, 1)
    day = _first_day(course)
    url = f"/courses/manage/{course.code}/1/sessions/{day.code}/edit/"
    with django_capture_on_commit_callbacks(execute=True):
        r = client_for(alice).post(url, _form(day, starts="17:00", ends="09:00"))
    assert r.status_code == 400
    assert "終了時刻は開始時刻より後にしてください" in r.content.decode()
    assert mail.outbox == []
    day.refresh_from_db()
    assert f"{day.starts:%H:%M}" == "09:30"
