"""The search page's option lists and result rows, rendered in Python (ADR 0053): the same
marks, escaping, rounding and freshness as the template drew, in one statement."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.http import QueryDict
from django.template.defaultfilters import floatformat
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from renkei.directory.search import FacilitySearch
from renkei.directory.search_html import OptionList, freshness, result_rows
from renkei.lib.dates import ago_ja
from renkei.testing import make_facility

pytestmark = pytest.mark.django_db


def test_the_form_marks_what_the_search_chose(client: Client) -> None:
    body = client.get(
        "/directory/",
        {
            "kind": "tokuyo",
            "capability": "suction",
            "prefecture": "14",
            "municipality": "142051",
            "sort": "name",
        },
    ).content.decode()
    assert 'name="kind" value="tokuyo" checked> 介護老人福祉施設（特養）</label>' in body
    assert 'name="kind" value="hospital"> ' in body
    assert 'name="capability" value="suction" checked>' in body
    assert 'name="capability" value="oxygen">' in body
    assert '<option value="14" selected>神奈川県</option>' in body
    assert '<option value="13">東京都</option>' in body
    assert '<option value="142051" selected>藤沢市</option>' in body
    assert '<option value="142034">平塚市</option>' in body
    assert '<option value="name" selected>名称順</option>' in body
    assert "二次医療圏・市区町村は神奈川県から選べます" in body
    assert body.count(" checked>") == 2 and body.count(" selected>") == 3


def test_a_refused_search_marks_nothing(client: Client) -> None:
    r = client.get("/directory/", {"kind": "tokuyo", "radius_km": "5"})
    body = r.content.decode()
    assert r.status_code == 400 and "地点" in body
    assert " checked>" not in body and 'name="kind" value="tokuyo">' in body


def test_option_lists_escape_their_values_and_labels() -> None:
    options = OptionList.select([("a&b", "<i>x</i>"), ("c", "d")])
    assert options.render(["a&b"]) == (
        '<option value="a&amp;b" selected>&lt;i&gt;x&lt;/i&gt;</option><option value="c">d</option>'
    )
    boxes = OptionList.checkboxes("kind", [('"q', "it's")])
    assert boxes.render() == (
        '<li><label><input class="autosubmit" type="checkbox" name="kind" value="&quot;q">'
        " it&#x27;s</label></li>"
    )


def test_a_result_row_shows_the_facility_escaped(client: Client) -> None:
    f = make_facility(
        "<b>さくら&苑</b>",
        capability_codes=["suction", "oxygen"],
        vacancy="available",
        confirmed_days_ago=2,
    )
    make_facility("ひまわり苑", kind="hospital", lat=35.35, vacancy="none")
    body = client.get(
        "/directory/",
        {"lat": "35.3389", "lng": "139.4911", "radius_km": "5", "capability": "suction"},
    ).content.decode()
    rows = body[body.index('<ol class="results">') : body.index("</ol>")]
    assert "<b>" not in rows
    assert f'<h3><a href="{f.get_absolute_url()}">&lt;b&gt;さくら&amp;苑&lt;/b&gt;</a></h3>' in rows
    assert "介護老人福祉施設（特養）｜藤沢市｜藤沢市本町1-1-1｜約0.0km</div>" in rows
    assert (
        '<span class="vac vac-available">空きあり</span> <span class="fresh">2日前に更新</span>'
        in rows
    )
    # The tag of a capability the search asked for is marked, in the vocabulary's order.
    assert '<li class="tag ok">喀痰吸引</li>' in rows and '<li class="tag">酸素療法' in rows
    assert "ひまわり苑" not in rows  # no suction


def test_the_filtered_page_reads_its_rows_in_one_statement(client: Client) -> None:
    for i in range(3):
        make_facility(
            f"施設{i}", capability_codes=["suction"], vacancy="available", lat=35.34 + i / 100
        )
    url = "/directory/?capability=suction&vacancy=1&lat=35.3389&lng=139.4911&radius_km=20"
    client.get(url)  # the option lists are read once per process
    with CaptureQueriesContext(connection) as ctx:
        body = client.get(url).content.decode()
    assert body.count('<li class="result">') == 3
    facility_reads = [q for q in ctx.captured_queries if "directory_facility" in q["sql"]]
    assert len(facility_reads) == 1, [q["sql"] for q in ctx.captured_queries]


@pytest.mark.parametrize("km", [0.0, 0.05, 0.15, 0.25, 1.05, 2.25, 2.35, 9.95, 12.349, 199.96])
def test_distances_round_as_the_template_did(km: float) -> None:
    row: dict[str, Any] = {
        "code": "00000000-0000-0000-0000-000000000001",
        "kind": "tokuyo",
        "name": "甲",
        "address": "",
        "municipality_name": "藤沢市",
        "vacancy_status": "unknown",
        "vacancy_confirmed_at": None,
        "distance_km": km,
        "capability_codes": [],
    }
    assert f"｜約{floatformat(km, 1)}km</div>" in result_rows([row], ())


@pytest.mark.parametrize("days", [None, 0, 3, 29, 31, 400])
def test_freshness_says_what_the_template_said(days: int | None) -> None:
    now = timezone.now()
    confirmed = None if days is None else now - dt.timedelta(days=days, minutes=1)
    html = freshness(confirmed, now)
    if confirmed is None:
        assert html == '<span class="stale">空き状況は未登録です</span>'
    elif days is not None and days > 30:
        assert html == (
            f'<span class="stale">{ago_ja(confirmed, now)}に更新（情報が古い可能性があります）</span>'
        )
    else:
        assert html == f'<span class="fresh">{ago_ja(confirmed, now)}に更新</span>'


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the plan is PostgreSQL's")
@pytest.mark.parametrize("kind", ["", "&kind=tokuyo"])
def test_a_vacancy_search_reads_the_index_of_vacancies(kind: str) -> None:
    """facility_vacant_idx's condition is implied by the search's (else it is dead weight).

    Only that is asked of the planner: the other indexes are dropped (in the test's transaction)
    first. Left in place, facility_search_idx answers the same search at a cost within a hair of
    the partial index's on twenty rows, and which one wins depended on the sizes the table and
    its indexes had grown to from the tests run before in the same database (their rolled-back
    rows stay until a vacuum): with kind= the wide index sometimes won (a failure under load,
    session 9). Without a competitor the planner still cannot use the partial index unless the
    search's condition implies the index's, so the test fails exactly when that breaks.
    """
    for i, vacancy in enumerate(["available", "few", "none", "unknown"] * 5):
        make_facility(f"施設{i}", vacancy=vacancy, lat=35.3389 + i / 1000)
    s = FacilitySearch.from_querydict(
        QueryDict(f"vacancy=1&lat=35.3389&lng=139.4911&radius_km=5{kind}")
    )
    with connection.cursor() as cur:
        cur.execute(
            "SELECT indexrelid::regclass::text FROM pg_index"
            " WHERE indrelid = 'directory_facility'::regclass"
            " AND indexrelid <> 'facility_vacant_idx'::regclass"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = indexrelid)"
        )
        for (index,) in cur.fetchall():
            cur.execute(f'DROP INDEX "{index}"')
        cur.execute("ANALYZE directory_facility")
        cur.execute("SET enable_seqscan = off")
        try:
            cur.execute("EXPLAIN " + s.keys_sql()[0], s.keys_sql()[1])
            plan = "\n".join(r[0] for r in cur.fetchall())
        finally:
            cur.execute("RESET enable_seqscan")
    assert "facility_vacant_idx" in plan, plan
    assert len(s.rows(("name",))[0]) == 10


@pytest.mark.parametrize(
    ("count", "number"), [(0, 1), (20, 1), (21, 1), (61, 2), (61, 4), (12345, 617)]
)
@pytest.mark.parametrize("querystring", ["", "q=%E3%81%95&sort=name&", "a=<b>&c='d'&"])
def test_the_pager_prints_what_components_pager_html_prints(
    count: int, number: int, querystring: str
) -> None:
    # The search page prints search_html.pager (ADR 0079); the other pages include the
    # template. The same bytes, or the two have drifted apart.
    from django.core.paginator import Paginator
    from django.template.loader import render_to_string

    from renkei.directory.search_html import pager

    page = Paginator(range(count), 20).get_page(number)
    for p in (page, None):
        expected = render_to_string(
            "components/pager.html", {"page": p, "querystring_base": querystring}
        )
        assert pager(p, querystring) == expected


def test_the_form_prints_the_query_values_and_nothing_for_missing_ones(client: Client) -> None:
    # params is a mapping with "" for a missing name (ADR 0079): printed as the QueryDict was.
    body = client.get(
        "/directory/", {"q": '"さくら"<', "postal": "2510052", "near": "35.3,139.4"}
    ).content.decode()
    assert 'name="q" value="&quot;さくら&quot;&lt;"' in body
    assert 'name="postal" inputmode="numeric" value="2510052"' in body
    assert 'name="serves" value=""' in body
    assert '<input type="hidden" name="near" value="35.3,139.4">' in body
    assert "<details >" in body and "<details open>" not in body
    body = client.get("/directory/", {"kind": "tokuyo", "radius_km": "10"}).content.decode()
    assert "<details open>" in body and 'name="near"' not in body
    assert '<option value="10" selected>10km以内</option>' in body
