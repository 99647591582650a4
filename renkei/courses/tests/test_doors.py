"""Parity of the course writes: the organiser's screens under /courses/manage/ and
/api/v1/courses/manage/ hand the same typed input to the same action. Each test runs once per
door and compares with one expected state (course, rounds, sessions and audit lines); the same
bad input is refused with the same Japanese message and changes nothing."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from renkei.accounts.models import AuditEntry, Membership
from renkei.courses.models import Course
from renkei.courses.testing import apply_nurses
from renkei.courses.tests.conftest import client_for

pytestmark = pytest.mark.django_db
DOORS = ["html", "api"]
API = "/api/v1/courses/manage/courses"
HTML = "/courses/manage"


def _day(n: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=n)


def _send(c: Client, method: str, url: str, body: Any = None) -> Any:
    return getattr(c, method)(url, data=json.dumps(body or {}), content_type="application/json")


def _audit() -> list[tuple[str, dict[str, Any]]]:
    return [
        (a, d)
        for a, d in AuditEntry.objects.filter(action__startswith="courses.")
        .order_by("pk")
        .values_list("action", "detail")
    ]


def _state(course: Course) -> tuple[Any, ...]:
    course = Course.objects.get(pk=course.pk)
    rounds = [
        (
            r.number,
            r.event.capacity,
            r.event.apply_until,
            [
                (s.date, s.starts, s.ends, s.kind, s.title, s.venue, s.online)
                for s in r.sessions.order_by("date", "starts")
            ],
        )
        for r in course.rounds.select_related("event").order_by("number")
    ]
    return (
        course.title,
        course.description,
        course.programme_item,
        course.eligible_occupations,
        course.employer_kinds,
        course.fee,
        course.min_sessions,
        course.certificate_label,
        course.contact,
        course.published,
        rounds,
    )


SETTINGS = {
    "title": "医療的ケア児等支援者養成研修",
    "description": "2回、各回2日間",
    "programme_item": "ka",
    "eligible_occupations": ["nurse", "care_manager"],
    "employer_kinds": ["visiting_nurse"],
    "fee": 1000,
    "min_sessions": 2,
    "certificate_label": "医ケア",
    "contact": "県 医療課 045-000-0000",
}


def _session(day: int, **over: Any) -> dict[str, Any]:
    return {
        "date": _day(day).isoformat(),
        "starts": "09:30",
        "ends": "16:30",
        "kind": "lecture",
        "title": "講義",
        "venue": "県総合医療会館",
        "online": False,
        **over,
    }


def _form(body: dict[str, Any]) -> dict[str, Any]:
    """A JSON body as the screen's form posts it: an unticked box is not sent, nothing is null."""
    return {k: v for k, v in body.items() if v is not False and v is not None}


@pytest.mark.parametrize("door", DOORS)
def test_a_course_is_set_up_the_same_through_either_door(alice: Membership, door: str) -> None:
    own = client_for(alice)
    until = dt.datetime.combine(_day(10), dt.time(17, 0)).isoformat()
    first = {"number": 1, "capacity": 2, "apply_until": until}
    if door == "html":
        assert own.post(f"{HTML}/new/", _form(SETTINGS)).status_code == 302
        course = Course.objects.get()
        r = own.post(f"{HTML}/{course.code}/rounds/new/", _form({**first, **_session(20)}))
        assert r.status_code == 302
        r = own.post(f"{HTML}/{course.code}/1/sessions/new/", _form(_session(21, kind="practicum")))
        assert r.status_code == 302
        day2 = course.rounds.get().sessions.get(date=_day(21))
        moved = _session(22, venue="", online=True)
        r = own.post(f"{HTML}/{course.code}/1/sessions/{day2.code}/edit/", _form(moved))
        assert r.status_code == 302
        r = own.post(f"{HTML}/{course.code}/1/edit/", {**first, "capacity": 3})
        assert r.status_code == 302
        assert (
            own.post(f"{HTML}/{course.code}/edit/", {**SETTINGS, "published": "on"}).status_code
            == 302
        )
    else:
        r = _send(own, "post", API, SETTINGS)
        assert r.status_code == 201
        course = Course.objects.get()
        r = _send(own, "post", f"{API}/{course.code}/rounds", {**first, "sessions": [_session(20)]})
        assert r.status_code == 201
        r = _send(
            own, "post", f"{API}/{course.code}/rounds/1/sessions", _session(21, kind="practicum")
        )
        assert r.status_code == 201
        day2 = course.rounds.get().sessions.get(date=_day(21))
        moved = _session(22, venue="", online=True)
        r = _send(own, "put", f"{API}/{course.code}/rounds/1/sessions/{day2.code}", moved)
        assert r.status_code == 200
        r = _send(own, "put", f"{API}/{course.code}/rounds/1", {**first, "capacity": 3})
        assert r.status_code == 200
        r = _send(own, "put", f"{API}/{course.code}", {**SETTINGS, "published": True})
        assert r.status_code == 200
    tz = timezone.get_current_timezone()
    assert _state(course) == (
        "医療的ケア児等支援者養成研修",
        "2回、各回2日間",
        "ka",
        ["nurse", "care_manager"],
        ["visiting_nurse"],
        1000,
        2,
        "医ケア",
        "県 医療課 045-000-0000",
        True,
        [
            (
                1,
                3,
                dt.datetime.combine(_day(10), dt.time(17, 0), tzinfo=tz),
                [
                    (
                        _day(20),
                        dt.time(9, 30),
                        dt.time(16, 30),
                        "lecture",
                        "講義",
                        "県総合医療会館",
                        False,
                    ),
                    (_day(22), dt.time(9, 30), dt.time(16, 30), "lecture", "講義", "", True),
                ],
            )
        ],
    )
    assert [a for a, _ in _audit()] == [
        "courses.course_created",
        "courses.round_added",
        "courses.session_added",
        "courses.session_updated",
        "courses.round_updated",
        "courses.course_updated",
    ]


