from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from renkei.events.models import Applicant, Application, Event
from renkei.events.testing import make_application, person
from renkei.lib.mail import subject_line

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_offices(event: Event) -> tuple[Application, Application]:
    mine = make_application(event, [person(1), person(2)], office_name="さくら訪問看護ステーション")
    theirs = make_application(
        event, [person(3)], office_name="みどり内科クリニック", contact_email="midori@example.jp"
    )
    return mine, theirs


def test_link_shows_only_that_application(
    client: Client, two_offices: tuple[Application, Application]
) -> None:
    """The applicant's page lists its own applicants and nobody else's; it is not cached."""
    mine, _theirs = two_offices
    response = client.get(mine.get_absolute_url())
    body = response.content.decode()
    assert response.status_code == 200
    assert person(1).name in body and person(2).name in body
    assert person(3).name not in body and "みどり内科クリニック" not in body
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("mangle", ["tamper", "unsigned", "garbage", "other-salt"])
def test_wrong_or_tampered_token_is_not_found(
    client: Client, two_offices: tuple[Application, Application], mangle: str
) -> None:
    """A token whose signature does not match, or a raw token without one, gives 404."""
    from django.core import signing

    app = two_offices[0]
    token = {
        "tamper": app.signed_token[:-1] + ("A" if app.signed_token[-1] != "A" else "B"),
        "unsigned": app.cancel_token,
        "garbage": "x" * 30,
        "other-salt": signing.Signer(salt="events.feedback").sign(app.cancel_token),
    }[mangle]
    assert client.get(reverse("events:application", args=[token])).status_code == 404
    assert (
        client.post(reverse("events:application", args=[token]), {"applicant": "all"}).status_code
        == 404
    )
    assert Applicant.objects.filter(status=Applicant.Status.CANCELLED).count() == 0


def test_cancel_cannot_reach_another_application(
    client: Client, two_offices: tuple[Application, Application]
) -> None:
    """Posting another application's applicant code through my link cancels nothing."""
    mine, theirs = two_offices
    stranger = theirs.applicants.get()
    response = client.post(mine.get_absolute_url(), {"applicant": str(stranger.code)}, follow=True)
    assert "見つからない" in response.content.decode()
    stranger.refresh_from_db()
    assert stranger.status == Applicant.Status.CONFIRMED


def test_cancel_whole_application_by_link(
    client: Client,
    two_offices: tuple[Application, Application],
    django_capture_on_commit_callbacks: Any,
) -> None:
    """「すべて取り消す」 cancels every applicant and the application; the contact is told."""
    mine, _ = two_offices
    with django_capture_on_commit_callbacks(execute=True):
        client.post(mine.get_absolute_url(), {"applicant": "all"})
    mine.refresh_from_db()
    assert mine.status == Application.Status.CANCELLED
    assert set(mine.applicants.values_list("status", flat=True)) == {"cancelled"}
    # Every mail's subject starts with the site's name (renkei.lib.mail).
    assert [m.subject for m in mail.outbox] == [subject_line(f"【申込取消】{mine.event.title}")]
    # The same e-mail may apply again once cancelled.
    again = make_application(mine.event, [person(1)], contact_email="again@example.jp")
    assert again.applicants.get().status == Applicant.Status.CONFIRMED
