"""Jobs on the immediate backend (the SQLite demo, and the default test run)."""

from __future__ import annotations

import datetime as dt
import os
import time
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from renkei.accounts.models import AuditEntry, Membership, OrgKind, Role, User
from renkei.directory.jobs import purge_import_files
from renkei.directory.models import Facility, ImportRun
from renkei.lib import jobs
from renkei.ops.models import JobFailure
from renkei.testing import make_member, make_org, sign_in

SAMPLE = (
    Path(__file__).parents[2] / "directory" / "tests" / "data" / "opendata" / "jigyosho_430.csv"
)


@pytest.fixture
def operator() -> Membership:
    return make_member(make_org("運営事務局", OrgKind.OPERATOR), Role.ADMIN, username="op")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite demo's path")
def test_demo_upload_returns_at_once_and_a_thread_imports_it(
    client: Client, operator: Membership, settings: Any, tmp_path: Path
) -> None:
    """On the immediate backend an upload is queued, the page answers, and the import runs in
    a thread after commit; the detail page shows its progress from the run's record."""
    settings.JOBS_IMMEDIATE_THREADS = True
    settings.MEDIA_ROOT = tmp_path / "media"
    sign_in(client, operator.user)
    f = SimpleUploadedFile(SAMPLE.name, SAMPLE.read_bytes(), content_type="text/csv")
    response = client.post(reverse("directory:imports"), {"file": f, "format": "auto"})
    assert response.status_code == 302
    run = ImportRun.objects.get()
    deadline = time.monotonic() + 30
    while not ImportRun.objects.get(pk=run.pk).finished and time.monotonic() < deadline:
        time.sleep(0.05)
    run.refresh_from_db()
    assert (run.status, run.created) == (ImportRun.Status.DONE, 40)
    assert Facility.objects.count() == 40
    assert "取込が完了しました" in client.get(response["Location"]).content.decode()


@jobs.job(retries=3)
def broken(*, n: int) -> None:
    raise RuntimeError(f"壊れています {n}")


@pytest.mark.django_db
def test_a_failed_job_is_recorded_for_the_operator(
    django_capture_on_commit_callbacks: Any,
) -> None:
    """The failure reaches the admin's list with its error; the caller never sees it."""
    with django_capture_on_commit_callbacks(execute=True):
        broken.enqueue(n=7)
    failure = JobFailure.objects.get()
    assert failure.task_name == broken.name and failure.job_id is None
    assert "RuntimeError: 壊れています 7" in failure.error


def test_cron_in_japan_time_is_moved_to_utc() -> None:
    """Japan keeps no summer time: the hour moves back nine hours; days must stay '*'."""
    assert jobs.cron_in_utc("0 8 * * *") == "0 23 * * *"
    assert jobs.cron_in_utc("15 4,12 * * *") == "15 3,19 * * *"
    assert jobs.cron_in_utc("*/10 * * * *") == "*/10 * * * *"
    for refused in ("0 8 * * 1", "0 8-10 * * *", "0 8 1 * *", "* * * *"):
        with pytest.raises(ValueError):
            jobs.cron_in_utc(refused)


def test_every_periodic_job_can_be_scheduled() -> None:
    """Each app's jobs.py is found, and every periodic expression converts."""
    jobs.import_job_modules()
    periodic = {j.name: j.periodic for j in jobs.registry.values() if j.periodic}
    assert {
        "renkei.lib.jobs.retry_stalled_jobs",
        "renkei.directory.jobs.sweep_stalled_imports",
        "renkei.directory.jobs.purge_import_files",
        "renkei.referrals.jobs.send_referral_reminders",
        "renkei.referrals.jobs.expire_referral_requests",
        "renkei.desk.jobs.send_desk_followup_reminders",
        "renkei.accounts.jobs.clear_expired_sessions",
    } <= set(periodic)
    for expression in periodic.values():
        assert expression is not None
        jobs.cron_in_utc(expression)


def test_back_off_doubles_up_to_the_limit(settings: Any) -> None:
    settings.JOBS_RETRY_FIRST_SECONDS, settings.JOBS_RETRY_MAX_SECONDS = 15, 3600
    assert [jobs.backoff_seconds(a) for a in range(10)] == [
        15,
        30,
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
        3600,
    ]


@pytest.mark.django_db
def test_uploaded_files_are_deleted_after_the_keep_days_and_audited(
    operator: Membership, settings: Any, tmp_path: Path
) -> None:
    """Files of runs that ended more than DIRECTORY_IMPORT_KEEP_DAYS ago go, audited; recent
    and unfinished runs keep theirs; an orphan file goes once it is that old."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DIRECTORY_IMPORT_KEEP_DAYS = 30
    folder = tmp_path / "media" / "imports"
    folder.mkdir(parents=True)
    now = timezone.now()
    old = ImportRun.objects.create(
        filename="old.csv", status=ImportRun.Status.DONE, finished_at=now - dt.timedelta(days=31)
    )
    recent = ImportRun.objects.create(
        filename="recent.csv", status=ImportRun.Status.DONE, finished_at=now - dt.timedelta(days=29)
    )
    running = ImportRun.objects.create(
        filename="running.csv",
        status=ImportRun.Status.RUNNING,
        started_at=now - dt.timedelta(days=40),
    )
    for run in (old, recent, running):
        (folder / f"{run.code}.csv").write_bytes(b"x" * 10)
    orphan = folder / "7f1c2a8e-0000-4000-8000-000000000000.zip"
    orphan.write_bytes(b"y")
    stale = (now - dt.timedelta(days=31)).timestamp()
    os.utime(orphan, (stale, stale))

    assert purge_import_files() == 2
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [f"{recent.code}.csv", f"{running.code}.csv"]
    )
    entries = AuditEntry.objects.filter(action="directory.import_file_deleted")
    assert {e.target_id for e in entries} == {str(old.code), ""}
    assert {e.detail["bytes"] for e in entries} == {10, 1}
    assert purge_import_files() == 0  # nothing twice


@pytest.mark.django_db
def test_run_worker_once_runs_the_periodic_jobs_on_sqlite(
    operator: Membership, settings: Any
) -> None:
    """On the immediate backend `run_worker --once` runs each periodic job (the stall sweep
    among them) in this process."""
    stale = timezone.now() - dt.timedelta(seconds=settings.DIRECTORY_IMPORT_STALL_SECONDS + 5)
    run = ImportRun.objects.create(
        filename="dead.csv", status=ImportRun.Status.RUNNING, started_at=stale, heartbeat_at=stale
    )
    call_command("run_worker", "--once", stdout=StringIO())
    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED


@pytest.mark.django_db
def test_only_superusers_and_operator_staff_see_the_job_lists(
    client: Client, operator: Membership
) -> None:
    """Job arguments carry ids and addresses: other staff are refused, anonymous is sent to
    the admin's login."""
    url = reverse("admin:ops_jobfailure_changelist")
    assert client.get(url).status_code == 302
    hospital_staff = make_member(make_org("さくら病院"), Role.MSW, username="staff")
    User.objects.filter(pk=hospital_staff.user.pk).update(is_staff=True)
    sign_in(client, User.objects.get(pk=hospital_staff.user.pk))
    assert client.get(url).status_code == 403
    User.objects.filter(pk=operator.user.pk).update(is_staff=True)
    sign_in(client, User.objects.get(pk=operator.user.pk))
    assert client.get(url).status_code == 200
    root = User.objects.create_superuser("root-admin", "root@example.jp", "pw-12345678")
    sign_in(client, root)
    assert client.get(url).status_code == 200
