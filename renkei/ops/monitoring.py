"""What /metrics and /healthz say about the parts around the app server (ADR 0039).

/metrics (Prometheus text format) is for the monitoring system only: a bearer token
(`METRICS_TOKEN`) or a superuser's session. It carries request latency by view (counted in
every server process; under gunicorn set PROMETHEUS_MULTIPROC_DIR so that the processes'
counts are added up), and, read from the database at each scrape, the job queue's depth and
age, workers alive, failed jobs and the progress of running imports.
"""

from __future__ import annotations

import datetime as dt
import hmac
import os
from collections.abc import Iterator

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection, connections
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from renkei.lib import replica

# A worker beats every 10 s; one silent for this long is gone.
WORKER_ALIVE_SECONDS = 60


def on_queue() -> bool:
    return settings.JOBS_BACKEND == "procrastinate"


def queue_rows() -> list[tuple[str, str, int, float | None]]:
    """(queue, status, jobs, seconds the oldest due job has waited) for todo/doing/failed."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT j.queue_name, j.status::text, count(*),
                   EXTRACT(EPOCH FROM now() - min(COALESCE(j.scheduled_at, d.at)) FILTER (
                       WHERE j.status = 'todo'
                       AND (j.scheduled_at IS NULL OR j.scheduled_at <= now())))
            FROM procrastinate_jobs j
            LEFT JOIN LATERAL (
                SELECT min(e.at) AS at FROM procrastinate_events e
                WHERE e.job_id = j.id AND e.type = 'deferred'
            ) d ON true
            WHERE j.status IN ('todo', 'doing', 'failed')
            GROUP BY j.queue_name, j.status
            """
        )
        return [(q, s, int(n), float(a) if a is not None else None) for q, s, n, a in cursor]


def workers_alive() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM procrastinate_workers"
            " WHERE last_heartbeat > now() - make_interval(secs => %s)",
            [WORKER_ALIVE_SECONDS],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


class DatabaseCollector:
    """Gauges read from the database at each scrape."""

    def collect(self) -> Iterator[Metric]:
        from renkei.directory.models import ImportRun
        from renkei.ops.models import JobFailure

        if on_queue():
            jobs = GaugeMetricFamily(
                "renkei_jobs", "Jobs in the queue by status", labels=["queue", "status"]
            )
            age = GaugeMetricFamily(
                "renkei_jobs_oldest_due_seconds",
                "How long the oldest job due to run has waited",
                labels=["queue"],
            )
            for queue, status, count, oldest in queue_rows():
                jobs.add_metric([queue, status], count)
                if oldest is not None:
                    age.add_metric([queue], max(0.0, oldest))
            yield jobs
            yield age
            yield GaugeMetricFamily(
                "renkei_job_workers_alive", "Workers with a recent heartbeat", value=workers_alive()
            )
        failures = GaugeMetricFamily(
            "renkei_job_failures_24h",
            "Failed job attempts in the last 24 hours, by job",
            labels=["job"],
        )
        since = timezone.now() - dt.timedelta(hours=24)
        for task, n in (
            JobFailure.objects.filter(at__gte=since)
            .values("task_name")
            .annotate(n=Count("id"))
            .values_list("task_name", "n")
        ):
            failures.add_metric([task], n)
        yield failures

        runs = GaugeMetricFamily("renkei_import_runs", "Imports by status", labels=["status"])
        for status, n in (
            ImportRun.objects.filter(status__in=[ImportRun.Status.QUEUED, ImportRun.Status.RUNNING])
            .values("status")
            .annotate(n=Count("id"))
            .values_list("status", "n")
        ):
            runs.add_metric([status], n)
        yield runs
        processed = GaugeMetricFamily(
            "renkei_import_rows_processed", "Rows done of a running import", labels=["run"]
        )
        total = GaugeMetricFamily(
            "renkei_import_rows_total", "Rows in a running import's file", labels=["run"]
        )
        for code, done, rows in ImportRun.objects.filter(
            status=ImportRun.Status.RUNNING
        ).values_list("code", "processed_rows", "total_rows"):
            processed.add_metric([str(code)], done)
            total.add_metric([str(code)], rows)
        yield processed
        yield total


def exposition() -> bytes:
    if os.getenv("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        MultiProcessCollector(processes)  # type: ignore[no-untyped-call]
        own = generate_latest(processes)
    else:
        own = generate_latest(REGISTRY)
    db = CollectorRegistry()
    db.register(DatabaseCollector())
    return own + generate_latest(db)


def may_read_metrics(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer "):
        return hmac.compare_digest(header.removeprefix("Bearer ").encode(), token.encode())
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and user.is_superuser)


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not may_read_metrics(request):
        return HttpResponse(
            "このページは監視システム専用です。",
            status=403,
            content_type="text/plain; charset=utf-8",
        )
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)


# ---- /healthz: the parts around the app server --------------------------------------------

# A due job waiting longer than this means the workers are not keeping up (or not running).
QUEUE_LAG_SECONDS = 300


def check_replica() -> str | None:
    if not replica.replica_configured():
        return None
    try:
        with connections[replica.REPLICA].cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as e:
        replica.mark_down()  # the replica's pages read the primary meanwhile
        return f"読み取り専用レプリカに接続できません ({type(e).__name__})"
    return None


def check_queue() -> str | None:
    if not on_queue():
        return None
    try:
        if workers_alive() == 0:
            return "ジョブのワーカーが動いていません (manage.py run_worker)"
        lagging = [q for q, _, _, oldest in queue_rows() if (oldest or 0) > QUEUE_LAG_SECONDS]
    except DatabaseError as e:
        return f"ジョブのキューを読めません ({type(e).__name__})"
    if lagging:
        return f"{QUEUE_LAG_SECONDS // 60}分以上待っているジョブがあります (キュー: {', '.join(sorted(set(lagging)))})"
    return None


def check_cache() -> str | None:
    key = "renkei:healthz"
    try:
        cache.set(key, 1, timeout=10)
        ok = cache.get(key) == 1
    except Exception as e:  # the cache client's own errors (redis.ConnectionError, …)
        return f"キャッシュに接続できません ({type(e).__name__})"
    return None if ok else "キャッシュに書いた値を読み出せません"
