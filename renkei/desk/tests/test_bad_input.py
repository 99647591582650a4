from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from renkei.accounts.models import AuditEntry, Membership
from renkei.desk.models import Consultation, Desk, FollowUp
from renkei.desk.tests.conftest import login
from renkei.desk.tests.test_record_consultation import form_data

TOMORROW = (timezone.localdate() + dt.timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"received_date": TOMORROW}, "未来の日付は入力できません"),
        ({"received_date": "2025-13-40"}, "日付を正しく入力してください"),
        ({"received_date": ""}, "このフィールドは必須です"),
        ({"summary": ""}, "このフィールドは必須です"),
        ({"topics": []}, "相談内容の分類を1つ以上選んでください"),
        ({"channel": "carrier-pigeon"}, "正しく選択してください"),
        ({"consent": "given", "consent_date": ""}, "確認した日を入力してください"),
        ({"consent": "not_asked"}, "確認日は空欄にしてください"),
        ({"subject_age": "200"}, "130 以下"),
        ({"followup_note": ""}, "フォローアップの内容を入力してください"),
        ({"referred_facilities": ["00000000-0000-0000-0000-000000000000"]}, "見つからない施設"),
    ],
)
def test_bad_form_input_is_refused_and_nothing_saved(
    client: Client, desk: Desk, counselor: Membership, overrides: dict[str, object], message: str
) -> None:
    """Each malformed field gets a Japanese message, status 400, and no rows are written."""
    login(client, counselor)
    response = client.post(reverse("desk:new", args=[desk.code]), form_data(desk, **overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Consultation.objects.count() == 0
    assert FollowUp.objects.count() == 0
    assert not AuditEntry.objects.filter(action__startswith="desk.consultation_created").exists()


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"received_at": "2999-01-01T10:00:00"}, "2000年〜2100年"),
        (
            {
                "received_at": (timezone.localdate() + dt.timedelta(days=2)).isoformat()
                + "T10:00:00"
            },
            "未来の日付",
        ),
        ({"received_at": "yesterday"}, "received_at"),
        ({"summary": ""}, "summary"),
        ({"topics": [999999]}, "使えない相談内容の分類"),
        ({"channel": "telegram"}, "channel"),
        ({"subject_municipality": "999999"}, "見つかりません"),
        ({"consent": "given"}, "確認した日を入力してください"),
    ],
)
def test_bad_api_input_is_refused_and_nothing_saved(
    client: Client, desk: Desk, counselor: Membership, overrides: dict[str, object], message: str
) -> None:
    """The API answers 400 with {"detail": "..."} and writes nothing."""
    login(client, counselor)
    topic = desk.topics().first()
    assert topic is not None
    payload = {
        "received_at": timezone.localtime().replace(microsecond=0).isoformat(),
        "channel": "phone",
        "asker_type": "family",
        "topics": [topic.pk],
        "scene": "daily",
        "summary": "相談内容",
        **overrides,
    }
    response = client.post(
        f"/api/v1/desk/desks/{desk.code}/consultations",
        json.dumps(payload),
        content_type="application/json",
    )
    assert response.status_code == 400, response.content
    assert message in response.json()["detail"]
    assert Consultation.objects.count() == 0


def test_api_create_works_with_valid_input(
    client: Client, desk: Desk, counselor: Membership
) -> None:
    """The same payload without the fault is accepted (so the refusals above are about the fault)."""
    login(client, counselor)
    topic = desk.topics().first()
    assert topic is not None
    response = client.post(
        f"/api/v1/desk/desks/{desk.code}/consultations",
        json.dumps(
            {
                "received_at": timezone.localtime().replace(microsecond=0).isoformat(),
                "channel": "phone",
                "asker_type": "family",
                "topics": [topic.pk],
                "scene": "daily",
                "summary": "相談内容",
                "followup": {"due_date": timezone.localdate().isoformat(), "note": "電話で確認"},
            }
        ),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["followups"][0]["note"] == "電話で確認"
    assert Consultation.objects.count() == 1


def test_bad_list_filter_is_refused(client: Client, desk: Desk, counselor: Membership) -> None:
    """A malformed month filter gets 400 and a message instead of an empty or wrong list."""
    login(client, counselor)
    response = client.get(reverse("desk:list", args=[desk.code]), {"month": "2025-13"})
    assert response.status_code == 400
    assert "1〜12月" in response.content.decode()
    bad_fy = client.get(reverse("desk:tally", args=[desk.code]), {"fy": "abc"})
    assert bad_fy.status_code == 400
    assert "年度は" in bad_fy.content.decode()
