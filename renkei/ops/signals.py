from __future__ import annotations

from typing import Any

from django.db import connection

from renkei.ops.models import JobFailure

MAX_ERROR = 20_000


def record_failure(
    *,
    job_name: str,
    job_id: int | None,
    attempt: int,
    will_retry: bool,
    error: str,
    **_: Any,
) -> None:
    if connection.in_atomic_block and connection.needs_rollback:
        return  # the job's own transaction is broken; the worker's log has the traceback
    JobFailure.objects.create(
        job_id=job_id,
        task_name=job_name[:200],
        attempt=attempt,
        will_retry=will_retry,
        error=error[-MAX_ERROR:],
    )
