"""The pages browsers open, in process: the empty directory page, name searches, the filtered
HTML search page and kind-filtered API searches; optionally vacancy churn (issue 12).

    python bench/pages_bench.py                              # DATABASE_URL or renkei_bench
    python bench/pages_bench.py --only empty,name-page --seconds 10
    python bench/pages_bench.py --churn                      # update 10 % of vacancies, search

Each scenario runs its URLs round-robin through django.test.Client (the whole middleware
stack, templates, no socket) for --requests requests or --seconds seconds, whichever ends
first, after one warm-up pass; it prints p50/p95/p99, the application CPU per request and
the statements per request. Run it against databases of two sizes (bench/generate_directory.py
--count, --grow-to) to see whether a page's cost grows with the table.

--churn: updates the vacancy of 10 % of the facilities (deterministic ids), as the daily
updates of many facilities would, then runs the radius searches at once, again after
autovacuum has visited the table (waits up to --vacuum-wait seconds), and prints the heap
fetches of the search's index-only scan each time.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from search_bench import calibration, configure, fmt, summary  # noqa: E402

API = "/api/v1/directory/facilities"
PAGE = "/directory/"
# Hiragana, katakana and half-width katakana of one name, kanji, two-character words, a kana
# reading, a word no facility has.
NAMES = [
    "さくら",
    "ｻｸﾗ",
    "ひまわり",
    "中央",
    "駅前",
    "こもれび",
    "桜ヶ丘",
    "ほうもんかんご",
    "該当なし名",
]
# A name five facilities have at any size of the table (planted by plant_rare_name()): the
# generated words repeat with the table, so their matches grow with it.
RARE = "ゆうとぴあ"
CAPS = [("suction", "oxygen"), ("drip", "pressure-ulcer"), ("insulin", "end-of-life")]
KINDS = ["tokuyo", "visiting_nurse", "roken", "group_home", "clinic"]


def points(n: int, seed: int) -> list[tuple[float, float]]:
    from renkei.directory.models import Facility

    ids = list(Facility.objects.order_by().values_list("id", flat=True)[:200_000])
    rng = random.Random(seed)
    picked = rng.sample(ids, min(n, len(ids)))
    rows = Facility.objects.filter(id__in=picked, lat__isnull=False).values_list("lat", "lng")
    return [
        (round(a + rng.uniform(-0.01, 0.01), 5), round(b + rng.uniform(-0.01, 0.01), 5))
        for a, b in rows
    ]


def scenarios(n_points: int, seed: int) -> dict[str, list[str]]:
    pts = points(n_points, seed)
    near = [{"lat": a, "lng": b, "radius_km": 20, "sort": "distance"} for a, b in pts]
    return {
        "empty": [PAGE],
        "name-page": [f"{PAGE}?{urlencode({'q': q})}" for q in NAMES],
        "name-api": [f"{API}?{urlencode({'q': q})}" for q in NAMES],
        "rare-name-page": [f"{PAGE}?{urlencode({'q': RARE})}"],
        "rare-name-api": [f"{API}?{urlencode({'q': RARE})}", f"{API}?{urlencode({'q': 'ﾕｳﾄﾋﾟｱ'})}"],
        "filtered-page": [
            f"{PAGE}?{urlencode([*[('capability', c) for c in CAPS[i % 3]], ('vacancy', '1'), *p.items()])}"
            for i, p in enumerate(near)
        ],
        "filtered-api": [
            f"{API}?{urlencode([*[('capability', c) for c in CAPS[i % 3]], ('vacancy', '1'), *p.items()])}"
            for i, p in enumerate(near)
        ],
        "kind-api": [
            f"{API}?{urlencode([('kind', KINDS[i % len(KINDS)]), ('vacancy', '1'), *p.items()])}"
            for i, p in enumerate(near)
        ],
    }


def plant_rare_name(n: int = 5) -> None:
    """Five facilities named 「ゆうとぴあ記念クリニック」, copies of existing ones (idempotent)."""
    import uuid

    from renkei.directory.models import Facility

    have = Facility.objects.filter(name__startswith="ゆうとぴあ記念").count()
    for i, f in enumerate(Facility.objects.order_by("id")[: max(0, n - have)]):
        f.pk = None
        f.code = uuid.uuid4()
        f.name, f.kana = f"ゆうとぴあ記念クリニック{have + i}", "ユウトピアキネンクリニック"
        f.medical_id = f.care_office_number = None
        f.refresh_derived()
        f.save()


def statements_per_request(urls: list[str]) -> int:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    with CaptureQueriesContext(connection) as ctx:
        client.get(urls[0])
    return len(ctx.captured_queries)


def run(urls: list[str], requests: int, seconds: float) -> tuple[list[float], float]:
    from django.test import Client

    client = Client()
    for url in urls:
        r = client.get(url)
        if r.status_code != 200:
            sys.exit(f"{url} -> {r.status_code} {r.content[:300]!r}")
    ms: list[float] = []
    cpu = time.process_time()
    deadline = time.monotonic() + seconds
    for i in range(requests):
        t = time.perf_counter()
        client.get(urls[i % len(urls)])
        ms.append((time.perf_counter() - t) * 1000)
        if time.monotonic() > deadline:
            break
    return ms, (time.process_time() - cpu) / len(ms) * 1000


def heap_fetches(url: str) -> str:
    """EXPLAIN ANALYZE of the search a radius URL runs: its scan's heap fetches."""
    from django.db import connection
    from django.http import QueryDict

    from renkei.directory.search import FacilitySearch

    s = FacilitySearch.from_querydict(QueryDict(url.split("?", 1)[1]))
    sql, params = s.keys_sql()
    with connection.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        lines = [r[0] for r in cur.fetchall()]
    return "; ".join(ln.strip() for ln in lines if "Heap Fetches" in ln or "Execution" in ln)


