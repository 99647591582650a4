from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from renkei.accounts.models import Organization
from renkei.events.models import Event
from renkei.events.testing import make_application, make_event

pytestmark = pytest.mark.django_db


def queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_public_list_queries_do_not_grow_with_events(
    client: Client, organiser: Organization
) -> None:
    """No query per event on the public list (no N+1)."""
    for i in range(2):
        make_event(organiser, title=f"研修{i}", days_ahead=10 + i)
    few = queries(client, reverse("events:list"))
    for i in range(2, 8):
        make_event(organiser, title=f"研修{i}", days_ahead=10 + i)
    assert queries(client, reverse("events:list")) == few


def test_organiser_pages_do_not_grow_with_applicants(
    alice_client: Client, event: Event, settings: Any
) -> None:
    """Applicant list, attendance list and manage list: constant queries per page."""
    # A slow host must not see the once-a-minute session write land in one count only.
    settings.SESSION_REFRESH_SECONDS = 3600
    make_application(event, 2, start=0, contact_email="a@example.jp")
    pages = [
        reverse("events:manage"),
        reverse("events:manage_event", args=[event.code]),
        reverse("events:attendance", args=[event.code]),
    ]
    few = [queries(alice_client, u) for u in pages]
    for n in range(5):
        make_application(event, 3, start=10 + 3 * n, contact_email=f"b{n}@example.jp")
    assert [queries(alice_client, u) for u in pages] == few


def _events(organiser: Organization, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        event = make_event(organiser, title=f"研修{i}", days_ahead=10 + i)
        make_application(event, 2, start=3 * i, contact_email=f"o{i}@example.jp", notify=False)


@pytest.mark.parametrize(
    "url, who, expected",
    [
        ("/api/v1/events/", "anonymous", 4),
        # The organiser reads applicants, so signs in with a second factor: the session, the
        # user and the device are one statement (ADR 0071; three before, no policy lookup once
        # verified). A read writes no session within SESSION_REFRESH_SECONDS of the last write
        # (ADR 0054): 10, then 7 before.
        ("/api/v1/events/manage/events", "organiser", 5),
        # The page also carries the member menu, whose badges (referrals, care, oncall) are
        # counted in one statement (ADR 0054); and one query per owning app (courses) for the
        # events that belong to a record. 13, then 8 before ADR 0071.
        (reverse("events:manage"), "organiser", 6),
    ],
)
def test_lists_take_the_same_queries_for_2_or_12_events(
    client: Client,
    alice_client: Client,
    organiser: Organization,
    django_assert_num_queries: Any,
    settings: Any,
    url: str,
    who: str,
    expected: int,
) -> None:
    """The API's lists read places left and the organiser's counts in the list's own query,
    as the HTML list does (12 events: 16 and 61 queries before, one or five per event)."""
    settings.SESSION_REFRESH_SECONDS = 3600
    c = alice_client if who == "organiser" else client
    _events(organiser, 2)
    with django_assert_num_queries(expected):
        assert c.get(url).status_code == 200
    _events(organiser, 10, start=2)
    with django_assert_num_queries(expected):
        response = c.get(url)
    data = response.json() if url.startswith("/api/") else None
    if isinstance(data, dict):
        assert data["count"] == 12 and data["items"][0]["places_left"] == 28
    elif isinstance(data, list):
        assert len(data) == 12 and {e["confirmed"] for e in data} == {2}


def test_application_read_takes_the_same_queries_for_any_number_of_applicants(
    client: Client, event: Event, django_assert_num_queries: Any
) -> None:
    """The applicant's page and the API read the waiting-list rank in the query, not per row."""
    small = make_application(event, 1, start=0, contact_email="a@example.jp")
    large = make_application(event, 6, start=10, contact_email="b@example.jp")
    for app in (small, large):
        with django_assert_num_queries(2):
            assert client.get(f"/api/v1/events/applications/{app.signed_token}").status_code == 200
    assert queries(client, small.get_absolute_url()) == queries(client, large.get_absolute_url())
