"""Request ids in logs and jobs, /metrics, and what /healthz says about the replica, queue and cache."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest
from django.core.cache import cache
from django.core.mail import EmailMessage
from django.db import DatabaseError, connection, transaction
from django.test import Client

from renkei.accounts.models import OrgKind, Role, User
from renkei.directory.models import ImportRun
from renkei.events.testing import application_data, make_event, person
from renkei.lib import jobs, mail, observability, replica
from renkei.ops import monitoring
from renkei.testing import make_member, make_org, sign_in

seen: list[tuple[str, str]] = []


@jobs.job(retries=0)
def remember_context() -> None:
    seen.append((observability.request_id.get(), observability.job_label.get()))


def _json_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


@pytest.fixture
def json_log() -> Any:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(observability.ContextFilter())
    handler.setFormatter(observability.JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield stream
    root.removeHandler(handler)


@pytest.mark.django_db
def test_every_response_carries_a_request_id(client: Client) -> None:
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert len(first) == 32 and first != second
    # The load balancer's id is kept when sane, replaced when not.
    assert client.get("/healthz", HTTP_X_REQUEST_ID="lb-1234abcd")["X-Request-ID"] == "lb-1234abcd"
    odd = client.get("/healthz", HTTP_X_REQUEST_ID="<script>")["X-Request-ID"]
    assert odd != "<script>" and len(odd) == 32


def test_log_lines_are_json_with_the_request_id_and_job(json_log: io.StringIO) -> None:
    log = logging.getLogger("renkei.test")
    with observability.bound("req-00000001", "renkei.lib.mail.deliver#7"):
        log.warning("送信に失敗しました: %s", "x@example.jp")
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("failed")
    log.warning("outside")
    first, second, third = _json_lines(json_log)
    assert first["message"] == "送信に失敗しました: x@example.jp"
    assert first["level"] == "WARNING" and first["logger"] == "renkei.test"
    assert first["request_id"] == "req-00000001"
    assert first["job"] == "renkei.lib.mail.deliver#7"
    assert "ValueError: boom" in second["exception"]
    assert "request_id" not in third and "job" not in third


@pytest.mark.django_db
def test_a_job_runs_with_the_id_of_the_request_that_enqueued_it(
    django_capture_on_commit_callbacks: Any,
) -> None:
    seen.clear()
    with observability.bound("req-00000002"), django_capture_on_commit_callbacks(execute=True):
        remember_context.enqueue()
    assert seen == [("req-00000002", remember_context.name)]
    with pytest.raises(TypeError):
        remember_context.enqueue(_request_id="forged-000")


@pytest.mark.django_db
def test_the_mail_of_a_request_is_delivered_under_its_id(
    client: Client, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    delivered: list[str] = []
    monkeypatch.setattr(
        EmailMessage,
        "send",
        lambda self, *a, **k: delivered.append(observability.request_id.get()),
    )
    event = make_event(make_org("えびな在宅医療相談室", OrgKind.COORDINATION_CENTER))
    data = application_data([person(1)], contact_email="office@example.jp")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/v1/events/{event.code}/applications",
            data.model_dump_json(),
            content_type="application/json",
            HTTP_X_REQUEST_ID="apply-0000001",
        )
    assert response.status_code == 201, response.content
    assert delivered and set(delivered) == {"apply-0000001"}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="Procrastinate needs PostgreSQL")
@pytest.mark.django_db
def test_the_queued_job_stores_the_request_id(settings: Any) -> None:
    from procrastinate.contrib.django.models import ProcrastinateJob

    settings.JOBS_BACKEND = "procrastinate"
    with observability.bound("req-00000003"), transaction.atomic():
        remember_context.enqueue()
    job = ProcrastinateJob.objects.get(task_name=remember_context.name)
    assert job.args == {"_request_id": "req-00000003"}


# ---- /metrics ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_metrics_are_for_the_monitoring_system_only(client: Client, settings: Any) -> None:
    settings.METRICS_TOKEN = "m" * 40
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    member = make_member(make_org("病院"), Role.ADMIN, is_org_admin=True)
    sign_in(client, member.user)
    assert client.get("/metrics").status_code == 403
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer " + "m" * 40).status_code == 200
    root = User.objects.create_superuser("root", "root@example.jp", "x" * 12)
    sign_in(client, root)
    assert client.get("/metrics").status_code == 200


@pytest.mark.django_db
def test_metrics_show_latency_by_view_and_import_progress(client: Client, settings: Any) -> None:
    settings.METRICS_TOKEN = "m" * 40
    client.get("/directory/")
    run = ImportRun.objects.create(
        filename="jigyosho_510.csv",
        status=ImportRun.Status.RUNNING,
        processed_rows=4000,
        total_rows=9000,
    )
    body = client.get("/metrics", HTTP_AUTHORIZATION="Bearer " + "m" * 40).content.decode()
    assert (
        'renkei_http_request_duration_seconds_count{method="GET",view="directory:search"}' in body
    )
    assert 'renkei_http_requests_total{method="GET",status="2xx",view="directory:search"}' in body
    assert f'renkei_import_rows_processed{{run="{run.code}"}} 4000.0' in body
    assert f'renkei_import_rows_total{{run="{run.code}"}} 9000.0' in body
    assert 'renkei_import_runs{status="running"} 1.0' in body


@pytest.mark.skipif(connection.vendor != "postgresql", reason="Procrastinate needs PostgreSQL")
@pytest.mark.django_db
def test_metrics_show_the_queue(client: Client, settings: Any) -> None:
    settings.JOBS_BACKEND = "procrastinate"
    settings.METRICS_TOKEN = "m" * 40
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs")
    with transaction.atomic():
        mail.send(to=["a@example.jp", "b@example.jp"], subject="件名", body="本文")
    body = client.get("/metrics", HTTP_AUTHORIZATION="Bearer " + "m" * 40).content.decode()
    assert 'renkei_jobs{queue="mail",status="todo"} 2.0' in body
    assert 'renkei_jobs_oldest_due_seconds{queue="mail"}' in body
    assert "renkei_job_workers_alive" in body


# ---- /healthz ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_fails_without_the_cache(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    def down(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("redis is down")

    monkeypatch.setattr(cache, "set", down)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert "キャッシュに接続できません" in response.json()["failures"]["cache"]


class _DeadReplica:
    def cursor(self) -> Any:
        raise DatabaseError("could not connect to server")


@pytest.mark.django_db
def test_healthz_reports_a_replica_that_is_down(
    client: Client, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.REPLICA_READS = True
    monkeypatch.setattr(monitoring, "connections", {"replica": _DeadReplica()})
    response = client.get("/healthz")
    # Degraded, not down: the load balancer keeps the server, and the replica's pages read
    # the primary for a while. (Once seen as a 503 under heavy load: the body names the part.)
    assert response.status_code == 200, response.content.decode()
    assert response.json()["status"] == "degraded"
    assert "レプリカに接続できません" in response.json()["warnings"]["replica"]
    assert cache.get(replica.DOWN_KEY)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="Procrastinate needs PostgreSQL")
@pytest.mark.django_db
def test_healthz_reports_a_queue_without_workers(client: Client, settings: Any) -> None:
    settings.JOBS_BACKEND = "procrastinate"
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_workers")
    response = client.get("/healthz")
    assert response.status_code == 200
    assert "ワーカーが動いていません" in response.json()["warnings"]["queue"]
