"""Scheduled work of the placement network, run by the job queue (renkei.lib.jobs).

The management commands of the same names call the same functions, for operators who run
them by hand. Each claims its rows with a conditional UPDATE, so a second run, or a job
delivered twice, sends nothing twice.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from renkei.lib.jobs import job
from renkei.referrals import notifications
from renkei.referrals.actions import claim_reminders, expire_overdue, purge_idempotency_keys
from renkei.referrals.models import CaseEvent, EventKind, PlacementRequest


def remind_unanswered(hours: int) -> tuple[int, int]:
    """Remind facilities of requests unanswered for `hours`: (requests reminded, mails sent)."""
    claimed = claim_reminders(hours)
    sent = 0
    for pk in claimed:
        sent += notifications.reminder(pk)
        req = PlacementRequest.objects.only("case_id", "reminded_at").get(pk=pk)
        CaseEvent.objects.create(
            case_id=req.case_id,
            request_id=pk,
            kind=EventKind.REMINDED,
            at=req.reminded_at or timezone.now(),
            text=f"{hours}時間以上未回答のため督促",
        )
    return len(claimed), sent


@job(periodic="5 * * * *", retries=0)
def send_referral_reminders() -> tuple[int, int]:
    return remind_unanswered(settings.REFERRAL_REMINDER_HOURS)


@job(periodic="*/10 * * * *", retries=0)
def expire_referral_requests() -> tuple[int, int]:
    """Requests past their deadline become 期限切れ; old idempotency keys are purged."""
    return expire_overdue(), purge_idempotency_keys()
