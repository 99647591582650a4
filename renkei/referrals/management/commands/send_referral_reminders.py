"""Cron: remind facilities of requests still unanswered after REFERRAL_REMINDER_HOURS."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from renkei.referrals import notifications
from renkei.referrals.actions import claim_reminders
from renkei.referrals.models import CaseEvent, EventKind, PlacementRequest


class Command(BaseCommand):
    help = "回答のない受入れ依頼に督促メールを送ります（cron から定期実行）"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--hours",
            type=int,
            default=None,
            help="依頼からこの時間を過ぎても未回答なら督促（既定: REFERRAL_REMINDER_HOURS）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        hours = options["hours"] or settings.REFERRAL_REMINDER_HOURS
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
        self.stdout.write(f"督促した依頼: {len(claimed)}件（送信メール {sent}通）")
