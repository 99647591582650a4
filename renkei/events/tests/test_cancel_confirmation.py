"""Cancelling asks first (issue 9 §3): a page that says what will happen — whose places go,
who is told, who moves up from the waiting list — and only its button cancels. Plain links
and forms, so it works without JavaScript."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from renkei.accounts.models import AuditEntry, Organization
from renkei.events.models import Applicant, Application, Event
from renkei.events.testing import make_application, make_event, person

pytestmark = pytest.mark.django_db


@pytest.fixture
def full(organiser: Organization) -> tuple[Event, Application, Application]:
    """Two places, taken by one office's two applicants; a third person waits."""
    event = make_event(organiser, capacity=2)
    mine = make_application(event, [person(1), person(2)], contact_email="mine@example.jp")
    waiting = make_application(event, [person(3)], contact_email="wait@example.jp")
    return event, mine, waiting


def states(event: Event) -> list[str]:
    return list(event.applicants.order_by("position").values_list("status", flat=True))


def test_all_of_an_application_asks_first_and_says_who_is_told(
    client: Client, full: tuple[Event, Application, Application]
) -> None:
    """「この申込をすべて取り消す」 is a link to the confirmation, which names the people,
    the address told, and that one person moves up; opening it changes nothing."""
    event, mine, _ = full
    page = client.get(mine.get_absolute_url()).content.decode()
    assert 'href="?cancel=all#confirm"' in page
    assert 'name="applicant" value="all"' not in page
    confirm = client.get(mine.get_absolute_url(), {"cancel": "all"})
    body = confirm.content.decode()
    assert confirm.status_code == 200
    assert "取消の確認" in body and person(1).name in body and person(2).name in body
    assert "mine@example.jp" in body
    assert "キャンセル待ちの方<strong>1名</strong>が順に繰り上がり" in body
    # Another office's applicant is not named to this one.
    assert person(3).name not in body
    assert 'name="applicant" value="all"' in body
    assert states(event) == ["confirmed", "confirmed", "waitlisted"]
    assert not AuditEntry.objects.filter(action="events.cancelled").exists()


def test_the_confirmation_button_cancels_and_the_page_says_what_it_did(
    client: Client,
    full: tuple[Event, Application, Application],
    django_capture_on_commit_callbacks: Any,
) -> None:
    """The POST the confirmation sends cancels both, promotes the one waiting and mails
    the contact and the promoted applicant, as the confirmation said."""
    event, mine, waiting = full
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(mine.get_absolute_url(), {"applicant": "all"}, follow=True)
    assert "さんの申込を取り消しました" in r.content.decode()
    assert states(event) == ["cancelled", "cancelled", "confirmed"]
    told = sorted(m.to[0] for m in mail.outbox)
    assert told == sorted(["mine@example.jp", person(3).email, "wait@example.jp"])


def test_one_person_asks_first_and_says_nobody_moves_up(
    client: Client, full: tuple[Event, Application, Application]
) -> None:
    """Cancelling the one who waits frees no place: the confirmation says so."""
    _, _, waiting = full
    w = waiting.applicants.get()
    body = client.get(waiting.get_absolute_url(), {"cancel": str(w.code)}).content.decode()
    assert "繰り上がる方はいません" in body and person(3).name in body


@pytest.mark.parametrize("which", ["not-a-code", "00000000-0000-4000-8000-000000000000"])
def test_a_confirmation_for_someone_else_or_nonsense_refuses(
    client: Client, full: tuple[Event, Application, Application], which: str
) -> None:
    """An applicant code from another application, or no code at all, gets a message and no
    confirmation button."""
    _, mine, waiting = full
    other = str(waiting.applicants.get().code)
    for value in (which, other):
        r = client.get(mine.get_absolute_url(), {"cancel": value}, follow=True)
        body = r.content.decode()
        assert "取消の確認" not in body
        assert "正しくありません" in body or "見つからない" in body or "ID の形式" in body


def test_the_organiser_is_asked_with_the_names_of_those_who_move_up(
    alice_client: Client, full: tuple[Event, Application, Application]
) -> None:
    """The organiser's 取消 opens a page naming the applicant, the address told and who moves
    up (the organiser may see them); GET changes nothing, the button does it."""
    event, mine, _ = full
    first = mine.applicants.order_by("position")[0]
    manage = alice_client.get(reverse("events:manage_event", args=[event.code])).content.decode()
    url = reverse("events:organiser_cancel", args=[event.code, first.code])
    assert f'href="{url}"' in manage
    page = alice_client.get(url).content.decode()
    assert "mine@example.jp" in page and person(3).name in page and "参加確定になり" in page
    assert states(event) == ["confirmed", "confirmed", "waitlisted"]
    alice_client.post(url)
    assert states(event) == ["cancelled", "confirmed", "confirmed"]


def test_the_organiser_confirmation_is_not_for_outsiders(
    client: Client, charlie_client: Client, full: tuple[Event, Application, Application]
) -> None:
    """Another organisation's member gets 404 on the page; an anonymous visitor the login."""
    event, mine, _ = full
    first = mine.applicants.order_by("position")[0]
    url = reverse("events:organiser_cancel", args=[event.code, first.code])
    assert charlie_client.get(url).status_code == 404
    assert client.get(url).status_code == 302
    assert Applicant.objects.filter(status="cancelled").count() == 0
