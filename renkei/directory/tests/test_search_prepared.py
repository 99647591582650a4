"""A radius search runs as one prepared statement per connection on PostgreSQL (ADR 0011).

Its text does not depend on the point, the radius or the number of grid cells, so PostgreSQL
parses and plans it once; other searches, and DB_PREPARED_SEARCH off, prepare nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext, override_settings

from renkei.directory.api import PUBLIC_COLUMNS
from renkei.directory.search import FacilitySearch
from renkei.testing import make_facility

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements: PostgreSQL"),
]


def search(**params: Any) -> tuple[list[dict[str, Any]], int]:
    qd = QueryDict(mutable=True)
    for k, v in params.items():
        qd.setlist(k, v if isinstance(v, list) else [str(v)])
    return FacilitySearch.from_querydict(qd).rows(PUBLIC_COLUMNS)


def prepared() -> list[tuple[str, int]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE '%%directory_facility%%' ORDER BY name"
        )
        return [(s, int(n)) for s, n in cursor.fetchall()]


def fresh_session() -> None:
    """No statements prepared yet (psycopg forgets its own on DEALLOCATE ALL too)."""
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")


@pytest.fixture
def region() -> None:
    make_facility(
        "さくら訪問看護", "visiting_nurse", municipality_code="142051", lat=35.339, lng=139.49
    )
    make_facility("みどり診療所", "clinic", municipality_code="142077", lat=35.33, lng=139.40)
    make_facility("あおば", "clinic", municipality_code="141011", lat=35.50, lng=139.62)


def test_radius_searches_of_any_size_share_one_prepared_statement(region: None) -> None:
    fresh_session()
    small = search(lat=35.34, lng=139.49, radius_km=2, sort="distance")
    large = search(lat=35.34, lng=139.49, radius_km=60, sort="distance")
    near_other = search(lat=35.45, lng=139.60, radius_km=25, sort="distance")

    assert [r["name"] for r in small[0]] == ["さくら訪問看護"]
    assert [r["name"] for r in large[0]] == ["さくら訪問看護", "みどり診療所", "あおば"]
    assert near_other[1] == 3
    [(statement, executions)] = prepared()
    assert "= ANY($" in statement
    assert executions == 3


def test_searches_without_a_radius_are_not_prepared(region: None) -> None:
    fresh_session()
    rows, total = search(q="さくら")
    assert total == 1
    rows, total = search(lat=35.34, lng=139.49, sort="distance")
    assert total == 3
    assert prepared() == []


@override_settings(DB_PREPARED_SEARCH=False)
def test_prepared_search_can_be_turned_off(region: None) -> None:
    fresh_session()
    rows, total = search(lat=35.34, lng=139.49, radius_km=60)
    assert total == 3
    assert prepared() == []


def test_the_query_log_shows_the_prepared_statement(region: None) -> None:
    with CaptureQueriesContext(connection) as ctx:
        search(lat=35.34, lng=139.49, radius_km=60)
    [logged] = [q["sql"] for q in ctx.captured_queries if "directory_facility" in q["sql"]]
    assert logged.startswith("SELECT k._k")
