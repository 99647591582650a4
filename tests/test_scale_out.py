"""Two app servers and two workers on one PostgreSQL database (issue 11 §2, ADR 0039).

Run by `.ci/multiprocess.sh` (RENKEI_MULTIPROCESS=1, PostgreSQL); skipped in the ordinary suite.
Two gunicorn servers and two `run_worker` workers are real processes against this test's
database; a tiny SMTP sink in this process counts what they send. It drives, across both servers:

- a placement round: the case created on one server, the requests sent from the other, answers
  on both, then confirmations racing on both: exactly one placement;
- a burst of 100 event applications split across both: no overfilled event;
- an open-data import uploaded to one server, whose worker is killed mid-import: another worker
  finishes it, nothing lost or doubled;
- mail: the SMTP server refuses connections during the placement round (no request fails), and
  at the end every message enqueued was delivered exactly once (workers keep their finished
  jobs here, `--delete-jobs never`, so the queue itself is the list of what was expected).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

import pytest
import requests
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from renkei.accounts.models import Membership, OrgKind, Role, TwoFactorPolicy, User
from renkei.directory.models import Facility, FacilityKind, ImportRun, VacancyStatus
from renkei.directory.tests.test_import_kaigo import kaigo_csv, kaigo_row
from renkei.events.models import Applicant
from renkei.events.testing import application_data, make_event, person
from renkei.lib import jobs, mail
from renkei.ops.models import JobFailure
from renkei.ops.testing import SmtpSink, start_worker, stop, wait_for, worker_env
from renkei.referrals.models import CaseEvent, CaseStatus, EventKind, PlacementCase
from renkei.referrals.testing import make_hospital, make_receiver
from renkei.testing import DEMO_PASSWORD, give_authenticator, make_member, make_org, totp_code

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        os.getenv("RENKEI_MULTIPROCESS") != "1" or connection.vendor != "postgresql",
        reason="two servers and two workers on PostgreSQL: .ci/multiprocess.sh",
    ),
]

PORTS = (8160, 8161)
SMTP_PORT = 8162
APPLICATIONS = 100
CAPACITY = 30
IMPORT_ROWS = 12_000
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


class Browser:
    """One person's session on one server (a real HTTP client with cookies and CSRF)."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.http = requests.Session()

    def login(self, username: str) -> Browser:
        self.http.get(f"{self.base}/accounts/login/", timeout=60)
        r = self.http.post(
            f"{self.base}/accounts/login/",
            data={
                "username": username,
                "password": DEMO_PASSWORD,
                "csrfmiddlewaretoken": self.http.cookies["csrftoken"],
            },
            allow_redirects=False,
            timeout=60,
        )
        assert r.status_code == 302, r.text[:2000]
        # Staff who read named data pass the second factor (a known test authenticator).
        user = User.objects.get(username=username)
        if TwoFactorPolicy.required_for(user):
            give_authenticator(user)
            r = self.http.post(
                f"{self.base}/accounts/2fa/verify/",
                data={"token": totp_code(), "csrfmiddlewaretoken": self.http.cookies["csrftoken"]},
                allow_redirects=False,
                timeout=60,
            )
            assert r.status_code == 302, r.text[:2000]
        return self

    def on(self, port: int) -> Browser:
        """The same session (cookies) through the other server."""
        other = Browser(port)
        other.http.cookies.update(self.http.cookies)
        return other

    def post(self, path: str, body: dict[str, Any]) -> requests.Response:
        return self.http.post(
            self.base + path,
            data=json.dumps(body),
            headers={
                "Content-Type": "application/json",
                "X-CSRFToken": self.http.cookies.get("csrftoken", ""),
            },
            timeout=120,
        )

    def get(self, path: str) -> requests.Response:
        return self.http.get(self.base + path, timeout=120)


