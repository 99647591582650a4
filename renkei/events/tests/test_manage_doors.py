"""The organiser's workflows through both doors: changing an event, marking attendance and
sending the survey leave the same database state on the screen, the htmx fragment and the API."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from renkei.accounts.models import AuditEntry, Membership, Organization
from renkei.events import actions
from renkei.events.models import Event
from renkei.events.testing import make_application, make_event, person
from renkei.events.tests.test_doors import API, api_post, event_body, event_form, saved_event

pytestmark = pytest.mark.django_db


def _statuses(event: Event) -> list[tuple[str, str]]:
    return list(event.applicants.order_by("position").values_list("name", "status"))


def _audit(event: Event) -> list[str]:
    return sorted(
        AuditEntry.objects.filter(target_id=str(event.code)).values_list("action", flat=True)
    )


def test_an_event_is_changed_the_same_through_either_door(alice_client: Client) -> None:
    """Raising the capacity, moving the venue and replacing the lecturers: the edit screen
    and PATCH leave the same event, promote the same person off the waiting list and audit it
    alike."""
    events = {}
    for title in ("画面で直す", "APIで直す"):
        r = api_post(alice_client, f"{API}/manage/events", event_body(title=title, capacity=1))
        assert r.status_code == 201, r.content
        events[title] = Event.objects.get(title=title)
        make_application(
            events[title], [person(1), person(2)], contact_email="a@example.jp", notify=False
        )
        assert _statuses(events[title])[1][1] == "waitlisted"
    lecturer = {"name": "相模 一郎", "affiliation": "さがみ訪問看護", "topic": "夜間の連絡"}
    form = event_form(
        title="画面で直す",
        municipality=str(events["画面で直す"].municipality_id or ""),
        capacity="2",
        venue_name="海老名市文化会館",
        **{"l-0-name": "", "l-0-affiliation": "", "l-0-topic": ""},
    )
    form.update({"l-TOTAL_FORMS": "1", "l-INITIAL_FORMS": "1"})
    form.update({f"l-0-{k}": v for k, v in lecturer.items()})
    mail.outbox.clear()
    r = alice_client.post(reverse("events:edit", args=[events["画面で直す"].code]), form)
    assert r.status_code == 302, r.content.decode()[:2000]
    html_mail = sorted(m.to[0] for m in mail.outbox)
    mail.outbox.clear()
    r = alice_client.patch(
        f"{API}/manage/events/{events['APIで直す'].code}",
        json.dumps({"capacity": 2, "venue_name": "海老名市文化会館", "lecturers": [lecturer]}),
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    assert sorted(m.to[0] for m in mail.outbox) == html_mail
    assert saved_event("画面で直す") == saved_event("APIで直す")
    screen, api = (Event.objects.get(pk=e.pk) for e in events.values())
    assert (screen.capacity, screen.venue_name) == (2, "海老名市文化会館")
    assert list(screen.lecturers.values_list("name", flat=True)) == ["相模 一郎"]
    assert (
        _statuses(screen)
        == _statuses(api)
        == [
            (person(1).name, "confirmed"),
            (person(2).name, "confirmed"),
        ]
    )
    assert _audit(screen) == _audit(api)


@pytest.fixture
def held(organiser: Organization) -> Event:
    """An event that started an hour ago, with two applicants."""
    starts = timezone.now() - dt.timedelta(hours=1)
    before = starts - dt.timedelta(days=10)
    event = make_event(organiser, starts_at=starts, capacity=10, now=before)
    make_application(
        event, [person(1), person(2)], contact_email="a@example.jp", notify=False, now=before
    )
    return event


def _attendance(event: Event) -> list[tuple[str, bool, bool]]:
    return [
        (a.name, a.attended, a.attended_at is not None)
        for a in event.applicants.order_by("position")
    ]


@pytest.mark.parametrize("door", ["html", "htmx", "api"])
def test_attendance_is_recorded_alike_on_every_door(
    alice_client: Client, held: Event, door: str
) -> None:
    first = held.applicants.order_by("position")[0]
    for attended in (True, False, True):
        if door == "api":
            r = api_post(
                alice_client,
                f"{API}/manage/events/{held.code}/applicants/{first.code}/attendance",
                {"attended": attended},
            )
            assert r.status_code == 200, r.content
        else:
            headers = {"HX-Request": "true"} if door == "htmx" else {}
            r = alice_client.post(
                reverse("events:attendance_toggle", args=[held.code, first.code]),
                {"attended": "1"} if attended else {},
                headers=headers,
            )
            assert r.status_code in (200, 302), r.content.decode()[:500]
    assert _attendance(held) == [(person(1).name, True, True), (person(2).name, False, False)]
    assert _audit(held).count("events.attendance_marked") == 3


@pytest.mark.parametrize("door", ["html", "api"])
def test_the_survey_goes_to_those_present_alike_through_either_door(
    alice_client: Client,
    alice: Membership,
    held: Event,
    door: str,
    django_capture_on_commit_callbacks: Any,
) -> None:
    first = held.applicants.order_by("position")[0]
    actions.set_attendance(first, actions.AttendanceInput(attended=True), by=alice)
    for _ in range(2):  # the second request sends nothing more
        with django_capture_on_commit_callbacks(execute=True):
            if door == "html":
                r = alice_client.post(reverse("events:feedback_manage", args=[held.code]))
                assert r.status_code == 302
            else:
                r = api_post(alice_client, f"{API}/manage/events/{held.code}/feedback-requests", {})
                assert r.status_code == 200, r.content
    assert [m.to for m in mail.outbox] == [[first.email]]
    sent = held.applicants.order_by("position").values_list("feedback_sent_at", flat=True)
    assert [s is not None for s in sent] == [True, False]
