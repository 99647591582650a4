"""Generate a national-scale synthetic directory for the search benchmark.

    python bench/generate_directory.py                      # 300,000 facilities on PostgreSQL
    python bench/generate_directory.py --count 50000 --reset
    python bench/generate_directory.py --sqlite var/bench.sqlite3
    python bench/generate_directory.py --grow-to 2500000   # copy the generated rows in SQL

--grow-to N (PostgreSQL) multiplies the facilities already there, inside the database, until
there are N: each copy keeps its original's place, kind, name, capabilities and vacancy and
gets its own code and office numbers. It takes minutes where generating 2,500,000 rows in
Python takes an hour; the growth check (docs/benchmarks.md) compares 250,000 against copies
of the same 250,000, so that only the size of the table differs.

PostgreSQL: the database named by DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/renkei_bench) is created if missing and migrated.
SQLite: PATH is created and migrated (--reset removes an existing file first).

Everything is synthetic and deterministic (random.Random(seed)): the same seed and count
give the same facilities, so runs on different days compare. Municipalities carry no
coordinates outside Kanagawa and Iwate, so each gets a synthetic point: its prefecture's
capital (hard-coded below) plus a seeded offset; wards cluster around their city.
Facility counts per municipality follow the prefecture's population and the kind of
municipality (ward > city > town > village), so city centres are dense as in reality.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import random
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/renkei_bench"
BATCH = 5_000

# Prefectural office (approx.) and population in 10,000s (2020 census, rounded).
PREFECTURES: dict[str, tuple[float, float, int]] = {
    "01": (43.064, 141.347, 522),
    "02": (40.824, 140.740, 124),
    "03": (39.704, 141.153, 121),
    "04": (38.269, 140.872, 230),
    "05": (39.719, 140.102, 96),
    "06": (38.240, 140.364, 107),
    "07": (37.750, 140.468, 183),
    "08": (36.342, 140.447, 287),
    "09": (36.566, 139.884, 193),
    "10": (36.391, 139.061, 194),
    "11": (35.857, 139.649, 734),
    "12": (35.605, 140.123, 628),
    "13": (35.690, 139.692, 1405),
    "14": (35.448, 139.643, 923),
    "15": (37.902, 139.023, 220),
    "16": (36.695, 137.211, 103),
    "17": (36.594, 136.626, 113),
    "18": (36.065, 136.222, 77),
    "19": (35.664, 138.568, 81),
    "20": (36.651, 138.181, 205),
    "21": (35.391, 136.722, 198),
    "22": (34.977, 138.383, 363),
    "23": (35.180, 136.907, 754),
    "24": (34.730, 136.509, 177),
    "25": (35.004, 135.869, 141),
    "26": (35.021, 135.756, 258),
    "27": (34.686, 135.520, 884),
    "28": (34.691, 135.183, 547),
    "29": (34.686, 135.833, 132),
    "30": (34.226, 135.168, 92),
    "31": (35.504, 134.238, 55),
    "32": (35.472, 133.051, 67),
    "33": (34.662, 133.935, 189),
    "34": (34.396, 132.459, 280),
    "35": (34.186, 131.471, 134),
    "36": (34.066, 134.559, 72),
    "37": (34.340, 134.043, 95),
    "38": (33.842, 132.766, 134),
    "39": (33.560, 133.531, 69),
    "40": (33.607, 130.418, 513),
    "41": (33.249, 130.299, 81),
    "42": (32.745, 129.874, 131),
    "43": (32.790, 130.742, 174),
    "44": (33.238, 131.613, 113),
    "45": (31.911, 131.424, 107),
    "46": (31.560, 130.558, 159),
    "47": (26.212, 127.681, 147),
}
# How far from the capital a municipality may lie (km); large prefectures spread wider.
SPREAD_KM = {"01": 180.0, "03": 70.0, "07": 70.0, "15": 70.0, "20": 70.0, "13": 35.0}
DEFAULT_SPREAD_KM = 45.0

# Rough national mix of the directory's kinds (relative weights).
KIND_WEIGHTS: dict[str, float] = {
    "clinic": 28,
    "dental": 19,
    "pharmacy": 17,
    "hospital": 2.5,
    "visiting_nurse": 4.5,
    "care_management": 11,
    "community_center": 1.5,
    "tokuyo": 2.8,
    "roken": 1.2,
    "kaigo_iryoin": 0.3,
    "group_home": 4.2,
    "tokutei": 1.8,
    "sakoju": 2.2,
    "shotaki": 1.6,
    "kantaki": 0.3,
    "teiki": 0.4,
    "short_stay": 3.5,
    "day_care": 14,
    "home_help": 11,
    "other_care": 2,
}
KIND_SUFFIX: dict[str, tuple[str, str]] = {
    "hospital": ("病院", "ビョウイン"),
    "clinic": ("クリニック", "クリニック"),
    "dental": ("歯科医院", "シカイイン"),
    "pharmacy": ("薬局", "ヤッキョク"),
    "visiting_nurse": ("訪問看護ステーション", "ホウモンカンゴステーション"),
    "care_management": ("居宅介護支援事業所", "キョタクカイゴシエンジギョウショ"),
    "community_center": ("地域包括支援センター", "チイキホウカツシエンセンター"),
    "tokuyo": ("特別養護老人ホーム", "トクベツヨウゴロウジンホーム"),
    "roken": ("介護老人保健施設", "カイゴロウジンホケンシセツ"),
    "kaigo_iryoin": ("介護医療院", "カイゴイリョウイン"),
    "group_home": ("グループホーム", "グループホーム"),
    "tokutei": ("有料老人ホーム", "ユウリョウロウジンホーム"),
    "sakoju": ("サービス付き高齢者向け住宅", "サービスツキコウレイシャムケジュウタク"),
    "shotaki": ("小規模多機能ホーム", "ショウキボタキノウホーム"),
    "kantaki": ("看護小規模多機能ホーム", "カンゴショウキボタキノウホーム"),
    "teiki": ("定期巡回ステーション", "テイキジュンカイステーション"),
    "short_stay": ("ショートステイ", "ショートステイ"),
    "day_care": ("デイサービスセンター", "デイサービスセンター"),
    "home_help": ("ヘルパーステーション", "ヘルパーステーション"),
    "other_care": ("介護サービス", "カイゴサービス"),
}
WORDS: list[tuple[str, str]] = [
    ("さくら", "サクラ"),
    ("ひまわり", "ヒマワリ"),
    ("あおば", "アオバ"),
    ("みどり", "ミドリ"),
    ("若葉", "ワカバ"),
    ("つばさ", "ツバサ"),
    ("中央", "チュウオウ"),
    ("駅前", "エキマエ"),
    ("ふれあい", "フレアイ"),
    ("やすらぎ", "ヤスラギ"),
    ("希望", "キボウ"),
    ("あさひ", "アサヒ"),
    ("すみれ", "スミレ"),
    ("陽だまり", "ヒダマリ"),
    ("けやき", "ケヤキ"),
    ("なごみ", "ナゴミ"),
    ("こもれび", "コモレビ"),
    ("いずみ", "イズミ"),
    ("桜ヶ丘", "サクラガオカ"),
    ("本町", "ホンチョウ"),
    ("みなと", "ミナト"),
    ("しらかば", "シラカバ"),
    ("かえで", "カエデ"),
    ("ひだまり", "ヒダマリ"),
]
TOWNS = ["本町", "中央", "栄町", "緑町", "旭町", "東町", "西町", "南町", "北町", "新町", "幸町"]

RESIDENTIAL = {"tokuyo", "roken", "kaigo_iryoin", "group_home", "tokutei", "sakoju", "short_stay"}
# (min, max) number of capabilities by kind; "typical 0-10".
CAP_RANGE: dict[str, tuple[int, int]] = {
    "hospital": (4, 14),
    "clinic": (0, 8),
    "dental": (0, 2),
    "pharmacy": (0, 3),
    "visiting_nurse": (3, 12),
    "care_management": (0, 3),
    "community_center": (0, 2),
    "kaigo_iryoin": (5, 14),
    "roken": (4, 12),
    "tokuyo": (3, 10),
    "kantaki": (4, 12),
}
DEFAULT_CAP_RANGE = (0, 6)
# Popular items are chosen more often, rare ones (ventilator, pediatric) seldom.
CAP_POPULARITY: dict[str, float] = {
    "drip": 8,
    "oxygen": 8,
    "suction": 9,
    "tube-feeding": 7,
    "pressure-ulcer": 8,
    "urinary-catheter": 7,
    "insulin": 7,
    "gastrostomy": 6,
    "terminal-care": 5,
    "end-of-life": 5,
    "bpsd": 5,
    "pain": 4,
    "monitor": 3,
    "stoma": 3,
    "infection": 3,
    "narcotics": 2,
    "ivh": 2,
    "tracheostomy": 2,
    "urostomy": 1.5,
    "hemodialysis": 1,
    "peritoneal-dialysis": 0.7,
    "ventilator": 0.7,
    "pediatric": 0.5,
}


def configure(args: argparse.Namespace) -> None:
    if args.sqlite:
        path = Path(args.sqlite).resolve()
        if path.exists():
            if not args.reset:
                sys.exit(f"{path} exists; pass --reset to replace it")
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        os.environ["DATABASE_URL"] = "sqlite:///" + str(path)
    else:
        os.environ.setdefault("DATABASE_URL", DEFAULT_PG)
        ensure_pg_database(os.environ["DATABASE_URL"])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "renkei.settings")
    os.environ.setdefault("DEBUG", "True")  # a data generator, not a server: the demo keys will do
    import django

    django.setup()


def ensure_pg_database(url: str) -> None:
    from urllib.parse import urlsplit

    import psycopg

    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        return
    name = parts.path.lstrip("/")
    admin = url.replace(parts.path, "/postgres", 1) if parts.path else url + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            print(f"creating database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')


def offset(lat: float, lng: float, rng: random.Random, km: float) -> tuple[float, float]:
    """A point at most km away, uniform over the disc."""
    r = km * math.sqrt(rng.random())
    a = rng.random() * 2 * math.pi
    dlat = r * math.sin(a) / 111.32
    dlng = r * math.cos(a) / (111.32 * math.cos(math.radians(lat)))
    return lat + dlat, lng + dlng


def plan_municipalities(rng: random.Random) -> list[dict[str, Any]]:
    """Each municipality that gets facilities: its point, spread and weight."""
    from renkei.regions.models import Municipality

    munis = list(Municipality.objects.select_related("parent", "prefecture").order_by("code"))
    by_code = {m.code: m for m in munis}
    points: dict[str, tuple[float, float]] = {}

    def point_of(m: Municipality) -> tuple[float, float]:
        if m.code in points:
            return points[m.code]
        cap_lat, cap_lng, _ = PREFECTURES[m.code[:2]]
        if m.lat is not None and m.lng is not None:
            p = (m.lat, m.lng)
        elif m.parent_id:
            parent = by_code[m.parent.code]  # type: ignore[union-attr]
            p = offset(*point_of(parent), rng, 9.0)
        elif m.code[:2] == "13" and m.code[2] == "1":  # 東京23区: within 11 km of 新宿
            p = offset(cap_lat, cap_lng, rng, 11.0)
        elif m.code[2:5] in ("100", "201"):  # 政令市 or the first city: the capital
            p = (cap_lat, cap_lng)
        else:
            spread = SPREAD_KM.get(m.code[:2], DEFAULT_SPREAD_KM)
            r = rng.uniform(8.0, spread)
            a = rng.random() * 2 * math.pi
            p = (
                cap_lat + r * math.sin(a) / 111.32,
                cap_lng + r * math.cos(a) / (111.32 * math.cos(math.radians(cap_lat))),
            )
        points[m.code] = p
        return p

    plan: list[dict[str, Any]] = []
    pref_weight: dict[str, float] = {}
    for m in munis:
        if m.is_designated_city:
            continue  # its wards hold the facilities
        name = m.name
        capital = m.code[2:5] == "201" and not m.parent_id
        if m.parent_id or (m.code[:2] == "13" and m.code[2] == "1"):
            w, sigma = 6.0, 1.8
        elif name.endswith("市"):
            w, sigma = (12.0, 3.5) if capital else (3.0, 3.0)
        elif name.endswith("町"):
            w, sigma = 0.8, 3.5
        else:
            w, sigma = 0.3, 4.0
        plan.append({"muni": m, "point": point_of(m), "weight": w, "sigma": sigma})
        pref_weight[m.code[:2]] = pref_weight.get(m.code[:2], 0.0) + w
    # Share of a prefecture = its population; inside it, by municipality weight.
    for p in plan:
        pref = p["muni"].code[:2]
        p["weight"] = PREFECTURES[pref][2] * p["weight"] / pref_weight[pref]
    return plan


def allocate(plan: list[dict[str, Any]], total: int) -> list[int]:
    weights = [p["weight"] for p in plan]
    s = sum(weights)
    raw = [total * w / s for w in weights]
    counts = [int(x) for x in raw]
    rest = total - sum(counts)
    by_frac = sorted(range(len(raw)), key=lambda i: raw[i] - counts[i], reverse=True)
    for i in by_frac[:rest]:
        counts[i] += 1
    return counts


def generate(args: argparse.Namespace) -> None:
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from renkei.directory.models import Capability, Facility, VacancyStatus

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    t_migrate = time.perf_counter() - t0

    existing = Facility.objects.count()
    if existing:
        if not args.reset:
            sys.exit(f"{existing} facilities already present; pass --reset to replace them")
        print(f"removing {existing} facilities")
        remove_all()

    rng = random.Random(args.seed)
    caps = list(Capability.objects.order_by("bit"))
    cap_pop = [CAP_POPULARITY.get(c.code, 1.0) for c in caps]
    plan = plan_municipalities(rng)
    counts = allocate(plan, args.count)
    kinds = list(KIND_WEIGHTS)
    kind_w = list(KIND_WEIGHTS.values())
    # A fixed "now" keeps freshness relative to the run but the data deterministic
    # apart from that one instant.
    now = timezone.now().replace(microsecond=0)
    through = Facility.capabilities.through

    made = 0
    seq = 0
    pending: list[Facility] = []
    pending_caps: list[list[int]] = []
    t_gen = time.perf_counter()
    t_insert = 0.0

    def flush() -> None:
        nonlocal made, t_insert
        if not pending:
            return
        t = time.perf_counter()
        with transaction.atomic():
            Facility.objects.bulk_create(pending, batch_size=BATCH)
            links = [
                through(facility_id=f.pk, capability_id=cid)
                for f, cids in zip(pending, pending_caps, strict=True)
                for cid in cids
            ]
            through.objects.bulk_create(links, batch_size=BATCH * 4)
        t_insert += time.perf_counter() - t
        made += len(pending)
        pending.clear()
        pending_caps.clear()
        print(f"\r{made:>9,} / {args.count:,}", end="", flush=True)

    for p, n in zip(plan, counts, strict=True):
        m = p["muni"]
        base_lat, base_lng = p["point"]
        pref_name = m.prefecture.name
        for _ in range(n):
            seq += 1
            kind = rng.choices(kinds, kind_w)[0]
            word, word_kana = rng.choice(WORDS)
            suffix, suffix_kana = KIND_SUFFIX[kind]
            branch = rng.randrange(1, 40)
            lat = base_lat + rng.gauss(0, p["sigma"]) / 111.32
            lng = base_lng + rng.gauss(0, p["sigma"]) / (111.32 * math.cos(math.radians(base_lat)))
            lo, hi = CAP_RANGE.get(kind, DEFAULT_CAP_RANGE)
            k = rng.randint(lo, hi)
            chosen: set[int] = set()
            while len(chosen) < k:
                chosen.add(rng.choices(range(len(caps)), cap_pop)[0])
            mask = 0
            for i in chosen:
                mask |= 1 << caps[i].bit
            residential = kind in RESIDENTIAL
            r = rng.random()
            if residential:
                status = (
                    VacancyStatus.AVAILABLE
                    if r < 0.30
                    else VacancyStatus.FEW
                    if r < 0.50
                    else VacancyStatus.NONE
                    if r < 0.80
                    else VacancyStatus.UNKNOWN
                )
            else:
                status = (
                    VacancyStatus.AVAILABLE
                    if r < 0.25
                    else VacancyStatus.FEW
                    if r < 0.35
                    else VacancyStatus.NONE
                    if r < 0.45
                    else VacancyStatus.UNKNOWN
                )
            confirmed = None
            if status != VacancyStatus.UNKNOWN:
                confirmed = now - dt.timedelta(days=rng.expovariate(1 / 20), hours=rng.random())
            medical = kind in ("hospital", "clinic", "dental", "pharmacy")
            f = Facility(
                code=uuid.UUID(int=rng.getrandbits(128), version=4),
                kind=kind,
                name=f"{word}{suffix} {m.name}{branch}",
                kana=f"{word_kana}{suffix_kana}",
                municipality=m,
                postal_code=f"{rng.randrange(100, 1000)}-{rng.randrange(0, 10000):04d}",
                address=f"{pref_name}{m.name}{rng.choice(TOWNS)}{rng.randint(1, 5)}丁目{rng.randint(1, 30)}-{rng.randint(1, 20)}",
                lat=round(lat, 6),
                lng=round(lng, 6),
                phone=f"0{rng.randint(10, 99)}-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
                capacity=rng.choice([9, 18, 29, 50, 80, 100]) if residential else None,
                beds=rng.choice([20, 60, 120, 200, 400]) if kind == "hospital" else None,
                medical_id=f"{m.code[:2]}{seq:011d}" if medical else None,
                care_office_number=None if medical else f"{m.code[:2]}{seq:08d}",
                capability_mask=mask,
                care_level_min=1 if residential else None,
                care_level_max=7 if residential else None,
                accepts_dementia=rng.random() < 0.6 if residential else None,
                vacancy_status=status,
                vacancy_count=rng.randint(1, 5) if status == VacancyStatus.AVAILABLE else None,
                vacancy_confirmed_at=confirmed,
                source="bench",
            )
            f.refresh_derived()
            pending.append(f)
            pending_caps.append(sorted(caps[i].pk for i in chosen))
            if len(pending) >= BATCH:
                flush()
    flush()
    print()
    t_total_gen = time.perf_counter() - t_gen

    t = time.perf_counter()
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # VACUUM sets the visibility map so that index-only scans skip the heap.
            cur.execute(f"VACUUM ANALYZE {Facility._meta.db_table}")
            cur.execute(f"VACUUM ANALYZE {through._meta.db_table}")
            cur.execute("ANALYZE")  # the reference tables the search joins
            # The production recommendation for SSDs / a cached working set (docs/benchmarks.md):
            # with the default 4 the planner hash-joins all municipalities to fetch twenty rows.
            name = connection.settings_dict["NAME"]
            cur.execute(f'ALTER DATABASE "{name}" SET random_page_cost = 1.1')
        else:
            cur.execute("ANALYZE")
    t_analyze = time.perf_counter() - t
    links = through.objects.count()
    print(
        f"facilities {made:,}  capability links {links:,}  database {connection.vendor} "
        f"{connection.settings_dict['NAME']}"
    )
    print(
        f"migrate {t_migrate:.1f} s  generate+insert {t_total_gen:.1f} s "
        f"(insert {t_insert:.1f} s, {made / t_total_gen:,.0f} rows/s)  analyze {t_analyze:.1f} s"
    )


def grow(target: int) -> None:
    """Copy the facilities (and their capability links) in SQL until there are `target`."""
    from django.db import connection, transaction

    from renkei.directory.models import Facility

    if connection.vendor != "postgresql":
        sys.exit("--grow-to needs PostgreSQL")
    table = Facility._meta.db_table
    through = Facility.capabilities.through._meta.db_table
    columns = [f.column for f in Facility._meta.concrete_fields if f.column not in ("id", "code")]
    numbered = {"medical_id": 11, "care_office_number": 8}  # digits after the prefecture
    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*), coalesce(max(id), 0) FROM {table}")
        have, base = cur.fetchone()
        if not have:
            sys.exit("nothing to grow: generate facilities first")
        t0 = time.perf_counter()
        k = 0
        while have < target:
            k += 1
            n = min(target - have, base)
            # Ids and office numbers: the original's, shifted by k times the largest id.
            shift = k * base
            values = []
            for c in columns:
                if c in numbered:
                    digits = numbered[c]
                    values.append(
                        f"CASE WHEN {c} IS NULL THEN NULL ELSE left({c}, 2) ||"
                        f" lpad((id + {shift})::text, {digits}, '0') END"
                    )
                else:
                    values.append(c)
            with transaction.atomic():
                cur.execute(
                    f"INSERT INTO {table} (id, code, {', '.join(columns)})"
                    f" SELECT id + {shift}, md5('{k}:' || code::text)::uuid, {', '.join(values)}"
                    f" FROM {table} WHERE id <= {base} ORDER BY id LIMIT {n}"
                )
                cur.execute(
                    f"INSERT INTO {through} (facility_id, capability_id)"
                    f" SELECT facility_id + {shift}, capability_id FROM {through}"
                    f" WHERE facility_id <= (SELECT max(id) - {shift} FROM {table})"
                )
            have += n
            print(f"\r{have:>11,} / {target:,}", end="", flush=True)
        print()
        cur.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
        )
        t_copy = time.perf_counter() - t0
        t = time.perf_counter()
        cur.execute(f"VACUUM ANALYZE {table}")
        cur.execute(f"VACUUM ANALYZE {through}")
        print(
            f"copied to {have:,} in {t_copy:.1f} s, vacuum analyze {time.perf_counter() - t:.1f} s"
        )


def remove_all() -> None:
    from django.db import connection

    from renkei.directory.models import Facility

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(f"TRUNCATE {Facility._meta.db_table} CASCADE")
        else:
            Facility.objects.all().delete()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--sqlite", metavar="PATH", help="generate into this SQLite file")
    parser.add_argument("--reset", action="store_true", help="replace existing facilities")
    parser.add_argument(
        "--grow-to", type=int, metavar="N", help="copy the existing facilities in SQL up to N"
    )
    args = parser.parse_args()
    configure(args)
    if args.grow_to:
        grow(args.grow_to)
    else:
        generate(args)


if __name__ == "__main__":
    main()
