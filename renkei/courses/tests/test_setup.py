"""Setting a course up on screen and through the API: the same actions and inputs, the
course → rounds → sessions pages, refusals beside their fields, confirmation before deleting."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from renkei.accounts.models import AuditEntry, Membership
from renkei.courses.models import Course, CourseRound, CourseSession
from renkei.courses.testing import apply_nurses
from renkei.courses.tests.conftest import client_for
from renkei.events.models import Applicant, Event

pytestmark = pytest.mark.django_db

API = "/api/v1/courses/manage/courses"


def send(c: Client, method: str, url: str, body: Any = None) -> Any:
    return getattr(c, method)(url, data=json.dumps(body or {}), content_type="application/json")


def _day(n: int) -> str:
    return (timezone.localdate() + dt.timedelta(days=n)).isoformat()


COURSE_FORM = {
    "title": "医療的ケア児等支援者養成研修",
    "description": "2回、各回2日間",
    "programme_item": "ka",
    "eligible_occupations": ["nurse", "care_manager"],
    "employer_kinds": ["visiting_nurse"],
    "fee": "0",
    "min_sessions": "",
    "certificate_label": "医ケア",
    "contact": "県 医療課 045-000-0000",
}


def _session_form(day: int, **over: str) -> dict[str, str]:
    return {
        "date": _day(day),
        "starts": "09:30",
        "ends": "16:30",
        "kind": "lecture",
        "title": "講義",
        "venue": "県総合医療会館",
        **over,
    }


def test_an_organiser_sets_up_a_course_on_screen(alice: Membership) -> None:
    own = client_for(alice)
    assert own.get("/courses/manage/new/").status_code == 200
    # Published with no round yet: refused beside the box, the input kept.
    r = own.post("/courses/manage/new/", {**COURSE_FORM, "published": "on"})
    assert r.status_code == 400
    page = r.content.decode()
    assert (
        "公開するには、回を1つ以上登録してください" in page
        and "医療的ケア児等支援者養成研修" in page
    )
    assert not Course.objects.exists()
    r = own.post("/courses/manage/new/", COURSE_FORM)
    course = Course.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/courses/manage/{course.code}/"
    assert course.eligible_occupations == ["nurse", "care_manager"] and not course.published

    # The first round with its first day; the deadline after the first day is refused.
    new_round = f"/courses/manage/{course.code}/rounds/new/"
    form = {"number": "1", "capacity": "2", "apply_until": f"{_day(30)}T17:00", **_session_form(20)}
    r = own.post(new_round, form)
    assert r.status_code == 400 and "申込期限は初日より前にしてください" in r.content.decode()
    r = own.post(new_round, {**form, "ends": "09:00", "apply_until": f"{_day(10)}T17:00"})
    assert r.status_code == 400 and "終了時刻は開始時刻より後にしてください" in r.content.decode()
    assert not CourseRound.objects.exists()
    r = own.post(new_round, {**form, "apply_until": f"{_day(10)}T17:00"})
    assert r.status_code == 302
    rnd = course.rounds.get()
    assert rnd.event.capacity == 2 and rnd.sessions.count() == 1
    assert timezone.localdate(rnd.event.starts_at).isoformat() == _day(20)

    # Day 2 added, then moved a day later: the round's event follows its last day.
    base = f"/courses/manage/{course.code}/1"
    assert own.post(f"{base}/sessions/new/", _session_form(21, kind="practicum")).status_code == 302
    day2 = rnd.sessions.get(date=_day(21))
    r = own.post(f"{base}/sessions/{day2.code}/edit/", _session_form(22, venue="", online="on"))
    assert r.status_code == 302
    day2.refresh_from_db()
    assert day2.online and day2.date.isoformat() == _day(22) and day2.kind == "lecture"
    rnd.event.refresh_from_db()
    assert timezone.localdate(rnd.event.ends_at).isoformat() == _day(22)
    # A day moved before the deadline is refused; nothing changes.
    r = own.post(f"{base}/sessions/{day2.code}/edit/", _session_form(5))
    assert r.status_code == 400 and "申込期限が初日より後になります" in r.content.decode()
    day2.refresh_from_db()
    assert day2.date.isoformat() == _day(22)

    # Publish once a round exists; the round's page lists its days with their links.
    r = own.post(f"/courses/manage/{course.code}/edit/", {**COURSE_FORM, "published": "on"})
    assert r.status_code == 302
    course = Course.objects.get(pk=course.pk)
    assert course.published
    page = own.get(f"{base}/").content.decode()
    assert f"{base}/sessions/{day2.code}/edit/" in page and f"{base}/sessions/new/" in page

    # Three apply for two places; raising the places to three promotes the third.
    apply_nurses(course, 1, 3)
    assert rnd.event.applicants.filter(status=Applicant.Status.WAITLISTED).count() == 1
    r = own.post(
        f"{base}/edit/", {"number": "1", "capacity": "3", "apply_until": f"{_day(10)}T17:00"}
    )
    assert r.status_code == 302
    assert not rnd.event.applicants.filter(status=Applicant.Status.WAITLISTED).exists()
    codes = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"courses.course_updated", "courses.round_added", "courses.session_updated"} <= codes


def test_deleting_asks_first_and_spares_what_people_applied_to(
    course: Course, alice: Membership
) -> None:
    own = client_for(alice)
    r1 = course.rounds.get(number=1)
    r2 = course.rounds.get(number=2)
    apply_nurses(course, 1, 1)
    day1, day2 = list(r2.sessions.all())
    url = f"/courses/manage/{course.code}/2/sessions/{day2.code}/delete/"
    r = own.get(url)
    assert r.status_code == 200 and "削除しますか" in r.content.decode()
    assert CourseSession.objects.filter(pk=day2.pk).exists()  # asking deletes nothing
    assert own.post(url).status_code == 302
    assert list(r2.sessions.all()) == [day1]
    # The last day of a round is not deleted on its own.
    r = own.post(f"/courses/manage/{course.code}/2/sessions/{day1.code}/delete/")
    assert r.status_code == 409 and "日程が1つ以上必要です" in r.content.decode()
    # A round or course with applicants stays.
    r = own.post(f"/courses/manage/{course.code}/1/delete/")
    assert r.status_code == 409 and "申込のある回は削除できません" in r.content.decode()
    r = own.post(f"/courses/manage/{course.code}/delete/")
    assert r.status_code == 409
    assert course.rounds.count() == 2
    event2 = r2.event_id
    assert own.post(f"/courses/manage/{course.code}/2/delete/").status_code == 302
    assert not Event.objects.filter(pk=event2).exists()
    assert list(course.rounds.all()) == [r1]


def test_the_api_sets_up_a_course_with_the_same_inputs(alice: Membership) -> None:
    own = client_for(alice)
    r = send(own, "post", API, {"title": "訪問看護師養成講習会", "published": True})
    assert r.status_code == 400 and r.json()["field"] == "published"
    r = send(own, "post", API, {"title": "訪問看護師養成講習会"})
    assert r.status_code == 201 and r.json()["rounds"] == []
    code = r.json()["code"]
    round_body = {
        "number": 1,
        "capacity": 40,
        "sessions": [{"date": _day(30), "starts": "09:30", "ends": "16:30", "venue": "県看護協会"}],
    }
    r = send(own, "post", f"{API}/{code}/rounds", round_body)
    assert r.status_code == 201 and r.json()["capacity"] == 40
    assert send(own, "post", f"{API}/{code}/rounds", round_body).status_code == 409
    r = send(own, "put", f"{API}/{code}/rounds/1", {"number": 2, "capacity": 35})
    assert r.status_code == 200 and r.json()["number"] == 2
    session = {
        "date": _day(60),
        "starts": "13:00",
        "ends": "17:00",
        "kind": "practicum",
        "online": True,
    }
    r = send(own, "post", f"{API}/{code}/rounds/2/sessions", session)
    assert r.status_code == 201 and r.json()["kind"] == "practicum"
    s_code = r.json()["code"]
    r = send(own, "put", f"{API}/{code}/rounds/2/sessions/{s_code}", {**session, "ends": "12:00"})
    assert r.status_code == 400 and "終了時刻" in r.json()["detail"]
    r = send(own, "put", f"{API}/{code}/rounds/2/sessions/{s_code}", {**session, "date": _day(61)})
    assert r.status_code == 200 and r.json()["date"] == _day(61)
    r = send(
        own,
        "put",
        f"{API}/{code}",
        {"title": "訪問看護師養成講習会 令和8年度", "published": True},
    )
    assert r.status_code == 200 and r.json()["published"] is True
    event = CourseRound.objects.get().event
    assert event.title == "訪問看護師養成講習会 令和8年度 第2回" and not event.published
    assert timezone.localdate(event.ends_at).isoformat() == _day(61)
    assert own.delete(f"{API}/{code}/rounds/2/sessions/{s_code}").status_code == 204
    assert own.delete(f"{API}/{code}/rounds/2").status_code == 204
    assert own.delete(f"{API}/{code}").status_code == 204
    assert not Course.objects.exists() and not Event.objects.exists()


def test_outsiders_get_404_and_the_anonymous_are_refused(
    course: Course, charlie: Membership, client: Client
) -> None:
    rnd = course.rounds.get(number=1)
    s = rnd.sessions.first()
    assert s is not None
    base = f"/courses/manage/{course.code}"
    pages = [
        f"{base}/edit/",
        f"{base}/delete/",
        f"{base}/rounds/new/",
        f"{base}/1/edit/",
        f"{base}/1/delete/",
        f"{base}/1/sessions/new/",
        f"{base}/1/sessions/{s.code}/edit/",
        f"{base}/1/sessions/{s.code}/delete/",
    ]
    other = client_for(charlie)
    for url in pages:
        assert other.get(url).status_code == 404, url
        assert other.post(url, {}).status_code == 404, url
        r = client.get(url)
        assert r.status_code == 302 and "/accounts/login/" in r["Location"], url
    one_day = {"date": _day(30), "starts": "09:00", "ends": "10:00", "venue": "会場"}
    apis = [
        ("put", f"{API}/{course.code}", {"title": "x"}),
        ("delete", f"{API}/{course.code}", None),
        ("post", f"{API}/{course.code}/rounds", {"number": 3, "sessions": [one_day]}),
        ("put", f"{API}/{course.code}/rounds/1", {"number": 1}),
        ("delete", f"{API}/{course.code}/rounds/1", None),
        ("post", f"{API}/{course.code}/rounds/1/sessions", one_day),
        ("put", f"{API}/{course.code}/rounds/1/sessions/{s.code}", one_day),
        ("delete", f"{API}/{course.code}/rounds/1/sessions/{s.code}", None),
    ]
    for method, url, body in apis:
        assert send(other, method, url, body).status_code == 404, url
        assert send(client, method, url, body).status_code == 401, url
    assert course.rounds.count() == 2 and rnd.sessions.count() == 2
    course.refresh_from_db()
    assert course.title == "訪問看護導入研修"


def test_a_round_is_managed_through_its_course_not_the_events_door(
    course: Course, alice: Membership
) -> None:
    """The round's event is listed among the organiser's events with its course's label, and
    neither events' edit page nor events' API publishes it past the course's eligibility."""
    own = client_for(alice)
    rnd = course.rounds.get(number=2)
    round_page = f"/courses/manage/{course.code}/2/"
    listing = own.get("/events/manage/").content.decode()
    assert f'href="{round_page}"' in listing and "研修コース「訪問看護導入研修」第2回" in listing
    r = own.get(f"/events/manage/{rnd.event.code}/edit/")
    assert r.status_code == 302 and r["Location"] == round_page
    form = {"title": "勝手に公開", "kind": "other", "programme_item": "ka", "published": "on"}
    r = own.post(f"/events/manage/{rnd.event.code}/edit/", form)
    assert r.status_code == 302 and r["Location"] == round_page
    r = send(own, "patch", f"/api/v1/events/manage/events/{rnd.event.code}", {"published": True})
    assert r.status_code == 409 and "研修コース「訪問看護導入研修」第2回" in r.json()["detail"]
    rnd.event.refresh_from_db()
    assert not rnd.event.published and rnd.event.title == "訪問看護導入研修 第2回"
    # A plain event of the same organiser is still edited there.
    plain = Event.objects.create(
        organization=alice.organization,
        title="多職種連携研修会",
        starts_at=rnd.event.starts_at,
        venue_name="市民ホール",
    )
    r = send(own, "patch", f"/api/v1/events/manage/events/{plain.code}", {"published": True})
    assert r.status_code == 200 and r.json()["published"] is True
