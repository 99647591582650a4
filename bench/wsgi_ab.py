"""Two WSGI handlers in one process, alternating: Django's WSGIHandler and renkei.wsgi's
(renkei.lib.querystring), on the API search's URLs (search_bench's points) or the HTML page's.

On a shared host the CPU a request costs moves by more between two runs than a small change
saves; here both handlers serve the same URLs in the same process and database connection,
in alternating batches, and the median of the batches' CPU per request is compared.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_dir python bench/wsgi_ab.py
    python bench/wsgi_ab.py --html --batches 20 --batch 100
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import search_bench as sb  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch", type=int, default=200, help="requests a batch")
    parser.add_argument("--html", action="store_true", help="the HTML search page (/directory/)")
    args = parser.parse_args()
    sb.configure(None)
    print(f"load average {os.getloadavg()[0]:.2f}; {sb.calibration()}")
    from django.core.handlers.wsgi import WSGIHandler

    from renkei.lib.querystring import Handler

    urls = [p["url"] for p in sb.query_points(200, 1)]
    if args.html:
        urls = [u.replace(sb.PATH, "/directory/") for u in urls]
    handlers = {"django": WSGIHandler(), "renkei": Handler()}
    for h in handlers.values():
        for u in urls:
            if sb.wsgi_get(h, u) != 200:
                sys.exit(f"{u} did not answer 200")
    cpu: dict[str, list[float]] = {name: [] for name in handlers}
    for b in range(args.batches):
        # Each batch's order flips, so that neither handler always runs second.
        order = list(handlers.items()) if b % 2 == 0 else list(handlers.items())[::-1]
        for name, h in order:
            start = time.process_time()
            for i in range(args.batch):
                sb.wsgi_get(h, urls[(b * args.batch + i) % len(urls)])
            cpu[name].append((time.process_time() - start) / args.batch * 1000)
    for name, values in cpu.items():
        q = statistics.quantiles(values, n=4)
        print(
            f"{name:7s} CPU a request: median {statistics.median(values):.3f} ms"
            f"  (quartiles {q[0]:.3f}–{q[2]:.3f}, {args.batches} batches of {args.batch})"
        )
    diff = [d - r for d, r in zip(cpu["django"], cpu["renkei"], strict=True)]
    print(f"django − renkei, batch by batch: median {statistics.median(diff) * 1000:.0f} µs")
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
