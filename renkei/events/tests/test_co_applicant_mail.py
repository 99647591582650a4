"""A co-applicant's e-mail carries only that person's own details and a link that reaches only
their own place (issue 9 §5); the application's contact still gets the whole application."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client

from renkei.events.models import Applicant, Application, Event
from renkei.events.testing import make_application, person

pytestmark = pytest.mark.django_db


@pytest.fixture
def office(event: Event, django_capture_on_commit_callbacks: Any) -> Application:
    """The contact lists three colleagues; two give an address of their own."""
    with django_capture_on_commit_callbacks(execute=True):
        return make_application(
            event,
            [person(1), person(2), person(3).model_copy(update={"email": ""})],
            office_name="さくら訪問看護ステーション",
            contact_name="連絡 担当",
            contact_email="sakura@example.jp",
        )


def body_to(address: str) -> str:
    (message,) = [m for m in mail.outbox if m.to == [address]]
    return str(message.body)


def test_each_colleague_gets_only_their_own_details_and_link(office: Application) -> None:
    """person(1)'s mail names person(1) alone, carries their personal link and neither the
    application's link nor the contact's address; the contact's mail lists all three."""
    first, second, third = office.applicants.order_by("position")
    mine = body_to(person(1).email)
    assert first.name in mine and first.get_personal_url() in mine
    assert second.name not in mine and third.name not in mine
    assert person(2).email not in mine
    assert office.get_absolute_url() not in mine
    assert "sakura@example.jp" not in mine and "連絡 担当" not in mine
    assert second.get_personal_url() not in mine
    theirs = body_to(person(2).email)
    assert second.get_personal_url() in theirs and first.name not in theirs
    contact = body_to("sakura@example.jp")
    assert all(a.name in contact for a in (first, second, third))
    assert office.get_absolute_url() in contact
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        ["sakura@example.jp", person(1).email, person(2).email]
    )


def test_the_personal_link_shows_and_cancels_only_that_person(
    client: Client, office: Application, django_capture_on_commit_callbacks: Any
) -> None:
    """The page of the link shows one person; its confirmation and button cancel only them;
    the contact is told."""
    first, second, _ = office.applicants.order_by("position")
    url = first.get_personal_url()
    page = client.get(url)
    body = page.content.decode()
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert first.name in body and second.name not in body
    assert "sakura@example.jp" not in body and person(2).email not in body
    confirm = client.get(url, {"cancel": "1"}).content.decode()
    assert "取消の確認" in confirm and "連絡担当者に" in confirm
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"applicant": str(second.code)})
    assert list(office.applicants.order_by("position").values_list("status", flat=True)) == [
        "cancelled",
        "confirmed",
        "confirmed",
    ]
    assert [m.to for m in mail.outbox] == [["sakura@example.jp"]]
    assert first.name in mail.outbox[0].body


@pytest.mark.parametrize("mangle", ["tamper", "feedback-salt", "application-token"])
def test_a_wrong_personal_link_is_not_found(
    client: Client, office: Application, mangle: str
) -> None:
    """A tampered link, another link's token or the application's token is a 404 and
    cancels nothing."""
    first = office.applicants.order_by("position")[0]
    token = {
        "tamper": first.personal_token[:-1] + ("A" if first.personal_token[-1] != "A" else "B"),
        "feedback-salt": first.feedback_token,
        "application-token": office.signed_token,
    }[mangle]
    url = f"/events/p/{token}/"
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert not Applicant.objects.filter(status="cancelled").exists()


def test_a_promoted_colleague_is_told_with_their_own_link(
    client: Client, organiser: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """When a waiting colleague moves up, their mail carries their link, not the office's."""
    from renkei.events.testing import make_event

    event = make_event(organiser, capacity=1)
    taken = make_application(event, [person(5)], contact_email="first@example.jp")
    office_app = make_application(event, [person(6)], contact_email="office@example.jp")
    waiting = office_app.applicants.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(taken.get_absolute_url(), {"applicant": "all"})
    mine = body_to(person(6).email)
    assert waiting.get_personal_url() in mine and office_app.get_absolute_url() not in mine
    assert office_app.get_absolute_url() in body_to("office@example.jp")
