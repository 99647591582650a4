"""Monday 9:00: a mixed workload against two app servers and two workers (issues 11 §4, 12).

    python bench/monday.py                          # the scenario in bench/monday.json
    python bench/monday.py --scenario my.json --duration 30 --rate 200 --base-port 8140

Open-loop Poisson arrivals (seeded: the same scenario sends the same sequence), each started at
its time whatever the earlier ones are doing: signed-in people do what they do at 9:00 — MSWs
search the directory and send placement requests, facilities read their inbox and update
vacancies, desks record consultations — and the public searches the directory and applies for
an event; meanwhile a worker imports a 介護サービス情報公表 file uploaded at the start, and
reminders of unanswered requests are enqueued part-way.

The client is asyncio over raw HTTP/1.1 keep-alive connections (about 0.1–0.6 ms of CPU an
arrival, printed), so that it can offer 200 arrivals/s from the same 2-core host without taking
the servers' CPU. Each person sends one request at a time (a browser tab); an arrival waits for
an idle person of its kind and is not sent if none is free within `max_lag_s` (default 2 s): it
is counted, and the run prints NOT SUSTAINED. Reports throughput and p50/p95/p99 per action (from
the request's start) and the p95 from the arrival (what the bar, `p95_bar_ms`, is read against),
errors, the client's CPU, the import's time, mail delivered, the load average, and whether the
bar — rate sustained, every action's p95 from arrival within the bar, 0 errors — was MET.

Everything runs on 127.0.0.1: `gunicorn` ×`servers` (DEBUG off), `manage.py run_worker`
×`job_workers`, a local SMTP sink, and the client, against the PostgreSQL database of
MONDAY_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/renkei_monday), which is
dropped and recreated on every run so that runs compare. `--root .` runs this client against
the tree in the current directory (bench/before_after.sh). The load generator shares the
machine with the servers, the workers and PostgreSQL: read the numbers with the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/renkei_monday"
PASSWORD = "monday-bench-2026"
CASE = {
    "age_band": "85",
    "sex": "female",
    "care_level": 4,
    "dementia": "2a",
    "required_capabilities": ["suction"],
    "infections": [],
    "residence": "142051",
    "destinations": ["tokuyo", "roken"],
    "household": "alone",
    "key_person": "yes",
    "key_person_relation": "child",
    "note": "日中は車椅子",
}
QUERIES = ["さくら", "ひかり", "なぎさ", "みどり", "訪問看護", "藤沢", "ケア"]


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "DEBUG": "True"},
        check=True,
    )


def seed(sc: dict[str, Any]) -> dict[str, Any]:
    """The people, facilities, desk and event of the morning (in this process, via Django)."""
    import django

    django.setup()
    from renkei.accounts.models import OrgKind, Role, TwoFactorPolicy
    from renkei.desk.testing import make_desk, make_desk_member
    from renkei.desk.vocabulary import ensure_default_topics
    from renkei.directory.models import FacilityKind, VacancyStatus
    from renkei.events.testing import make_event
    from renkei.referrals.testing import make_hospital, make_receiver
    from renkei.testing import make_facility, make_member, make_org

    rnd = random.Random(sc["seed"])
    TwoFactorPolicy.objects.update(required=False)  # synthetic staff without TOTP devices
    ensure_default_topics()
    names = ["さくら", "ひかり", "なぎさ", "みどり", "あおば", "かえで", "つばき", "すみれ"]
    for i in range(sc["directory_facilities"]):
        make_facility(
            f"{names[i % len(names)]}ケアセンター{i}",
            rnd.choice(["tokuyo", "roken", "visiting_nurse", "care_management"]),
            lat=35.30 + rnd.random() * 0.1,
            lng=139.40 + rnd.random() * 0.15,
            capability_codes=rnd.sample(["suction", "tube-feeding", "oxygen"], k=rnd.randint(0, 2)),
            vacancy=rnd.choice([VacancyStatus.AVAILABLE, VacancyStatus.FEW, VacancyStatus.NONE]),
            confirmed_days_ago=rnd.randint(0, 30),
        )
    people: dict[str, Any] = {"msw": [], "facilities": [], "desk": []}
    for i in range(sc["people"]["msw"]):
        m = make_hospital(f"湘南病院{i}", username=f"msw{i}")
        people["msw"].append(m.user.username)
    for i in range(sc["people"]["facilities"]):
        f, m = make_receiver(
            f"特養なぎさ苑{i}",
            FacilityKind.TOKUYO if i % 2 else FacilityKind.ROKEN,
            username=f"facility{i}",
            capability_codes=["suction"],
            vacancy=VacancyStatus.AVAILABLE,
            confirmed_days_ago=1,
            accepts_dementia=True,
        )
        people["facilities"].append((m.user.username, str(f.code)))
    desk = make_desk(municipality_codes=("142051",))
    topic = desk.topics().first()
    assert topic is not None
    for i in range(sc["people"]["desk"]):
        m = make_desk_member(desk, Role.COUNSELOR, username=f"desk{i}")
        people["desk"].append(m.user.username)
    event = make_event(
        make_org("藤沢市 在宅医療・介護連携支援センター", OrgKind.COORDINATION_CENTER),
        capacity=sc["event_capacity"],
    )
    op = make_member(make_org("運営事務局", OrgKind.OPERATOR), Role.ADMIN, username="operator")
    from django.contrib.auth.hashers import make_password

    from renkei.accounts.models import User
    from renkei.testing import give_authenticator

    # One hash for everyone (a bench's shortcut): hashing it per user took most of the seeding.
    User.objects.update(password=make_password(PASSWORD))
    for user in User.objects.all():
        # Staff who read named data sign in with a second factor (ADR 0043): an authenticator
        # app with the test key, whose code Person enters after the password.
        give_authenticator(user)
    return {
        "people": people,
        "desk": str(desk.code),
        "topic": topic.pk,
        "event": str(event.code),
        "operator": op.user.username,
    }


def env_for(url: str, smtp_port: int) -> dict[str, str]:
    from renkei.lib.crypto import new_key

    return {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "False",
        "SECRET_KEY": "monday-bench-only-secret-key-not-for-production-0123456789",
        "FIELD_ENCRYPTION_KEYS": f"bench:{new_key()}",
        "BLIND_INDEX_KEY": new_key(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "False",
        "STATIC_ROOT": str(ROOT / "var" / "monday-static"),
        "RATE_LIMITS": "search=1000000/m,public_form=1000000/h,export=1000000/h",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "EMAIL_USE_TLS": "False",
        "REFERRAL_REMINDER_HOURS": "0",
        "MEDIA_ROOT": str(ROOT / "var" / "monday-media"),
        "LOG_LEVEL": "ERROR",
        "JOBS_BACKEND": "procrastinate",
    }


class Person:
    """A browser: its cookies and one keep-alive connection, one request at a time.

    Signed in with `requests` (before the load phase), then driven by the asyncio client below,
    which costs a fraction of requests' CPU per call: at 200 arrivals/s the client shares the
    two cores with the servers and PostgreSQL, and what it spends is not the servers'.
    """

    def __init__(self, base: str, username: str | None = None) -> None:
        self.base = base
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.cookies: dict[str, str] = {}
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        if username:
            self.cookies = sign_in(base, username)

    async def send(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        head = [
            f"{method} {path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "Accept: application/json",
            f"X-CSRFToken: {self.cookies.get('csrftoken', '')}",
        ]
        if self.cookies:
            head.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        data = json.dumps(body).encode() if body is not None else b""
        if body is not None:
            head.append("Content-Type: application/json")
        head.append(f"Content-Length: {len(data)}")
        request = ("\r\n".join(head) + "\r\n\r\n").encode() + data
        reused = self.writer is not None
        try:
            return await self._exchange(request)
        except (ConnectionError, asyncio.IncompleteReadError):
            self.close()
            if not reused:
                raise
        # The server closed an idle keep-alive connection before reading this request: resend
        # once on a fresh one (nothing was processed).
        return await self._exchange(request)

    async def _exchange(self, request: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(request)
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionResetError("closed before the status line")
        status = int(status_line.split()[1])
        headers: dict[str, str] = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            key, _, value = line.decode("latin-1").partition(":")
            key, value = key.strip().lower(), value.strip()
            if key == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
            else:
                headers[key] = value
        if "content-length" in headers:
            payload = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while size := int((await self.reader.readline()).split(b";")[0], 16):
                chunks.append(await self.reader.readexactly(size))
                await self.reader.readline()
            while await self.reader.readline() not in (b"\r\n", b""):
                pass
            payload = b"".join(chunks)
        else:
            payload = await self.reader.read()
            headers["connection"] = "close"
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, payload

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def sign_in(base: str, username: str) -> dict[str, str]:
    """Password, then the second factor (ADR 0043), as a browser; returns the cookies."""
    from renkei.testing import totp_code

    http = requests.Session()

    def plain() -> None:
        # DEBUG off marks the session and CSRF cookies Secure; this bench speaks plain HTTP to
        # 127.0.0.1 (no TLS proxy in front), so the client keeps sending them.
        for cookie in http.cookies:
            cookie.secure = False

    http.get(f"{base}/accounts/login/", timeout=60)
    plain()
    for path, data in (
        ("/accounts/login/", {"username": username, "password": PASSWORD}),
        ("/accounts/2fa/verify/", {"token": totp_code()}),
    ):
        r = http.post(
            base + path,
            data={**data, "csrfmiddlewaretoken": http.cookies["csrftoken"]},
            allow_redirects=False,
            timeout=120,
        )
        if r.status_code != 302:
            raise SystemExit(f"{path} of {username} failed: {r.status_code}")
        plain()
    return {c.name: c.value or "" for c in http.cookies}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--scenario", default=str(Path(__file__).with_name("monday.json")))
    ap.add_argument("--duration", type=float, help="seconds of measured load (overrides)")
    ap.add_argument("--rate", type=float, help="arrivals per second (overrides)")
    ap.add_argument("--base-port", type=int, help="first port of the servers (overrides)")
    ap.add_argument("--servers", type=int, help="gunicorn servers (overrides)")
    ap.add_argument("--workers", type=int, help="processes per server (overrides)")
    ap.add_argument("--threads", type=int, help="threads per process (overrides)")
    ap.add_argument(
        "--root",
        help="the tree whose code the servers run (default: this script's); bench/before_after.sh"
        " passes `.` to run this client against an earlier commit",
    )
    args = ap.parse_args()
    sc = json.loads(Path(args.scenario).read_text())
    if args.root:
        global ROOT
        ROOT = Path(args.root).resolve()
        sys.path.insert(0, str(ROOT))
    for arg, key in (
        ("base_port", "base_port"),
        ("servers", "servers"),
        ("workers", "gunicorn_workers"),
        ("threads", "gunicorn_threads"),
    ):
        if getattr(args, arg):
            sc[key] = getattr(args, arg)
    if args.duration:
        sc["duration_s"] = args.duration
    if args.rate:
        sc["rate_per_s"] = args.rate
    url = os.getenv("MONDAY_DATABASE_URL", DEFAULT_URL)
    os.environ.update(DATABASE_URL=url, DEBUG="True", DJANGO_SETTINGS_MODULE="renkei.settings")
    print(f"load average before: {os.getloadavg()}")
    t0 = time.monotonic()
    recreate_database(url)
    world = seed(sc)
    print(f"database ready and seeded in {time.monotonic() - t0:.0f} s")

    from renkei.ops.testing import SmtpSink

    base_port = sc["base_port"]
    smtp_port = base_port + 6
    env = env_for(url, smtp_port)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    sink = SmtpSink(smtp_port)
    sink.start()
    procs: list[subprocess.Popen[bytes]] = []
    ports = [base_port + i for i in range(sc["servers"])]
    try:
        for port in ports:
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "gunicorn",
                        "renkei.wsgi",
                        "--bind",
                        f"127.0.0.1:{port}",
                        "--workers",
                        str(sc["gunicorn_workers"]),
                        "--threads",
                        str(sc["gunicorn_threads"]),
                        "--keep-alive",
                        "30",
                    ],
                    cwd=ROOT,
                    env=env,
                )
            )
        for _ in range(sc["job_workers"]):
            procs.append(
                subprocess.Popen(
                    [sys.executable, "manage.py", "run_worker", "--", "-p", "0.5"],
                    cwd=ROOT,
                    env=env,
                )
            )
        for port in ports:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).ok:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit(f"server on {port} did not start")
                time.sleep(0.5)
        run(sc, world, ports, sink)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        sink.stop()


def run(sc: dict[str, Any], world: dict[str, Any], ports: list[int], sink: Any) -> None:
    from renkei.directory.models import ImportRun
    from renkei.directory.tests.test_import_kaigo import kaigo_csv, kaigo_row
    from renkei.lib import mail

    bases = [f"http://127.0.0.1:{p}" for p in ports]
    people = world["people"]
    # Signing in costs a password hash and a second factor each: in parallel, before the clock.
    with ThreadPoolExecutor(8) as pool:
        msws = list(
            pool.map(lambda iu: Person(bases[iu[0] % len(bases)], iu[1]), enumerate(people["msw"]))
        )
        facilities = list(
            pool.map(
                lambda iu: (Person(bases[iu[0] % len(bases)], iu[1][0]), iu[1][1]),
                enumerate(people["facilities"]),
            )
        )
        desks = list(
            pool.map(lambda iu: Person(bases[iu[0] % len(bases)], iu[1]), enumerate(people["desk"]))
        )
    operator = requests.Session()
    operator.cookies.update(sign_in(bases[0], world["operator"]))
    publics = [Person(bases[i % len(bases)]) for i in range(sc.get("public_connections", 64))]
    facility_codes = [code for _, code in facilities]

    # The import, uploaded as the morning starts.
    rows = kaigo_csv(
        *(
            kaigo_row(
                事業所番号=f"147{i:07d}",
                事業所名=f"事業所{i}",
                電話番号=f"0466-{i % 100:02d}-{i % 10000:04d}",
            )
            for i in range(sc["import_rows"])
        )
    )
    r = operator.post(
        f"{bases[0]}/directory/imports/",
        data={"format": "auto", "csrfmiddlewaretoken": operator.cookies["csrftoken"]},
        files={"file": ("jigyosho_510.csv", rows, "text/csv")},
        allow_redirects=False,
        timeout=300,
    )
    assert r.status_code == 302, r.status_code
    import_started = time.monotonic()

    dbname = urlsplit(os.getenv("MONDAY_DATABASE_URL", DEFAULT_URL)).path.lstrip("/")
    cpu_before = cpu_by_role(ports, dbname)
    stats = asyncio.run(load_phase(sc, world, msws, facilities, desks, publics, facility_codes))
    stats["cpu"] = cpu_delta(cpu_before, cpu_by_role(ports, dbname))

    run_ = ImportRun.objects.get()
    while (
        not ImportRun.objects.get(pk=run_.pk).finished and time.monotonic() - import_started < 600
    ):
        time.sleep(1)
    run_.refresh_from_db()
    import_s = (run_.finished_at - run_.started_at).total_seconds() if run_.finished_at else None
    from procrastinate.contrib.django.models import ProcrastinateJob

    deadline = time.monotonic() + 120
    while (
        ProcrastinateJob.objects.filter(
            task_name=mail.deliver.name, status__in=["todo", "doing"]
        ).exists()
        and time.monotonic() < deadline
    ):
        time.sleep(1)
    report(sc, stats)
    print(
        f"import: {run_.status}, {run_.processed_rows}/{run_.total_rows} rows"
        + (f" in {import_s:.0f} s" if import_s else "")
    )
    left = ProcrastinateJob.objects.filter(task_name=mail.deliver.name).exclude(status="succeeded")
    print(f"mail delivered to the sink: {len(sink.messages)}; mail jobs not done: {left.count()}")
    print(f"load average after: {os.getloadavg()}")


async def load_phase(
    sc: dict[str, Any],
    world: dict[str, Any],
    msws: list[Person],
    facilities: list[tuple[Person, str]],
    desks: list[Person],
    publics: list[Person],
    facility_codes: list[str],
) -> dict[str, Any]:
    """Open-loop arrivals: each is a task started at its time, whatever the earlier ones do.

    An arrival waits for an idle person of its kind (one request at a time per person, as a
    browser tab; the public have `public_connections` of them) and is not sent if it would start
    more than `max_lag_s` after its time: then the client is behind its arrivals (the servers
    are too slow, or the client itself is), and the run says NOT SUSTAINED.
    """
    from renkei.referrals.jobs import send_referral_reminders

    rnd = random.Random(sc["seed"])
    counter = iter(range(10**9))
    idle: dict[str, asyncio.Queue[Any]] = {
        k: asyncio.Queue() for k in ("msw", "facility", "desk", "public")
    }
    for kind, items in (
        ("msw", msws),
        ("facility", facilities),
        ("desk", desks),
        ("public", publics),
    ):
        for item in items:
            idle[kind].put_nowait(item)
    kind_of = {
        "public_search": "public",
        "public_apply": "public",
        "msw_search": "msw",
        "msw_send": "msw",
        "facility_inbox": "facility",
        "facility_vacancy": "facility",
        "desk_consult": "desk",
    }

    async def act(name: str, who: Any) -> int:
        if name == "public_search":
            q = rnd.choice(QUERIES)
            return (await who.send("GET", f"/api/v1/directory/facilities?q={quote(q)}"))[0]
        if name == "public_apply":
            n = next(counter)
            body = {
                "office_name": "さくら訪問看護ステーション",
                "contact_name": "連絡 担当",
                "contact_email": f"apply{n}@example.jp",
                "contact_phone": "046-000-0001",
                "applicants": [
                    {
                        "name": "山田 花子",
                        "kana": "ヤマダ ハナコ",
                        "email": f"applicant{n}@example.jp",
                        "occupation": "nurse",
                    }
                ],
                "question_to": None,
                "question": "",
                "agree": True,
            }
            return (await who.send("POST", f"/api/v1/events/{world['event']}/applications", body))[
                0
            ]
        if name == "msw_search":
            path = "/api/v1/directory/facilities?capability=suction&vacancy=true"
            return (await who.send("GET", path))[0]
        if name == "msw_send":
            status, payload = await who.send("POST", "/api/v1/referrals/cases", CASE)
            if status != 201:
                return status
            deadline = time.strftime(
                "%Y-%m-%dT%H:%M:%S+09:00", time.localtime(time.time() + 172800)
            )
            body = {"facilities": rnd.sample(facility_codes, k=3), "deadline": deadline}
            code = json.loads(payload)["code"]
            return (await who.send("POST", f"/api/v1/referrals/cases/{code}/requests", body))[0]
        if name == "facility_inbox":
            return (await who[0].send("GET", "/api/v1/referrals/requests"))[0]
        if name == "facility_vacancy":
            person, code = who
            status = rnd.choice(["available", "few", "none"])
            # A count goes with places left only ("none" with a count is refused, 400).
            body = {"status": status, "count": rnd.randint(1, 5) if status != "none" else None}
            path = f"/api/v1/directory/facilities/{code}/vacancy"
            return (await person.send("PUT", path, body))[0]
        if name == "desk_consult":
            body = {
                "received_at": time.strftime("%Y-%m-%dT%H:%M:%S+09:00"),
                "channel": "phone",
                "asker_type": "family",
                "topics": [world["topic"]],
                "scene": "daily",
                "summary": "訪問看護を利用したいが、どこに相談すればよいか。",
            }
            path = f"/api/v1/desk/desks/{world['desk']}/consultations"
            return (await who.send("POST", path, body))[0]
        raise ValueError(name)

    mix = sc["mix"]
    names, weights = list(mix), list(mix.values())
    results: dict[str, list[tuple[float, int]]] = defaultdict(list)
    from_arrival: dict[str, list[float]] = defaultdict(list)
    lags: list[float] = []
    late: list[str] = []
    max_lag = float(sc.get("max_lag_s", 2))
    load: list[float] = []

    async def timed(name: str, scheduled: float, measured: bool) -> None:
        queue = idle[kind_of[name]]
        try:
            who = await asyncio.wait_for(
                queue.get(), max(0.0, scheduled + max_lag - time.monotonic())
            )
        except TimeoutError:
            # Nobody of this kind free within max_lag (or the loop itself that far behind):
            # sending it later would measure the client's queue, not the servers. Counted.
            late.append(name)
            return
        start = time.monotonic()
        try:
            status = await act(name, who)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            status = 0
        finally:
            queue.put_nowait(who)
        end = time.monotonic()
        if measured:
            results[name].append((end - start, status))
            from_arrival[name].append(end - scheduled)
            lags.append(start - scheduled)

    total = sc["warmup_s"] + sc["duration_s"]
    reminders_sent = False
    tasks: list[asyncio.Task[None]] = []
    waits = WaitSampler(os.environ["DATABASE_URL"])
    waits.start()
    cpu0 = time.process_time()
    begin = time.monotonic()
    t = 0.0
    next_load = 0.0
    while True:
        t += rnd.expovariate(sc["rate_per_s"])
        if t >= total:
            break
        delay = begin + t - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        if not reminders_sent and t >= sc["warmup_s"] + sc["reminders_at_s"]:
            # The ORM is synchronous: outside the event loop's thread.
            await asyncio.to_thread(send_referral_reminders.enqueue)
            reminders_sent = True
        if t >= next_load:
            load.append(os.getloadavg()[0])
            next_load += 5
        name = rnd.choices(names, weights)[0]
        tasks.append(asyncio.create_task(timed(name, begin + t, t >= sc["warmup_s"])))
    wall = time.monotonic() - begin - sc["warmup_s"]
    # Arrivals still waiting for a person give up within max_lag; requests under way finish.
    await asyncio.gather(*tasks)
    drained = time.monotonic() - begin - sc["warmup_s"] - wall
    for person in [*msws, *(p for p, _ in facilities), *desks, *publics]:
        person.close()
    return {
        "names": names,
        "results": results,
        "from_arrival": from_arrival,
        "lags": lags,
        "late": late,
        "asked": len(tasks),
        "wall": wall,
        "drained": drained,
        "client_cpu": time.process_time() - cpu0,
        "load": load,
        "max_lag": max_lag,
        "waits": waits.stop(),
    }


def cpu_by_role(ports: list[int], dbname: str) -> dict[tuple[str, int], float]:
    """CPU seconds so far of each process of the run, by role: the gunicorn processes of our
    ports, our job workers (the import runs in one of them), PostgreSQL's sessions of the bench
    database, and this client. From /proc/<pid>/stat (user + system)."""
    tick = os.sysconf("SC_CLK_TCK")
    binds = [f"127.0.0.1:{p}" for p in ports]
    found: dict[tuple[str, int], float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ppid = int(stat[1])
        if pid == os.getpid():
            role = "client (this script)"
        elif "gunicorn" in cmd and any(b in cmd for b in binds):
            role = "gunicorn"
        elif "run_worker" in cmd and ppid == os.getpid():
            role = "job workers (import, mail, reminders)"
        elif cmd.startswith("postgres: ") and f" {dbname} " in cmd:
            role = "PostgreSQL sessions of the bench database"
        else:
            continue
        found[(role, pid)] = (int(stat[11]) + int(stat[12])) / tick
    return found


def cpu_delta(
    before: dict[tuple[str, int], float], after: dict[tuple[str, int], float]
) -> dict[str, float]:
    # A process started during the load phase counts from zero; one that ended is lost (the
    # servers keep their database connections for 60 s, longer than the phase).
    spent: dict[str, float] = defaultdict(float)
    for key, seconds in after.items():
        spent[key[0]] += seconds - before.get(key, 0.0)
    return dict(spent)


class WaitSampler(threading.Thread):
    """pg_stat_activity of the bench database, sampled in a thread during the load phase."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.halt = threading.Event()
        self.samples = 0
        self.seen: dict[tuple[str, str, str], int] = defaultdict(int)

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.halt.wait(0.25):
                rows = conn.execute(
                    "SELECT state, coalesce(wait_event_type || ':' || wait_event, 'cpu'),"
                    " left(regexp_replace(query, '\\s+', ' ', 'g'), 48)"
                    " FROM pg_stat_activity WHERE datname = current_database()"
                    " AND pid <> pg_backend_pid() AND state <> 'idle'"
                ).fetchall()
                self.samples += 1
                for state, wait, query in rows:
                    # Statements differ by their literals; their first words tell them apart.
                    self.seen[(state, wait, query if state == "active" else "")] += 1

    def stop(self) -> tuple[int, dict[tuple[str, str, str], int]]:
        self.halt.set()
        self.join(5)
        return self.samples, dict(self.seen)


