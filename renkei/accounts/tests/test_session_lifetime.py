"""Idle timeout and absolute session lifetime, checked by moving the clock (security R06)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

import pytest
from django.conf import settings
from django.http import HttpResponseBase
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from renkei.accounts.models import OrgKind
from renkei.testing import DEMO_PASSWORD, make_member, make_org, pass_second_factor

pytestmark = pytest.mark.django_db

PROFILE = reverse("accounts:profile")
LOGIN = reverse("accounts:login")


@contextmanager
def clock_at(offset: dt.timedelta) -> Iterator[None]:
    """Move both clocks the code reads (aware datetimes and time.time) forward by offset."""
    real_now = timezone.now
    real_time = time.time
    with (
        mock.patch("django.utils.timezone.now", lambda: real_now() + offset),
        mock.patch("time.time", lambda: real_time() + offset.total_seconds()),
    ):
        yield


@pytest.fixture
def signed_in() -> Client:
    org = make_org("藤沢テスト病院", OrgKind.HOSPITAL, municipality_code="142051")
    m = make_member(org, username="lifetime-msw")
    client = Client()
    client.post(LOGIN, {"username": "lifetime-msw", "password": DEMO_PASSWORD})
    pass_second_factor(client, m.user)
    assert client.get(PROFILE).status_code == 200
    return client


def _is_login_redirect(response: HttpResponseBase) -> bool:
    return response.status_code == 302 and response["Location"].startswith(LOGIN)


def test_configured_limits_are_30_minutes_idle_and_12_hours_absolute() -> None:
    """The defaults match the policy: 30 minutes idle, 12 hours at most."""
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.SESSION_ABSOLUTE_SECONDS == 12 * 3600


def test_idle_session_expires(signed_in: Client) -> None:
    """A session left alone for longer than the idle timeout is no longer signed in."""
    with clock_at(dt.timedelta(seconds=settings.SESSION_COOKIE_AGE + 60)):
        response = signed_in.get(PROFILE)
    assert _is_login_redirect(response)


def test_activity_within_the_idle_window_keeps_the_session(signed_in: Client) -> None:
    """Each request restarts the idle timer, so steady use is not interrupted."""
    step = settings.SESSION_COOKIE_AGE * 2 // 3
    for i in (1, 2, 3):
        with clock_at(dt.timedelta(seconds=step * i)):
            assert signed_in.get(PROFILE).status_code == 200


def test_absolute_lifetime_ends_even_an_active_session(signed_in: Client) -> None:
    """Used every 25 minutes, the session still ends after the absolute lifetime."""
    key = signed_in.cookies["sessionid"].value
    step = 25 * 60
    elapsed = 0
    while elapsed + step <= settings.SESSION_ABSOLUTE_SECONDS:
        elapsed += step
        with clock_at(dt.timedelta(seconds=elapsed)):
            assert signed_in.get(PROFILE).status_code == 200, f"signed out early at {elapsed}s"
    with clock_at(dt.timedelta(seconds=settings.SESSION_ABSOLUTE_SECONDS + 60)):
        response = signed_in.get(PROFILE)
        assert _is_login_redirect(response)
        from django.contrib.sessions.models import Session

        assert not Session.objects.filter(session_key=key).exists()
