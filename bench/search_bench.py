"""Directory search latency: the API in process against the same SQL run bare.

    python bench/search_bench.py                        # PostgreSQL (DATABASE_URL or renkei_bench)
    python bench/search_bench.py --sqlite var/bench.sqlite3
    python bench/search_bench.py --explain              # EXPLAIN ANALYZE of the densest search

The search: three capabilities (all of) + vacancy + 20 km radius, sorted by distance, first
page of 20, at ~200 deterministic points (half in dense wards, half in towns and villages).

1. API: GET /api/v1/directory/facilities through django.test.Client, i.e. the whole
   middleware stack, validation, ORM and JSON serialisation, without a socket.
2. Bare SQL: for every point the statements the API ran are captured once and replayed on a
   separate raw driver connection (psycopg / sqlite3) with fetchall. "SQL search" is the
   statements on the facility table (one, for a radius search: the page with its total),
   "SQL all" every statement the request issued (the connection's health check too).

The ratio API/SQL says how much the application adds on top of the database's work. Runs stop
by themselves: a fixed number of requests.

"API (test client)" is the figure the bars have been read from since session 3. The test
client is about a tenth of it and is not on production's path; it also skips the connection's
health check (`SELECT 1`), which a server runs. "API (WSGI handler)" calls the WSGI
application as gunicorn does (an environ, start_response, the body iterated and closed, the
request signals with the health check): no socket and no HTTP parsing, but every statement a
served search sends. Both are printed; the ratios are given for each.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/renkei_bench"
PATH = "/api/v1/directory/facilities"
TRIPLES = [
    ("suction", "tube-feeding", "oxygen"),
    ("drip", "pressure-ulcer", "urinary-catheter"),
    ("insulin", "gastrostomy", "end-of-life"),
    ("oxygen", "drip", "terminal-care"),
]


def configure(sqlite: str | None) -> None:
    """Production-like settings: DEBUG off (no query log), no HTTPS redirect."""
    if sqlite:
        os.environ["DATABASE_URL"] = "sqlite:///" + str(Path(sqlite).resolve())
    else:
        os.environ.setdefault("DATABASE_URL", DEFAULT_PG)
    os.environ["DEBUG"] = "False"
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789")
    # DEBUG off wants field-encryption keys of its own (ADR 0027): throwaway ones.
    import base64

    os.environ.setdefault(
        "FIELD_ENCRYPTION_KEYS", "bench:" + base64.b64encode(os.urandom(32)).decode()
    )
    os.environ.setdefault("BLIND_INDEX_KEY", base64.b64encode(os.urandom(32)).decode())
    os.environ["SECURE_SSL_REDIRECT"] = "False"
    # One client address sends every search: the limit stays counted, never reached.
    os.environ["RATE_LIMITS"] = "search=1000000000/m"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "renkei.settings")
    import django

    django.setup()


def query_points(n: int, seed: int) -> list[dict[str, Any]]:
    """Half in wards (dense city centres), half in towns and villages; jittered by ~1 km."""
    from renkei.directory.models import Facility

    rows = list(
        Facility.objects.order_by("id").values_list(
            "lat", "lng", "municipality__code", "municipality__name", "municipality__parent_id"
        )
    )
    if not rows:
        sys.exit("no facilities: run bench/generate_directory.py first")
    urban = [r for r in rows if r[4] is not None or r[2].startswith("131")]
    rural = [r for r in rows if r[3].endswith(("町", "村")) and r[4] is None]
    rng = random.Random(seed)
    picked = [("urban", r) for r in rng.sample(urban, min(n // 2, len(urban)))]
    picked += [("rural", r) for r in rng.sample(rural, min(n - len(picked), len(rural)))]
    points = []
    for i, (where, r) in enumerate(picked):
        caps = TRIPLES[i % len(TRIPLES)]
        params = [
            *[("capability", c) for c in caps],
            ("vacancy", "1"),
            ("lat", f"{r[0] + rng.uniform(-0.01, 0.01):.5f}"),
            ("lng", f"{r[1] + rng.uniform(-0.01, 0.01):.5f}"),
            ("radius_km", "20"),
            ("sort", "distance"),
        ]
        points.append({"where": where, "muni": r[3], "url": f"{PATH}?{urlencode(params)}"})
    return points


def calibration() -> str:
    from calibrate import python_loop_seconds

    return f"CPU calibration {python_loop_seconds():.2f} s (bench/calibrate.py; ~0.2 s quiet)"


def wait_quiet(seconds: float, below: float = 1.0) -> None:
    """Other work on the machine skews latencies: wait (bounded) for the load to settle."""
    deadline = time.monotonic() + seconds
    while os.getloadavg()[0] >= below and time.monotonic() < deadline:
        time.sleep(5)
    print(f"load average {os.getloadavg()[0]:.2f}; {calibration()}")


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    s = sorted(values)
    k = max(0, min(len(s) - 1, round(p / 100 * len(s) + 0.5) - 1))
    return s[k]


def summary(ms: list[float]) -> dict[str, float]:
    return {
        "n": len(ms),
        "p50": pct(ms, 50),
        "p95": pct(ms, 95),
        "p99": pct(ms, 99),
        "max": max(ms),
        "mean": sum(ms) / len(ms),
    }


def fmt(label: str, s: dict[str, float]) -> str:
    return (
        f"{label:<22} n={int(s['n']):>5}  p50 {s['p50']:7.2f}  p95 {s['p95']:7.2f}  "
        f"p99 {s['p99']:7.2f}  max {s['max']:7.2f}  mean {s['mean']:7.2f} ms"
    )


CPU_MS: list[float] = []  # Python CPU per API request, one entry per bench_api run


def capture(points: list[dict[str, Any]]) -> None:
    """Run each search once, keep the SQL it issued and the size of its result."""
    from django.db import connection
    from django.test import Client

    client = Client()
    statements: list[str] = []
    bound: list[tuple[str, Any]] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        bound.append((sql, params))
        # The statement with its values written in, to replay as bare SQL (the search's own
        # statement is prepared, so the query log shows it with $n placeholders).
        if connection.vendor == "postgresql":
            statements.append(connection.ops.compose_sql(sql, params))
        else:
            statements.append(
                connection.ops.last_executed_query(context["cursor"].cursor, sql, params)
            )
        return execute(sql, params, many, context)

    for p in points:
        statements, bound = [], []
        with connection.execute_wrapper(record):
            r = client.get(p["url"])
        if r.status_code != 200:
            sys.exit(f"{p['url']} -> {r.status_code} {r.content[:300]!r}")
        body = r.json()
        p["count"], p["items"] = body["count"], len(body["items"])
        p["sql"] = statements
        # The search proper: every statement on the facility table (the page, and the count
        # where there is no radius), not the connection's health check.
        p["search_sql"] = [s for s in p["sql"] if "directory_facility" in s]
        p["search_bound"] = [(s, v) for s, v in bound if "directory_facility" in s]


def bench_api(points: list[dict[str, Any]], requests: int) -> list[float]:
    from django.test import Client

    client = Client()
    for p in points:  # warm-up: caches, connection, code paths
        client.get(p["url"])
    ms: list[float] = []
    cpu = time.process_time()
    for i in range(requests):
        url = points[i % len(points)]["url"]
        t = time.perf_counter()
        r = client.get(url)
        ms.append((time.perf_counter() - t) * 1000)
        if r.status_code != 200:
            sys.exit(f"{url} -> {r.status_code}")
    CPU_MS.append((time.process_time() - cpu) / requests * 1000)
    return ms


def wsgi_environ(url: str) -> dict[str, Any]:
    """The environ gunicorn builds for a keep-alive GET of `url` from 127.0.0.1."""
    import io

    path, _, query = url.partition("?")
    return {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "50000",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_ACCEPT": "*/*",
        "HTTP_ACCEPT_ENCODING": "identity",
        "HTTP_USER_AGENT": "Python-urllib/3.11",
        "HTTP_CONNECTION": "keep-alive",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.file_wrapper": None,
    }


def wsgi_get(app: Any, url: str) -> int:
    """One request through the WSGI application, body read and closed as a server does; the
    status code."""
    status: list[str] = []

    def start_response(s: str, headers: Any, exc_info: Any = None) -> Any:
        status.append(s)
        return lambda data: None

    body = app(wsgi_environ(url), start_response)
    try:
        for _chunk in body:
            pass
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()  # request_finished: the connection kept or closed, as under gunicorn
    return int(status[0].split(" ", 1)[0])


WSGI_CPU_MS: list[float] = []  # Python CPU per request through the WSGI handler


def bench_wsgi(points: list[dict[str, Any]], requests: int) -> list[float]:
    from renkei.wsgi import application

    for p in points:  # warm-up
        wsgi_get(application, p["url"])
    ms: list[float] = []
    cpu = time.process_time()
    for i in range(requests):
        url = points[i % len(points)]["url"]
        t = time.perf_counter()
        code = wsgi_get(application, url)
        ms.append((time.perf_counter() - t) * 1000)
        if code != 200:
            sys.exit(f"{url} -> {code}")
    WSGI_CPU_MS.append((time.process_time() - cpu) / requests * 1000)
    return ms


def raw_connection() -> Any:
    from django.db import connection

    s = connection.settings_dict
    if connection.vendor == "postgresql":
        import psycopg

        return psycopg.connect(
            dbname=s["NAME"],
            user=s["USER"] or None,
            password=s["PASSWORD"] or None,
            host=s["HOST"] or None,
            port=s["PORT"] or None,
            autocommit=True,
        )
    import sqlite3

    return sqlite3.connect(s["NAME"])


def bench_sql(points: list[dict[str, Any]], requests: int, key: str) -> list[float]:
    conn = raw_connection()
    try:

        def run(statements: list[str]) -> float:
            t = time.perf_counter()
            for sql in statements:
                cur = conn.cursor()
                cur.execute(sql)
                cur.fetchall()
                cur.close()
            return (time.perf_counter() - t) * 1000

        for p in points:
            run(p[key])
        return [run(points[i % len(points)][key]) for i in range(requests)]
    finally:
        conn.close()


def bench_sql_prepared(points: list[dict[str, Any]], requests: int) -> list[float]:
    """The search's statements as the API runs them on PostgreSQL: prepared, values bound."""
    conn = raw_connection()
    try:

        def run(statements: list[tuple[str, Any]]) -> float:
            t = time.perf_counter()
            for sql, params in statements:
                cur = conn.cursor()
                cur.execute(sql, params, prepare=True)
                cur.fetchall()
                cur.close()
            return (time.perf_counter() - t) * 1000

        for p in points:
            run(p["search_bound"])
        return [run(points[i % len(points)]["search_bound"]) for i in range(requests)]
    finally:
        conn.close()