@pytest.mark.parametrize("door", DOORS)
def test_publishing_without_a_round_is_refused_the_same(alice: Membership, door: str) -> None:
    own = client_for(alice)
    message = "公開するには、回を1つ以上登録してください。"
    if door == "html":
        r = own.post(f"{HTML}/new/", {**_form(SETTINGS), "published": "on"})
        assert r.status_code == 400 and message in r.content.decode()
    else:
        r = _send(own, "post", API, {**SETTINGS, "published": True})
        assert r.status_code == 400
        assert r.json() == {"detail": message, "field": "published"}
    assert not Course.objects.exists() and _audit() == []


@pytest.mark.parametrize("door", DOORS)
def test_a_deadline_after_the_first_day_is_refused_the_same(
    course: Course, alice: Membership, door: str
) -> None:
    own = client_for(alice)
    late = dt.datetime.combine(_day(30), dt.time(17, 0)).isoformat()
    body = {"number": 3, "capacity": 2, "apply_until": late}
    before = (_state(course), _audit())
    message = "申込期限は初日より前にしてください"
    if door == "html":
        r = own.post(f"{HTML}/{course.code}/rounds/new/", _form({**body, **_session(20)}))
        assert r.status_code == 400 and message in r.content.decode()
    else:
        r = _send(own, "post", f"{API}/{course.code}/rounds", {**body, "sessions": [_session(20)]})
        assert r.status_code == 400
        assert r.json() == {"detail": message, "field": "apply_until"}
    assert (_state(course), _audit()) == before


@pytest.mark.parametrize("door", DOORS)
def test_a_session_ending_before_it_starts_is_refused_the_same(
    course: Course, alice: Membership, door: str
) -> None:
    own = client_for(alice)
    bad = _session(60, ends="09:00")
    before = (_state(course), _audit())
    message = "終了時刻は開始時刻より後にしてください"
    if door == "html":
        r = own.post(f"{HTML}/{course.code}/1/sessions/new/", _form(bad))
        assert r.status_code == 400 and message in r.content.decode()
    else:
        r = _send(own, "post", f"{API}/{course.code}/rounds/1/sessions", bad)
        assert r.status_code == 400 and message in r.json()["detail"]
    assert (_state(course), _audit()) == before


@pytest.mark.parametrize("door", DOORS)
def test_deleting_what_people_applied_to_is_refused_the_same(
    course: Course, alice: Membership, door: str
) -> None:
    """A round with applicants and its course stay, with one message on each door; the last
    day of a round is not deleted on its own."""
    own = client_for(alice)
    apply_nurses(course, 1, 1)
    r2 = course.rounds.get(number=2)
    day1, day2 = list(r2.sessions.order_by("date"))
    before = (_state(course), _audit())
    if door == "html":
        refusals = [
            (own.post(f"{HTML}/{course.code}/1/delete/"), "申込のある回は削除できません"),
            (own.post(f"{HTML}/{course.code}/delete/"), "申込のある研修は削除できません"),
        ]
    else:
        refusals = [
            (own.delete(f"{API}/{course.code}/rounds/1"), "申込のある回は削除できません"),
            (own.delete(f"{API}/{course.code}"), "申込のある研修は削除できません"),
        ]
    for r, message in refusals:
        assert r.status_code == 409
        shown = r.content.decode() if door == "html" else r.json()["detail"]
        assert message in shown
    assert (_state(course), _audit()) == before
    if door == "html":
        assert own.post(f"{HTML}/{course.code}/2/sessions/{day2.code}/delete/").status_code == 302
        last = own.post(f"{HTML}/{course.code}/2/sessions/{day1.code}/delete/")
        shown = last.content.decode()
    else:
        assert own.delete(f"{API}/{course.code}/rounds/2/sessions/{day2.code}").status_code == 204
        last = own.delete(f"{API}/{course.code}/rounds/2/sessions/{day1.code}")
        shown = last.json()["detail"]
    assert last.status_code == 409 and "日程が1つ以上必要です" in shown
    assert [s[0] for s in _state(course)[-1][1][3]] == [day1.date]
    assert [a for a, _ in _audit()[len(before[1]) :]] == ["courses.session_deleted"]
