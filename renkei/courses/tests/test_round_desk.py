"""The organiser's desk for a round: applications typed in from FAX, post or phone and
cancellations go through the course (its eligibility, enrolments and per-round waiting list);
events' own organiser doors refuse a course's round and name the course's page."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from renkei.accounts.models import AuditEntry, Membership, OrgKind, Role
from renkei.courses import actions
from renkei.courses.models import Course, Enrolment
from renkei.courses.testing import (
    apply_nurses,
    course_application,
    make_course,
    nurse,
    two_day_round,
)
from renkei.courses.tests.conftest import client_for
from renkei.events.actions import EventCancelInput
from renkei.events.models import Applicant, Application
from renkei.lib.actions import ActionError, NotFound
from renkei.testing import make_member

pytestmark = pytest.mark.django_db


def _form(**rows: Any) -> dict[str, str]:
    """The round's paper form as the organiser types it in (one nurse unless told)."""
    data = {
        "office_name": "FAX訪問看護ステーション",
        "employer_kind": "visiting_nurse",
        "municipality_code": "142158",
        "contact_name": "連絡 担当",
        "contact_email": "fax-office@example.jp",
        "contact_phone": "046-000-0009",
        "agree": "on",
        "form_token": "proxy-1",
        "a-TOTAL_FORMS": "1",
        "a-INITIAL_FORMS": "0",
        "a-0-name": "高橋 由美",
        "a-0-kana": "たかはし ゆみ",
        "a-0-occupation": "nurse",
        "a-0-years_experience": "5",
    }
    data.update(rows)
    return data


def _send(c: Client, url: str, body: Any = None) -> Any:
    return c.post(url, data=json.dumps(body or {}), content_type="application/json")


# --- typing in an application that came by FAX, post or phone ------------------------------------


def test_the_organiser_types_in_a_fax_application_on_the_round(
    course: Course, alice: Membership, django_capture_on_commit_callbacks: Any
) -> None:
    """The course's own form and action: an enrolment is written, the application is marked
    FAX, the contact gets the confirmation and the organiser is no employer of the staff."""
    c = client_for(alice)
    url = f"/courses/manage/{course.code}/2/proxy/"
    page = c.get(url)
    assert page.status_code == 200 and "経験年数" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        r = c.post(url, _form())
    assert r.status_code == 302 and r["Location"] == f"/courses/manage/{course.code}/2/"
    app = Application.objects.get()
    assert app.source == Application.Source.FAX
    assert app.event_id == course.rounds.get(number=2).event_id
    e = Enrolment.objects.get()
    assert (e.round.number, e.years_experience, e.employer) == (2, 5, None)
    assert AuditEntry.objects.filter(action="courses.proxy_applied").count() == 1
    assert any("fax-office@example.jp" in m.to for m in mail.outbox)
    assert "高橋 由美" in c.get(r["Location"]).content.decode()


def test_the_proxy_entry_checks_eligibility_and_changes_nothing(
    course: Course, alice: Membership
) -> None:
    """A care worker on a nurses' course is refused beside the row, as on the public form."""
    r = client_for(alice).post(
        f"/courses/manage/{course.code}/1/proxy/", _form(**{"a-0-occupation": "care_worker"})
    )
    assert r.status_code == 400
    assert "申込者1（高橋 由美）: この研修の対象職種は看護職です" in r.content.decode()
    assert Applicant.objects.count() == 0 and Enrolment.objects.count() == 0


def test_bad_input_on_the_proxy_form_is_refused_in_japanese(
    course: Course, alice: Membership
) -> None:
    r = client_for(alice).post(
        f"/courses/manage/{course.code}/1/proxy/",
        _form(**{"a-0-years_experience": "-3"}),
    )
    assert r.status_code == 400
    assert "この値は 0 以上でなければなりません。" in r.content.decode()
    r = client_for(alice).post(
        f"/courses/manage/{course.code}/1/proxy/", _form(contact_email="not-an-address")
    )
    assert r.status_code == 400
    assert "メールアドレスの形式が正しくありません" in r.content.decode()
    assert Applicant.objects.count() == 0


