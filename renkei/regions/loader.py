"""Load the reference data shipped in regions/data/ (used by a data migration and tests)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"

# Approximate ward-office points for Kawasaki, whose wards form two 二次医療圏 and
# have no coordinates in the reference file.
WARD_POINTS = {
    "141313": (35.5308, 139.7030),
    "141321": (35.5437, 139.6854),
    "141330": (35.5759, 139.6595),
    "141348": (35.5995, 139.6112),
    "141364": (35.5878, 139.5824),
    "141356": (35.6197, 139.5621),
    "141372": (35.6034, 139.5066),
}


def load_regions(apps: Any) -> None:
    Prefecture = apps.get_model("regions", "Prefecture")
    SecondaryArea = apps.get_model("regions", "SecondaryArea")
    Municipality = apps.get_model("regions", "Municipality")

    data = json.loads((DATA / "municipalities.json").read_text(encoding="utf-8"))
    prefs = {
        p["code"]: Prefecture.objects.create(code=p["code"], name=p["name"])
        for p in data["prefectures"]
    }
    by_code: dict[str, Any] = {}
    rows = data["municipalities"]
    for row in [r for r in rows if not r["parent"]] + [r for r in rows if r["parent"]]:
        by_code[row["code"]] = Municipality.objects.create(
            code=row["code"],
            name=row["name"],
            kana=row["kana"],
            prefecture=prefs[row["pref"]],
            parent=by_code.get(row["parent"]),
            is_designated_city=bool(row.get("designated")),
        )

    areas = json.loads((DATA / "secondary-medical-areas.json").read_text(encoding="utf-8"))
    pref_by_name = {p.name: p for p in prefs.values()}
    for pref in areas["prefectures"]:
        for i, area in enumerate(pref["areas"]):
            sa = SecondaryArea.objects.create(
                prefecture=pref_by_name[pref["name"]], name=area["name"], sort_order=i
            )
            for m in area["municipalities"]:
                muni = by_code[m["code"]]
                muni.secondary_area = sa
                point = (m["lat"], m["lng"]) if m["lat"] is not None else WARD_POINTS.get(m["code"])
                if point:
                    muni.lat, muni.lng = point
                muni.save()
                # Wards inherit their 政令市's area so a search by area finds them.
                Municipality.objects.filter(parent=muni).update(secondary_area=sa)
