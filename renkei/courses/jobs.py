"""Scheduled work of specialist dispatch, run by the job queue (renkei.lib.jobs)."""

from __future__ import annotations

from renkei.courses import dispatch
from renkei.lib.jobs import job


@job(periodic="0 8 * * *", retries=0)
def remind_dispatches() -> tuple[int, int]:
    """Each morning: confirmed dispatches a few days ahead (the specialist and the
    municipality), and reports not yet filed the day after (the specialist). Each reminder
    goes once per request. Returns (dispatches reminded, reports asked for)."""
    return dispatch.send_reminders(), dispatch.send_report_reminders()