def test_a_late_fax_is_taken_after_the_deadline_but_not_after_the_start(
    alice: Membership,
) -> None:
    """The paper came in time: the deadline is past, the first day is not; the waiting list
    of that round takes those beyond its places. Once the round began, nothing is taken."""
    first = timezone.localdate() + dt.timedelta(days=3)
    tz = timezone.get_current_timezone()
    past = dt.datetime.combine(first - dt.timedelta(days=10), dt.time(9), tzinfo=tz)
    course = make_course(
        alice,
        rounds=[two_day_round(1, first, capacity=1, apply_until=past)],
    )
    rnd = course.rounds.get()
    assert rnd.closed_reason()
    with pytest.raises(ActionError):
        actions.apply(rnd, course_application([nurse(1)]), notify=False)
    app, _ = actions.apply(
        rnd, course_application([nurse(1), nurse(2)]), by=alice, proxy=True, notify=False
    )
    assert list(app.applicants.order_by("position").values_list("status", flat=True)) == [
        Applicant.Status.CONFIRMED,
        Applicant.Status.WAITLISTED,
    ]
    later = timezone.now() + dt.timedelta(days=4)
    with pytest.raises(ActionError) as e:
        actions.apply(
            rnd,
            course_application([nurse(3)], contact_email="late@example.jp"),
            by=alice,
            proxy=True,
            now=later,
            notify=False,
        )
    assert "開催後" in e.value.message
    assert Applicant.objects.count() == 2


def test_only_the_organiser_may_type_in(course: Course, charlie: Membership) -> None:
    with pytest.raises(NotFound):
        actions.apply(
            course.rounds.get(number=1),
            course_application([nurse(1)]),
            by=charlie,
            proxy=True,
            notify=False,
        )
    assert Applicant.objects.count() == 0


# --- cancelling ----------------------------------------------------------------------------------


def test_the_organiser_cancels_with_a_confirmation_and_the_round_moves_up(
    alice: Membership,
) -> None:
    """GET shows who leaves and who moves up in this round and changes nothing; POST cancels,
    promotes round 1's first waiting person and leaves round 2 alone."""
    first = timezone.localdate() + dt.timedelta(days=30)
    course = make_course(
        alice,
        rounds=[
            two_day_round(1, first, capacity=1),
            two_day_round(2, first + dt.timedelta(days=7), capacity=1),
        ],
    )
    leaving_app = apply_nurses(course, 1, 1, start=0)
    waiting_app = apply_nurses(course, 1, 1, start=10)
    apply_nurses(course, 2, 2, start=20)
    leaving = leaving_app.applicants.get()
    url = f"/courses/manage/{course.code}/1/applicants/{leaving.code}/cancel/"
    c = client_for(alice)
    page = c.get(url)
    body = page.content.decode()
    assert page.status_code == 200 and "元には戻せません" in body
    assert waiting_app.applicants.get().name in body
    leaving.refresh_from_db()
    assert leaving.status == Applicant.Status.CONFIRMED
    r = c.post(url)
    assert r.status_code == 302 and r["Location"] == f"/courses/manage/{course.code}/1/"
    leaving.refresh_from_db()
    assert leaving.status == Applicant.Status.CANCELLED
    assert waiting_app.applicants.get().status == Applicant.Status.CONFIRMED
    r2 = course.rounds.get(number=2).event.applicants
    assert list(r2.order_by("position").values_list("status", flat=True)) == [
        Applicant.Status.CONFIRMED,
        Applicant.Status.WAITLISTED,
    ]
    assert AuditEntry.objects.filter(action="courses.cancelled").count() == 1


