"""Exporting consultations (names included) asks for the password again after REAUTH_SECONDS (R07)."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from renkei.accounts.models import AuditEntry, Membership
from renkei.desk.models import Desk
from renkei.desk.testing import make_consultation
from renkei.testing import DEMO_PASSWORD, age_password_entry, sign_in


def test_stale_session_is_sent_to_the_password_prompt_first(
    client: Client, desk: Desk, counselor: Membership, settings: Settings
) -> None:
    make_consultation(desk, counselor, subject_name="相談 太郎（仮名）")
    sign_in(client, counselor.user)
    age_password_entry(client, settings.REAUTH_SECONDS + 1)
    url = reverse("desk:export", args=[desk.code, "csv"])

    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:reauth"))
    assert not AuditEntry.objects.filter(action="desk.consultations_exported").exists()

    back = client.post(reverse("accounts:reauth"), {"password": DEMO_PASSWORD, "next": url})
    assert back["Location"] == url
    response = client.get(url)
    assert response.status_code == 200
    assert "相談 太郎" in response.content.decode("utf-8-sig")
