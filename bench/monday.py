"""Monday 9:00: a mixed workload against two app servers and two workers (issue 11 §4).

    python bench/monday.py                          # the scenario in bench/monday.json
    python bench/monday.py --scenario my.json --duration 30 --rate 5

At a steady arrival rate (Poisson arrivals, seeded: the same scenario sends the same sequence)
signed-in people do what they do at 9:00 — MSWs search the directory and send placement
requests, facilities read their inbox and update vacancies, desks record consultations — and
the public searches the directory and applies for an event; meanwhile a worker imports a
介護サービス情報公表 file uploaded at the start, and reminders of unanswered requests are
enqueued part-way. Reports throughput and p50/p95/p99 per action (from the request's start,
and the p95 from its scheduled arrival, which adds the wait for a client thread), errors, the
import's time, mail delivered, and the load average it ran under. Arrivals still waiting for a
client thread for more than `max_lag_s` (default 2), or still waiting when the load phase
ends, are not sent and are counted: then the servers did not sustain the rate.

Everything runs on 127.0.0.1: `gunicorn` ×`servers` (DEBUG off), `manage.py run_worker`
×`job_workers`, a local SMTP sink, and the clients, against the PostgreSQL database of
MONDAY_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/renkei_monday), which is
dropped and recreated on every run so that runs compare. The load generator shares the
machine with the servers, the workers and PostgreSQL: read the numbers with the load average.
"""

from __future__ import annotations

