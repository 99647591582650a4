from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from renkei.accounts.models import AuditEntry, Membership, Organization
from renkei.events import actions
from renkei.events.models import Applicant, Event, Feedback
from renkei.events.testing import application_data, make_event, person
from renkei.lib.actions import ActionError

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(organiser: Organization) -> Event:
    """An event that started an hour ago, with three applicants registered in time."""
    starts = timezone.now() - dt.timedelta(hours=1)
    event = make_event(organiser, starts_at=starts, capacity=10)
    actions.apply(
        event,
        application_data([person(1), person(2), person(3)]),
        now=starts - dt.timedelta(days=10),
    )
    return event


def test_attendance_list_toggles_by_htmx(alice_client: Client, held: Event) -> None:
    """On a phone, one tap marks a person present and returns just their row."""
    a = held.applicants.order_by("position").first()
    assert a is not None
    page = alice_client.get(reverse("events:attendance", args=[held.code]))
    assert page.status_code == 200 and a.name in page.content.decode()
    response = alice_client.post(
        reverse("events:attendance_toggle", args=[held.code, a.code]),
        {"attended": "1"},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith("<li") and "出席済み" in body and "<html" not in body
    assert '<span id="attended-count" hx-swap-oob="true">1</span>' in body
    a.refresh_from_db()
    assert a.attended and a.attended_at is not None
    alice_client.post(
        reverse("events:attendance_toggle", args=[held.code, a.code]),
        {"attended": "0"},
        HTTP_HX_REQUEST="true",
    )
    assert Applicant.objects.get(pk=a.pk).attended is False
    assert AuditEntry.objects.filter(action="events.attendance_viewed").exists()


def test_attendance_search_returns_rows_fragment(alice_client: Client, held: Event) -> None:
    """Typing a kana narrows the list (htmx fragment), katakana or hiragana alike."""
    target = person(2)
    response = alice_client.get(
        reverse("events:attendance", args=[held.code]),
        {"q": target.kana.split()[0].translate({c: c + 0x60 for c in range(0x3041, 0x3097)})},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<ul class="att-list" id="rows">')
    assert target.name in body and person(1).name not in body


def test_survey_goes_to_attendees_once(
    alice_client: Client, held: Event, alice: Membership, django_capture_on_commit_callbacks: Any
) -> None:
    """After the event, the survey link goes to those present, and not twice."""
    present = list(held.applicants.order_by("position")[:2])
    for a in present:
        actions.set_attendance(a, actions.AttendanceInput(attended=True), by=alice)
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(reverse("events:feedback_manage", args=[held.code]))
    assert sorted(m.to[0] for m in mail.outbox) == sorted(a.email for a in present)
    assert present[0].get_feedback_url() in next(
        m.body for m in mail.outbox if m.to == [present[0].email]
    )
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(reverse("events:feedback_manage", args=[held.code]))
    assert len(mail.outbox) == 2


def test_survey_before_the_event_is_refused(event: Event, alice: Membership) -> None:
    """No survey before the event has started."""
    with pytest.raises(ActionError, match="開催後"):
        actions.request_feedback(event, by=alice)


def test_feedback_answer_once_and_tallied(
    client: Client, alice_client: Client, held: Event
) -> None:
    """The link accepts one answer; a second is refused; the organiser sees the averages."""
    a = held.applicants.order_by("position").first()
    assert a is not None
    url = a.get_feedback_url()
    r = client.post(
        url, {"satisfaction": "5", "usefulness": "4", "comment": "連携先が分かりました"}
    )
    assert r.status_code == 200 and "ありがとうございました" in r.content.decode()
    client.post(url, {"satisfaction": "1", "usefulness": "1"})
    assert Feedback.objects.count() == 1
    fb = Feedback.objects.get()
    assert (fb.satisfaction, fb.usefulness, fb.occupation) == (5, 4, a.occupation)
    page = alice_client.get(reverse("events:feedback_manage", args=[held.code])).content.decode()
    assert "5.0 / 5" in page and "連携先が分かりました" in page


def test_feedback_rejects_out_of_range_and_bad_token(client: Client, held: Event) -> None:
    """A rating of 9 is refused with 400; a tampered survey link is a 404."""
    a = held.applicants.order_by("position").first()
    assert a is not None
    assert (
        client.post(a.get_feedback_url(), {"satisfaction": "9", "usefulness": "3"}).status_code
        == 400
    )
    assert Feedback.objects.count() == 0
    bad = a.get_feedback_url().replace(a.feedback_token, a.feedback_token[:-2] + "zz")
    assert client.get(bad).status_code == 404


def test_cancelled_applicant_cannot_be_marked_present(held: Event, alice: Membership) -> None:
    """A cancelled place stays out of the attendance count."""
    a = held.applicants.order_by("position").first()
    assert a is not None
    Applicant.objects.filter(pk=a.pk).update(status=Applicant.Status.CANCELLED)
    a.refresh_from_db()
    with pytest.raises(ActionError):
        actions.set_attendance(a, actions.AttendanceInput(attended=True), by=alice)
