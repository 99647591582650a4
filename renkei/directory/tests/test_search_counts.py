"""Searches whose cost does not grow with the whole table (ADR 0040): totals counted up to
SEARCH_COUNT_LIMIT (「1,000件以上」), the whole directory estimated (「約25万件」), a name search
sorting at most that many candidates, and on PostgreSQL the bigram index behind `q=`."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.http import QueryDict
from django.test import Client
from pytest_django.fixtures import Settings

from renkei.directory import facility_sql as fsql
from renkei.directory import search as search_module
from renkei.directory.search import FacilitySearch, total_label
from renkei.testing import make_facility

pytestmark = pytest.mark.django_db
API = "/api/v1/directory/facilities"


def search(qs: str) -> tuple[FacilitySearch, list[str], int]:
    s = FacilitySearch.from_querydict(QueryDict(qs))
    items, total = s.results()
    return s, [f.name for f in items], total


@pytest.mark.parametrize(
    "total, exact, estimated, label",
    [
        (1234, True, False, "1,234件"),
        (1000, False, False, "1,000件以上"),
        (250_123, False, True, "約25万件"),
        (2_498_000, False, True, "約250万件"),
        (12_345, False, True, "約1.2万件"),
        (9_876, False, True, "約9,900件"),
        (20_000, False, True, "約2万件"),
    ],
)
def test_totals_are_labelled_honestly(total: int, exact: bool, estimated: bool, label: str) -> None:
    assert total_label(total, exact=exact, estimated=estimated) == label


def test_two_and_one_character_names_are_found() -> None:
    """「中央」 (two characters, one bigram) and 「苑」 (one: no bigram, the plain LIKE)."""
    make_facility("中央さくら苑", kana="チュウオウサクラエン")
    make_facility("ひまわり荘")
    assert search("q=中央")[1] == ["中央さくら苑"]
    assert search("q=苑")[1] == ["中央さくら苑"]
    assert search("q=ｻｸﾗｴﾝ")[1] == ["中央さくら苑"]  # half-width kana of the reading
    assert search("q=央さ")[1] == ["中央さくら苑"]


@pytest.fixture(params=["bitmap", "walk"])
def candidates(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each name search twice: its candidates from the bigram index, and (PostgreSQL) walked in
    id order as a common word's are (ADR 0040), forced by making the walk cost nothing."""
    if request.param == "walk":
        monkeypatch.setattr(search_module, "WALK_COST", 0.0)
    return str(request.param)


def walked(s: FacilitySearch, candidates: str) -> bool:
    return s.walk_by_id == (candidates == "walk" and connection.vendor == "postgresql")


def test_a_name_search_over_the_limit_sorts_that_many(settings: Settings, candidates: str) -> None:
    settings.SEARCH_COUNT_LIMIT = 3
    for i in range(5):
        make_facility(f"さくら{i}", kana=f"サクラ{i}")
    make_facility("ひまわり")
    s, names, total = search("q=さくら")
    assert walked(s, candidates)
    assert (total, s.total_exact, s.total_estimated) == (3, False, False)
    assert len(names) == 3 and all(n.startswith("さくら") for n in names)
    assert names == sorted(names)  # the candidates, in the page's order
    if candidates == "walk":
        assert names == ["さくら0", "さくら1", "さくら2"]  # the first matches in id order
    s, names, _ = search("q=さくら&per_page=2&page=2")
    assert len(names) == 1
    assert search("q=さくら&per_page=2&page=3")[1] == []
    # Within the limit the total is exact and every match is there.
    s, names, total = search("q=ひまわり")
    assert (total, s.total_exact, names) == (1, True, ["ひまわり"])
    assert walked(s, candidates)


def test_a_walked_name_search_finds_what_the_index_finds(candidates: str) -> None:
    """The same names, order and totals by either way in, with the other filters too."""
    make_facility("中央さくら苑", kana="チュウオウサクラエン", kind="tokuyo")
    make_facility("さくら中央病院", kana="サクラチュウオウビョウイン", kind="hospital")
    make_facility("あおば中央クリニック", kana="アオバチュウオウクリニック", kind="clinic")
    make_facility("ひまわり荘", kana="ヒマワリソウ", kind="tokuyo")
    cases = {
        "q=中央": (["あおば中央クリニック", "さくら中央病院", "中央さくら苑"], 3),
        "q=ｻｸﾗ": (["さくら中央病院", "中央さくら苑"], 2),
        "q=さくら&kind=tokuyo": (["中央さくら苑"], 1),
        "q=中央&per_page=2&page=2": (["中央さくら苑"], 3),
        "q=該当なし": ([], 0),
        "q=苑": (["中央さくら苑"], 1),  # one character: the plain LIKE either way
    }
    for qs, (expected, count) in cases.items():
        s, names, total = search(qs)
        assert (names, total, s.total_exact) == (expected, count, True), qs
        assert walked(s, candidates) or qs == "q=苑", qs
    if candidates == "walk" and connection.vendor == "postgresql":
        s = FacilitySearch.from_querydict(QueryDict("q=さくら"))
        s.walk_by_id = True
        sql, _ = s.keys_sql()
        assert "renkei_bigrams" not in sql and "strpos" in sql and "ORDER BY w.id LIMIT" in sql