def test_cancelling_after_the_start_is_refused_and_changes_nothing(
    course: Course, alice: Membership
) -> None:
    app = apply_nurses(course, 1, 1)
    rnd = course.rounds.get(number=1)
    person = app.applicants.get()
    with pytest.raises(ActionError) as e:
        actions.cancel(
            rnd,
            app,
            EventCancelInput(applicants=[person.code]),
            by=alice,
            now=rnd.event.starts_at + dt.timedelta(hours=1),
        )
    assert "開催日時を過ぎた" in e.value.message
    person.refresh_from_db()
    assert person.status == Applicant.Status.CONFIRMED


def test_an_application_of_another_round_is_not_cancelled_through_this_one(
    course: Course, alice: Membership
) -> None:
    app = apply_nurses(course, 2, 1)
    person = app.applicants.get()
    c = client_for(alice)
    url = f"/courses/manage/{course.code}/1/applicants/{person.code}/cancel/"
    assert c.get(url).status_code == 404
    assert c.post(url).status_code == 404
    person.refresh_from_db()
    assert person.status == Applicant.Status.CONFIRMED


# --- the API door --------------------------------------------------------------------------------


def test_the_api_types_in_and_cancels_through_the_course(course: Course, alice: Membership) -> None:
    c = client_for(alice)
    base = f"/api/v1/courses/manage/courses/{course.code}/rounds/1"
    body = course_application([nurse(1)], contact_email="phone@example.jp").model_dump(mode="json")
    r = _send(c, f"{base}/applications", body)
    assert r.status_code == 201, r.json()
    assert Application.objects.get().source == Application.Source.FAX
    person = Applicant.objects.get()
    assert Enrolment.objects.get().applicant == person
    bad = {**body, "employer_kind": "hospital", "contact_email": "x@example.jp"}
    bad["applicants"] = [{**body["applicants"][0], "email": "y@example.jp"}]
    r = _send(c, f"{base}/applications", bad)
    assert r.status_code == 400 and "訪問看護ステーション" in r.json()["detail"]
    assert Applicant.objects.count() == 1
    r = _send(c, f"{base}/applicants/{person.code}/cancel")
    assert r.status_code == 200 and r.json()["cancelled"] == [str(person.code)]
    person.refresh_from_db()
    assert person.status == Applicant.Status.CANCELLED


def test_an_outsider_gets_404_and_anonymous_is_refused(
    course: Course, charlie: Membership, client: Client
) -> None:
    app = apply_nurses(course, 1, 1)
    person = app.applicants.get()
    html = [
        f"/courses/manage/{course.code}/1/proxy/",
        f"/courses/manage/{course.code}/1/applicants/{person.code}/cancel/",
    ]
    api = [
        f"/api/v1/courses/manage/courses/{course.code}/rounds/1/applications",
        f"/api/v1/courses/manage/courses/{course.code}/rounds/1/applicants/{person.code}/cancel",
    ]
    body = course_application([nurse(5)], contact_email="o@example.jp").model_dump(mode="json")
    outsider = client_for(charlie)
    for url in html:
        assert outsider.get(url).status_code == 404, url
        assert outsider.post(url, _form()).status_code == 404, url
        r = client.get(url)
        assert r.status_code == 302 and "/accounts/login" in r["Location"], url
    for url in api:
        assert _send(outsider, url, body).status_code == 404, url
        assert _send(client, url, body).status_code == 401, url
    person.refresh_from_db()
    assert person.status == Applicant.Status.CONFIRMED
    assert Applicant.objects.count() == 1


def test_a_member_outside_the_named_roles_gets_403(course: Course, alice: Membership) -> None:
    clerk = make_member(alice.organization, Role.CARE_WORKER, username="clerk")
    r = client_for(clerk).get(f"/courses/manage/{course.code}/1/proxy/")
    assert r.status_code == 403


# --- events' doors refuse a course's round -------------------------------------------------------


