from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from renkei.accounts.models import Membership
from renkei.desk import actions
from renkei.desk.models import Desk
from renkei.desk.testing import make_consultation


def test_due_followups_are_reminded_once_without_names(
    desk: Desk, counselor: Membership, clerk: Membership, django_capture_on_commit_callbacks: Any
) -> None:
    """Each assignee gets one e-mail listing due and overdue items; a second run sends nothing; names stay out."""
    today = timezone.localdate()
    c = make_consultation(desk, counselor, subject_name="相談 太郎（仮名）")
    for due, note in [(today - dt.timedelta(days=1), "期限切れ"), (today, "今日")]:
        actions.add_followup(
            c,
            by=counselor,
            data=actions.FollowUpInput(due_date=due, note=note, assignee=clerk.user.username),
        )
    actions.add_followup(
        c,
        by=counselor,
        data=actions.FollowUpInput(
            due_date=today + dt.timedelta(days=1), note="明日", assignee=clerk.user.username
        ),
    )
    # The mail is enqueued in the command's transaction and delivered after its commit.
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_desk_followup_reminders", stdout=io.StringIO())
    assert len(mail.outbox) == 1
    body = str(mail.outbox[0].body)
    assert mail.outbox[0].to == [clerk.user.email]
    assert "期限切れ" in body and "今日" in body and "明日" not in body
    assert "相談 太郎" not in body
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_desk_followup_reminders", stdout=io.StringIO())
    assert len(mail.outbox) == 1


def test_the_morning_job_runs_the_same_reminder(
    desk: Desk, counselor: Membership, clerk: Membership, django_capture_on_commit_callbacks: Any
) -> None:
    """The queue's daily job (08:00) is the command's function: one mail, then none."""
    from renkei.desk.jobs import send_desk_followup_reminders as job

    assert job.periodic == "0 8 * * *"
    c = make_consultation(desk, counselor)
    actions.add_followup(
        c,
        by=counselor,
        data=actions.FollowUpInput(
            due_date=timezone.localdate(), note="今日", assignee=clerk.user.username
        ),
    )
    with django_capture_on_commit_callbacks(execute=True):
        job()
        job()
    assert [m.to for m in mail.outbox] == [[clerk.user.email]]
