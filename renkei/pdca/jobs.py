"""Background work of surveys and indicators (renkei.lib.jobs)."""

from __future__ import annotations

import traceback

from django.utils import timezone

from renkei.lib.jobs import job
from renkei.pdca import actions
from renkei.pdca.compute import compute
from renkei.pdca.models import ComputeRun, RunStatus


@job(periodic="30 8 * * *", retries=0)
def remind_survey_deadlines() -> int:
    """Each morning: municipalities whose answer is not in, a few days before the deadline
    (once per response). Returns how many were reminded."""
    return actions.send_reminders()


@job(periodic="0 3 * * *", retries=0)
def recompute_indicators_nightly() -> int:
    """Each night: this and last fiscal year's computed indicators, all municipalities."""
    return compute(actions.default_years())


@job(long=True, retries=2)
def compute_indicators(*, run_id: int) -> None:
    """A recomputation started from a screen or the API, its progress on its ComputeRun.

    Running it twice writes the same values: the scope is replaced, never added to.
    """
    run = ComputeRun.objects.filter(pk=run_id).first()
    if run is None:
        return
    ComputeRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING)

    def progress(done: int, total: int) -> None:
        ComputeRun.objects.filter(pk=run.pk).update(steps_done=done, steps_total=total)

    try:
        written = compute(
            [int(y) for y in run.fiscal_years],
            municipality_id=run.municipality_id,
            progress=progress,
        )
    except Exception:
        ComputeRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED,
            error=traceback.format_exc()[-2000:],
            finished_at=timezone.now(),
        )
        raise
    ComputeRun.objects.filter(pk=run.pk).update(
        status=RunStatus.DONE, values_written=written, finished_at=timezone.now()
    )