import argparse
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
from urllib.parse import urlsplit

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
    from renkei.accounts.models import User
    from renkei.testing import give_authenticator

    for user in User.objects.all():
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
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
    def __init__(self, base: str, username: str | None = None) -> None:
        self.base = base
        self.http = requests.Session()
        if username:
            self.http.get(f"{base}/accounts/login/", timeout=60)
            self.plain()
            r = self.http.post(
                f"{base}/accounts/login/",
                data={
                    "username": username,
                    "password": PASSWORD,
                    "csrfmiddlewaretoken": self.http.cookies["csrftoken"],
                },
                allow_redirects=False,
                timeout=60,
            )
            if r.status_code != 302:
                raise SystemExit(f"sign-in of {username} failed: {r.status_code}")
            self.plain()
            # The second factor, as the browser is sent to it on the first page it opens.
            from renkei.testing import totp_code

            r = self.http.post(
                f"{base}/accounts/2fa/verify/",
                data={
                    "token": totp_code(),
                    "csrfmiddlewaretoken": self.http.cookies["csrftoken"],
                },
                allow_redirects=False,
                timeout=60,
            )
            if r.status_code != 302:
                raise SystemExit(f"second factor of {username} failed: {r.status_code}")
            self.plain()
        self.lock = threading.Lock()  # one request at a time per person, as a browser tab

    def send(self, method: str, path: str, body: Any = None, **kw: Any) -> requests.Response:
        headers = {"X-CSRFToken": self.http.cookies.get("csrftoken", "")}
        if body is not None:
            headers["Content-Type"] = "application/json"
            kw["data"] = json.dumps(body)
        with self.lock:
            r = self.http.request(method, self.base + path, headers=headers, timeout=120, **kw)
            self.plain()
            return r

    def plain(self) -> None:
        """DEBUG off marks the session and CSRF cookies Secure; this bench speaks plain HTTP to
        127.0.0.1 (no TLS proxy in front), so the client keeps sending them."""
        for cookie in self.http.cookies:
            cookie.secure = False


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--scenario", default=str(Path(__file__).with_name("monday.json")))
    ap.add_argument("--duration", type=float, help="seconds of measured load (overrides)")
    ap.add_argument("--rate", type=float, help="arrivals per second (overrides)")
    args = ap.parse_args()
    sc = json.loads(Path(args.scenario).read_text())
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
    from renkei.referrals.jobs import send_referral_reminders

    bases = [f"http://127.0.0.1:{p}" for p in ports]
    people = world["people"]
    msws = [Person(bases[i % len(bases)], u) for i, u in enumerate(people["msw"])]
    facilities = [
        (Person(bases[i % len(bases)], u), code) for i, (u, code) in enumerate(people["facilities"])
    ]
    desks = [Person(bases[i % len(bases)], u) for i, u in enumerate(people["desk"])]
    operator = Person(bases[0], world["operator"])
    rnd = random.Random(sc["seed"])
    counter = iter(range(10**9))
    local = threading.local()

    def public() -> Person:
        if not hasattr(local, "people"):
            local.people = [Person(b) for b in bases]
        p: Person = rnd.choice(local.people)
        return p

    def act(name: str) -> int:
        if name == "public_search":
            q = rnd.choice(QUERIES)
            return public().send("GET", f"/api/v1/directory/facilities?q={q}").status_code
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
            return (
                public()
                .send("POST", f"/api/v1/events/{world['event']}/applications", body)
                .status_code
            )
        if name == "msw_search":
            return (
                rnd.choice(msws)
                .send("GET", "/api/v1/directory/facilities?capability=suction&vacancy=true")
                .status_code
            )
        if name == "msw_send":
            msw = rnd.choice(msws)
            r = msw.send("POST", "/api/v1/referrals/cases", CASE)
            if r.status_code != 201:
                return r.status_code
            targets = [code for _, code in rnd.sample(facilities, k=3)]
            deadline = time.strftime(
                "%Y-%m-%dT%H:%M:%S+09:00", time.localtime(time.time() + 172800)
            )
            return msw.send(
                "POST",
                f"/api/v1/referrals/cases/{r.json()['code']}/requests",
                {"facilities": targets, "deadline": deadline},
            ).status_code
        if name == "facility_inbox":
            return rnd.choice(facilities)[0].send("GET", "/api/v1/referrals/requests").status_code
        if name == "facility_vacancy":
            person, code = rnd.choice(facilities)
            status = rnd.choice(["available", "few", "none"])
            # A count goes with places left only ("none" with a count is refused, 400).
            body = {"status": status, "count": rnd.randint(1, 5) if status != "none" else None}
            return person.send(
                "PUT", f"/api/v1/directory/facilities/{code}/vacancy", body
            ).status_code
        if name == "desk_consult":
            body = {
                "received_at": time.strftime("%Y-%m-%dT%H:%M:%S+09:00"),
                "channel": "phone",
                "asker_type": "family",
                "topics": [world["topic"]],
                "scene": "daily",
                "summary": "訪問看護を利用したいが、どこに相談すればよいか。",
            }
            return (
                rnd.choice(desks)
                .send("POST", f"/api/v1/desk/desks/{world['desk']}/consultations", body)
                .status_code
            )
        raise ValueError(name)

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
    r = operator.http.post(
        f"{operator.base}/directory/imports/",
        data={"format": "auto", "csrfmiddlewaretoken": operator.http.cookies["csrftoken"]},
        files={"file": ("jigyosho_510.csv", rows, "text/csv")},
        allow_redirects=False,
        timeout=300,
    )
    assert r.status_code == 302, r.status_code
    import_started = time.monotonic()

    mix = sc["mix"]
    names, weights = list(mix), list(mix.values())
    results: dict[str, list[tuple[float, int]]] = defaultdict(list)
    lags: list[float] = []
    from_arrival: dict[str, list[float]] = defaultdict(list)
    late: list[str] = []
    lock = threading.Lock()

    max_lag = float(sc.get("max_lag_s", 2))

    def timed(name: str, scheduled: float, measured: bool) -> None:
        start = time.monotonic()
        if start - scheduled > max_lag:
            # The client is that far behind its arrivals: sending this one now would measure
            # the queue in front of it, not the servers (and grow the backlog). Counted.
            with lock:
                late.append(name)
            return
        try:
            status = act(name)
        except requests.RequestException:
            status = 0
        end = time.monotonic()
        if measured:
            with lock:
                results[name].append((end - start, status))
                from_arrival[name].append(end - scheduled)
                lags.append(start - scheduled)

    total = sc["warmup_s"] + sc["duration_s"]
    reminders_sent = False
    load = []
    pool = ThreadPoolExecutor(sc["client_threads"])
    futures = []
    begin = time.monotonic()
    t = 0.0
    while t < total:
        t += rnd.expovariate(sc["rate_per_s"])
        delay = begin + t - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        if not reminders_sent and t >= sc["warmup_s"] + sc["reminders_at_s"]:
            send_referral_reminders.enqueue()
            reminders_sent = True
        if int(t) % 10 == 0:
            load.append(os.getloadavg()[0])
        name = rnd.choices(names, weights)[0]
        futures.append(pool.submit(timed, name, begin + t, t >= sc["warmup_s"]))
    wall = time.monotonic() - begin - sc["warmup_s"]
    # Arrivals are open-loop and the pool's queue is unbounded: when the servers answer fewer
    # than rate_per_s, the arrivals pile up in it, and waiting for all of them (as this script
    # did until session 9) drained the backlog at the servers' pace for minutes after the load
    # phase — the "hang" of session 7. Arrivals still queued when the load phase ends are
    # dropped and counted: the rate was not sustained. Requests under way finish.
    pool.shutdown(wait=True, cancel_futures=True)
    drained = time.monotonic() - begin - sc["warmup_s"] - wall
    never_started = sum(f.cancelled() for f in futures)

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

    def pct(values: list[float], p: float) -> float:
        values = sorted(values)
        return values[min(len(values) - 1, int(p / 100 * len(values)))] * 1000

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
    for name in names:
        got = results.get(name, [])
        if not got:
            continue
        ok = [e for e, s in got if 200 <= s < 300]
        errors = defaultdict(int)
        for _, s in got:
            if not 200 <= s < 300:
                errors[s] += 1
        n_all += len(got)
        times = [e for e, _ in got]
        print(
            f"{name:18} {len(got):5d} {len(got) / wall:6.2f} {pct(times, 50):8.0f} "
            f"{pct(times, 95):8.0f} {pct(times, 99):8.0f} {pct(from_arrival[name], 95):16.0f}"
            f" {dict(errors) or '-'}" + ("" if ok else "  (none succeeded)")
        )
    print(f"{'all':18} {n_all:5d} {n_all / wall:6.2f}")
    print(f"client start lag p95: {pct(lags, 95):.0f} ms (arrivals waiting for a client thread)")
    asked, unsent = len(futures), never_started + len(late)
    print(
        f"arrivals: {asked} asked at {sc['rate_per_s']}/s (warm-up included), "
        f"{asked - unsent} sent, {unsent} not sent ({len(late)} over {max_lag:g} s late, "
        f"{never_started} still queued at the end)"
        + (
            f" — NOT SUSTAINED: the servers answered fewer than {sc['rate_per_s']}/s"
            if unsent
            else ""
        )
        + f"; requests under way at the end finished {drained:.0f} s after the load phase"
    )
    print(
        f"import: {run_.status}, {run_.processed_rows}/{run_.total_rows} rows"
        + (f" in {import_s:.0f} s" if import_s else "")
    )
    left = ProcrastinateJob.objects.filter(task_name=mail.deliver.name).exclude(status="succeeded")
    print(f"mail delivered to the sink: {len(sink.messages)}; mail jobs not done: {left.count()}")
    print(f"load average during: max {max(load or [0]):.1f}; after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
