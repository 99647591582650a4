"""Re-authentication before sensitive steps (security R07, ASVS 7.5.1).

Changing the second factor and exporting personal data in bulk need the password entered within
REAUTH_SECONDS (sign-in or the 本人確認 prompt); otherwise the user is sent to the prompt and
comes back after it.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from pytest_django.fixtures import Settings

from renkei.accounts.models import AuditEntry, Membership, OrgKind, Role
from renkei.accounts.tests.test_audit_view import verified_client
from renkei.testing import DEMO_PASSWORD, age_password_entry, make_member, make_org

pytestmark = pytest.mark.django_db

REAUTH = reverse("accounts:reauth")
SETUP = reverse("accounts:otp_setup")
AUDIT = reverse("accounts:audit")
LOGIN = reverse("accounts:login")


@pytest.fixture
def nurse() -> Membership:
    org = make_org("藤沢テスト病院", OrgKind.HOSPITAL, municipality_code="142051")
    return make_member(org, Role.DISCHARGE_NURSE, username="reauth-nurse")


@pytest.fixture
def auditor() -> Membership:
    org = make_org("藤沢市 地域包括ケア推進課", OrgKind.MUNICIPALITY, municipality_code="142051")
    return make_member(org, Role.AUDITOR, username="reauth-auditor")


def sign_in(username: str) -> Client:
    client = Client()
    assert client.post(LOGIN, {"username": username, "password": DEMO_PASSWORD}).status_code == 302
    return client


def sent_to_prompt(response: object, back_to: str) -> bool:
    location = response["Location"]  # type: ignore[index]
    parts = urlsplit(location)
    return parts.path == REAUTH and parse_qs(parts.query)["next"] == [back_to]


def test_right_after_sign_in_no_prompt(nurse: Membership) -> None:
    client = sign_in("reauth-nurse")
    assert client.get(SETUP).status_code == 200


def test_setting_up_the_second_factor_later_asks_for_the_password(
    nurse: Membership, settings: Settings
) -> None:
    client = sign_in("reauth-nurse")
    age_password_entry(client, settings.REAUTH_SECONDS + 1)
    response = client.get(SETUP)
    assert response.status_code == 302
    assert sent_to_prompt(response, SETUP)
    assert not TOTPDevice.objects.filter(user=nurse.user).exists()  # nothing created yet

    prompt = client.get(response["Location"])
    assert prompt.status_code == 200
    assert "パスワードをもう一度入力してください" in prompt.content.decode()

    back = client.post(REAUTH, {"password": DEMO_PASSWORD, "next": SETUP})
    assert back.status_code == 302 and back["Location"] == SETUP
    assert client.get(SETUP).status_code == 200
    assert AuditEntry.objects.filter(action="auth.reauthenticated", actor=nurse.user).count() == 1


def test_a_wrong_password_is_refused_audited_and_counts_towards_the_lockout(
    nurse: Membership, settings: Settings
) -> None:
    client = sign_in("reauth-nurse")
    age_password_entry(client, settings.REAUTH_SECONDS + 1)
    response = client.post(REAUTH, {"password": "wrong-password-1", "next": SETUP})
    assert response.status_code == 200
    assert "パスワードが正しくありません" in response.content.decode()
    assert client.get(SETUP).status_code == 302  # still not re-authenticated
    assert AuditEntry.objects.filter(action="auth.login_failed").count() == 1

    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(REAUTH, {"password": "wrong-password-2", "next": SETUP})
    locked = client.post(REAUTH, {"password": DEMO_PASSWORD, "next": SETUP})
    assert locked.status_code != 302  # even the right password no longer passes
    assert client.get(SETUP).status_code == 302


def test_the_prompt_never_sends_the_user_off_site(nurse: Membership) -> None:
    client = sign_in("reauth-nurse")
    response = client.post(REAUTH, {"password": DEMO_PASSWORD, "next": "https://evil.example/"})
    assert response["Location"] == reverse("accounts:profile")


def test_the_prompt_is_for_signed_in_users(client: Client) -> None:
    response = client.get(REAUTH)
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


def test_audit_csv_export_asks_for_the_password_but_the_screen_does_not(
    auditor: Membership, settings: Settings
) -> None:
    client = verified_client(auditor)
    age_password_entry(client, settings.REAUTH_SECONDS + 1)
    assert client.get(AUDIT).status_code == 200
    export = f"{AUDIT}?format=csv"
    response = client.get(AUDIT, {"format": "csv"})
    assert response.status_code == 302 and sent_to_prompt(response, export)
    assert not AuditEntry.objects.filter(action="audit.exported").exists()

    client.post(REAUTH, {"password": DEMO_PASSWORD, "next": export})
    response = client.get(AUDIT, {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
