"""The day's 出席簿 of a two-day round is per session: the round page lists day 1 and day 2
with their own counts, each day is marked on its own and prints on its own; events' single
出席簿 refuses a course's round on every door."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from renkei.accounts.models import AuditEntry, Membership
from renkei.courses import actions, completion
from renkei.courses.models import Course, SessionAttendance
from renkei.courses.testing import course_application, make_course, nurse, two_day_round
from renkei.courses.tests.conftest import client_for
from renkei.events.models import Applicant

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(alice: Membership) -> Course:
    """One two-day round held last week, with three nurses confirmed."""
    course = make_course(
        alice, rounds=[two_day_round(1, timezone.localdate() - dt.timedelta(days=7))]
    )
    rnd = course.rounds.get()
    actions.apply(
        rnd,
        course_application([nurse(1), nurse(2), nurse(3)]),
        notify=False,
        now=rnd.event.starts_at - dt.timedelta(days=10),
    )
    return course


def _people(course: Course) -> list[Applicant]:
    return list(course.rounds.get().event.applicants.order_by("position"))


def test_day_two_is_marked_on_its_own_and_the_round_page_counts_each_day(
    held: Course, alice: Membership
) -> None:
    rnd = held.rounds.get()
    day1, day2 = list(rnd.sessions.all())
    a, b, c = _people(held)
    client = client_for(alice)
    base = f"/courses/manage/{held.code}/1"
    for p in (a, b, c):
        r = client.post(f"{base}/sessions/{day1.code}/", {"applicant": p.code, "attended": "1"})
        assert r.status_code == 302
    r = client.post(f"{base}/sessions/{day2.code}/", {"applicant": b.code, "attended": "1"})
    assert r.status_code == 302
    assert set(
        SessionAttendance.objects.filter(session=day2).values_list("applicant", flat=True)
    ) == {b.pk}
    page = client.get(f"{base}/").content.decode()
    assert "1日目" in page and "出席 3/3名" in page
    assert "2日目" in page and "出席 1/3名" in page
    day2_page = client.get(f"{base}/sessions/{day2.code}/").content.decode()
    assert "出席簿 2日目" in day2_page and "出席 1名" in day2_page


def test_each_day_prints_its_own_sheet(held: Course, alice: Membership) -> None:
    rnd = held.rounds.get()
    day1, day2 = list(rnd.sessions.all())
    a, b, _ = _people(held)
    for p in (a, b):
        completion.set_session_attendance(
            day1, completion.SessionAttendanceInput(applicant=p.code, attended=True), by=alice
        )
    url = f"/courses/manage/{held.code}/1/sessions/{day2.code}/sheet/"
    r = client_for(alice).get(url)
    body = r.content.decode()
    assert r.status_code == 200
    assert "出席簿 2日目／全2日" in body and "署名" in body
    assert all(p.name in body for p in _people(held))
    assert "出席 0名／参加確定 3名" in body
    assert "private" in r["Cache-Control"]
    day1_sheet = client_for(alice).get(url.replace(str(day2.code), str(day1.code)))
    assert "出席 2名／参加確定 3名" in day1_sheet.content.decode()
    assert AuditEntry.objects.filter(action="courses.session_sheet_printed").count() == 2


def test_the_sheet_is_the_organisers_only(
    held: Course, charlie: Membership, client: Client
) -> None:
    day = held.rounds.get().sessions.first()
    assert day is not None
    url = f"/courses/manage/{held.code}/1/sessions/{day.code}/sheet/"
    assert client_for(charlie).get(url).status_code == 404
    r = client.get(url)
    assert r.status_code == 302 and "/accounts/login" in r["Location"]
    assert not AuditEntry.objects.filter(action="courses.session_sheet_printed").exists()


def test_events_day_list_refuses_a_round_on_every_door(held: Course, alice: Membership) -> None:
    """events' one mark per event cannot say which day: its list, its toggle and the API's
    mark send the organiser to the round's page and change nothing."""
    event = held.rounds.get().event
    a = _people(held)[0]
    c = client_for(alice)
    r = c.get(f"/events/manage/{event.code}/attendance/", follow=True)
    assert r.redirect_chain[0][0] == f"/courses/manage/{held.code}/1/"
    assert "出席の記録（日程ごと）は、その管理画面" in r.content.decode()
    r = c.post(f"/events/manage/{event.code}/attendance/{a.code}/", {"attended": "1"})
    assert r.status_code == 302 and r["Location"] == f"/courses/manage/{held.code}/1/"
    r = c.post(
        f"/api/v1/events/manage/events/{event.code}/applicants/{a.code}/attendance",
        data=json.dumps({"attended": True}),
        content_type="application/json",
    )
    assert r.status_code == 409 and f"/courses/manage/{held.code}/1/" in r.json()["detail"]
    a.refresh_from_db()
    assert a.attended is False
    assert not SessionAttendance.objects.exists()
