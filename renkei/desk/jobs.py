"""Scheduled work of the consultation desk, run by the job queue (renkei.lib.jobs)."""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from renkei.desk.models import FollowUp
from renkei.lib.jobs import job


@job(periodic="0 8 * * *", retries=0)
def send_desk_followup_reminders() -> tuple[int, int]:
    """Remind assignees of follow-ups due today or overdue, once each (08:00 Japan time).

    Returns (follow-ups reminded, people written to). Each row is claimed before the mail, so
    two runs never remind twice."""
    today = timezone.localdate()
    due = list(
        FollowUp.objects.due_by(today)
        .filter(reminded_at__isnull=True, assignee__isnull=False)
        .exclude(assignee__email="")
        .select_related("assignee", "consultation__desk")
        .order_by("due_date", "pk")
    )
    by_user: dict[int, list[FollowUp]] = defaultdict(list)
    now = timezone.now()
    for f in due:
        # Claim each row so that two runs never remind twice.
        if FollowUp.objects.filter(pk=f.pk, reminded_at__isnull=True).update(reminded_at=now):
            by_user[f.assignee_id].append(f)  # type: ignore[index]
    for items in by_user.values():
        user = items[0].assignee
        assert user is not None
        body = render_to_string(
            "emails/desk_followup_reminder.txt",
            {
                "user": user,
                "items": [
                    {
                        "f": f,
                        "overdue": f.is_overdue(today),
                        "url": settings.SITE_URL.rstrip("/")
                        + reverse("desk:detail", args=[f.consultation.code]),
                    }
                    for f in items
                ],
            },
        )
        send_mail(
            f"【相談窓口】期日のフォローアップが{len(items)}件あります",
            body,
            settings.DEFAULT_FROM_EMAIL,
            [user.email],
        )
    return sum(len(v) for v in by_user.values()), len(by_user)
