"""Searches per second with concurrent clients against a real WSGI server on 127.0.0.1.

    python bench/loadgen.py --start-server                 # gunicorn -w 2 --threads 4, 20 s
    python bench/loadgen.py --start-server --clients 16 --duration 30
    python bench/loadgen.py --url http://127.0.0.1:8000    # a server you started yourself
    python bench/loadgen.py --start-server --html          # the HTML search page instead

--start-server runs `gunicorn -w W --threads T renkei.wsgi` with production settings
(DEBUG=False, a throwaway SECRET_KEY, ALLOWED_HOSTS=127.0.0.1, SECURE_SSL_REDIRECT=False, the search's
rate limit out of reach) on
the database of DATABASE_URL (default the benchmark's renkei_bench) and stops it at the end.
Each client is a thread with one keep-alive http.client connection that sends the benchmark
search (3 capabilities + vacancy + 20 km, by distance, first page) over the same ~200 points
as search_bench.py, back to back, for a fixed duration after a short warm-up. Only 127.0.0.1.
--html sends the same searches to the HTML page (/directory/) that a browser opens.

The load generator, the server and PostgreSQL share the machine's cores: the CPU each used
is reported so the numbers can be read for what they are.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import search_bench  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MAX_DURATION = 300.0


def _stat(pid: int) -> tuple[int, float] | None:
    """(start time in clock ticks since boot, user+system CPU seconds) of a live process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[19]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU used during a run by a changing set of processes (gunicorn's workers, the
    database's backends). A process's counters vanish when it exits, so a difference of two
    sums over the pids alive at each end goes wrong, even negative, when a backend ends
    mid-run: instead each process (pid and start time, so a reused pid is another process)
    is sampled every `interval` seconds and contributes its last sample minus its first,
    or minus 0 when it started during the run. One that exits loses at most its CPU since
    its last sample."""

    def __init__(self, find: Callable[[], list[int]], interval: float = 0.5) -> None:
        self.find, self.interval = find, interval
        self.first: dict[tuple[int, int], float] = {}
        self.last: dict[tuple[int, int], float] = {}
        self.exited = 0
        self.own_cpu = 0.0  # the sampling thread's, to take out of the load generator's
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _sample(self, *, baseline: bool = False) -> set[tuple[int, int]]:
        seen = set()
        for pid in self.find():
            st = _stat(pid)
            if st is None:
                continue
            key = (pid, st[0])
            seen.add(key)
            self.first.setdefault(key, st[1] if baseline else 0.0)
            self.last[key] = st[1]
        return seen

    def start(self) -> None:
        self._sample(baseline=True)

        def loop() -> None:
            while not self._stop.wait(self.interval):
                self._sample()
            self.own_cpu = time.thread_time()

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()

    def stop(self) -> float:
        """CPU seconds used since start()."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        alive = self._sample()
        self.exited = len(self.last.keys() - alive)
        return sum(self.last[k] - self.first[k] for k in self.last)


def children(pid: int) -> list[int]:
    found = [pid]
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            ppid = int((p / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            found.append(int(p.name))
    return found


def postgres_backends(dbname: str, clients: list[int] | None = None) -> list[int]:
    """The PostgreSQL backends of this database; with `clients`, only those whose connection
    one of these processes holds (the server's, not another script's on the same database)."""
    ports = _local_tcp_ports(clients) if clients is not None else None
    pids = []
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            cmd = (p / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if not (cmd.startswith("postgres: ") and f" {dbname} " in cmd):
            continue
        # "postgres: 15/main: user db 127.0.0.1(48334) idle": the client's port.
        peer = re.search(r"\((\d+)\)", cmd)
        if ports is None or (peer is not None and int(peer.group(1)) in ports):
            pids.append(int(p.name))
    return pids


def _local_tcp_ports(pids: list[int]) -> set[int]:
    """Local ports of the TCP sockets these processes hold open (Linux /proc)."""
    inodes = set()
    for pid in pids:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except OSError:
            continue
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[9] in inodes:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(args: argparse.Namespace, port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        DEBUG="False",
        SECRET_KEY=env.get("SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789"),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="False",
        # One client address sends every search: the limit stays counted, never reached.
        RATE_LIMITS="search=1000000000/m",
        DATABASE_URL=os.environ["DATABASE_URL"],
    )
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "-w",
        str(args.workers),
        "--threads",
        str(args.threads),
        "-b",
        f"127.0.0.1:{port}",
        "--keep-alive",
        "30",
        "renkei.wsgi",
    ]
    print("server:", " ".join(cmd[2:]))
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"gunicorn exited with {proc.returncode} (port {port} taken?)")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                c.close()
                return proc
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    sys.exit("server did not answer /healthz within 30 s")


def run_load(
    host: str, port: int, urls: list[str], clients: int, seconds: float
) -> tuple[list[float], int, float]:
    """(latencies in ms of successful searches, errors, elapsed seconds)."""
    stop = time.monotonic() + seconds
    results: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients

    def client(i: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=30)
        n = i * 7
        while time.monotonic() < stop:
            url = urls[n % len(urls)]
            n += 1
            t = time.perf_counter()
            try:
                conn.request("GET", url)
                r = conn.getresponse()
                r.read()
                ok = r.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=30)
            if ok:
                results[i].append((time.perf_counter() - t) * 1000)
            else:
                errors[i] += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    return [x for r in results for x in r], sum(errors), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--url", help="server to load (default: the started server, on a free port)"
    )
    parser.add_argument("--start-server", action="store_true")
    parser.add_argument("--port", type=int, help="for --start-server (default: a free port)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--points", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sqlite", metavar="PATH", help="serve this SQLite file")
    parser.add_argument("--html", action="store_true", help="the HTML search page, not the API")
    parser.add_argument(
        "--wait-quiet", type=float, default=0, metavar="S", help="wait up to S s for load < 1"
    )
    args = parser.parse_args()
    if args.url is None:
        if not args.start_server:
            sys.exit("give --url of a running server, or --start-server")
        port = args.port or free_port()
    else:
        parts = urlsplit(args.url)
        if parts.hostname != "127.0.0.1":
            sys.exit("the load generator targets 127.0.0.1 only")
        port = parts.port or 80
    duration = min(args.duration, MAX_DURATION)

    search_bench.configure(args.sqlite)
    from django.db import connection, connections

    urls = [p["url"] for p in search_bench.query_points(args.points, args.seed)]
    if args.html:
        urls = [url.replace(search_bench.PATH, "/directory/", 1) for url in urls]
    dbname = str(connection.settings_dict["NAME"])
    vendor = connection.vendor
    connections.close_all()

    search_bench.wait_quiet(min(args.wait_quiet, 900))
    calib0 = search_bench.calibration()
    server: subprocess.Popen[bytes] | None = None
    if args.start_server:
        server = start_server(args, port)
    try:
        run_load("127.0.0.1", port, urls, args.clients, args.warmup)
        server_pid = server.pid if server else None
        server_cpu = CpuMeter(lambda: children(server_pid) if server_pid else [])
        # With our own server, only its connections' backends; with --url, every backend of
        # the database (the server's processes are not known).
        pg_cpu = CpuMeter(
            lambda: (
                postgres_backends(dbname, children(server_pid) if server_pid else None)
                if vendor == "postgresql"
                else []
            )
        )
        server_cpu.start()
        pg_cpu.start()
        client0 = time.process_time()
        load0 = os.getloadavg()[0]
        ms, errors, elapsed = run_load("127.0.0.1", port, urls, args.clients, duration)
        client1 = time.process_time()
        used = (server_cpu.stop(), pg_cpu.stop())
        load1 = os.getloadavg()[0]
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
    if not ms:
        sys.exit(f"no successful search ({errors} errors)")
    n = len(ms)
    s = search_bench.summary(ms)
    print(
        f"{vendor} {dbname}; {args.clients} clients; "
        + (f"gunicorn -w {args.workers} --threads {args.threads}; " if server else "")
        + f"{elapsed:.1f} s; load average {load0:.2f} -> {load1:.2f}"
    )
    print(f"{calib0} before, {search_bench.calibration()} after")
    print(f"{'pages' if args.html else 'searches'}/s {n / elapsed:7.1f}   ok {n}   errors {errors}")
    print(search_bench.fmt("latency", s))
    cpu: dict[str, Any] = {
        "load generator": client1 - client0 - server_cpu.own_cpu - pg_cpu.own_cpu
    }
    if server is not None:
        cpu["server (gunicorn)"] = used[0]
    if vendor == "postgresql":
        cpu["postgresql backends"] = used[1]
        if pg_cpu.exited:
            print(
                f"{pg_cpu.exited} PostgreSQL backends ended during the run (counted to their last sample)"
            )
    print(
        "CPU per search: "
        + ", ".join(f"{k} {v / n * 1000:.2f} ms" for k, v in cpu.items())
        + f"; cores busy {sum(cpu.values()) / elapsed:.2f} of {os.cpu_count()}"
    )


if __name__ == "__main__":
    main()
