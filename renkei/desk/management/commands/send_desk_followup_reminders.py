"""Remind assignees of desk follow-ups that are due today or overdue.

The job queue runs the same function every morning (actions.send_followup_reminders); this
command is for a timer on a host without the queue's scheduler, and for trying it by hand.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from renkei.desk.actions import remind_due_followups


class Command(BaseCommand):
    help = "期日を迎えた相談窓口のフォローアップを担当者にメールで知らせる"

    def handle(self, *args: Any, **options: Any) -> None:
        items, people = remind_due_followups()
        self.stdout.write(f"{items}件を{people}名に通知しました")