def test_the_whole_directory_is_estimated_and_pages_stop_at_the_limit(
    settings: Settings, client: Client
) -> None:
    settings.SEARCH_COUNT_LIMIT = 3
    for i in range(6):
        make_facility(f"施設{i}", kana=f"シセツ{i}")
    s, names, total = search("")
    assert not s.total_exact
    assert names == [f"施設{i}" for i in range(6)]  # the kana order, not cut
    page = client.get("/directory/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "見つかりました" in text and ("約" in text or "3件以上" in text)
    # The kind filter is not the whole directory: a lower bound, pages go on past it (API).
    s, names, total = search("kind=tokuyo&per_page=2&page=3")
    assert (total, s.total_exact, s.total_estimated) == (3, False, False)
    assert names == ["施設4", "施設5"]
    refused = client.get("/directory/", {"page": "3", "per_page": "2"})
    assert refused.status_code == 400 and "2ページまで" in refused.content.decode()


def test_the_api_says_when_its_count_is_not_exact(
    settings: Settings, client: Client, candidates: str
) -> None:
    settings.SEARCH_COUNT_LIMIT = 2
    for i in range(3):
        make_facility(f"あおば{i}")
    body = client.get(API, {"q": "あおば"}).json()
    assert body["count"] == 2 and body["count_exact"] is False and len(body["items"]) == 2
    body = client.get(API, {"q": "あおば0"}).json()
    assert body["count"] == 1 and body["count_exact"] is True


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the bigram index is PostgreSQL's")
def test_the_name_search_can_use_the_bigram_index() -> None:
    """The statement's bigram condition is the indexed expression (else the index is dead)."""
    make_facility("こもれび苑")
    assert fsql.bigrams("こもれび") == ["こも", "もれ", "れび"]
    # The search's own fragment, alone: on a table of one row the planner would rather read
    # another index for is_active.
    fragment = fsql.name_contains("f", "こもれび", connection)
    sql, params = f"SELECT 1 FROM {fsql.FACILITY} f WHERE {fragment.text}", fragment.params
    # On one row a bitmap over every entry of facility_name_walk_idx costs as little: it is
    # dropped in a transaction of the test's own, always rolled back (another test of the
    # same database must still find it).
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("DROP INDEX facility_name_walk_idx")
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("SET LOCAL enable_indexscan = off")
        cur.execute("EXPLAIN " + sql, params)
        plan = "\n".join(r[0] for r in cur.fetchall())
        transaction.set_rollback(True)
    assert "facility_name_bigram_idx" in plan


def test_a_name_search_by_kinds_finds_the_kinds_asked_for(candidates: str) -> None:
    """The kinds ride along in the index's terms on PostgreSQL (ADR 0072): one kind, two, or
    none give the same facilities as the name and kind tests written out."""
    make_facility("さくら苑", "tokuyo", kana="サクラエン")
    make_facility("さくらクリニック", "clinic", kana="サクラクリニック")
    make_facility("さくら訪問看護", "visiting_nurse", kana="サクラホウモンカンゴ")
    make_facility("ひまわり苑", "tokuyo", kana="ヒマワリエン")
    assert search("q=さくら&kind=tokuyo")[1:] == (["さくら苑"], 1)
    assert search("q=さくら&kind=tokuyo&kind=clinic")[1:] == (["さくら苑", "さくらクリニック"], 2)
    assert search("q=さくら&kind=roken")[1:] == ([], 0)
    assert search("q=さくら")[1:] == (["さくら苑", "さくらクリニック", "さくら訪問看護"], 3)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the bigram index is PostgreSQL's")
def test_a_name_search_by_kind_asks_the_index_for_the_kind() -> None:
    """The kind's term is in the indexed expression's condition, so that the index returns only
    facilities of that kind (else a common word read most of the table; ADR 0072)."""
    make_facility("こもれび苑")
    one = fsql.name_contains("f", "こもれび", connection, kinds=["tokuyo"])
    assert "renkei_name_terms(f.search_text, f.kind) @>" in one.text
    assert one.params[0] == ["こも", "もれ", "れび", "#tokuyo"]
    two = fsql.name_contains("f", "こもれび", connection, kinds=["tokuyo", "clinic"])
    assert two.params[:2] == [["こも", "もれ", "れび"], ["#clinic", "#tokuyo"]]
    for fragment in (one, two):
        sql = f"SELECT 1 FROM {fsql.FACILITY} f WHERE {fragment.text}"
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("DROP INDEX facility_name_walk_idx")
            cur.execute("SET LOCAL enable_seqscan = off")
            cur.execute("SET LOCAL enable_indexscan = off")
            cur.execute("EXPLAIN " + sql, fragment.params)
            plan = "\n".join(r[0] for r in cur.fetchall())
            cur.execute(sql, fragment.params)
            found = cur.fetchall()
            transaction.set_rollback(True)
        assert "facility_name_bigram_idx" in plan
        assert "#tokuyo" in plan.split("Index Cond", 1)[1]
        assert found == [(1,)]