def churn(urls: list[str], args: argparse.Namespace) -> None:
    from django.db import connection

    from renkei.directory.models import Facility

    table = Facility._meta.db_table

    def measure(label: str) -> None:
        ms, cpu = run(urls, args.requests, args.seconds)
        print(fmt(f"kind-api {label}", summary(ms)) + f"  app CPU {cpu:.2f} ms")
        print(f"  {heap_fetches(urls[0])}")

    def last_autovacuum() -> Any:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT last_autovacuum, n_dead_tup FROM pg_stat_user_tables WHERE relname = %s",
                [table],
            )
            return cur.fetchone()

    measure("before")
    before = last_autovacuum()
    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {table}")
        total = cur.fetchone()[0]
        t = time.perf_counter()
        # Every tenth facility by a hash of its id: spread over the table like real updates.
        cur.execute(
            f"UPDATE {table} SET vacancy_status = CASE vacancy_status WHEN 'available' THEN"
            " 'none' ELSE 'available' END, vacancy_confirmed_at = now(), version = version + 1"
            " WHERE mod(abs(hashint8(id)), 10) = %s",
            [args.seed % 10],
        )
        updated = cur.rowcount
    print(
        f"updated {updated:,} of {total:,} vacancies in {time.perf_counter() - t:.1f} s; "
        f"autovacuum before: {before}"
    )
    measure("right after")
    deadline = time.monotonic() + args.vacuum_wait
    while time.monotonic() < deadline and last_autovacuum()[0] == before[0]:
        time.sleep(5)
    after = last_autovacuum()
    print(f"autovacuum: {after} ({'ran' if after[0] != before[0] else 'did not run'})")
    measure("after autovacuum")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="comma-separated scenarios")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--points", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--churn", action="store_true")
    parser.add_argument("--vacuum-wait", type=float, default=240.0)
    args = parser.parse_args()
    configure(None)

    from django.core.management import call_command
    from django.db import connection

    # Pages with DEBUG off name their static files through the manifest: collect them for
    # this checkout (a stale manifest lacks new files).
    call_command("collectstatic", interactive=False, verbosity=0)

    from renkei.directory.models import Facility

    plant_rare_name()
    all_scenarios = scenarios(args.points, args.seed)
    print(
        f"database {connection.settings_dict['NAME']}: {Facility.objects.count():,} facilities; "
        f"load average {os.getloadavg()[0]:.2f}; {calibration()}"
    )
    if args.churn:
        churn(all_scenarios["kind-api"], args)
        return
    wanted = [s for s in args.only.split(",") if s] or list(all_scenarios)
    for name in wanted:
        urls = all_scenarios[name]
        ms, cpu = run(urls, args.requests, args.seconds)
        s = summary(ms)
        print(
            fmt(name, s)
            + f"  app CPU {cpu:.2f} ms  {statements_per_request(urls)} statements"
            + f"  {1000 / s['mean']:.0f}/s"
        )
    print(f"load average {os.getloadavg()[0]:.2f}; {calibration()}")


if __name__ == "__main__":
    main()
