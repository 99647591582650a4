"""A job worker's CPU idle and per mail job, for worker options side by side (issue 12).

    MONDAY_DATABASE_URL=postgres://postgres@127.0.0.1:5432/h15c_cpu \
      python bench/worker_bench.py --jobs 300 --idle 30 -- "-p 0.5" ""

Each option string is passed to `manage.py run_worker --` (`""` is Procrastinate's defaults:
LISTEN/NOTIFY and a 5 s poll). For each: a worker starts against the database (migrated, e.g.
the one bench/monday_cpu.py seeds) with a local SMTP sink; after it has settled, its CPU is
read from /proc for `--idle` seconds with nothing queued, then `--jobs` mail jobs are
committed at once (`--rate R`: one a transaction, R a second, as requests of the Monday mix
enqueue them) and its CPU is read until the sink has them all: the worker process's, and the
PostgreSQL server processes' of the database (the pool's sessions, the listener's and this
script's idle one; a session that ends during the phase is lost). CPU = utime + stime, in the
clock ticks /proc gives.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")


def ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def tree(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    kids = [int(p) for p in out.stdout.split()]
    return [pid] + [q for k in kids for q in tree(k)]


def cpu_of(pids: list[int]) -> float:
    total = 0
    for p in pids:
        with contextlib.suppress(OSError):
            total += ticks(p)
    return total / TICK


def backends(dbname: str) -> list[int]:
    """PostgreSQL's server processes of this database (the worker's pool, its listener, ours)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
                if cmd.startswith("postgres: ") and f" {dbname} " in cmd:
                    found.append(int(entry))
    return found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--jobs", type=int, default=300)
    ap.add_argument("--idle", type=float, default=30)
    ap.add_argument("--smtp-port", type=int, default=8530)
    ap.add_argument("--root", help="the tree whose worker runs (bench/before_after.sh: `.`)")
    ap.add_argument("--rate", type=float, help="jobs a second, one a transaction (else at once)")
    ap.add_argument("options", nargs="+", help="run_worker options, one string each")
    args = ap.parse_args()
    url = os.getenv("MONDAY_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/renkei_monday_cpu")
    root = Path(args.root).resolve() if args.root else ROOT
    sys.path.insert(0, str(root))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import monday

    sys.path.insert(0, str(root))  # monday.py put its own tree first
    env = monday.env_for(url, args.smtp_port)
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "renkei.settings"
    import django

    django.setup()
    import psycopg
    from django.db import transaction

    from renkei.lib import mail
    from renkei.ops.testing import SmtpSink

    sink = SmtpSink(args.smtp_port)
    sink.start()
    admin = psycopg.connect(url, autocommit=True)
    print(f"load average before: {os.getloadavg()}; database {urlsplit(url).path}")

    try:
        for option in args.options:
            admin.execute("DELETE FROM procrastinate_jobs")
            since = admin.execute("SELECT now()").fetchone()[0]  # type: ignore[index]
            worker = subprocess.Popen(
                [sys.executable, "manage.py", "run_worker", "--", *shlex.split(option)],
                cwd=root,
                env=env,
                stdout=subprocess.DEVNULL,
            )
            try:
                # Settled: registered in procrastinate_workers (after imports and the system
                # checks, which take seconds on a loaded host), then its first poll.
                while not admin.execute(
                    "SELECT 1 FROM procrastinate_workers WHERE last_heartbeat > %s", [since]
                ).fetchone():
                    if worker.poll() is not None:
                        raise SystemExit(f"the worker exited: {worker.returncode}")
                    time.sleep(0.2)
                time.sleep(3)
                pids = tree(worker.pid)
                cpu, wall = cpu_of(pids), time.monotonic()
                time.sleep(args.idle)
                idle = (cpu_of(pids) - cpu) / (time.monotonic() - wall)
                sink.messages.clear()
                opened = getattr(sink, "connections", 0)
                pids = tree(worker.pid)
                dbname = urlsplit(url).path.lstrip("/")
                pg_before = {p: cpu_of([p]) for p in backends(dbname)}
                cpu, wall = cpu_of(pids), time.monotonic()
                if args.rate:
                    for i in range(args.jobs):
                        mail.send(
                            to=[f"w{i}@example.jp"], subject="ワーカーの計測", body="本文 " * 200
                        )
                        time.sleep(max(0.0, wall + (i + 1) / args.rate - time.monotonic()))
                else:
                    with transaction.atomic():
                        mail.send(
                            to=[f"w{i}@example.jp" for i in range(args.jobs)],
                            subject="ワーカーの計測",
                            body="本文 " * 200,
                        )
                while len(sink.messages) < args.jobs:
                    if time.monotonic() - wall > 600:
                        raise SystemExit(f"{len(sink.messages)} of {args.jobs} after 600 s")
                    time.sleep(0.05)
                spent = cpu_of(pids) - cpu
                took = time.monotonic() - wall
                # A backend started since counts from zero; one that ended is lost.
                pg = sum(cpu_of([p]) - pg_before.get(p, 0.0) for p in backends(dbname))
                print(
                    f"options {option!r:12}: idle {1000 * idle:6.1f} ms CPU a second;"
                    f" {args.jobs} mail jobs in {took:5.1f} s,"
                    f" {1000 * spent / args.jobs:5.2f} ms CPU a job (the worker process)"
                    f" + {1000 * pg / args.jobs:5.2f} ms (PostgreSQL: the database's sessions);"
                    f" {getattr(sink, 'connections', 0) - opened} SMTP connections",
                    flush=True,
                )
            finally:
                worker.terminate()
                worker.wait(30)
    finally:
        sink.stop()
        print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
