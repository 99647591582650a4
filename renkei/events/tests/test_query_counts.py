from __future__ import annotations

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


def test_organiser_pages_do_not_grow_with_applicants(alice_client: Client, event: Event) -> None:
    """Applicant list, attendance list and manage list: constant queries per page."""
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
