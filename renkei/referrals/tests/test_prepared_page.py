"""The candidates page's statements of fixed text run prepared on PostgreSQL (ADR 0080): the
session with its user and device, the acting membership, the case, matching's request history
and the menu's badges are parsed and planned once per connection, and run unprepared with
DB_PREPARED_SEARCH off. Same page, same statements."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from renkei.accounts.models import Membership
from renkei.directory.models import Facility
from renkei.referrals.models import PlacementCase
from renkei.referrals.tests.conftest import login

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements: PostgreSQL"),
]

# A piece of each statement's text that no other statement of the page has.
PREPARED = {
    "session": "expire_date",
    "membership": "ORDER BY CASE WHEN m.",
    "case": '"age_band"',
    "history": "COUNT(answered_at)",
    "badges": "SELECT (SELECT COUNT(*) FROM referrals_placementrequest",
}


def executions() -> dict[str, int]:
    """Executions so far of this connection's prepared statements, by the names above.

    Compared before and after, not emptied first: DEALLOCATE ALL behind psycopg's back would
    leave its cache naming statements the server no longer has, for the tests that follow."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements")
        found = cursor.fetchall()
    return {
        name: sum(int(n) for text, n in found if piece in text) for name, piece in PREPARED.items()
    }


def test_the_pages_fixed_statements_run_prepared(
    client: Client, msw: Membership, case: PlacementCase, tokuyo: tuple[Facility, Membership]
) -> None:
    login(client, msw)
    url = reverse("referrals:candidates", args=[case.code])
    client.get(url)  # the session's first refresh is not the page's
    before = executions()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        client.get(url)
    assert response.status_code == 200 and "特養なぎさ苑" in response.content.decode()
    after = executions()
    assert {name: after[name] - before[name] for name in PREPARED} == dict.fromkeys(PREPARED, 2)
    # The query log still shows each of them (the preparing cursor records what it sent).
    for piece in PREPARED.values():
        assert sum(piece in q["sql"] for q in queries) == 2, piece
    assert len(queries) == 12


@override_settings(DB_PREPARED_SEARCH=False)
def test_nothing_is_prepared_with_the_setting_off(
    client: Client, msw: Membership, case: PlacementCase, tokuyo: tuple[Facility, Membership]
) -> None:
    login(client, msw)
    url = reverse("referrals:candidates", args=[case.code])
    client.get(url)
    before = executions()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200 and "特養なぎさ苑" in response.content.decode()
    assert executions() == before
    assert len(queries) == 6
