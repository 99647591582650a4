"""Whose are the sessions "idle in transaction"? Sample them beside a run (issue 12).

    python bench/idle_in_transaction.py postgres://postgres@127.0.0.1:5432/h15c_monday 60

Samples pg_stat_activity of the database about four times a second for the given seconds:
each session idle in a transaction, the last statement it ran, its transaction's age, and the
process at the other end of its connection (its client port looked up with `ss -tnp`:
gunicorn, a job worker, …). Prints, per (process, last statement), the average number of
such sessions a sample and the transaction ages seen. Start it when the load phase starts.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import psycopg


def owners() -> dict[int, int]:
    """Local port → pid of the process that holds the socket."""
    out = subprocess.run(["ss", "-tnpH"], capture_output=True, text=True).stdout
    found = {}
    for line in out.splitlines():
        parts = line.split()
        pid = re.search(r"pid=(\d+)", parts[-1]) if len(parts) >= 6 else None
        if pid:
            found[int(parts[3].rsplit(":", 1)[-1])] = int(pid.group(1))
    return found


def role(pid: int | None) -> str:
    if pid is None:
        return "?"
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except OSError:
        return "?"
    if "gunicorn" in cmd:
        return "gunicorn"
    if "manage.py" in cmd:
        return cmd.split("manage.py ", 1)[1][:30]
    return cmd[:30]


def main() -> None:
    url, seconds = sys.argv[1], float(sys.argv[2])
    seen: Counter[tuple[str, str]] = Counter()
    ages: dict[tuple[str, str], list[float]] = defaultdict(list)
    samples = 0
    with psycopg.connect(url, autocommit=True) as conn:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            rows = conn.execute(
                "SELECT client_port, extract(epoch FROM now() - xact_start),"
                " left(regexp_replace(query, '\\s+', ' ', 'g'), 60) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND state LIKE 'idle in transaction%'"
            ).fetchall()
            samples += 1
            ports = owners() if rows else {}
            for port, age, query in rows:
                key = (role(ports.get(port)), query)
                seen[key] += 1
                ages[key].append(float(age or 0))
            time.sleep(0.25)
    print(f"samples: {samples}; sessions idle in transaction, average a sample:")
    for key, n in seen.most_common(15):
        a = sorted(ages[key])
        print(
            f"{n / samples:5.2f}  age p50 {a[len(a) // 2]:6.3f} s max {a[-1]:5.2f} s  {key[0]:24} {key[1]}"
        )


if __name__ == "__main__":
    main()
