from __future__ import annotations

import pytest
from django.http import QueryDict

from renkei.directory.search import FacilitySearch, SearchError
from renkei.testing import make_facility

pytestmark = pytest.mark.django_db


def search(qs: str) -> list[str]:
    items, _ = FacilitySearch.from_querydict(QueryDict(qs)).results()
    return [f.name for f in items]


def test_half_width_katakana_finds_hiragana_name() -> None:
    """「ｻｸﾗ」 finds さくら and サクラ, whatever the width or kana of the stored name."""
    make_facility("さくら苑", kana="サクラエン")
    make_facility("医療法人サクラ会 サクラ病院", kind="hospital")
    make_facility("ひまわり荘")
    assert sorted(search("q=%EF%BD%BB%EF%BD%B8%EF%BE%97")) == [
        "さくら苑",
        "医療法人サクラ会 サクラ病院",
    ]


def test_capabilities_must_all_match() -> None:
    """A facility qualifies only when it covers every chosen capability."""
    make_facility("両方", capability_codes=["suction", "tube-feeding", "oxygen"])
    make_facility("片方", capability_codes=["suction"])
    assert search("capability=suction&capability=tube-feeding") == ["両方"]


def test_radius_and_distance_order() -> None:
    """Within 20 km of 藤沢市役所, nearest first; 横浜 (~18 km) in, 箱根 (~45 km) out."""
    make_facility("藤沢", lat=35.3389, lng=139.4911)
    make_facility("横浜", municipality_code="141003", lat=35.4437, lng=139.638)
    make_facility("箱根", municipality_code="143821", lat=35.2324, lng=139.1069)
    assert search("lat=35.3389&lng=139.4911&radius_km=20") == ["藤沢", "横浜"]


@pytest.mark.parametrize(
    "qs, message",
    [
        ("radius_km=10", "地点"),
        ("lat=abc&lng=139", "数値"),
        ("capability=no-such", "処置項目が見つかりません"),
        ("kind=castle", "種別"),
        ("page=0", "ページ"),
        ("per_page=1000", "件数"),
        ("lat=10&lng=10", "日本の範囲外"),
        ("sort=random", "並び順"),
    ],
)
def test_malformed_search_is_refused_with_reason(qs: str, message: str) -> None:
    """Bad parameters raise a SearchError whose Japanese message names the problem."""
    with pytest.raises(SearchError, match=message):
        FacilitySearch.from_querydict(QueryDict(qs))


def test_serves_lists_a_facility_once_even_with_several_matching_areas() -> None:
    """A visiting service that lists both 横浜市 and its ward appears once for an address in the ward."""
    make_facility(
        "はまかぜ訪問看護",
        kind="visiting_nurse",
        municipality_code="142051",
        service_municipality_codes=["141003", "141011"],
    )
    assert search(
        "serves=%E6%A8%AA%E6%B5%9C%E5%B8%82%E9%B6%B4%E8%A6%8B%E5%8C%BA%E9%B6%B4%E8%A6%8B%E4%B8%AD%E5%A4%AE1-1"
    ) == ["はまかぜ訪問看護"]
