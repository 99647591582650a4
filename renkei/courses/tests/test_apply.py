from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from renkei.accounts.models import Membership, OrgKind
from renkei.courses import actions
from renkei.courses.models import Course, Enrolment
from renkei.courses.testing import (
    apply_nurses,
    course_application,
    make_course,
    nurse,
    two_day_round,
)
from renkei.events import actions as event_actions
from renkei.events.models import Applicant, Occupation
from renkei.lib.actions import ActionError, Conflict

pytestmark = pytest.mark.django_db


def test_an_employer_applies_for_several_staff_to_one_round(course: Course) -> None:
    """Three nurses on one form: three applicants of round 2's event, each enrolled with
    their experience, the employer kind and the area."""
    app = apply_nurses(course, 2, 3)
    rnd = course.rounds.get(number=2)
    assert app.event_id == rnd.event_id
    people = list(app.applicants.order_by("position"))
    assert [p.status for p in people] == [Applicant.Status.CONFIRMED] * 3
    enrolments = Enrolment.objects.filter(round=rnd)
    assert enrolments.count() == 3
    assert {e.employer_kind for e in enrolments} == {OrgKind.VISITING_NURSE}
    assert {e.municipality.code for e in enrolments if e.municipality} == {"142158"}
    assert course.rounds.get(number=1).event.applicants.count() == 0


def test_capacity_and_waiting_list_are_per_round(alice: Membership) -> None:
    """Round 1 has 2 places: the third applicant waits; round 2 is untouched. A cancellation
    in round 1 promotes round 1's first waiting applicant."""
    first = timezone.localdate() + dt.timedelta(days=30)
    course = make_course(
        alice,
        rounds=[
            two_day_round(1, first, capacity=2),
            two_day_round(2, first + dt.timedelta(days=7), capacity=2),
        ],
    )
    a = apply_nurses(course, 1, 2, start=0)
    b = apply_nurses(course, 1, 2, start=10)
    r1 = course.rounds.get(number=1)
    statuses = list(r1.event.applicants.order_by("position").values_list("status", flat=True))
    assert statuses == ["confirmed", "confirmed", "waitlisted", "waitlisted"]
    apply_nurses(course, 2, 1, start=20)
    assert course.rounds.get(number=2).event.applicants.confirmed().count() == 1
    leaving = a.applicants.order_by("position")[0]
    cancelled, promoted = event_actions.cancel(
        a, event_actions.EventCancelInput(applicants=[leaving.code])
    )
    assert len(cancelled) == 1
    assert [p.application_id for p in promoted] == [b.pk]
    assert promoted[0].position == min(b.applicants.values_list("position", flat=True))


def test_eligibility_refuses_the_whole_form_naming_the_row(course: Course) -> None:
    rnd = course.rounds.get(number=1)
    care = actions.CourseApplicantInput(
        name="田中 健",
        kana="たなか けん",
        email="",
        occupation=Occupation.CARE_WORKER,
        years_experience=5,
    )
    with pytest.raises(ActionError) as e:
        actions.apply(rnd, course_application([nurse(1), care]), notify=False)
    assert "申込者2（田中 健）" in e.value.message and "看護職" in e.value.message
    with pytest.raises(ActionError) as e:
        actions.apply(
            rnd, course_application([nurse(1)], employer_kind=OrgKind.HOSPITAL), notify=False
        )
    assert "訪問看護ステーション" in e.value.message
    assert Applicant.objects.filter(event=rnd.event).count() == 0


def test_minimum_experience(alice: Membership) -> None:
    course = make_course(alice, min_years_experience=3)
    rnd = course.rounds.get(number=1)
    with pytest.raises(ActionError, match="経験3年以上"):
        actions.apply(rnd, course_application([nurse(1, years=2)]), notify=False)
    actions.apply(rnd, course_application([nurse(1, years=3)]), notify=False)


def test_one_person_one_round_of_a_course(course: Course) -> None:
    apply_nurses(course, 1, 1, start=5)
    with pytest.raises(Conflict, match="別の回"):
        apply_nurses(course, 2, 1, start=5)


