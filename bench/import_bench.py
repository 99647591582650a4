"""Benchmark the 介護サービス情報公表 importer at national scale.

    python bench/import_bench.py                 # PostgreSQL (DATABASE_URL or renkei_bench_import) and SQLite
    python bench/import_bench.py --only postgres --rows 50000

Generates a deterministic synthetic CSV (250,000 rows over the 35 service types, valid
municipality codes from renkei/regions/data/municipalities.json, about 12 % of offices listed
under a second service) into bench/out/, then for each database imports it three times: the
first run creates everything, the second finds everything unchanged, the third gets a copy in
which every tenth row has a new phone number. Prints rows per second and the importer's own
CPU time (the machine is shared, so wall time depends on its load, which is printed too).
The PostgreSQL database is created (createdb) and migrated if missing; its facilities are
truncated before the first run. Runs with DEBUG=False, as in production.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/renkei_bench_import"
SEED = 20260630

sys.path.insert(0, str(ROOT))

# Relative sizes of the real files (訪問介護 and 居宅介護支援 are the big ones).
WEIGHTS = {"110": 14, "430": 14, "150": 9, "780": 8, "130": 7, "170": 3, "410": 3, "160": 3}
RESIDENTIAL = {"510", "520", "540", "550", "530", "320", "331", "332", "334", "335", "336", "337"}
SECOND_SERVICE = {
    "510": "210",
    "520": "220",
    "550": "551",
    "110": "150",
    "130": "140",
    "320": "720",
}
NAMES = [
    "さくら",
    "あおば",
    "みどり",
    "ひかり",
    "つばさ",
    "かえで",
    "すずらん",
    "やまびこ",
    "けやき",
    "あさひ",
]
KANA = [
    "サクラ",
    "アオバ",
    "ミドリ",
    "ヒカリ",
    "ツバサ",
    "カエデ",
    "スズラン",
    "ヤマビコ",
    "ケヤキ",
    "アサヒ",
]
DAYS = ["平日", "月〜土", "毎日", "月〜金"]


def generate(rows: int, path: Path) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "renkei.settings")
    django.setup()  # no database access: only for the service-name table
    from renkei.directory.imports import KAIGO_COLUMNS, KAIGO_SERVICE_NAMES

    data = json.loads((ROOT / "renkei/regions/data/municipalities.json").read_text("utf-8"))
    prefs = {p["code"]: p["name"] for p in data["prefectures"]}
    munis = [m for m in data["municipalities"] if not m.get("designated")]
    codes = sorted(KAIGO_SERVICE_NAMES)
    weights = [WEIGHTS.get(c, 1) for c in codes]
    rnd = random.Random(SEED)
    path.parent.mkdir(parents=True, exist_ok=True)
    serial = 0
    pending: list[list[str]] = []
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        w.writerow(KAIGO_COLUMNS)
        written = 0
        while written < rows:
            if pending and rnd.random() < 0.5:
                row = pending.pop()
            else:
                serial += 1
                code = rnd.choices(codes, weights)[0]
                m = munis[rnd.randrange(len(munis))]
                i = rnd.randrange(len(NAMES))
                office = f"{m['pref']}{serial:08d}"
                # Prefectures lie roughly south-west to north-east; enough for a valid point.
                p = int(m["pref"])
                lat = 31.0 + p * 0.25 + rnd.random() * 0.3
                lng = 130.0 + p * 0.3 + rnd.random() * 0.3
                blank_point = rnd.random() < 0.02
                cap = str(rnd.choice([29, 50, 80, 100, 120])) if code in RESIDENTIAL else ""
                url = rnd.choice(
                    ["", "", f"https://{KANA[i]}-{serial}.example.jp/", f"info@{serial}.example.jp"]
                )
                row = [
                    m["code"],
                    office,
                    prefs[m["pref"]],
                    m["name"],
                    f"{NAMES[i]}{KAIGO_SERVICE_NAMES[code][:8]}{serial % 97}",
                    f"{KANA[i]}{serial % 97}",
                    KAIGO_SERVICE_NAMES[code],
                    f"{prefs[m['pref']] if rnd.random() < 0.5 else ''}{m['name']}本町{serial % 9 + 1}-{serial % 30 + 1}-{serial % 20 + 1}",
                    "第2ビル3階" if rnd.random() < 0.3 else "",
                    "" if blank_point else f"{lat:.6f}",
                    "" if blank_point else f"{lng:.6f}",
                    f"0{rnd.randrange(10, 99)}-{rnd.randrange(100, 999)}-{rnd.randrange(1000, 9999)}",
                    "",
                    f"{rnd.randrange(10**12, 10**13)}",
                    f"社会福祉法人{NAMES[i]}会",
                    office,
                    rnd.choice(DAYS),
                    "",
                    cap,
                    url,
                    "",
                    "○",
                    "",
                    "",
                ]
                second = SECOND_SERVICE.get(code)
                if second is None and rnd.random() < 0.08:
                    second = codes[rnd.randrange(len(codes))]
                if second and second != code:
                    extra = list(row)
                    extra[6] = KAIGO_SERVICE_NAMES[second]
                    extra[18] = "10" if second in ("210", "220", "551") else ""
                    pending.append(extra)
            w.writerow(row)
            written += 1


def changed_copy(csv_path: Path) -> Path:
    """The same file with a new phone number on every tenth row (a typical half-year update)."""
    out = csv_path.with_name(csv_path.stem + "_changed.csv")
    if not out.exists():
        with (
            csv_path.open(encoding="utf-8-sig", newline="") as src,
            out.open("w", encoding="utf-8-sig", newline="") as dst,
        ):
            reader, writer = (
                csv.reader(src),
                csv.writer(dst, quoting=csv.QUOTE_ALL, lineterminator="\r\n"),
            )
            writer.writerow(next(reader))
            for i, row in enumerate(reader):
                if i % 10 == 0:
                    row[11] = f"099-{i % 1000:03d}-{i % 10000:04d}"
                writer.writerow(row)
    return out


def server_cpu() -> float:
    """CPU seconds used so far by PostgreSQL on this machine: every live server process plus
    the exited ones (the postmaster's reaped children). The import writes on a second
    connection whose backend exits when it is done, so one backend's counters would miss it.
    Includes whatever else PostgreSQL does meanwhile (checkpoints, autovacuum, other clients)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        name, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat.rsplit(")", 1)[1].split()
        if name not in ("postgres", "postmaster"):
            continue
        total += int(rest[11]) + int(rest[12])
        if _is_postmaster(pid):
            total += int(rest[13]) + int(rest[14])
    return total / os.sysconf("SC_CLK_TCK")


def database_cpu_sampler(db: str) -> None:
    """Run as a separate process (its own CPU is not the importer's): every 0.05 s, the CPU of
    each PostgreSQL backend connected to `db` (its process title names the database); at EOF
    on stdin, print their sum since the start. A backend seen at the start counts from its
    first sample, a new one from 0. A backend that exits loses at most its last 0.05 s (the
    import's writer connection closes when the import ends). Other helpers' databases and
    PostgreSQL's own processes (checkpointer, WAL writer) are not counted."""
    import select

    tck = os.sysconf("SC_CLK_TCK")
    first: dict[tuple[str, str], int] = {}
    last: dict[tuple[str, str], int] = {}
    start = True
    while True:
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                title = Path(f"/proc/{pid}/cmdline").read_bytes()
                if not title.startswith(b"postgres: ") or f" {db} ".encode() not in title:
                    continue
                rest = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            key, cpu = (pid, rest[19]), int(rest[11]) + int(rest[12])
            first.setdefault(key, cpu if start else 0)
            last[key] = cpu
        start = False
        if select.select([sys.stdin], [], [], 0.05)[0] and not sys.stdin.read(1):
            break
    print(sum(last[k] - first[k] for k in last) / tck, flush=True)


class DatabaseCPU:
    """CPU of the backends of this database between start() and stop() (database_cpu_sampler)."""

    def __init__(self) -> None:
        from django.db import connection

        self.db = str(connection.settings_dict["NAME"]) if connection.vendor == "postgresql" else ""
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        if self.db:
            self.proc = subprocess.Popen(
                [sys.executable, __file__, "--sample-db", self.db],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            time.sleep(0.2)  # its first sample, before the import starts

    def stop(self) -> float:
        if self.proc is None:
            return 0.0
        out, _ = self.proc.communicate("")
        return float(out)


def _is_postmaster(pid: str) -> bool:
    """The postmaster is the postgres process whose parent is not a postgres process."""
    try:
        ppid = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]
        parent = Path(f"/proc/{ppid}/stat").read_text()
    except OSError:
        return False
    return parent[parent.index("(") + 1 : parent.rindex(")")] != "postgres"


def run(csv_path: Path, label: str, root: Path | None = None) -> None:
    """In a child process whose DATABASE_URL is set: migrate, empty, import three times."""
    if root is not None:
        sys.path.insert(0, str(root))  # the tree whose importer is measured (--root)
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "renkei.settings")
    django.setup()
    from calibrate import python_loop_seconds
    from django.core.management import call_command
    from django.db import connection

    from renkei.directory.imports import import_file
    from renkei.directory.models import Facility

    call_command("migrate", verbosity=0)
    if connection.vendor == "postgresql":
        with connection.cursor() as c:
            c.execute("TRUNCATE directory_facility CASCADE")
    else:
        Facility.objects.all().delete()
    changed = changed_copy(csv_path)
    calib0 = python_loop_seconds()
    runs = (
        ("1st", "created", csv_path),
        ("2nd", "unchanged", csv_path),
        ("3rd", "10% upd.", changed),
    )
    for attempt, expect, path in runs:
        own = DatabaseCPU()
        own.start()
        t, cpu, db_cpu = time.monotonic(), time.process_time(), server_cpu()
        r = import_file(path)
        secs, cpu, db_cpu = time.monotonic() - t, time.process_time() - cpu, server_cpu() - db_cpu
        own_cpu = own.stop()
        server = (
            f", PostgreSQL {own_cpu:4.1f} s this database's backends, {db_cpu:4.1f} s all of it"
            if db_cpu
            else ""
        )
        per = 10_000 / r.total_rows
        print(
            f"{label:8s} {attempt} import ({expect:9s}): {r.total_rows:,} rows in {secs:5.1f} s"
            f" = {r.total_rows / secs:7,.0f} rows/s (CPU: importer {cpu:4.1f} s{server};"
            f" per 10,000 rows {cpu * per:.2f} + {own_cpu * per:.2f} s)"
            f"  [created {r.created:,}, updated {r.updated:,}, unchanged {r.unchanged:,},"
            f" rejected {r.rejected:,}, notes {r.notes:,}] load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    print(f"{label:8s} load average during the run: {os.getloadavg()[0]:.1f} (2 cores)", flush=True)
    print(
        f"{label:8s} CPU calibration {calib0:.2f} s before, {python_loop_seconds():.2f} s after"
        " (bench/calibrate.py; ~0.2 s quiet)",
        flush=True,
    )


def ensure_pg(url: str) -> None:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    res = subprocess.run(
        ["createdb", "-h", parts.hostname or "127.0.0.1", "-U", parts.username or "postgres", name],
        capture_output=True,
        text=True,
    )
    if res.returncode and "already exists" not in res.stderr:
        sys.exit(f"createdb failed: {res.stderr.strip()}")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rows", type=int, default=250_000)
    ap.add_argument("--only", choices=["postgres", "sqlite"])
    ap.add_argument("--run", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--label", default="", help=argparse.SUPPRESS)
    ap.add_argument("--sample-db", help=argparse.SUPPRESS)
    ap.add_argument(
        "--root",
        type=Path,
        help="measure the importer of this tree (bench/before_after.sh with this script's"
        " absolute path and --root .: both sides get this script's PostgreSQL column)",
    )
    args = ap.parse_args()
    if args.sample_db:
        database_cpu_sampler(args.sample_db)
        return
    if args.run:
        run(args.run, args.label, args.root)
        return

    csv_path = OUT / f"kaigo_synthetic_{args.rows}.csv"
    if not csv_path.exists():
        t = time.monotonic()
        generate(args.rows, csv_path)
        print(
            f"generated {csv_path.relative_to(ROOT)} ({csv_path.stat().st_size / 1e6:.1f} MB) in {time.monotonic() - t:.1f} s"
        )
    targets = []
    if args.only in (None, "postgres"):
        url = os.environ.get("DATABASE_URL", DEFAULT_PG)
        if url.startswith("postgres"):
            ensure_pg(url)
        targets.append(("postgres", url))
    if args.only in (None, "sqlite"):
        db = OUT / "bench_import.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        targets.append(("sqlite", f"sqlite:///{db}"))
    for label, url in targets:
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "DEBUG": "False",
            "SECRET_KEY": "bench-only-secret-key-not-used-for-anything-0123456789",
            "DJANGO_SETTINGS_MODULE": "renkei.settings",
        }
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--run",
                str(csv_path),
                "--label",
                label,
                *(["--root", str(args.root.resolve())] if args.root else []),
            ],
            env=env,
            check=True,
        )


if __name__ == "__main__":
    main()
