"""Idle timeout and absolute session lifetime, checked by moving the clock (security R06)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

import pytest
from django.conf import settings
from django.db import connection
from django.http import HttpResponseBase
from django.test import Client
from django.test.utils import CaptureQueriesContext
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
    assert settings.SESSION_ABSOLUTE_SECONDS == 12 * 3600
    # The idle timer restarts at most this long after a request (ADR 0054).
    assert 0 < settings.SESSION_REFRESH_SECONDS <= 60


# The refresh compares whole seconds of the (real, moving) clock: steps keep a few seconds'
# margin from the interval's edge so a slow host does not cross it between two requests.


def _session_writes(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(PROFILE).status_code == 200
    return sum(
        1 for q in queries if "accounts_session" in q["sql"] and not q["sql"].startswith("SELECT")
    )


def test_a_read_writes_the_session_only_once_a_refresh_interval(signed_in: Client) -> None:
    """Reads within SESSION_REFRESH_SECONDS of the last write leave the session row alone; the
    first read after it writes the row, which restarts the idle timer."""
    refresh = settings.SESSION_REFRESH_SECONDS
    with clock_at(dt.timedelta(seconds=1)):
        _session_writes(signed_in)  # the first read after sign-in may write once
    with clock_at(dt.timedelta(seconds=2)):
        assert _session_writes(signed_in) == 0
    with clock_at(dt.timedelta(seconds=refresh + 2)):
        assert _session_writes(signed_in) == 1
    with clock_at(dt.timedelta(seconds=refresh + 3)):
        assert _session_writes(signed_in) == 0


def test_a_read_that_wrote_nothing_does_not_extend_the_session(signed_in: Client) -> None:
    """The idle timer counts from the last write: the session ends SESSION_COOKIE_AGE after
    it, which is at most that long after the last request and at most a refresh interval
    sooner (ADR 0054)."""
    age, refresh = settings.SESSION_COOKIE_AGE, settings.SESSION_REFRESH_SECONDS
    with clock_at(dt.timedelta(seconds=100)):
        assert signed_in.get(PROFILE).status_code == 200  # a write: the timer restarts
    with clock_at(dt.timedelta(seconds=100 + refresh - 5)):
        assert _session_writes(signed_in) == 0  # the last request, within the interval
    with clock_at(dt.timedelta(seconds=100 + age - 1)):
        assert signed_in.get(PROFILE).status_code == 200, "signed out before the idle timeout"
    with clock_at(dt.timedelta(seconds=100 + age - 1 + age + 1)):
        assert _is_login_redirect(signed_in.get(PROFILE))


def test_the_session_ends_within_a_refresh_interval_of_the_idle_timeout(
    signed_in: Client,
) -> None:
    age, refresh = settings.SESSION_COOKIE_AGE, settings.SESSION_REFRESH_SECONDS
    with clock_at(dt.timedelta(seconds=100)):
        assert signed_in.get(PROFILE).status_code == 200  # a write: the timer restarts
    with clock_at(dt.timedelta(seconds=100 + refresh - 5)):
        assert _session_writes(signed_in) == 0
    # age + 1 after the write is age - refresh + 6 after the last request: already over.
    with clock_at(dt.timedelta(seconds=100 + age + 1)):
        assert _is_login_redirect(signed_in.get(PROFILE))


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
        from renkei.accounts.models import Session

        assert not Session.objects.filter(session_key=key).exists()
