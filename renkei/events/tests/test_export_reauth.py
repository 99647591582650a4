"""Exporting applicants (names and contacts) asks for the password again after REAUTH_SECONDS (R07)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from renkei.events.models import Event
from renkei.events.testing import make_application, person
from renkei.testing import DEMO_PASSWORD, age_password_entry

pytestmark = pytest.mark.django_db


def test_stale_session_is_sent_to_the_password_prompt_first(
    alice_client: Client, event: Event, settings: Settings
) -> None:
    make_application(event, [person(1)])
    age_password_entry(alice_client, settings.REAUTH_SECONDS + 1)
    url = reverse("events:applicants_export", args=[event.code, "csv"])

    response = alice_client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:reauth"))

    alice_client.post(reverse("accounts:reauth"), {"password": DEMO_PASSWORD, "next": url})
    response = alice_client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
