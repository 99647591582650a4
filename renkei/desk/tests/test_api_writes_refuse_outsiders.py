"""Another desk's staff get 404 from every API write, with a valid body, and change nothing."""

from __future__ import annotations

import datetime as dt
import json

from django.test import Client
from django.utils import timezone

from renkei.accounts.models import Membership
from renkei.desk import actions
from renkei.desk.models import Consultation, Desk, FollowUp, Topic
from renkei.desk.testing import make_consultation
from renkei.desk.tests.conftest import login


def test_writes_to_another_desk_are_404(
    client: Client, desk: Desk, counselor: Membership, charlie: Membership
) -> None:
    """Adding or retiring its topics, recording, editing and adding follow-ups: all 404."""
    c = make_consultation(desk, counselor, summary="元の内容")
    topic = desk.own_topics.create(name="この窓口の分類", sort_order=500)
    edit = actions.ConsultationEditInput.of(c, summary="書き換え").model_dump(mode="json")
    new = {k: v for k, v in edit.items() if k not in ("version", "reason")}
    due = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    login(client, charlie)
    for method, url, body in [
        ("post", f"/api/v1/desk/desks/{desk.code}/topics", {"name": "よその分類"}),
        ("post", f"/api/v1/desk/desks/{desk.code}/topics/{topic.pk}/retire", {}),
        ("post", f"/api/v1/desk/desks/{desk.code}/consultations", new),
        ("put", f"/api/v1/desk/consultations/{c.code}", edit),
        ("post", f"/api/v1/desk/consultations/{c.code}/followups", {"due_date": due, "note": "x"}),
    ]:
        response = getattr(client, method)(url, json.dumps(body), content_type="application/json")
        assert response.status_code == 404, (url, response.content)
        assert "見つかりません" in response.json()["detail"]
    c.refresh_from_db()
    topic.refresh_from_db()
    assert (c.summary, c.version, topic.is_active) == ("元の内容", 1, True)
    assert Consultation.objects.count() == 1
    assert not FollowUp.objects.exists()
    assert not Topic.objects.filter(name="よその分類").exists()


def test_anonymous_writes_are_401(client: Client, desk: Desk, counselor: Membership) -> None:
    """Without a session the API refuses before reading anything."""
    c = make_consultation(desk, counselor)
    for url in [
        f"/api/v1/desk/desks/{desk.code}/topics",
        f"/api/v1/desk/consultations/{c.code}/confirm",
        f"/api/v1/desk/consultations/{c.code}/followups",
    ]:
        response = client.post(url, "{}", content_type="application/json")
        assert response.status_code == 401, url
