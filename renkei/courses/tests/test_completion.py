from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from renkei.accounts.models import Membership
from renkei.courses import actions, completion
from renkei.courses.models import (
    Certificate,
    Course,
    CourseRound,
    SessionAttendance,
    completers,
)
from renkei.courses.tally import yearly
from renkei.courses.testing import make_course, two_day_round
from renkei.courses.tests.conftest import client_for
from renkei.events.models import Applicant
from renkei.lib.actions import ActionError, Conflict

pytestmark = pytest.mark.django_db


@pytest.fixture
def past_course(alice: Membership) -> Course:
    """Two two-day rounds that ended last week: attendance and certificates can be recorded."""
    first = timezone.localdate() - dt.timedelta(days=20)
    course = make_course(
        alice,
        rounds=[two_day_round(1, first), two_day_round(2, first + dt.timedelta(days=7))],
        days_ahead=0,
    )
    return course


def _apply_past(course: Course, number: int, count: int, start: int = 0) -> list[Applicant]:
    rnd = course.rounds.get(number=number)
    before = rnd.event.starts_at - dt.timedelta(days=10)
    from renkei.courses.testing import course_application, nurse

    app, _ = actions.apply(
        rnd,
        course_application(
            [nurse(start + i) for i in range(count)], contact_email=f"o{start}@example.jp"
        ),
        notify=False,
        now=before,
    )
    return list(app.applicants.order_by("position"))


def _mark(rnd: CourseRound, people: list[Applicant], day: int, by: Membership) -> None:
    session = list(rnd.sessions.all())[day]
    for p in people:
        completion.set_session_attendance(
            session, completion.SessionAttendanceInput(applicant=p.code, attended=True), by=by
        )


def test_completion_needs_every_session_by_default(past_course: Course, alice: Membership) -> None:
    rnd = past_course.rounds.get(number=1)
    a, b, c = _apply_past(past_course, 1, 3)
    _mark(rnd, [a, b, c], 0, alice)
    _mark(rnd, [a, b], 1, alice)
    assert {p.pk for p in completers(rnd)} == {a.pk, b.pk}
    c.refresh_from_db()
    assert c.attended is True  # came on day 1: the event's own 出席 for its tallies


def test_a_minimum_of_sessions(alice: Membership) -> None:
    first = timezone.localdate() - dt.timedelta(days=20)
    course = make_course(alice, rounds=[two_day_round(1, first)], min_sessions=1)
    rnd = course.rounds.get()
    a, b = _apply_past(course, 1, 2)
    _mark(rnd, [a], 1, alice)
    assert [p.pk for p in completers(rnd)] == [a.pk]


def test_certificates_are_numbered_per_course_and_year_and_never_reused(
    past_course: Course, alice: Membership
) -> None:
    r1, r2 = past_course.rounds.order_by("number")
    p1 = _apply_past(past_course, 1, 2)
    p2 = _apply_past(past_course, 2, 2, start=10)
    for day in (0, 1):
        _mark(r1, p1, day, alice)
        _mark(r2, p2, day, alice)
    first = completion.issue_certificates(r1, by=alice)
    assert [c.number for c in first] == [1, 2]
    assert completion.issue_certificates(r1, by=alice) == []  # nobody twice
    completion.revoke_certificate(first[1], completion.RevokeInput(reason="氏名の誤記"), by=alice)
    again = completion.issue_certificates(r1, by=alice)
    # The revoked certificate keeps number 2; the person's new one gets the next number.
    assert [(c.applicant_id, c.number) for c in again] == [(p1[1].pk, 3)]
    second = completion.issue_certificates(r2, by=alice)
    assert [c.number for c in second] == [4, 5]
    numbers = list(Certificate.objects.filter(course=past_course).values_list("number", flat=True))
    assert sorted(numbers) == [1, 2, 3, 4, 5]
    assert first[0].number_label.endswith("訪看導入 第001号")


