"""Scheduled work of the placement network, run by the job queue (renkei.lib.jobs).

The management commands of the same names call the same functions, for operators who run
them by hand. Each claims its rows with a conditional UPDATE, so a second run, or a job
delivered twice, sends nothing twice.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from renkei.accounts import idempotency
from renkei.lib.jobs import job
from renkei.referrals import notifications
from renkei.referrals.models import CaseEvent, EventKind, PlacementRequest, RequestStatus


def expire_overdue(now: dt.datetime | None = None) -> int:
    """Unanswered requests past their deadline become 期限切れ. Safe to run concurrently."""
    now = now or timezone.now()
    candidates = list(
        PlacementRequest.objects.filter(
            status__in=RequestStatus.unanswered(), deadline__lt=now
        ).values_list("pk", "case_id")
    )
    expired = 0
    for pk, case_id in candidates:
        with transaction.atomic():
            # Conditional update: an answer that lands first wins, and a second run finds nothing.
            if (
                PlacementRequest.objects.filter(
                    pk=pk, status__in=RequestStatus.unanswered()
                ).update(status=RequestStatus.EXPIRED, unread_by_hospital=True)
                == 1
            ):
                CaseEvent.objects.create(
                    case_id=case_id, request_id=pk, kind=EventKind.EXPIRED, at=now
                )
                expired += 1
    return expired


def claim_reminders(hours: int, now: dt.datetime | None = None) -> list[int]:
    """Requests unanswered for `hours`, claimed one by one so that two runs never both send."""
    now = now or timezone.now()
    due = list(
        PlacementRequest.objects.filter(
            status__in=RequestStatus.unanswered(),
            reminded_at__isnull=True,
            sent_at__lte=now - dt.timedelta(hours=hours),
            deadline__gt=now,
        ).values_list("pk", flat=True)
    )
    claimed = []
    for pk in due:
        if (
            PlacementRequest.objects.filter(
                pk=pk, reminded_at__isnull=True, status__in=RequestStatus.unanswered()
            ).update(reminded_at=now)
            == 1
        ):
            claimed.append(pk)
    return claimed


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
    return expire_overdue(), idempotency.purge()