def test_events_proxy_entry_refuses_a_round_and_points_at_the_course(
    course: Course, alice: Membership
) -> None:
    rnd = course.rounds.get(number=1)
    c = client_for(alice)
    url = f"/events/manage/{rnd.event.code}/proxy/"
    r = c.get(url)
    assert r.status_code == 302 and r["Location"] == f"/courses/manage/{course.code}/1/"
    r = c.post(
        url,
        {
            "office_name": "x",
            "contact_name": "連絡 担当",
            "contact_email": "x@example.jp",
            "contact_phone": "046-000-0001",
            "agree": "on",
            "a-TOTAL_FORMS": "1",
            "a-INITIAL_FORMS": "0",
            "a-0-name": "田中 健",
            "a-0-kana": "たなか けん",
            "a-0-occupation": "care_worker",
        },
        follow=True,
    )
    assert "申込の代理入力は、その管理画面" in r.content.decode()
    assert Applicant.objects.count() == 0


def test_events_cancel_refuses_a_round_on_both_doors(course: Course, alice: Membership) -> None:
    app = apply_nurses(course, 1, 1)
    person = app.applicants.get()
    event = course.rounds.get(number=1).event
    c = client_for(alice)
    url = f"/events/manage/{event.code}/applicants/{person.code}/cancel/"
    for method in ("get", "post"):
        r = getattr(c, method)(url, follow=True)
        assert r.redirect_chain[0][0] == f"/courses/manage/{course.code}/1/"
        assert "申込の取消は、その管理画面" in r.content.decode()
    r = _send(c, f"/api/v1/events/manage/events/{event.code}/applicants/{person.code}/cancel")
    assert r.status_code == 409
    assert f"/courses/manage/{course.code}/1/" in r.json()["detail"]
    person.refresh_from_db()
    assert person.status == Applicant.Status.CONFIRMED
    assert not AuditEntry.objects.filter(action="events.cancelled").exists()


def test_an_ordinary_event_keeps_events_doors(alice: Membership) -> None:
    """Only an owned event is refused: a plain event's FAX entry still works."""
    from renkei.events.testing import make_event

    event = make_event(alice.organization)
    r = client_for(alice).get(f"/events/manage/{event.code}/proxy/")
    assert r.status_code == 200


def test_the_employer_kind_is_enforced_on_the_proxy_api_too(
    course: Course, alice: Membership
) -> None:
    body = course_application(
        [nurse(1)], employer_kind=OrgKind.HOSPITAL, contact_email="h@example.jp"
    ).model_dump(mode="json")
    r = _send(
        client_for(alice),
        f"/api/v1/courses/manage/courses/{course.code}/rounds/1/applications",
        body,
    )
    assert r.status_code == 400
    assert Applicant.objects.count() == 0


def test_the_proxy_entry_of_an_unpublished_course_is_refused(
    alice: Membership, django_capture_on_commit_callbacks: Any
) -> None:
    """A draft (or withdrawn) course has no announcement a paper application could answer:
    both doors refuse with 409 and nothing is written or mailed."""
    draft = make_course(alice, published=False)
    with pytest.raises(ActionError) as e:
        actions.apply(
            draft.rounds.get(number=1), course_application([nurse(1)]), by=alice, proxy=True
        )
    assert "公開されていません" in e.value.message
    c = client_for(alice)
    with django_capture_on_commit_callbacks(execute=True):
        page = c.post(f"/courses/manage/{draft.code}/1/proxy/", _form())
    assert page.status_code in (400, 409)
    assert "公開されていません" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        api = _send(
            c,
            f"/api/v1/courses/manage/courses/{draft.code}/rounds/1/applications",
            {
                "office_name": "FAX訪問看護ステーション",
                "employer_kind": "visiting_nurse",
                "contact_name": "連絡 担当",
                "contact_email": "fax-office@example.jp",
                "contact_phone": "046-000-0009",
                "agree": True,
                "applicants": [
                    {
                        "name": "高橋 由美",
                        "kana": "たかはし ゆみ",
                        "occupation": "nurse",
                        "years_experience": 5,
                    }
                ],
            },
        )
    assert api.status_code == 409, api.content
    assert "公開されていません" in api.json()["detail"]
    assert Applicant.objects.count() == 0 and Enrolment.objects.count() == 0
    assert mail.outbox == []
