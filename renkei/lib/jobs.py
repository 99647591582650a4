"""Background jobs behind one small interface (the shape of Django's Tasks API).

    @job(queue="mail", retries=8)
    def deliver(*, to: str, subject: str, body: str) -> None: ...

    deliver.enqueue(to="a@example.jp", subject="…", body="…")

`enqueue` joins the caller's transaction: a rolled-back change enqueues nothing, a committed
one loses nothing. Arguments are keyword-only and must survive a JSON round trip (ids, not
model instances), so that any backend can store them. A job may run more than once (a worker
killed after the work but before it recorded success, a mail server that took a message and
then dropped the connection): write jobs so that a second run does no harm (ADR 0019).

Backends (`settings.JOBS_BACKEND`):
- ``procrastinate`` (the default on PostgreSQL): the job is a row in Procrastinate's table,
  inserted through Django's own connection, so it commits or rolls back with the caller's
  data. Workers (`manage.py run_worker`) run it, retry failures with a growing pause
  (`Backoff`) and schedule the periodic jobs; a job whose worker died is retried by
  `retry_stalled_jobs`.
- ``immediate`` (the default on SQLite, and in the tests unless a test opts in): the job runs
  in this process right after the transaction commits; a failure is logged and never reaches
  the request. No retries and no schedule: for the embedded demo and the tests.

Job modules: each app's ``jobs.py`` (and ``renkei.lib.mail``) is imported when the
Procrastinate app starts (`on_procrastinate_ready`), so that a worker knows every job.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import logging
import threading
import time
import traceback
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from procrastinate import BaseRetryStrategy, JobContext, RetryDecision

from renkei.lib import observability

if TYPE_CHECKING:
    import procrastinate
    from procrastinate.jobs import Job as QueuedJob

logger = logging.getLogger("renkei.jobs")

JobFunc = Callable[..., Any]

registry: dict[str, Job] = {}

# Sent when an attempt of a job fails, with job_name, job_id (None on the immediate backend),
# attempt, will_retry and error (the traceback); renkei.ops records it for the admin.
job_failed = Signal()

# The key under which a job's stored arguments carry the id of the request that enqueued it.
REQUEST_ID_ARG = "_request_id"

# Modules outside an app's jobs.py that define jobs; imported with them.
EXTRA_JOB_MODULES = ("renkei.lib.mail",)


@dataclass(eq=False)
class Job:
    func: JobFunc
    name: str
    queue: str = "default"
    retries: int = 5
    periodic: str | None = None
    # Immediate backend only: run in a thread of its own after commit instead of holding the
    # request that enqueued it (an import of a national file), unless JOBS_IMMEDIATE_THREADS
    # is off (the tests). Real workers ignore it.
    long: bool = False
    # Called with the job's arguments when its worker died and it is out of retries.
    on_stalled: Callable[..., None] | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def __call__(self, **kwargs: Any) -> Any:
        """Run the job here and now (management commands, tests)."""
        return self.func(**kwargs)

    def enqueue(self, **kwargs: Any) -> None:
        """Run the job in the background once the current transaction commits."""
        self.enqueue_each([kwargs])

    def enqueue_each(self, calls: Sequence[Mapping[str, Any]]) -> None:
        """`enqueue` once for each set of arguments: one statement on Procrastinate for all of
        them (a case sent to fifty facilities mails each, inside the sender's transaction)."""
        rid = observability.request_id.get()
        stored: list[dict[str, Any]] = []
        for kwargs in calls:
            # Fail at the call site, not in a worker, when an argument cannot be stored.
            json.dumps(kwargs)
            if REQUEST_ID_ARG in kwargs:
                raise TypeError(f"{REQUEST_ID_ARG} is reserved for the request id")
            # The request's id travels with the job, so the worker's log lines carry it too.
            stored.append({**kwargs, REQUEST_ID_ARG: rid} if rid else dict(kwargs))
        if stored:
            _backend().enqueue(self, stored)


def job(
    *,
    queue: str = "default",
    retries: int = 5,
    periodic: str | None = None,
    name: str | None = None,
    long: bool = False,
    on_stalled: Callable[..., None] | None = None,
    **options: Any,
) -> Callable[[JobFunc], Job]:
    """Register a function as a job. `periodic` is a cron expression (Asia/Tokyo); a periodic
    job takes no arguments."""

    def register(func: JobFunc) -> Job:
        job_name = name or f"{func.__module__}.{func.__qualname__}"
        if periodic:
            cron_in_utc(periodic)  # refuse an expression we cannot schedule, at import time
        registered = Job(
            func=func,
            name=job_name,
            queue=queue,
            retries=retries,
            periodic=periodic,
            long=long,
            on_stalled=on_stalled,
            options=options,
        )
        registry[job_name] = registered
        return registered

    return register


class Backend(Protocol):
    def enqueue(self, job: Job, calls: list[dict[str, Any]]) -> None: ...


class ImmediateBackend:
    """Runs each job in-process after commit. No retries: for the demo and the tests."""

    def enqueue(self, job: Job, calls: list[dict[str, Any]]) -> None:
        for kwargs in calls:
            if job.long and getattr(settings, "JOBS_IMMEDIATE_THREADS", True):
                transaction.on_commit(partial(self._start_thread, job, kwargs), robust=True)
            else:
                transaction.on_commit(partial(self._run, job, kwargs), robust=True)

    @staticmethod
    def _run(job: Job, kwargs: dict[str, Any]) -> None:
        kwargs = dict(kwargs)
        rid = kwargs.pop(REQUEST_ID_ARG, "")
        try:
            with observability.bound(rid or observability.request_id.get(), job.name):
                job.func(**kwargs)
        except Exception:
            # The request that enqueued this has committed; its user must not see a failure
            # of the mail server. Logged with the traceback for the operator.
            logger.exception("job %s failed", job.name)
            _announce_failure(job.name, None, 0, will_retry=False)

    @classmethod
    def _start_thread(cls, job: Job, kwargs: dict[str, Any]) -> None:
        def work() -> None:
            try:
                cls._run(job, kwargs)
            finally:
                connection.close()

        threading.Thread(target=work, name=f"job-{job.name}", daemon=True).start()


# Procrastinate's own defer_jobs query with the job's fields as separate parameters, not one
# array of records: with Django's client-side binding psycopg quotes a record in Python, a
# regular-expression substitution per quote and backslash of the arguments' JSON, and a mail
# job's rendered body made that ~3 ms of CPU a message, inside the caller's transaction
# (ADR 0069). Several jobs go in one statement, a ROW each (ADR 0067).
# test_a_job_is_the_row_procrastinate_writes pins the rows to task.defer's.
_DEFER_ROW = "ROW(%s, %s, %s, %s, %s, %s, %s)::procrastinate_job_to_defer_v1"
# Rows a statement: fifty facilities of a send with a few addresses each fit in one or two.
DEFER_BATCH = 100


def _defer_sql(rows: int) -> str:
    return f"SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[{', '.join([_DEFER_ROW] * rows)}]))"


class ProcrastinateBackend:
    """A row in Procrastinate's queue, written on Django's connection (the caller's transaction)."""

    def enqueue(self, job: Job, calls: list[dict[str, Any]]) -> None:
        from procrastinate.contrib.django import app
        from psycopg.types.json import Jsonb

        task = app.tasks.get(job.name) or _register_task(app, job)
        deferrer = task.configure()
        params: list[Any] = []
        for kwargs in calls:
            new = deferrer.make_new_job(**kwargs)
            if new.queueing_lock is not None:
                # Procrastinate turns the queueing lock's unique violation into AlreadyEnqueued.
                deferrer.defer(**kwargs)
                continue
            params += [
                new.queue,
                new.task_name,
                new.priority,
                new.lock,
                None,  # the queueing lock (the jobs with one took task.defer above)
                Jsonb(new.task_kwargs),
                new.scheduled_at,
            ]
        step = 7 * DEFER_BATCH
        with connection.cursor() as cursor:
            for start in range(0, len(params), step):
                chunk = params[start : start + step]
                cursor.execute(_defer_sql(len(chunk) // 7), chunk)


def _backend() -> Backend:
    name = getattr(settings, "JOBS_BACKEND", "immediate")
    if name == "immediate":
        return ImmediateBackend()
    if name == "procrastinate":
        return ProcrastinateBackend()
    raise ValueError(f"unknown JOBS_BACKEND {name!r}")


# ---- Procrastinate ---------------------------------------------------------------------------


def import_job_modules() -> None:
    """Import every module that defines jobs: each installed app's ``jobs`` and the extras."""
    autodiscover_modules("jobs")
    for module in EXTRA_JOB_MODULES:
        importlib.import_module(module)


def on_procrastinate_ready(app: procrastinate.App) -> None:
    """PROCRASTINATE_ON_APP_READY: every registered job becomes a task of the Django app, the
    periodic ones scheduled, plus the sweep for jobs whose worker died."""
    import_job_modules()
    for registered in list(registry.values()):
        _register_task(app, registered)


def worker_connector() -> Any:
    """The connector `manage.py procrastinate worker` runs on: Procrastinate's own
    (`DjangoConnector.get_worker_connector`, a psycopg pool on the Django database's
    parameters) with its connections in autocommit and the connection check of ADR 0062
    (ADR 0083).

    Procrastinate's pool connections are not in autocommit, so each of its statements (fetch
    a job, finish it, the heartbeat: one statement each, never two in one transaction, since
    the worker passes no connection of its own) went as three round trips: BEGIN, the
    statement, COMMIT. In autocommit it is one, and the same transaction.

    The pool also checked every connection it handed out with an empty statement, a round
    trip before each of those statements on a connection used a few milliseconds earlier.
    Here a connection is checked when it was last handed out DB_HEALTH_CHECK_IDLE_SECONDS ago
    or more (so idle at least that long), as Django's own connections are; one that broke
    within that time fails its statement once, and the pool replaces it."""
    from procrastinate import PsycopgConnector
    from procrastinate.contrib.django import utils
    from procrastinate.contrib.django.settings import settings as procrastinate_settings

    return PsycopgConnector(
        pool_factory=_pool_checked_when_idle,
        kwargs=utils.connector_params(procrastinate_settings.DATABASE_ALIAS),
    )


def _pool_checked_when_idle(**kwargs: Any) -> Any:
    from psycopg_pool import AsyncConnectionPool

    kwargs["check"] = check_when_idle
    # Not in the connection parameters: the listener's own connection passes autocommit too.
    kwargs["configure"] = _autocommit
    return AsyncConnectionPool(**kwargs)


async def _autocommit(conn: Any) -> None:
    await conn.set_autocommit(True)


# When each pooled connection was last handed out (weak: the pool drops broken ones).
_handed_out: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()


async def check_when_idle(conn: Any) -> None:
    """The pool's `check`: psycopg_pool's own check, unless this connection was handed out
    less than DB_HEALTH_CHECK_IDLE_SECONDS ago (its idle time since is shorter still)."""
    from psycopg_pool import AsyncConnectionPool

    now = time.monotonic()
    last = _handed_out.get(conn)
    _handed_out[conn] = now
    if last is not None and now - last < settings.DB_HEALTH_CHECK_IDLE_SECONDS:
        return
    await AsyncConnectionPool.check_connection(conn)


def _register_task(app: procrastinate.App, registered: Job) -> Any:
    def run(context: JobContext, /, **kwargs: Any) -> Any:
        if registered.periodic:
            # Procrastinate passes the scheduled time; our periodic jobs take no arguments.
            kwargs.pop("timestamp", None)
        rid = kwargs.pop(REQUEST_ID_ARG, "") or observability.new_id()
        try:
            with observability.bound(rid, f"{registered.name}#{context.job.id}"):
                return registered.func(**kwargs)
        except Exception:
            attempts = context.job.attempts
            will_retry = attempts < registered.retries
            _announce_failure(registered.name, context.job.id, attempts, will_retry=will_retry)
            raise

    run.__name__ = run.__qualname__ = registered.name
    task = app.task(
        name=registered.name,
        queue=registered.queue,
        retry=Backoff(max_attempts=registered.retries) if registered.retries else False,
        pass_context=True,
    )(run)
    if registered.periodic:
        schedule = app.periodic(cron=cron_in_utc(registered.periodic), periodic_id=registered.name)
        schedule(task)  # type: ignore[arg-type]  # run() takes the timestamp in its kwargs
    return task


class Backoff(BaseRetryStrategy):
    """Retry after JOBS_RETRY_FIRST_SECONDS, doubling each time up to JOBS_RETRY_MAX_SECONDS.

    With the defaults (15 s, one hour) a mail job's ten retries span about four hours: an SMTP
    server down for a morning loses nothing. A job out of retries stays `failed`, with its
    error, in the admin's job list, where an operator can retry it.
    """

    def __init__(self, *, max_attempts: int) -> None:
        self.max_attempts = max_attempts

    def get_retry_decision(
        self, *, exception: BaseException, job: QueuedJob
    ) -> RetryDecision | None:
        if job.attempts >= self.max_attempts:
            return None
        return RetryDecision(retry_in={"seconds": backoff_seconds(job.attempts)})


def backoff_seconds(attempts: int) -> int:
    first = int(getattr(settings, "JOBS_RETRY_FIRST_SECONDS", 15))
    cap = int(getattr(settings, "JOBS_RETRY_MAX_SECONDS", 3600))
    return int(min(cap, first * 2 ** min(attempts, 30)))


def cron_in_utc(expression: str) -> str:
    """A cron expression written in Japan time, as Procrastinate's scheduler (UTC) reads it.

    Japan keeps no daylight saving time, so moving the hour field back nine hours is exact.
    Only the forms the project uses are accepted: an hour of '*' (every hour, unchanged), or a
    list of hours with day of month and day of week left as '*' (moving an hour across
    midnight would otherwise move the day too).
    """
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"cron expression needs five fields: {expression!r}")
    minute, hour, day, month, weekday = fields
    if hour == "*":
        return expression
    if day != "*" or weekday != "*" or not all(h.isdigit() for h in hour.split(",")):
        raise ValueError(f"cannot move {expression!r} to UTC; write hour as '*' or a list")
    hours = sorted((int(h) - 9) % 24 for h in hour.split(","))
    return " ".join([minute, ",".join(str(h) for h in hours), day, month, weekday])


def _announce_failure(name: str, job_id: int | None, attempt: int, *, will_retry: bool) -> None:
    """Tell the listeners (the admin's failure list) why a job failed; never fail for it."""
    try:
        job_failed.send(
            sender=Job,
            job_name=name,
            job_id=job_id,
            attempt=attempt,
            will_retry=will_retry,
            error=traceback.format_exc(),
        )
    except Exception:
        logger.exception("recording the failure of job %s failed", name)


def pending(registered: Job, **match: Any) -> bool:
    """Is a job of this kind with these arguments queued or running? Always False on the
    immediate backend, whose jobs leave no trace once started."""
    if getattr(settings, "JOBS_BACKEND", "immediate") != "procrastinate":
        return False
    from procrastinate.contrib.django.models import ProcrastinateJob

    lookups = {f"args__{k}": v for k, v in match.items()}
    return ProcrastinateJob.objects.filter(
        task_name=registered.name, status__in=["todo", "doing"], **lookups
    ).exists()


def retry_stalled_jobs_name() -> str:
    return f"{__name__}.retry_stalled_jobs"


@job(periodic="* * * * *", retries=0)
def retry_stalled_jobs() -> int:
    """Jobs left `doing` by a worker that died (no heartbeat for JOBS_STALLED_SECONDS) are
    queued again while they have retries left (another worker runs them), else marked failed
    and handed to their `on_stalled`, so that nothing stays "running" for ever. Returns how
    many it found."""
    if getattr(settings, "JOBS_BACKEND", "immediate") != "procrastinate":
        return 0
    from asgiref.sync import async_to_sync
    from procrastinate.contrib.django.django_connector import DjangoConnector
    from procrastinate.contrib.django.models import ProcrastinateJob
    from procrastinate.jobs import Status
    from procrastinate.manager import JobManager

    cutoff = timezone.now() - dt.timedelta(seconds=settings.JOBS_STALLED_SECONDS)
    stalled = (
        ProcrastinateJob.objects.filter(status="doing")
        .filter(Q(worker__isnull=True) | Q(worker__last_heartbeat__lt=cutoff))
        # Not this sweep itself: a stalled sweep is simply replaced by the next minute's.
        .exclude(task_name=retry_stalled_jobs_name())
    )
    # Django's connection (not the worker's pool): this runs in a sync job, in its thread.
    manager = JobManager(DjangoConnector())
    found = 0
    for queued in stalled:
        found += 1
        registered = registry.get(queued.task_name)
        retries = registered.retries if registered else 0
        if queued.attempts < retries:
            logger.warning("job %s #%s: its worker died; queued again", queued.task_name, queued.id)
            manager.retry_job_by_id(
                queued.id, timezone.now(), queued.priority, queued.queue_name, queued.lock
            )
            continue
        logger.error("job %s #%s: its worker died; given up", queued.task_name, queued.id)
        async_to_sync(manager.finish_job_by_id_async)(
            job_id=queued.id, status=Status.FAILED, delete_job=False
        )
        if registered and registered.on_stalled:
            args = {k: v for k, v in queued.args.items() if k != REQUEST_ID_ARG}
            registered.on_stalled(**args)
    return found
