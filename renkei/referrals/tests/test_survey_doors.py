"""The 効果検証 survey through both doors: creating it and answering it (twice, the second
replacing the first) leave the same rows and audit; a bad answer is refused alike."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from renkei.accounts.models import AuditEntry, Membership
from renkei.referrals.models import Survey, SurveyResponse
from renkei.referrals.tests.conftest import login

pytestmark = pytest.mark.django_db
API = "/api/v1/referrals"
DOORS = ["html", "api"]


def _api(client: Client, method: str, path: str, body: dict[str, Any]) -> Any:
    return getattr(client, method)(API + path, json.dumps(body), content_type="application/json")


def _audit() -> list[str]:
    return sorted(
        AuditEntry.objects.filter(action__startswith="referrals.survey").values_list(
            "action", flat=True
        )
    )


def _create(client: Client, door: str) -> Survey:
    today = timezone.localdate()
    fields = {
        "title": "令和8年度 入退院支援ネットワーク効果検証",
        "description": "所要時間の変化をお尋ねします",
        "opens_on": today.isoformat(),
        "closes_on": (today + dt.timedelta(days=14)).isoformat(),
    }
    if door == "html":
        assert client.post(reverse("referrals:survey_new"), fields).status_code == 302
    else:
        assert _api(client, "post", "/surveys", fields).status_code == 201
    return Survey.objects.get()


def _answer(client: Client, door: str, survey: Survey, answer: dict[str, Any]) -> Any:
    if door == "html":
        return client.post(reverse("referrals:survey_answer", args=[survey.code]), answer)
    return _api(client, "put", f"/surveys/{survey.code}/answer", answer)


@pytest.mark.parametrize("door", DOORS)
def test_a_survey_is_created_and_answered_alike_through_either_door(
    client: Client, prefecture_officer: Membership, msw: Membership, door: str
) -> None:
    login(client, prefecture_officer)
    survey = _create(client, door)
    today = timezone.localdate()
    assert (
        survey.title,
        survey.description,
        survey.owner_id,
        survey.created_by_id,
        survey.opens_on,
        survey.closes_on,
    ) == (
        "令和8年度 入退院支援ネットワーク効果検証",
        "所要時間の変化をお尋ねします",
        prefecture_officer.organization_id,
        prefecture_officer.user_id,
        today,
        today + dt.timedelta(days=14),
    )
    login(client, msw)
    for minutes_now in (30, 20):
        answer = {"minutes_before": 120, "minutes_now": minutes_now, "satisfaction": 4}
        r = _answer(client, door, survey, {**answer, "comment": "電話の回数が減った"})
        assert r.status_code in (200, 302), r.content.decode()[:500]
    assert list(
        SurveyResponse.objects.values_list(
            "organization_id",
            "respondent_id",
            "minutes_before",
            "minutes_now",
            "satisfaction",
            "comment",
        )
    ) == [(msw.organization_id, msw.user_id, 120, 20, 4, "電話の回数が減った")]
    assert _audit() == [
        "referrals.survey_answered",
        "referrals.survey_answered",
        "referrals.survey_created",
    ]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"satisfaction": 6}, "5"),
        ({"comment": "担当の佐藤花子さんが丁寧"}, "佐藤花子"),
    ],
)
@pytest.mark.parametrize("door", DOORS)
def test_a_bad_answer_is_refused_alike_and_stores_nothing(
    client: Client,
    prefecture_officer: Membership,
    msw: Membership,
    door: str,
    change: dict[str, Any],
    message: str,
) -> None:
    login(client, prefecture_officer)
    survey = _create(client, "api")
    login(client, msw)
    answer = {"minutes_before": 60, "minutes_now": 30, "satisfaction": 3, "comment": ""}
    r = _answer(client, door, survey, {**answer, **change})
    text = r.content.decode() if door == "html" else r.json()["detail"]
    assert r.status_code == 400
    assert message in text
    assert SurveyResponse.objects.count() == 0
