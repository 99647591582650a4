"""Scheduled work of care-team sharing, run by the job queue (renkei.lib.jobs)."""

from __future__ import annotations

from renkei.care.actions.consent import purge_expired_provisions
from renkei.lib.jobs import job


@job(periodic="30 3 * * *", retries=0)
def purge_provision_records() -> int:
    """Nightly (03:30 Japan time): delete the 第29条 provision records whose legal keeping
    period has passed, never one before its `keep_until`. Returns how many were deleted."""
    return purge_expired_provisions()