def profile(points: list[dict[str, Any]], requests: int, top: int = 40, wsgi: bool = False) -> None:
    """Where a request's CPU goes: cProfile on the process clock over `requests` API requests
    (after the warm-up), sorted by own time and by cumulative time; through the WSGI handler
    with `wsgi`, else the test client."""
    import cProfile
    import pstats

    from django.test import Client

    from renkei.wsgi import application

    client = Client()

    def get(url: str) -> Any:
        return wsgi_get(application, url) if wsgi else client.get(url)

    for p in points:
        get(p["url"])
    prof = cProfile.Profile(time.process_time)
    prof.enable()
    for i in range(requests):
        get(points[i % len(points)]["url"])
    prof.disable()
    out = ROOT / "var" / "search_bench.prof"
    out.parent.mkdir(exist_ok=True)
    prof.dump_stats(out)
    stats = pstats.Stats(prof).strip_dirs()
    print(f"\ncProfile, {requests} API requests (process CPU clock; all of it in {out})")
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top * 3)


def explain(points: list[dict[str, Any]]) -> None:
    from django.db import connection

    densest = max(points, key=lambda p: p["count"])
    print(f"\nPlans of the densest search ({densest['muni']}, {densest['count']} hits)")
    conn = raw_connection()
    try:
        for sql in densest["search_sql"]:
            prefix = (
                "EXPLAIN (ANALYZE, BUFFERS) "
                if connection.vendor == "postgresql"
                else "EXPLAIN QUERY PLAN "
            )
            print("\n" + sql[:400] + (" …" if len(sql) > 400 else ""))
            cur = conn.cursor()
            cur.execute(prefix + sql)
            for row in cur.fetchall():
                print("  " + " | ".join(str(c) for c in row))
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sqlite", metavar="PATH", help="benchmark this SQLite file")
    parser.add_argument("--points", type=int, default=200)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--explain", action="store_true", help="print the plans, densest point")
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="cProfile N API requests and stop"
    )
    parser.add_argument(
        "--profile-wsgi", action="store_true", help="profile through the WSGI handler"
    )
    parser.add_argument("--json", metavar="FILE", help="also write the numbers as JSON")
    parser.add_argument(
        "--wait-quiet", type=float, default=0, metavar="S", help="wait up to S s for load < 1"
    )
    args = parser.parse_args()
    configure(args.sqlite)
    wait_quiet(min(args.wait_quiet, 900))

    from django.db import connection

    from renkei.directory.models import Facility

    total = Facility.objects.count()
    points = query_points(args.points, args.seed)
    capture(points)
    counts = sorted(p["count"] for p in points)
    print(
        f"database {connection.vendor} {connection.settings_dict['NAME']}: {total:,} facilities; "
        f"{len(points)} points; hits per search p50 {pct(counts, 50)}, max {counts[-1]}; "
        f"statements per request p50 {pct(sorted(len(p['sql']) for p in points), 50)}"
    )
    if args.profile:
        profile(points, args.profile, wsgi=args.profile_wsgi)
        return
    api = summary(bench_api(points, args.requests))
    wsgi = summary(bench_wsgi(points, args.requests))
    sql = summary(bench_sql(points, args.requests, "search_sql"))
    sql_all = summary(bench_sql(points, args.requests, "sql"))
    print(fmt("API (test client)", api) + f"  (app CPU {CPU_MS[0]:.2f} ms/request)")
    print(fmt("API (WSGI handler)", wsgi) + f"  (app CPU {WSGI_CPU_MS[0]:.2f} ms/request)")
    print(fmt("SQL search", sql))
    print(fmt("SQL all statements", sql_all))
    prepared = None
    if connection.vendor == "postgresql":
        prepared = summary(bench_sql_prepared(points, args.requests))
        print(fmt("SQL search, prepared", prepared))
    for part in ("urban", "rural"):
        sub = [p for p in points if p["where"] == part]
        if sub:
            print(fmt(f"API {part} only", summary(bench_api(sub, args.requests // 2))))
    print(f"load average {os.getloadavg()[0]:.2f}; {calibration()}")
    print(
        f"ratio API/SQL(search): p50 {api['p50'] / sql['p50']:.2f}  p95 {api['p95'] / sql['p95']:.2f}; "
        f"API/SQL(all): p50 {api['p50'] / sql_all['p50']:.2f}  p95 {api['p95'] / sql_all['p95']:.2f}"
        + (
            f"; API/SQL(prepared): p50 {api['p50'] / prepared['p50']:.2f}"
            f"  p95 {api['p95'] / prepared['p95']:.2f}"
            if prepared
            else ""
        )
    )
    print(
        f"ratio API (WSGI handler)/SQL(search): p50 {wsgi['p50'] / sql['p50']:.2f}"
        f"  p95 {wsgi['p95'] / sql['p95']:.2f}; API (WSGI handler)/SQL(all): p50 "
        f"{wsgi['p50'] / sql_all['p50']:.2f}  p95 {wsgi['p95'] / sql_all['p95']:.2f}"
    )
    if args.explain:
        explain(points)
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "vendor": connection.vendor,
                    "facilities": total,
                    "api": api,
                    "api_cpu_ms": CPU_MS[0],
                    "api_wsgi": wsgi,
                    "api_wsgi_cpu_ms": WSGI_CPU_MS[0],
                    "sql_search": sql,
                    "sql_all": sql_all,
                    "sql_search_prepared": prepared,
                },
                indent=2,
            ),
            encoding="utf-8",
        )


if __name__ == "__main__":
    main()
