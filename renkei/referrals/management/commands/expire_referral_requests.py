"""Unanswered requests past their deadline become 期限切れ.

Scheduled by the job queue (renkei.referrals.jobs); this command runs it by hand.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from renkei.referrals.jobs import expire_referral_requests


class Command(BaseCommand):
    help = (
        "回答期限を過ぎた未回答の受入れ依頼を「期限切れ」にし、"
        "古い二重送信防止キーを削除します（通常はジョブキューが定期実行）"
    )

    def handle(self, *args: Any, **options: Any) -> None:
        count, purged = expire_referral_requests()
        self.stdout.write(f"期限切れにした依頼: {count}件（削除した二重送信防止キー: {purged}件）")
