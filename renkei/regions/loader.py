"""Load the reference data shipped in regions/data/ (used by a data migration and tests)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"

# Approximate ward-office points for the wards of Kanagawa's 政令市, which the reference file lists
# only as whole cities (Yokohama, Sagamihara) or without coordinates (Kawasaki). A postal code or
# address in a ward then starts a distance search from its ward, not from the city hall.
WARD_POINTS: dict[str, tuple[float, float]] = {
    "141313": (35.5308, 139.7030), "141321": (35.5437, 139.6854), "141330": (35.5759, 139.6595),
    "141348": (35.5995, 139.6112), "141364": (35.5878, 139.5824), "141356": (35.6197, 139.5621),
    "141372": (35.6034, 139.5066),
    "141011": (35.5083, 139.6823), "141020": (35.4770, 139.6294), "141038": (35.4537, 139.6170),
    "141046": (35.4445, 139.6425), "141054": (35.4310, 139.6108), "141062": (35.4578, 139.5963),
    "141071": (35.4022, 139.6178), "141089": (35.3374, 139.6244), "141097": (35.5191, 139.6330),
    "141101": (35.3996, 139.5338), "141119": (35.3914, 139.5913), "141127": (35.4748, 139.5447),
    "141135": (35.5127, 139.5380), "141143": (35.4663, 139.4989), "141151": (35.3643, 139.5540),
    "141160": (35.4178, 139.4893), "141178": (35.5527, 139.5372), "141186": (35.5449, 139.5707),
    "141518": (35.5948, 139.3392), "141526": (35.5715, 139.3732), "141534": (35.5314, 139.4283),
}  # fmt: skip


def load_regions(apps: Any) -> None:
    """Prefectures, municipalities (each 政令市 before its wards) and secondary medical areas,
    written in a few bulk statements: it runs in every new database's migrations and, on
    SQLite, after every transactional test's flush (renkei.testing), where a statement a row
    cost seconds. The rows and their ids are those the files' order gives."""
    Prefecture = apps.get_model("regions", "Prefecture")
    SecondaryArea = apps.get_model("regions", "SecondaryArea")
    Municipality = apps.get_model("regions", "Municipality")

    data = json.loads((DATA / "municipalities.json").read_text(encoding="utf-8"))
    prefs = {
        p.code: p
        for p in Prefecture.objects.bulk_create(
            [Prefecture(code=p["code"], name=p["name"]) for p in data["prefectures"]]
        )
    }
    by_code: dict[str, Any] = {}
    rows = data["municipalities"]
    # Cities first, in one statement, so that the wards' statement can name their ids.
    for level in ([r for r in rows if not r["parent"]], [r for r in rows if r["parent"]]):
        created = Municipality.objects.bulk_create(
            [
                Municipality(
                    code=row["code"],
                    name=row["name"],
                    kana=row["kana"],
                    prefecture=prefs[row["pref"]],
                    parent=by_code.get(row["parent"]),
                    is_designated_city=bool(row.get("designated")),
                )
                for row in level
            ]
        )
        by_code.update((m.code, m) for m in created)
    wards: dict[int, list[Any]] = {}
    for m in by_code.values():
        if m.parent_id is not None:
            wards.setdefault(m.parent_id, []).append(m)

    areas = json.loads((DATA / "secondary-medical-areas.json").read_text(encoding="utf-8"))
    pref_by_name = {p.name: p for p in prefs.values()}
    listed = [
        (
            SecondaryArea(prefecture=pref_by_name[pref["name"]], name=area["name"], sort_order=i),
            area,
        )
        for pref in areas["prefectures"]
        for i, area in enumerate(pref["areas"])
    ]
    SecondaryArea.objects.bulk_create([sa for sa, _ in listed])
    changed: dict[str, Any] = {}
    for sa, area in listed:
        for m in area["municipalities"]:
            muni = changed[m["code"]] = by_code[m["code"]]
            muni.secondary_area = sa
            point = (m["lat"], m["lng"]) if m["lat"] is not None else WARD_POINTS.get(m["code"])
            if point:
                muni.lat, muni.lng = point
            # Wards inherit their 政令市's area so a search by area finds them.
            for ward in wards.get(muni.pk, []):
                changed[ward.code] = ward
                ward.secondary_area = sa
    for code, (lat, lng) in WARD_POINTS.items():
        muni = by_code.get(code)
        if muni is not None and muni.lat is None:
            changed[code] = muni
            muni.lat, muni.lng = lat, lng
    Municipality.objects.bulk_update(
        list(changed.values()), ["secondary_area", "lat", "lng"], batch_size=500
    )
    load_points(apps)


def load_points(apps: Any) -> int:
    """Give every municipality without a point the one in municipality-points.json (all but
    the wards of the 政令市, which use their city's point until their facilities give them one:
    renkei.directory.imports.points). Points already set (the areas file, WARD_POINTS, an
    administrator) are kept. Returns how many were set."""
    Municipality = apps.get_model("regions", "Municipality")
    data = json.loads((DATA / "municipality-points.json").read_text(encoding="utf-8"))
    points: dict[str, list[float]] = data["points"]
    missing = Municipality.objects.filter(lat__isnull=True, code__in=list(points))
    changed = []
    for m in missing.only("id", "code"):
        m.lat, m.lng = points[m.code]
        changed.append(m)
    Municipality.objects.bulk_update(changed, ["lat", "lng"], batch_size=500)
    return len(changed)
