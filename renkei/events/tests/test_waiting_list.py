from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client

from renkei.accounts.models import Membership, Organization
from renkei.events import actions
from renkei.events.models import Applicant, Event
from renkei.events.testing import make_application, make_event, person
from renkei.lib.inputs import parse

pytestmark = pytest.mark.django_db

CONFIRMED = Applicant.Status.CONFIRMED
WAITLISTED = Applicant.Status.WAITLISTED


@pytest.fixture
def full_house(organiser: Organization) -> Event:
    """愛川町-style training for 80, filled by 80 applicants in 3-person applications."""
    event = make_event(organiser, title="多職種研修会", capacity=80)
    i = 0
    while i < 80:
        size = min(3, 80 - i)
        make_application(event, size, start=i, contact_email=f"office{i}@example.jp", notify=False)
        i += size
    return event


def test_81st_applicant_waits_and_is_promoted_when_one_cancels(
    full_house: Event, client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    """The 81st applicant lands on the waiting list; when a confirmed one cancels by the
    link, the 81st is confirmed and told by e-mail."""
    assert full_house.confirmed_count() == 80
    late = make_application(
        full_house, [person(500)], contact_email="late@example.jp", notify=False
    )
    waiting = late.applicants.get()
    assert waiting.status == WAITLISTED
    first = full_house.applications.order_by("created_at").first()
    assert first is not None
    leaving = first.applicants.order_by("position").first()
    assert leaving is not None
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(first.get_absolute_url(), {"applicant": str(leaving.code)})
    assert response.status_code == 302
    waiting.refresh_from_db()
    leaving.refresh_from_db()
    assert leaving.status == Applicant.Status.CANCELLED
    assert waiting.status == CONFIRMED and waiting.promoted_at is not None
    assert full_house.confirmed_count() == 80
    promoted_mail = [m for m in mail.outbox if "参加確定のお知らせ" in m.subject]
    # One message per recipient since mail goes through the queue (no one sees the other's
    # address); the applicant's carries their own link, the contact's the application's.
    assert sorted(m.to[0] for m in promoted_mail) == sorted({person(500).email, "late@example.jp"})
    assert all(len(m.to) == 1 for m in promoted_mail)
    by_address = {m.to[0]: m.body for m in promoted_mail}
    assert late.get_absolute_url() in by_address["late@example.jp"]
    assert waiting.get_personal_url() in by_address[person(500).email]
    assert late.get_absolute_url() not in by_address[person(500).email]


def test_split_application_confirms_the_first_ones(organiser: Organization) -> None:
    """Three applicants for the last two places: the first two as listed are confirmed,
    the third waits."""
    event = make_event(organiser, capacity=5)
    make_application(event, 3, start=0, contact_email="a@example.jp")
    app = make_application(event, 3, start=10, contact_email="b@example.jp")
    statuses = list(app.applicants.order_by("position").values_list("status", flat=True))
    assert statuses == [CONFIRMED, CONFIRMED, WAITLISTED]


def test_waiting_list_is_promoted_in_order_of_arrival(organiser: Organization) -> None:
    """Two cancellations promote the two longest-waiting applicants, not the newest."""
    event = make_event(organiser, capacity=2)
    taken = make_application(event, 2, start=0, contact_email="a@example.jp")
    w1 = make_application(event, 1, start=10, contact_email="b@example.jp").applicants.get()
    w2 = make_application(event, 1, start=11, contact_email="c@example.jp").applicants.get()
    w3 = make_application(event, 1, start=12, contact_email="d@example.jp").applicants.get()
    _, promoted = actions.cancel(taken)
    assert [a.pk for a in promoted] == [w1.pk, w2.pk]
    w3.refresh_from_db()
    assert w3.status == WAITLISTED


def test_raising_capacity_promotes_waiting(organiser: Organization, alice: Membership) -> None:
    """The organiser moves to a bigger room: the waiting list is confirmed at once."""
    event = make_event(organiser, capacity=1)
    make_application(event, 3, start=0)
    assert event.applicants.waitlisted().count() == 2
    data = parse(actions.EventInput, {**actions.EventInput.values_of(event), "capacity": 2})
    _, promoted = actions.save_event(event, by=alice, data=data)
    assert len(promoted) == 1
    assert event.applicants.confirmed().count() == 2


def test_cancelling_a_waiting_applicant_promotes_nobody(organiser: Organization) -> None:
    """Only a confirmed place freed gives someone a place."""
    event = make_event(organiser, capacity=1)
    make_application(event, 1, start=0, contact_email="a@example.jp")
    waiting = make_application(event, 1, start=1, contact_email="b@example.jp")
    other = make_application(event, 1, start=2, contact_email="c@example.jp")
    _, promoted = actions.cancel(waiting)
    assert promoted == []
    assert other.applicants.get().status == WAITLISTED