def test_the_database_refuses_a_number_twice(past_course: Course, alice: Membership) -> None:
    r1 = past_course.rounds.get(number=1)
    p = _apply_past(past_course, 1, 2)
    for day in (0, 1):
        _mark(r1, p, day, alice)
    cert = completion.issue_certificates(r1, by=alice)[0]
    with pytest.raises(IntegrityError), transaction.atomic():
        Certificate.objects.create(
            course=past_course,
            round=r1,
            applicant=p[1],
            fiscal_year=cert.fiscal_year,
            number=cert.number,
            issued_on=cert.issued_on,
        )


def test_certificates_wait_for_the_last_day(course: Course, alice: Membership) -> None:
    with pytest.raises(ActionError, match="最終日以降"):
        completion.issue_certificates(course.rounds.get(number=1), by=alice)


def test_attendance_of_a_certified_person_is_not_withdrawn(
    past_course: Course, alice: Membership
) -> None:
    r1 = past_course.rounds.get(number=1)
    (a,) = _apply_past(past_course, 1, 1)
    for day in (0, 1):
        _mark(r1, [a], day, alice)
    completion.issue_certificates(r1, by=alice)
    with pytest.raises(Conflict, match="修了証を発行済み"):
        completion.set_session_attendance(
            r1.sessions.first(),  # type: ignore[arg-type]
            completion.SessionAttendanceInput(applicant=a.code, attended=False),
            by=alice,
        )


def test_yearly_figures(past_course: Course, alice: Membership) -> None:
    r1 = past_course.rounds.get(number=1)
    p1 = _apply_past(past_course, 1, 3)
    _apply_past(past_course, 2, 2, start=10)
    for day in (0, 1):
        _mark(r1, p1[:2], day, alice)
    fy = r1.fiscal_year
    figures = yearly(alice.organization, fy)
    assert (figures.rounds, figures.participants, figures.completers) == (2, 5, 2)
    assert yearly(alice.organization, fy - 1).rounds == 0


def test_attendance_before_the_day_is_refused_at_both_doors(alice: Membership) -> None:
    """Day 1 was yesterday, day 2 is tomorrow: day 2 cannot be marked yet, by form or API."""
    plan = two_day_round(1, timezone.localdate() - dt.timedelta(days=1))
    later = plan.sessions[1].model_copy(
        update={"date": timezone.localdate() + dt.timedelta(days=1)}
    )
    course = make_course(
        alice, rounds=[plan.model_copy(update={"sessions": [plan.sessions[0], later]})]
    )
    rnd = course.rounds.get()
    (a,) = _apply_past(course, 1, 1)
    day1, day2 = list(rnd.sessions.all())
    own = client_for(alice)
    page = f"/courses/manage/{course.code}/1/sessions/{day2.code}/"
    r = own.post(page, {"applicant": str(a.code), "attended": "1"})
    assert r.status_code == 409
    assert "出席は当日以降に記録できます" in r.content.decode()
    api = f"/api/v1/courses/manage/courses/{course.code}/rounds/1/sessions/{day2.code}/attendance"
    body = json.dumps({"applicant": str(a.code), "attended": True})
    r = own.put(api, data=body, content_type="application/json")
    assert r.status_code == 409 and r.json()["field"] == "attended"
    assert "当日以降" in r.json()["detail"]
    assert not SessionAttendance.objects.exists()
    a.refresh_from_db()
    assert a.attended is False
    # The day that has come is marked through either door.
    api1 = api.replace(str(day2.code), str(day1.code))
    assert own.put(api1, data=body, content_type="application/json").status_code == 200
    assert SessionAttendance.objects.filter(session=day1, applicant=a).exists()
    r = own.post(
        page.replace(str(day2.code), str(day1.code)), {"applicant": str(a.code), "attended": "0"}
    )
    assert r.status_code == 302
    assert not SessionAttendance.objects.exists()
