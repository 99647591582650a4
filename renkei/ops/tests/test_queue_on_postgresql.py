"""The Procrastinate backend on PostgreSQL, with real workers in subprocesses."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction

from renkei.accounts.models import AuditEntry, Membership, OrgKind, Role
from renkei.directory.imports.runs import import_upload, start_import
from renkei.directory.models import Facility, ImportRun
from renkei.directory.tests.test_import_kaigo import kaigo_csv, kaigo_row
from renkei.lib import jobs, mail
from renkei.ops.models import JobFailure
from renkei.ops.testing import SmtpSink, start_worker, stop, wait_for, worker_env
from renkei.testing import make_member, make_org

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="Procrastinate needs PostgreSQL"),
]

SMTP_PORT = 8241


@pytest.fixture(autouse=True)
def _procrastinate(settings: Any, tmp_path: Path) -> None:
    settings.JOBS_BACKEND = "procrastinate"
    settings.MEDIA_ROOT = tmp_path / "media"
    with connection.cursor() as cursor:
        # Procrastinate's tables are not Django's: a flush between tests leaves them alone.
        cursor.execute("DELETE FROM procrastinate_jobs")


def queued(task: jobs.Job) -> list[tuple[str, dict[str, Any]]]:
    from procrastinate.contrib.django.models import ProcrastinateJob

    return list(
        ProcrastinateJob.objects.filter(task_name=task.name)
        .order_by("id")
        .values_list("status", "args")
    )


@pytest.mark.django_db
def test_a_job_is_a_row_of_the_callers_transaction() -> None:
    """Rolled back: no job. Committed: one job, waiting for a worker."""
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        mail.send(to=["a@example.jp"], subject="件名", body="本文")
        _ = 1 / 0
    assert queued(mail.deliver) == []
    with transaction.atomic():
        mail.send(to=["a@example.jp"], subject="件名", body="本文")
    [(status, args)] = queued(mail.deliver)
    assert status == "todo" and args["to"] == "a@example.jp"


@pytest.mark.django_db
def test_a_job_is_the_row_procrastinate_writes() -> None:
    """The backend's one-statement defer (ADR 0069) writes the row Procrastinate's own
    task.defer writes, arguments full of what quoting touches included."""
    from procrastinate.contrib.django import app
    from procrastinate.contrib.django.models import ProcrastinateJob

    body = '本文 "引用" \\ バックスラッシュ\n改行\t{"json": [1, 2]} \'single\' \x7f'
    kwargs = {"to": "a@example.jp", "subject": '件名 "', "body": body, "n": [1, None, True]}
    with transaction.atomic():
        mail.deliver.enqueue(**kwargs)
        app.tasks[mail.deliver.name].defer(**kwargs)
    columns = ("queue_name", "task_name", "priority", "lock", "queueing_lock", "args", "status")
    ours, theirs = ProcrastinateJob.objects.order_by("id").values_list(*columns, "scheduled_at")
    assert ours == theirs
    assert ours[5] == kwargs and ours[1] == mail.deliver.name and ours[6] == "todo"


@pytest.mark.django_db
def test_jobs_deferred_together_are_the_rows_procrastinate_writes(monkeypatch: Any) -> None:
    """enqueue_each writes its jobs in one statement a batch (ADR 0067), each the row
    task.defer writes for the same arguments, in the order given."""
    from django.test.utils import CaptureQueriesContext
    from procrastinate.contrib.django import app
    from procrastinate.contrib.django.models import ProcrastinateJob

    monkeypatch.setattr(jobs, "DEFER_BATCH", 2)
    calls = [
        {"to": f"{n}@example.jp", "subject": f'件名 "{n}', "body": f"本文 \\ {n}\n'x'"}
        for n in range(5)
    ]
    with transaction.atomic(), CaptureQueriesContext(connection) as ctx:
        mail.deliver.enqueue_each(calls)
    assert len(ctx.captured_queries) == 3  # 2 + 2 + 1
    with transaction.atomic():
        for kwargs in calls:
            app.tasks[mail.deliver.name].defer(**kwargs)
    columns = ("queue_name", "task_name", "priority", "lock", "queueing_lock", "args", "status")
    rows = list(ProcrastinateJob.objects.order_by("id").values_list(*columns))
    assert rows[:5] == rows[5:]
    assert [r[5] for r in rows[:5]] == calls


@pytest.mark.django_db
def test_a_send_to_several_addresses_is_one_statement() -> None:
    """mail.send_all: each text to each of its distinct addresses, all in one statement."""
    from django.test.utils import CaptureQueriesContext

    with transaction.atomic(), CaptureQueriesContext(connection) as ctx:
        sent = mail.send_all(
            [
                mail.Message(["a@example.jp", "b@example.jp", "a@example.jp", ""], "一", "本文1"),
                mail.Message([], "空", "誰にも"),
                mail.Message(["a@example.jp"], "二", "本文2", reply_to=["r@example.jp"]),
            ]
        )
    assert sent == 3 and len(ctx.captured_queries) == 1
    assert [(a["to"], a["body"], a["reply_to"]) for _, a in queued(mail.deliver)] == [
        ("a@example.jp", "本文1", []),
        ("b@example.jp", "本文1", []),
        ("a@example.jp", "本文2", ["r@example.jp"]),
    ]


@pytest.mark.django_db(transaction=True)  # the worker reads what this test commits
def test_mail_waits_for_a_mail_server_that_is_down_and_goes_once(tmp_path: Path) -> None:
    """The SMTP server refuses connections: sending returns at once, the worker retries with
    a growing pause, and once the server is back the message is delivered exactly once."""
    started = time.monotonic()
    with transaction.atomic():
        assert mail.send(to=["msw@example.jp"], subject="受入れ依頼", body="確認してください") == 1
    assert time.monotonic() - started < 1  # the request does not wait for the mail server

    sink = SmtpSink(SMTP_PORT)
    worker = start_worker(
        env=worker_env(
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(SMTP_PORT),
            EMAIL_USE_TLS="False",
            JOBS_RETRY_FIRST_SECONDS="1",
            JOBS_RETRY_MAX_SECONDS="2",
        )
    )
    try:
        wait_for(
            lambda: JobFailure.objects.filter(task_name=mail.deliver.name).count() >= 2,
            30,
            "two failed attempts",
        )
        assert sink.messages == []
        sink.start()
        wait_for(lambda: sink.messages, 30, "the message to arrive")
        wait_for(lambda: queued(mail.deliver) == [], 10, "the job to finish")
        time.sleep(1)  # a duplicate delivery would arrive now
    finally:
        sink.stop()
        output = stop(worker)
    assert [m["To"] for m in sink.messages] == ["msw@example.jp"], output
    assert "受入れ依頼" in str(sink.messages[0]["Subject"]) or sink.messages[0]["Subject"]
    failure = JobFailure.objects.filter(task_name=mail.deliver.name).first()
    assert failure is not None and failure.will_retry
    assert "Connection refused" in failure.error or "ConnectionRefusedError" in failure.error


def many_rows(n: int) -> bytes:
    return kaigo_csv(
        *(
            kaigo_row(
                事業所番号=f"147{i:07d}",
                事業所名=f"事業所{i}",
                電話番号=f"0466-{i % 100:02d}-{i % 10000:04d}",
            )
            for i in range(n)
        )
    )


def upload(operator: Membership, data: bytes) -> ImportRun:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return start_import(SimpleUploadedFile("jigyosho_510.csv", data), membership=operator)


@pytest.fixture
def operator() -> Membership:
    return make_member(make_org("運営事務局", OrgKind.OPERATOR), Role.ADMIN, username="op")


@pytest.mark.django_db(transaction=True)
def test_an_import_whose_worker_is_killed_is_resumed_by_another(
    operator: Membership, settings: Any
) -> None:
    """SIGKILL to the worker mid-import: the job's heartbeat stops, the stalled-job sweep
    queues it again, another worker imports the file to the end, without duplicates."""
    rows = 16_000
    run = upload(operator, many_rows(rows))
    assert ImportRun.objects.get(pk=run.pk).status == ImportRun.Status.QUEUED
    first = start_worker(env=worker_env())
    try:
        wait_for(
            lambda: (
                ImportRun.objects.filter(pk=run.pk)
                .exclude(status=ImportRun.Status.QUEUED, processed_rows=0)
                .exclude(status=ImportRun.Status.RUNNING, processed_rows=0)
                .exists()
                or first.poll() is not None
            ),
            120,
            "the first batch",
        )
        assert first.poll() is None, stop(first)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        stop(first)
    run.refresh_from_db()
    assert run.status == ImportRun.Status.RUNNING and 0 < run.processed_rows < rows
    [(status, _)] = queued(import_upload)
    assert status == "doing"  # as the dead worker left it

    settings.JOBS_STALLED_SECONDS = 1
    time.sleep(1.5)
    assert jobs.retry_stalled_jobs() == 1
    [(status, _)] = queued(import_upload)
    assert status == "todo"

    second = start_worker("--one-shot", "--queues", "imports", env=worker_env())
    try:
        assert second.wait(300) == 0
    finally:
        output = stop(second)
    run.refresh_from_db()
    assert run.status == ImportRun.Status.DONE, (run.message, output)
    assert run.total_rows == run.processed_rows == rows
    assert run.created + run.unchanged == rows
    assert Facility.objects.count() == rows
    assert queued(import_upload) == []


@pytest.mark.django_db
def test_an_import_out_of_retries_is_marked_failed_at_once(
    operator: Membership, settings: Any
) -> None:
    """A stalled import job that already had its retry: the job is failed and the run says
    so at once, with how far it got, and is audited. The sweep leaves its own job alone."""
    run = upload(operator, many_rows(10))
    ImportRun.objects.filter(pk=run.pk).update(
        status=ImportRun.Status.RUNNING, processed_rows=4000, total_rows=9000
    )
    jobs.retry_stalled_jobs.enqueue()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE procrastinate_jobs SET status = 'doing', attempts = 1"
            " WHERE task_name IN (%s, %s)",
            [import_upload.name, jobs.retry_stalled_jobs.name],
        )
    settings.JOBS_STALLED_SECONDS = 1
    assert jobs.retry_stalled_jobs() == 1
    assert [s for s, _ in queued(jobs.retry_stalled_jobs)] == ["doing"]
    [(status, _)] = queued(import_upload)
    assert status == "failed"
    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED
    assert "4,000行目付近まで反映済み" in run.message
    assert AuditEntry.objects.filter(
        action="directory.import_interrupted", target_id=str(run.code)
    ).exists()


@pytest.mark.django_db
def test_every_job_is_known_to_procrastinate_and_scheduled() -> None:
    """Each app's jobs.py is imported and each job registered; periodic ones are scheduled."""
    from procrastinate.contrib.django import app

    jobs.import_job_modules()
    assert set(jobs.registry) - set(app.tasks) <= {
        name
        for name in jobs.registry
        if ".tests." in name  # defined by test modules
    }
    scheduled = {p.task.name for p in app.periodic_registry.periodic_tasks.values()}
    assert {j.name for j in jobs.registry.values() if j.periodic} <= scheduled
