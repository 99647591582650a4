"""Lock-out after repeated failed sign-ins through django-axes (security R05)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse

from renkei.accounts.models import AuditEntry, OrgKind
from renkei.testing import DEMO_PASSWORD, make_member, make_org

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")


@pytest.fixture
def username() -> str:
    org = make_org("藤沢テスト病院", OrgKind.HOSPITAL, municipality_code="142051")
    return make_member(org, username="lockout-msw").user.get_username()


def _fail(client: Client, username: str, times: int) -> None:
    for _ in range(times):
        response = client.post(LOGIN, {"username": username, "password": "wrong-password"})
        assert response.status_code in (200, 429)


def test_settings_lock_after_five_failures_per_user_and_address() -> None:
    """Axes counts failures per (username, IP) pair and locks at 5 for 30 minutes."""
    from axes.helpers import get_cool_off

    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    cool_off = get_cool_off()
    assert cool_off is not None
    assert cool_off.total_seconds() == 30 * 60


def test_four_failures_still_allow_the_right_password(client: Client, username: str) -> None:
    """Below the limit the correct password still signs in (and resets the counter)."""
    _fail(client, username, settings.AXES_FAILURE_LIMIT - 1)
    response = client.post(LOGIN, {"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert SESSION_KEY in client.session


def test_after_five_failures_even_the_right_password_is_refused(
    client: Client, username: str
) -> None:
    """Five wrong passwords lock the account for this address; the right one then gets 429."""
    _fail(client, username, settings.AXES_FAILURE_LIMIT)
    response = client.post(LOGIN, {"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 429
    assert "ログインが一時的に制限されています" in response.content.decode()
    assert SESSION_KEY not in client.session
    assert AuditEntry.objects.filter(action="auth.locked_out", actor_label=username).exists()


def test_lock_is_per_address(client: Client, username: str) -> None:
    """A lock-out from one address does not block the same account from another address."""
    _fail(client, username, settings.AXES_FAILURE_LIMIT)
    other = Client(REMOTE_ADDR="192.0.2.10")
    response = other.post(LOGIN, {"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 302
