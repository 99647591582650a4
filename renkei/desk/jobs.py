"""Scheduled work of the consultation desk, run by the job queue (renkei.lib.jobs)."""

from __future__ import annotations

from renkei.desk.actions import remind_due_followups
from renkei.lib.jobs import job


@job(periodic="0 8 * * *", retries=0)
def send_desk_followup_reminders() -> tuple[int, int]:
    """Remind assignees of follow-ups due today or overdue, once each (08:00 Japan time).

    Returns (follow-ups reminded, people written to). The mails go through the queue like
    every other (actions.remind_due_followups); this job only starts the round."""
    return remind_due_followups()
