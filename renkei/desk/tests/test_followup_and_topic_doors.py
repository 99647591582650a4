"""Follow-ups and the desk's own categories: the screen and the API act alike."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from renkei.accounts.models import AuditEntry, Membership
from renkei.desk import actions
from renkei.desk.models import Desk, FollowUp, Topic
from renkei.desk.testing import make_consultation, make_followup
from renkei.desk.tests.conftest import login


def post_json(client: Client, url: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def followups() -> list[tuple[Any, ...]]:
    return [
        (f.due_date, f.note, f.assignee_id, f.created_by_id, f.done_by_id)
        for f in FollowUp.objects.order_by("consultation_id", "pk")
    ]


def test_adding_a_followup_through_either_door_writes_the_same_row(
    client: Client, desk: Desk, counselor: Membership, clerk: Membership
) -> None:
    """Due date, note and assignee (by user name) land alike, each with its audit entry."""
    a, b = make_consultation(desk, counselor), make_consultation(desk, counselor)
    due = timezone.localdate() + dt.timedelta(days=5)
    body = {"due_date": due.isoformat(), "note": "訪問看護の開始を確認", "assignee": "bob"}
    login(client, counselor)
    assert client.post(reverse("desk:followup_add", args=[a.code]), body).status_code == 302
    api = post_json(client, f"/api/v1/desk/consultations/{b.code}/followups", body)
    assert api.status_code == 201
    assert api.json()["assignee"] == str(clerk.user)
    first, second = followups()
    assert first == second == (due, "訪問看護の開始を確認", clerk.user_id, counselor.user_id, None)
    assert AuditEntry.objects.filter(action="desk.followup_added").count() == 2


@pytest.mark.parametrize(
    "body, message",
    [
        ({"assignee": "charlie"}, actions.ASSIGNEE_NOT_STAFF),
        ({"note": " "}, "フォローアップの内容を入力してください"),
        (
            {"due_date": (timezone.localdate() + dt.timedelta(days=4 * 366)).isoformat()},
            "期日は2000年以降、3年以内の日付を入力してください",
        ),
        ({"due_date": "1999-12-31"}, "日付は2000年〜2100年の範囲で入力してください"),
    ],
)
@pytest.mark.parametrize("door", ["html", "api"])
def test_a_refused_followup_gets_the_same_message_on_both_doors(
    client: Client,
    desk: Desk,
    counselor: Membership,
    charlie: Membership,
    door: str,
    body: dict[str, str],
    message: str,
) -> None:
    """Someone outside the desk, an empty note or a date out of range: same words, no row.
    The screen now shows the fault beside the field, with what was typed kept."""
    c = make_consultation(desk, counselor)
    full = {"due_date": timezone.localdate().isoformat(), "note": "確認", **body}
    login(client, counselor)
    if door == "html":
        response = client.post(reverse("desk:followup_add", args=[c.code]), full)
        text = response.content.decode()
        assert f'value="{full["due_date"]}"' in text
    else:
        response = post_json(client, f"/api/v1/desk/consultations/{c.code}/followups", full)
        text = response.json()["detail"]
    assert response.status_code == 400
    assert message in text
    assert not FollowUp.objects.exists()


def test_completing_through_either_door_records_the_same_and_refuses_twice(
    client: Client, desk: Desk, counselor: Membership
) -> None:
    """Done by the same person; a second completion is refused with the same message."""
    c = make_consultation(desk, counselor)
    due = timezone.localdate()
    f1, f2 = (make_followup(c, counselor, due_date=due) for _ in range(2))
    login(client, counselor)
    assert client.post(reverse("desk:followup_done", args=[f1.pk])).status_code == 302
    assert post_json(client, f"/api/v1/desk/followups/{f2.pk}/done").status_code == 200
    first, second = followups()
    assert first == second and first[-1] == counselor.user_id
    again_html = client.post(reverse("desk:followup_done", args=[f1.pk]), follow=True)
    again_api = post_json(client, f"/api/v1/desk/followups/{f2.pk}/done")
    assert "このフォローアップは既に完了しています" in again_html.content.decode()
    assert again_api.status_code == 409
    assert again_api.json()["detail"] == "このフォローアップは既に完了しています"


def own_topics(desk: Desk) -> list[tuple[str, bool]]:
    return list(desk.own_topics.order_by("pk").values_list("name", "is_active"))


def test_adding_and_retiring_a_topic_through_either_door(
    client: Client, desk: Desk, other_desk: Desk, counselor: Membership, charlie: Membership
) -> None:
    """A desk's own category added and retired on the screen ends as one added and retired
    through the API; both are audited (the screen's retirement was not before)."""
    login(client, counselor)
    client.post(reverse("desk:topics", args=[desk.code]), {"name": "歯科・口腔ケア"})
    screen_topic = desk.own_topics.get()
    client.post(reverse("desk:topics", args=[desk.code]), {"retire": screen_topic.pk})
    login(client, charlie)
    api = post_json(
        client, f"/api/v1/desk/desks/{other_desk.code}/topics", {"name": "歯科・口腔ケア"}
    )
    assert api.status_code == 201 and api.json()["shared"] is False
    retired = post_json(
        client, f"/api/v1/desk/desks/{other_desk.code}/topics/{api.json()['id']}/retire"
    )
    assert retired.status_code == 200
    assert own_topics(desk) == own_topics(other_desk) == [("歯科・口腔ケア", False)]
    assert AuditEntry.objects.filter(action="desk.topic_retired").count() == 2


@pytest.mark.parametrize("door", ["html", "api"])
def test_a_duplicate_topic_gets_the_same_message(
    client: Client, desk: Desk, counselor: Membership, door: str
) -> None:
    """A name the desk already has (a shared one here) is refused alike; nothing is added."""
    login(client, counselor)
    if door == "html":
        response = client.post(reverse("desk:topics", args=[desk.code]), {"name": "訪問看護"})
        text = response.content.decode()
    else:
        response = post_json(client, f"/api/v1/desk/desks/{desk.code}/topics", {"name": "訪問看護"})
        text = response.json()["detail"]
    assert response.status_code == 400
    assert "「訪問看護」は既にあります" in text
    assert Topic.objects.filter(name="訪問看護").count() == 1


@pytest.mark.parametrize("door", ["html", "api"])
def test_a_shared_topic_cannot_be_retired_by_a_desk(
    client: Client, desk: Desk, counselor: Membership, door: str
) -> None:
    """The defaults belong to every desk: retiring one is a 404 on both doors."""
    shared = Topic.objects.filter(desk__isnull=True).first()
    assert shared is not None
    login(client, counselor)
    if door == "html":
        response = client.post(reverse("desk:topics", args=[desk.code]), {"retire": shared.pk})
    else:
        response = post_json(client, f"/api/v1/desk/desks/{desk.code}/topics/{shared.pk}/retire")
        assert response.json()["detail"] == "分類が見つかりません"
    assert response.status_code == 404
    shared.refresh_from_db()
    assert shared.is_active


def test_a_retired_topic_comes_back_when_added_again(
    client: Client, desk: Desk, counselor: Membership
) -> None:
    """Adding the name of a retired own category brings it back instead of failing on the
    unique name (a 500 before)."""
    login(client, counselor)
    url = f"/api/v1/desk/desks/{desk.code}/topics"
    first = post_json(client, url, {"name": "歯科"}).json()
    post_json(client, f"{url}/{first['id']}/retire")
    again = post_json(client, url, {"name": "歯科"})
    assert again.status_code == 201 and again.json()["id"] == first["id"]
    assert own_topics(desk) == [("歯科", True)]
