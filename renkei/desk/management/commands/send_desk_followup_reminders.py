"""Remind assignees of desk follow-ups that are due today or overdue.

Scheduled daily by the job queue (renkei.desk.jobs); this command runs it by hand.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from renkei.desk.jobs import send_desk_followup_reminders


class Command(BaseCommand):
    help = "期日を迎えた相談窓口のフォローアップを担当者にメールで知らせる"

    def handle(self, *args: Any, **options: Any) -> None:
        items, people = send_desk_followup_reminders()
        self.stdout.write(f"{items}件を{people}名に通知しました")
