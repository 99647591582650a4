"""Cron: unanswered requests past their deadline become 期限切れ."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from renkei.referrals.actions import expire_overdue, purge_idempotency_keys


class Command(BaseCommand):
    help = (
        "回答期限を過ぎた未回答の受入れ依頼を「期限切れ」にし、"
        "古い二重送信防止キーを削除します（cron から定期実行）"
    )

    def handle(self, *args: Any, **options: Any) -> None:
        count = expire_overdue()
        purged = purge_idempotency_keys()
        self.stdout.write(f"期限切れにした依頼: {count}件（削除した二重送信防止キー: {purged}件）")