def test_closed_before_the_period_and_after_the_deadline(alice: Membership) -> None:
    course = make_course(alice)
    rnd = course.rounds.get(number=1)
    rnd.apply_from = timezone.now() + dt.timedelta(days=1)
    rnd.save()
    with pytest.raises(Conflict, match="からです"):
        actions.apply(rnd, course_application([nurse(1)]), notify=False)
    rnd.apply_from = None
    rnd.save()
    assert rnd.event.apply_until is not None
    late = rnd.event.apply_until + dt.timedelta(minutes=1)
    with pytest.raises(Conflict, match="申込期限"):
        actions.apply(rnd, course_application([nurse(1)]), notify=False, now=late)
    course.published = False
    course.save()
    with pytest.raises(Conflict, match="公開されていません"):
        actions.apply(rnd, course_application([nurse(1)]), notify=False)


def test_the_round_is_not_listed_among_events(course: Course, client: Client) -> None:
    """A round is applied to from the course's page, where eligibility is checked."""
    rnd = course.rounds.get(number=1)
    assert client.get(f"/events/{rnd.event.code}/apply/").status_code == 404
    assert rnd.event.title not in client.get("/events/").content.decode()


def test_the_form_page_applies_and_shows_progress(course: Course, client: Client) -> None:
    page = client.get(f"/courses/{course.code}/2/apply/")
    assert page.status_code == 200 and "経験年数" in page.content.decode()
    data = {
        "office_name": "さくら訪問看護ステーション",
        "employer_kind": "visiting_nurse",
        "municipality_code": "142158",
        "contact_name": "連絡 担当",
        "contact_email": "office@example.jp",
        "contact_phone": "046-000-0001",
        "agree": "on",
        "form_token": "t1",
        "a-TOTAL_FORMS": "5",
        "a-INITIAL_FORMS": "0",
        "a-MIN_NUM_FORMS": "1",
        "a-MAX_NUM_FORMS": "20",
        "a-0-name": "佐藤 花子",
        "a-0-kana": "さとう はなこ",
        "a-0-occupation": "nurse",
        "a-0-years_experience": "4",
        "a-1-name": "鈴木 恵",
        "a-1-kana": "すずき めぐみ",
        "a-1-occupation": "nurse",
        "a-1-years_experience": "1",
    }
    r = client.post(f"/courses/{course.code}/2/apply/", data)
    assert r.status_code == 302, r.content.decode()[:2000]
    progress = client.get(r["Location"])
    body = progress.content.decode()
    assert progress.status_code == 200 and "佐藤 花子" in body and "鈴木 恵" in body
    assert Enrolment.objects.filter(round__number=2, years_experience=4).count() == 1


def test_the_form_refuses_beside_the_field(course: Course, client: Client) -> None:
    r = client.post(
        f"/courses/{course.code}/1/apply/",
        {
            "office_name": "x",
            "employer_kind": "visiting_nurse",
            "contact_name": "連絡 担当",
            "contact_email": "office@example.jp",
            "contact_phone": "046-000-0001",
            "agree": "on",
            "a-TOTAL_FORMS": "1",
            "a-INITIAL_FORMS": "0",
            "a-0-name": "佐藤 花子",
            "a-0-kana": "さとう はなこ",
            "a-0-occupation": "care_worker",
            "a-0-years_experience": "4",
        },
    )
    assert r.status_code == 400
    assert "対象職種" in r.content.decode()
    assert Applicant.objects.count() == 0


def test_the_confirmation_mail_links_the_course_page(
    course: Course, django_capture_on_commit_callbacks: Any
) -> None:
    """events' mail names the course's page, not the round's unlisted event page."""
    rnd = course.rounds.get(number=1)
    with django_capture_on_commit_callbacks(execute=True):
        actions.apply(rnd, course_application([nurse(3)]))
    body = next(m.body for m in mail.outbox if "office@example.jp" in m.to)
    assert course.get_absolute_url() in body
    assert f"/events/{rnd.event.code}/" not in body
