from __future__ import annotations

import datetime as dt

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from renkei.accounts.models import Membership
from renkei.desk.models import Desk, FollowUp
from renkei.desk.testing import make_consultation, make_followup
from renkei.desk.tests.conftest import login


def test_home_lists_due_followups_and_highlights_overdue(
    client: Client, desk: Desk, counselor: Membership
) -> None:
    """Overdue and soon-due follow-ups are listed by due date; overdue ones are marked; later ones and done ones are not."""
    today = timezone.localdate()
    c = make_consultation(desk, counselor)
    make_followup(c, counselor, due_date=today - dt.timedelta(days=2), note="期限切れの確認")
    make_followup(c, counselor, due_date=today + dt.timedelta(days=3), note="今週の確認")
    make_followup(c, counselor, due_date=today + dt.timedelta(days=30), note="来月の確認")
    done = make_followup(c, counselor, due_date=today, note="済んだ確認")
    done.done_at = timezone.now()
    done.save()
    login(client, counselor)
    html = client.get(reverse("desk:home")).content.decode()
    assert html.index("期限切れの確認") < html.index("今週の確認")
    assert "来月の確認" not in html and "済んだ確認" not in html
    assert "期限を過ぎたフォローアップが1件" in html
    assert html.count('class="desk-overdue"') == 1


def test_followup_can_be_completed_once(client: Client, desk: Desk, counselor: Membership) -> None:
    """Completing records who and when; a second completion is refused via the API with 409."""
    c = make_consultation(desk, counselor)
    f = make_followup(c, counselor, due_date=timezone.localdate())
    login(client, counselor)
    response = client.post(reverse("desk:followup_done", args=[f.pk]), {"next": "dashboard"})
    assert response.status_code == 302
    f.refresh_from_db()
    assert f.done_by == counselor.user and f.done_at is not None
    again = client.post(f"/api/v1/desk/followups/{f.pk}/done", content_type="application/json")
    assert again.status_code == 409
    assert "既に完了" in again.json()["detail"]


def test_followup_assignee_must_be_desk_staff(
    client: Client, desk: Desk, counselor: Membership, charlie: Membership
) -> None:
    """Assigning a follow-up to someone outside the desk is refused and nothing is added."""
    c = make_consultation(desk, counselor)
    login(client, counselor)
    response = client.post(
        f"/api/v1/desk/consultations/{c.code}/followups",
        {
            "due_date": timezone.localdate().isoformat(),
            "note": "確認",
            "assignee": charlie.user.username,
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "窓口の職員" in response.json()["detail"]
    assert FollowUp.objects.count() == 0
