"""Audited writers side by side: how long they wait for each other on the audit chain (ADR 0066).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h12c_audit python bench/audit_bench.py
    bench/before_after.sh REV python /abs/path/bench/audit_bench.py   # each tree's code (cwd)

`--threads` writers each run transactions for `--seconds`: record one audit entry, then
`--after` statements (what an action does after recording: enqueue mail, store its idempotency
response, bump a counter), then commit. The code under test is the tree in the current
directory. Prints transactions/s, latency p50/p95 and the CPU of this process per transaction.
The database must be migrated (`manage.py migrate`); its audit log grows by what the run writes.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time

sys.path.insert(0, os.getcwd())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--after", type=int, default=3, help="statements after the entry")
    args = ap.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "renkei.settings")
    os.environ.setdefault("DEBUG", "True")
    import django

    django.setup()
    from django.db import connection, transaction

    from renkei.accounts.models import AuditEntry

    print(f"load average before: {os.getloadavg()}; engine {connection.settings_dict['ENGINE']}")
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(args.threads + 1)
    stop = time.monotonic() + 3600

    def writer(i: int) -> None:
        mine: list[float] = []
        barrier.wait()
        n = 0
        while time.monotonic() < stop:
            start = time.monotonic()
            with transaction.atomic(), connection.cursor() as cursor:
                AuditEntry.record("bench.write", actor_label=f"w{i}-{n}")
                for _ in range(args.after):
                    cursor.execute("SELECT count(*) FROM accounts_organization")
            mine.append(time.monotonic() - start)
            n += 1
        connection.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(args.threads)]
    for t in threads:
        t.start()
    cpu0 = time.process_time()
    begin = time.monotonic()
    stop = begin + args.seconds
    barrier.wait()
    for t in threads:
        t.join()
    wall = time.monotonic() - begin
    cpu = time.process_time() - cpu0
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000

    n = len(latencies)
    print(
        f"{args.threads} writers, {args.after} statements after the entry: {n} transactions in"
        f" {wall:.1f} s = {n / wall:.0f}/s; p50 {pct(50):.1f} ms, p95 {pct(95):.1f} ms;"
        f" client CPU {1000 * cpu / max(1, n):.2f} ms a transaction; load {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
