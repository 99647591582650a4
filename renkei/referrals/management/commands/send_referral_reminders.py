"""Remind facilities of requests still unanswered after REFERRAL_REMINDER_HOURS.

Scheduled hourly by the job queue (renkei.referrals.jobs); this command runs it by hand.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from renkei.referrals.jobs import remind_unanswered


class Command(BaseCommand):
    help = "回答のない受入れ依頼に督促メールを送ります（通常はジョブキューが毎時実行）"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--hours",
            type=int,
            default=None,
            help="依頼からこの時間を過ぎても未回答なら督促（既定: REFERRAL_REMINDER_HOURS）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        claimed, sent = remind_unanswered(options["hours"] or settings.REFERRAL_REMINDER_HOURS)
        self.stdout.write(f"督促した依頼: {claimed}件（送信メール {sent}通）")