def _server(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "renkei.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--timeout",
            "120",
        ],
        env=env,
        cwd=django_settings.BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _up(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
    except requests.RequestException:
        return False


def _worker_ids() -> set[int]:
    from procrastinate.contrib.django.models import ProcrastinateWorker

    return set(ProcrastinateWorker.objects.values_list("id", flat=True))


class Workers:
    """`run_worker` processes, each known by its row in procrastinate_workers."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.by_id: dict[int, subprocess.Popen[bytes]] = {}
        self.output: list[str] = []

    def start(self) -> int:
        before = _worker_ids()
        process = start_worker("--delete-jobs", "never", env=self.env)
        new = wait_for(
            lambda: (_worker_ids() - before) or process.poll() is not None, 120, "a worker"
        )
        assert process.poll() is None, stop(process)
        [worker_id] = new
        self.by_id[worker_id] = process
        return int(worker_id)

    def kill(self, worker_id: int) -> None:
        process = self.by_id.pop(worker_id)
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        self.output.append(stop(process))

    def stop_all(self) -> None:
        for process in self.by_id.values():
            self.output.append(stop(process))
        self.by_id.clear()


def _mail_jobs() -> list[tuple[str, str, str]]:
    from procrastinate.contrib.django.models import ProcrastinateJob

    return [
        (status, args["to"], args["subject"])
        for status, args in ProcrastinateJob.objects.filter(task_name=mail.deliver.name)
        .order_by("id")
        .values_list("status", "args")
    ]


def _subject(message: Any) -> str:
    return str(make_header(decode_header(message["Subject"])))


@pytest.fixture
def world(settings: Any, tmp_path: Path) -> Iterator[dict[str, Any]]:
    settings.JOBS_BACKEND = "procrastinate"
    settings.MEDIA_ROOT = tmp_path / "media"
    # The servers know the production hashers only (the suite's MD5 is not among them).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs")
    msw = make_hospital("湘南さくら総合病院", username="alice")
    receivers = [
        make_receiver(
            name,
            kind,
            username=username,
            capability_codes=["suction"],
            vacancy=VacancyStatus.AVAILABLE,
            confirmed_days_ago=1,
            accepts_dementia=True,
        )
        for name, kind, username in [
            ("特養なぎさ苑", FacilityKind.TOKUYO, "nagisa"),
            ("老健ひかりの丘", FacilityKind.ROKEN, "hikari"),
            ("特養みどり荘", FacilityKind.TOKUYO, "midori"),
        ]
    ]
    organiser = make_org("藤沢市 在宅医療・介護連携支援センター", OrgKind.COORDINATION_CENTER)
    event = make_event(organiser, capacity=CAPACITY)
    operator = make_member(make_org("運営事務局", OrgKind.OPERATOR), Role.ADMIN, username="op")
    yield {"msw": msw, "receivers": receivers, "event": event, "operator": operator}


@pytest.mark.django_db(transaction=True)  # the servers and workers read what this test commits
def test_two_servers_and_two_workers_on_one_database(world: dict[str, Any], settings: Any) -> None:
    started = time.monotonic()
    env = worker_env(
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(SMTP_PORT),
        EMAIL_USE_TLS="False",
        JOBS_RETRY_FIRST_SECONDS="1",
        JOBS_RETRY_MAX_SECONDS="2",
        # One test client address sends the whole burst; the limits are not under test here.
        RATE_LIMITS="public_form=100000/h,search=100000/m",
        DB_CONN_MAX_AGE="60",
    )
    servers = [_server(port, env) for port in PORTS]
    workers = Workers(env)
    sink = SmtpSink(SMTP_PORT)  # not started: the mail server refuses connections at first
    timings: dict[str, float] = {}
    try:
        workers.start()  # while the servers boot
        workers.start()
        for port, server in zip(PORTS, servers, strict=True):
            wait_for(lambda p=port, s=server: _up(p) or s.poll() is not None, 120, "a server")
            assert server.poll() is None, stop(server)
        timings["started"] = time.monotonic() - started

        _placement_round(world)
        timings["placement"] = time.monotonic() - started
        # Mail was enqueued and the workers tried it against a closed port; no request failed.
        wait_for(
            lambda: JobFailure.objects.filter(task_name=mail.deliver.name).exists(),
            60,
            "a refused delivery",
        )
        assert not sink.messages
        sink.start()

        _burst_of_applications(world["event"])
        timings["burst"] = time.monotonic() - started

        _import_with_a_worker_killed(world["operator"], workers, settings)
        timings["import"] = time.monotonic() - started

        wait_for(
            lambda: all(status == "succeeded" for status, _, _ in _mail_jobs()),
            120,
            "every mail job to succeed",
        )
        time.sleep(2)  # a duplicate delivery would arrive now
    finally:
        sink.stop()
        workers.stop_all()
        outputs = [stop(s) for s in servers]
    log = "\n".join(workers.output + outputs)[-6000:]

    expected = Counter((to, subject) for _, to, subject in _mail_jobs())
    delivered = Counter((m["To"], _subject(m)) for m in sink.messages)
    assert delivered == expected, log
    assert len(delivered) > APPLICATIONS  # the applicants' mails and the placement round's
    recipients = {to for to, _ in delivered}
    for n in range(APPLICATIONS):
        assert f"burst{n:03d}@example.jp" in recipients
    for _, member in world["receivers"]:
        assert member.user.email in recipients  # each facility heard of its request
    assert world["msw"].user.email in recipients  # the MSW heard the answers
    refused = JobFailure.objects.filter(task_name=mail.deliver.name).first()
    assert refused is not None and refused.will_retry
    assert "Connection refused" in refused.error or "ConnectionRefusedError" in refused.error
    print("timings (s):", {k: round(v, 1) for k, v in timings.items()})
    print(f"mails: {sum(delivered.values())} delivered once each to {len(recipients)} addresses")


def _placement_round(world: dict[str, Any]) -> None:
    a, b = PORTS
    msw: Membership = world["msw"]
    receivers: list[tuple[Facility, Membership]] = world["receivers"]
    alice = Browser(a).login(msw.user.username)
    r = alice.post("/api/v1/referrals/cases", CASE)
    assert r.status_code == 201, r.text
    code = r.json()["code"]

    alice_b = alice.on(b)
    deadline = (timezone.now() + dt.timedelta(days=2)).isoformat()
    r = alice_b.post(
        f"/api/v1/referrals/cases/{code}/requests",
        {"facilities": [str(f.code) for f, _ in receivers], "deadline": deadline},
    )
    assert r.status_code == 201, r.text
    request_of = {x["facility_name"]: x["code"] for x in r.json()}

    answers = [("特養なぎさ苑", a, "accepted"), ("老健ひかりの丘", b, "accepted")]
    answers.append(("特養みどり荘", a, "declined"))
    for (facility, member), (name, port, answer) in zip(receivers, answers, strict=True):
        assert facility.name == name
        staff = Browser(port).login(member.user.username)
        body: dict[str, Any] = {"answer": answer}
        if answer == "declined":
            body["decline_reason"] = "care_level"
        r = staff.post(f"/api/v1/referrals/requests/{request_of[name]}/answer", body)
        assert r.status_code == 200, r.text

    # Both acceptances confirmed at once, twice each, through both servers.
    tries = [
        (alice, request_of["特養なぎさ苑"]),
        (alice_b, request_of["老健ひかりの丘"]),
        (alice_b, request_of["特養なぎさ苑"]),
        (alice, request_of["老健ひかりの丘"]),
    ]
    barrier = threading.Barrier(len(tries))

    def confirm(attempt: tuple[Browser, str]) -> int:
        browser, request_code = attempt
        barrier.wait(timeout=30)
        r = browser.post(f"/api/v1/referrals/cases/{code}/confirm", {"request": request_code})
        assert r.status_code < 500, r.text
        return r.status_code

    with ThreadPoolExecutor(len(tries)) as pool:
        statuses = list(pool.map(confirm, tries))
    assert statuses.count(200) == 1, statuses
    assert all(s in (200, 400, 409) for s in statuses), statuses
    case = PlacementCase.objects.get(code=code)
    assert case.status == CaseStatus.DECIDED
    assert case.placed_facility_id in {f.pk for f, _ in receivers[:2]}
    assert CaseEvent.objects.filter(case=case, kind=EventKind.DECIDED).count() == 1


def _burst_of_applications(event: Any) -> None:
    def apply(n: int) -> int:
        data = application_data([person(n, tag="burst")], contact_email=f"burst{n:03d}@example.jp")
        r = requests.post(
            f"http://127.0.0.1:{PORTS[n % 2]}/api/v1/events/{event.code}/applications",
            data=data.model_dump_json(),
            headers={"Content-Type": "application/json"},
            timeout=120,
        )
        assert r.status_code == 201, r.text
        return r.status_code

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(apply, range(APPLICATIONS))) == [201] * APPLICATIONS
    applicants = Applicant.objects.filter(event=event)
    assert applicants.count() == APPLICATIONS
    assert applicants.filter(status=Applicant.Status.CONFIRMED).count() == CAPACITY
    assert applicants.filter(status=Applicant.Status.WAITLISTED).count() == APPLICATIONS - CAPACITY
    positions = sorted(applicants.values_list("position", flat=True))
    assert positions == list(range(1, APPLICATIONS + 1))


def _import_with_a_worker_killed(operator: Membership, workers: Workers, settings: Any) -> None:
    from procrastinate.contrib.django.models import ProcrastinateJob

    from renkei.directory.imports.runs import import_upload

    rows = kaigo_csv(
        *(
            kaigo_row(
                事業所番号=f"147{i:07d}",
                事業所名=f"事業所{i}",
                電話番号=f"0466-{i % 100:02d}-{i % 10000:04d}",
            )
            for i in range(IMPORT_ROWS)
        )
    )
    operator_b = Browser(PORTS[1]).login(operator.user.username)
    r = operator_b.http.post(
        f"{operator_b.base}/directory/imports/",
        data={"format": "auto", "csrfmiddlewaretoken": operator_b.http.cookies["csrftoken"]},
        files={"file": ("jigyosho_510.csv", rows, "text/csv")},
        allow_redirects=False,
        timeout=120,
    )
    assert r.status_code == 302, r.text[:2000]
    run = ImportRun.objects.get()

    # Kill the worker that runs it once the first batch is in.
    wait_for(
        lambda: ImportRun.objects.filter(pk=run.pk, processed_rows__gt=0).exists(),
        120,
        "the first batch",
    )
    job = ProcrastinateJob.objects.get(task_name=import_upload.name)
    assert job.status == "doing" and job.worker_id in workers.by_id
    workers.kill(job.worker_id)
    run.refresh_from_db()
    assert run.status == ImportRun.Status.RUNNING and run.processed_rows < IMPORT_ROWS
    workers.start()  # systemd's Restart=always

    # The stalled-job sweep (every minute in production) finds it once the dead worker's
    # heartbeat is older than the threshold; living workers beat every 10 s.
    settings.JOBS_STALLED_SECONDS = 15
    jobs.import_job_modules()
    time.sleep(settings.JOBS_STALLED_SECONDS + 1)
    assert jobs.retry_stalled_jobs() == 1
    wait_for(lambda: ImportRun.objects.get(pk=run.pk).finished, 180, "another worker to finish it")
    run.refresh_from_db()
    assert run.status == ImportRun.Status.DONE, run.message
    assert run.total_rows == run.processed_rows == IMPORT_ROWS
    assert Facility.objects.filter(name__startswith="事業所").count() == IMPORT_ROWS
