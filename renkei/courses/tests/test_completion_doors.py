"""Parity of attendance and certificates: the 出席簿 and 修了証 screens and
/api/v1/courses/manage/ run the same actions, so the same marks leave the same attendance,
completers and certificates, and an unknown participant is refused with the same message."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.test import Client

from renkei.accounts.models import AuditEntry, Membership
from renkei.courses.models import Certificate, Course, SessionAttendance
from renkei.courses.tests.conftest import client_for
from renkei.courses.tests.test_completion import _apply_past, past_course

__all__ = ["past_course"]  # the fixture of the completion tests

pytestmark = pytest.mark.django_db
DOORS = ["html", "api"]


def _state(course: Course) -> tuple[Any, ...]:
    return (
        sorted(
            (s.session.date, s.applicant.name)
            for s in SessionAttendance.objects.select_related("session", "applicant")
        ),
        [
            (c.applicant.name, c.number)
            for c in Certificate.objects.filter(course=course).select_related("applicant")
        ],
        list(
            AuditEntry.objects.filter(
                action__in=("courses.attendance_marked", "courses.certificates_issued")
            )
            .order_by("pk")
            .values_list("action", "detail")
        ),
    )


def _mark(c: Client, course: Course, session: uuid.UUID, who: uuid.UUID, door: str) -> Any:
    base = f"/courses/manage/{course.code}/1/sessions/{session}/"
    if door == "html":
        return c.post(base, {"applicant": str(who), "attended": "1"})
    api = f"/api/v1/courses/manage/courses/{course.code}/rounds/1/sessions/{session}/attendance"
    body = json.dumps({"applicant": str(who), "attended": True})
    return c.put(api, data=body, content_type="application/json")


@pytest.mark.parametrize("door", DOORS)
def test_attendance_and_certificates_come_out_the_same_through_either_door(
    past_course: Course, alice: Membership, door: str
) -> None:
    rnd = past_course.rounds.get(number=1)
    a, b = _apply_past(past_course, 1, 2)
    day1, day2 = list(rnd.sessions.order_by("date"))
    own = client_for(alice)
    for session, people in ((day1, (a, b)), (day2, (a,))):
        for p in people:
            assert _mark(own, past_course, session.code, p.code, door).status_code in (200, 302)
    if door == "html":
        r = own.post(f"/courses/manage/{past_course.code}/1/certificates/issue/")
        assert r.status_code == 302
    else:
        r = own.post(f"/api/v1/courses/manage/courses/{past_course.code}/rounds/1/certificates")
        assert r.status_code == 200 and len(r.json()) == 1
    attendance, certificates, audit = _state(past_course)
    assert attendance == sorted([(day1.date, a.name), (day1.date, b.name), (day2.date, a.name)])
    assert certificates == [(a.name, 1)]
    assert [action for action, _ in audit] == [
        "courses.attendance_marked",
        "courses.attendance_marked",
        "courses.attendance_marked",
        "courses.certificates_issued",
    ]
    assert audit[-1][1]["issued"] == 1


@pytest.mark.parametrize("door", DOORS)
def test_an_unknown_participant_is_refused_the_same(
    past_course: Course, alice: Membership, door: str
) -> None:
    rnd = past_course.rounds.get(number=1)
    _apply_past(past_course, 1, 1)
    day1 = rnd.sessions.order_by("date").first()
    assert day1 is not None
    before = _state(past_course)
    r = _mark(client_for(alice), past_course, day1.code, uuid.uuid4(), door)
    assert r.status_code == 404
    shown = r.content.decode() if door == "html" else r.json()["detail"]
    assert "この回の申込者が見つかりません" in shown
    assert _state(past_course) == before