def report(sc: dict[str, Any], st: dict[str, Any]) -> None:
    def pct(values: list[float], p: float) -> float:
        values = sorted(values)
        return values[min(len(values) - 1, int(p / 100 * len(values)))] * 1000 if values else 0.0

    wall = st["wall"]
    print(
        f"\nscenario: {sc['rate_per_s']}/s for {sc['duration_s']} s, {sc['servers']} servers × "
        f"{sc['gunicorn_workers']} workers × {sc['gunicorn_threads']} threads, "
        f"{sc['job_workers']} job workers; CPUs {os.cpu_count()}"
    )
    print(
        f"{'action':18} {'n':>5} {'/s':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
        f" {'p95 from arrival':>16} errors"
    )
    n_all = 0
    over: list[str] = []
    errors_all = 0
    for name in st["names"]:
        got = st["results"].get(name, [])
        if not got:
            continue
        ok = [e for e, s in got if 200 <= s < 300]
        errors: dict[int, int] = defaultdict(int)
        for _, s in got:
            if not 200 <= s < 300:
                errors[s] += 1
        errors_all += sum(errors.values())
        n_all += len(got)
        times = [e for e, _ in got]
        p95_arrival = pct(st["from_arrival"][name], 95)
        if p95_arrival > sc.get("p95_bar_ms", 100):
            over.append(name)
        print(
            f"{name:18} {len(got):5d} {len(got) / wall:6.2f} {pct(times, 50):8.0f} "
            f"{pct(times, 95):8.0f} {pct(times, 99):8.0f} {p95_arrival:16.0f}"
            f" {dict(errors) or '-'}" + ("" if ok else "  (none succeeded)")
        )
    print(f"{'all':18} {n_all:5d} {n_all / wall:6.2f}")
    print(f"client start lag p95: {pct(st['lags'], 95):.0f} ms (arrivals waiting for a person)")
    print(
        f"client CPU: {st['client_cpu']:.1f} s, {1000 * st['client_cpu'] / max(1, st['asked']):.2f}"
        f" ms per arrival ({100 * st['client_cpu'] / (wall + sc['warmup_s']):.0f} % of a core)"
    )
    asked, late = st["asked"], len(st["late"])
    sustained = not late
    print(
        f"arrivals: {asked} asked at {sc['rate_per_s']}/s (warm-up included), {asked - late} sent,"
        f" {late} not sent (no person free within {st['max_lag']:g} s)"
        + ("" if sustained else f" — NOT SUSTAINED: fewer than {sc['rate_per_s']}/s were served")
        + f"; requests under way at the end finished {st['drained']:.1f} s after the load phase"
    )
    bar = sc.get("p95_bar_ms", 100)
    print(
        f"bar (rate sustained, p95 from arrival ≤ {bar} ms for every action, 0 errors): "
        + (
            "MET"
            if sustained and not over and not errors_all
            else "NOT MET"
            + (f"; p95 over {bar} ms: {', '.join(over)}" if over else "")
            + (f"; {errors_all} errors" if errors_all else "")
        )
    )
    print(f"load average during: max {max(st['load'] or [0]):.1f}")
    if st.get("cpu"):
        # The two cores' seconds over the load phase, by role, per arrival sent (warm-up
        # included, as the CPU is; msw_send is two requests): what each costs the machine.
        served = max(1, st["asked"] - len(st["late"]))
        print(f"CPU during the load phase ({wall + sc['warmup_s']:.0f} s), by role:")
        for role, seconds in sorted(st["cpu"].items(), key=lambda kv: -kv[1]):
            print(f"  {role:45} {seconds:7.1f} s  {1000 * seconds / served:6.2f} ms an arrival")
        total = sum(st["cpu"].values())
        print(f"  {'all of these':45} {total:7.1f} s  {1000 * total / served:6.2f} ms an arrival")
    samples, seen = st["waits"]
    if samples:
        # Sessions of the servers and workers as pg_stat_activity shows them, sampled 4 times a
        # second: what a busy session is waiting for (a lock, the WAL flush, the client — "idle
        # in transaction" is a server process between two statements of one transaction).
        print(f"database sessions not idle, average of {samples} samples:")
        for (state, wait, query), n in sorted(seen.items(), key=lambda kv: -kv[1])[:8]:
            print(f"  {n / samples:5.2f}  {state:20} {wait:24} {query}")


if __name__ == "__main__":
    main()
