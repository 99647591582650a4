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


def prepared() -> dict[str, tuple[str, int]]:
    """This session's prepared search statements: name -> (text, executions so far).

    Compared before and after, not emptied first: DEALLOCATE ALL behind psycopg's back would
    leave its cache naming statements the server no longer has, for the tests that follow.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, statement, generic_plans + custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE '%%directory_facility%%'"
        )
        return {name: (text, int(n)) for name, text, n in cursor.fetchall()}


def executed_since(before: dict[str, tuple[str, int]]) -> list[tuple[str, int]]:
    after = prepared()
    return [
        (text, n - before.get(name, ("", 0))[1])
        for name, (text, n) in sorted(after.items())
        if n != before.get(name, ("", 0))[1]
    ]


@pytest.fixture
def region() -> None:
    make_facility(
        "さくら訪問看護", "visiting_nurse", municipality_code="142051", lat=35.339, lng=139.49
    )
    make_facility("みどり診療所", "clinic", municipality_code="142077", lat=35.33, lng=139.40)
    make_facility("あおば", "clinic", municipality_code="141011", lat=35.50, lng=139.62)


def test_radius_searches_of_any_size_share_one_prepared_statement(region: None) -> None:
    before = prepared()
    small = search(lat=35.34, lng=139.49, radius_km=2, sort="distance")
    large = search(lat=35.34, lng=139.49, radius_km=60, sort="distance")
    near_other = search(lat=35.45, lng=139.60, radius_km=25, sort="distance")

    assert [r["name"] for r in small[0]] == ["さくら訪問看護"]
    assert [r["name"] for r in large[0]] == ["さくら訪問看護", "みどり診療所", "あおば"]
    assert near_other[1] == 3
    [(statement, executions)] = executed_since(before)
    assert "= ANY($" in statement
    assert executions == 3


def test_searches_without_a_radius_are_not_prepared(region: None) -> None:
    before = prepared()
    rows, total = search(q="さくら")
    assert total == 1
    rows, total = search(lat=35.34, lng=139.49, sort="distance")
    assert total == 3
    assert executed_since(before) == []


@override_settings(DB_PREPARED_SEARCH=False)
def test_prepared_search_can_be_turned_off(region: None) -> None:
    before = prepared()
    rows, total = search(lat=35.34, lng=139.49, radius_km=60)
    assert total == 3
    assert executed_since(before) == []


def test_the_query_log_shows_the_prepared_statement(region: None) -> None:
    with CaptureQueriesContext(connection) as ctx:
        search(lat=35.34, lng=139.49, radius_km=60)
    [logged] = [q["sql"] for q in ctx.captured_queries if "directory_facility" in q["sql"]]
    assert logged.startswith("SELECT k._k")
