"""Background jobs behind one small interface (the shape of Django's Tasks API).

    @job(queue="mail", retries=8)
    def deliver(*, to: str, subject: str, body: str) -> None: ...

    deliver.enqueue(to="a@example.jp", subject="…", body="…")

`enqueue` joins the caller's transaction: a rolled-back change enqueues nothing, a committed
one loses nothing. Arguments are keyword-only and must survive a JSON round trip (ids, not
model instances), so that any backend can store them.

Backends (`settings.JOBS_BACKEND`):
- ``immediate``: the job runs in this process right after the transaction commits; a
  failure is logged and never reaches the request. The embedded demo and the default test
  run use it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction

logger = logging.getLogger("renkei.jobs")

JobFunc = Callable[..., Any]

registry: dict[str, Job] = {}


@dataclass(eq=False)
class Job:
    func: JobFunc
    name: str
    queue: str = "default"
    retries: int = 5
    periodic: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def __call__(self, **kwargs: Any) -> Any:
        """Run the job here and now (management commands, tests)."""
        return self.func(**kwargs)

    def enqueue(self, **kwargs: Any) -> None:
        """Run the job in the background once the current transaction commits."""
        # Fail at the call site, not in a worker, when an argument cannot be stored.
        json.dumps(kwargs)
        _backend().enqueue(self, kwargs)


def job(
    *,
    queue: str = "default",
    retries: int = 5,
    periodic: str | None = None,
    name: str | None = None,
    **options: Any,
) -> Callable[[JobFunc], Job]:
    """Register a function as a job. `periodic` is a cron expression (Asia/Tokyo)."""

    def register(func: JobFunc) -> Job:
        job_name = name or f"{func.__module__}.{func.__qualname__}"
        registered = Job(
            func=func,
            name=job_name,
            queue=queue,
            retries=retries,
            periodic=periodic,
            options=options,
        )
        registry[job_name] = registered
        return registered

    return register


class ImmediateBackend:
    """Runs each job in-process after commit. No retries: for the demo and the tests."""

    def enqueue(self, job: Job, kwargs: dict[str, Any]) -> None:
        transaction.on_commit(partial(self._run, job, kwargs), robust=True)

    @staticmethod
    def _run(job: Job, kwargs: dict[str, Any]) -> None:
        try:
            job.func(**kwargs)
        except Exception:
            # The request that enqueued this has committed; its user must not see a failure
            # of the mail server. Logged with the traceback for the operator.
            logger.exception("job %s failed", job.name)


def _backend() -> ImmediateBackend:
    name = getattr(settings, "JOBS_BACKEND", "immediate")
    if name == "immediate":
        return ImmediateBackend()
    raise ValueError(f"unknown JOBS_BACKEND {name!r}")
