"""Every municipality of Japan has a point (ADR 0041): distance and postal-code searches work
outside Kanagawa and Iwate, and the wards of a 政令市 start from their city's point."""

from __future__ import annotations

import json
import math

import pytest
from django.apps import apps
from django.http import QueryDict

from renkei.directory.search import FacilitySearch
from renkei.regions.loader import DATA, load_points
from renkei.regions.models import Municipality
from renkei.testing import make_facility

pytestmark = pytest.mark.django_db


def km(a: tuple[float, float], b: tuple[float, float]) -> float:
    return math.hypot((a[0] - b[0]) * 111.32, (a[1] - b[1]) * 111.32 * math.cos(math.radians(a[0])))


def test_every_municipality_has_a_point_and_wards_their_citys() -> None:
    no_point = Municipality.objects.filter(lat__isnull=True)
    assert not no_point.filter(parent__isnull=True).exists()
    for ward in no_point.select_related("parent"):
        assert ward.point() == ward.parent.point()  # type: ignore[union-attr]
    assert Municipality.objects.filter(lat__isnull=False).count() >= 1741


def test_points_lie_near_their_prefectures_office() -> None:
    """A wrong join (a name found in another prefecture) would put a town hundreds of km away."""
    offices = {
        m.prefecture_id: m.point()
        for m in Municipality.objects.filter(code__in=["011002", "472018", "131016", "372013"])
    }  # 札幌, 那覇, 千代田区, 高松
    for m in Municipality.objects.filter(
        prefecture_id__in=offices, lat__isnull=False, parent__isnull=True
    ):
        office = offices[m.prefecture_id]
        assert office is not None
        # 北海道 is wide; 沖縄's islands reach 与那国 (~510 km), 東京's 小笠原 (~1,000 km).
        limit = {"01": 450, "47": 550, "37": 60}.get(m.code[:2], 80)
        if m.code[:2] == "13" and m.code >= "133600":
            limit = 1100
        assert km((m.lat, m.lng), office) < limit, m.name  # type: ignore[arg-type]


def test_curated_points_are_kept() -> None:
    """The areas file's points (Kanagawa, Iwate) and the ward points are not overwritten."""
    fujisawa = Municipality.objects.get(code="142051")
    tsurumi = Municipality.objects.get(code="141011")
    before = (fujisawa.point(), tsurumi.point())
    assert load_points(apps) == 0
    fujisawa.refresh_from_db()
    tsurumi.refresh_from_db()
    assert (fujisawa.point(), tsurumi.point()) == before
    data = json.loads((DATA / "municipality-points.json").read_text(encoding="utf-8"))
    assert len(data["points"]) == 1741


def test_postal_code_search_outside_kanagawa() -> None:
    """〒760-0019 (高松市) starts a 10 km search at 高松市役所: 高松's facility in, 丸亀's out."""
    make_facility("高松の施設", municipality_code="372013", lat=34.34, lng=134.05)
    make_facility("丸亀の施設", municipality_code="372021", lat=34.29, lng=133.80)
    s = FacilitySearch.from_querydict(QueryDict("postal=7600019&radius_km=10"))
    items, total = s.results()
    assert [f.name for f in items] == ["高松の施設"] and total == 1
    assert "高松市" in s.point_label


def test_postal_code_in_a_ward_outside_kanagawa_uses_its_city() -> None:
    """〒980-0811 (仙台市青葉区): the ward has no point of its own; its city's is used."""
    make_facility("仙台の施設", municipality_code="041017", lat=38.26, lng=140.87)
    s = FacilitySearch.from_querydict(QueryDict("postal=9800811&radius_km=5"))
    assert [f.name for f in s.results()[0]] == ["仙台の施設"]


def test_a_ward_takes_the_centroid_of_its_facilities() -> None:
    """札幌市南区 has no point; five placed facilities give it theirs, one placed at the city's
    own point (no coordinates in the data) is left out, and a ward with a point keeps it."""
    from renkei.directory.imports.points import ward_points_from_facilities

    minami = Municipality.objects.get(code="011070")
    sapporo = minami.parent
    assert minami.lat is None and sapporo is not None and sapporo.lat is not None
    for i in range(5):
        make_facility(f"南区{i}", municipality_code="011070", lat=42.98 + i * 0.002, lng=141.35)
    make_facility("位置不明", municipality_code="011070", lat=sapporo.lat, lng=sapporo.lng)
    make_facility("北区", municipality_code="011029", lat=43.09, lng=141.34)  # only one
    tsurumi = Municipality.objects.get(code="141011")
    make_facility("鶴見", municipality_code="141011", lat=35.6, lng=139.7)
    assert ward_points_from_facilities() == 1
    minami.refresh_from_db()
    assert minami.point() == (42.984, 141.35)
    assert Municipality.objects.get(code="011029").lat is None
    assert Municipality.objects.get(code="141011").point() == tsurumi.point()
