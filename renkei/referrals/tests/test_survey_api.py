from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from renkei.accounts.models import AuditEntry, OrgKind, Role
from renkei.referrals.models import Survey, SurveyResponse
from renkei.testing import make_member, make_org, sign_in

pytestmark = pytest.mark.django_db


def _client(member) -> Client:  # type: ignore[no-untyped-def]
    # CSRF on cookie-authenticated API calls is covered by tests/test_security.py.
    c = Client()
    sign_in(c, member.user)
    return c


def _send(c: Client, method: str, url: str, body: dict[str, Any]) -> Any:
    return getattr(c, method)(url, data=json.dumps(body), content_type="application/json")


@pytest.fixture
def people() -> dict[str, object]:
    pref = make_org("神奈川県", OrgKind.PREFECTURE, prefecture_code="14")
    other_pref = make_org("岩手県", OrgKind.PREFECTURE, prefecture_code="03")
    hosp = make_org("みどり台病院", OrgKind.HOSPITAL, municipality_code="142051")
    return {
        "pref": make_member(pref, Role.PREFECTURAL_OFFICER, username="pref"),
        "other_pref": make_member(other_pref, Role.PREFECTURAL_OFFICER, username="pref2"),
        "msw": make_member(hosp, Role.MSW, username="msw"),
    }


def test_survey_round_trip_through_the_api(people: dict) -> None:  # type: ignore[type-arg]
    """A prefecture creates a survey, a hospital answers twice (the answer is replaced), the tally counts it."""
    today = timezone.localdate()
    pref = _client(people["pref"])
    r = _send(
        pref,
        "post",
        "/api/v1/referrals/surveys",
        {
            "title": "効果検証",
            "opens_on": str(today),
            "closes_on": str(today + dt.timedelta(days=14)),
        },
    )
    assert r.status_code == 201, r.content
    code = r.json()["code"]
    msw = _client(people["msw"])
    for minutes in (20, 15):
        r = _send(
            msw,
            "put",
            f"/api/v1/referrals/surveys/{code}/answer",
            {
                "minutes_before": 120,
                "minutes_now": minutes,
                "satisfaction": 4,
                "comment": "電話が減った",
            },
        )
        assert r.status_code == 200, r.content
    assert SurveyResponse.objects.get().minutes_now == 15
    tally = pref.get(f"/api/v1/referrals/surveys/{code}/tally").json()
    assert tally["responses"] == 1 and tally["minutes_saved_median"] == 105
    assert AuditEntry.objects.filter(action="referrals.survey_answered").count() == 2


def test_closed_survey_and_identifying_comment_are_refused(people: dict) -> None:  # type: ignore[type-arg]
    """Answers outside the period get 409; a comment with a phone number gets 400; nothing is saved."""
    today = timezone.localdate()
    closed = Survey.objects.create(
        title="昨年度",
        owner=people["pref"].organization,
        created_by=people["pref"].user,
        opens_on=today - dt.timedelta(days=30),
        closes_on=today - dt.timedelta(days=1),
    )
    open_ = Survey.objects.create(
        title="今年度",
        owner=people["pref"].organization,
        created_by=people["pref"].user,
        opens_on=today,
        closes_on=today,
    )
    msw = _client(people["msw"])
    body = {"minutes_before": 60, "minutes_now": 10, "satisfaction": 5, "comment": ""}
    assert (
        _send(msw, "put", f"/api/v1/referrals/surveys/{closed.code}/answer", body).status_code
        == 409
    )
    r = _send(
        msw,
        "put",
        f"/api/v1/referrals/surveys/{open_.code}/answer",
        {**body, "comment": "担当 090-1234-5678 まで"},
    )
    assert r.status_code == 400
    assert not SurveyResponse.objects.exists()


def test_tally_is_only_for_the_owner_and_hospitals_cannot_create(people: dict) -> None:  # type: ignore[type-arg]
    """Another prefecture gets 404 for the tally; a hospital cannot create a survey; anonymous is 401."""
    today = timezone.localdate()
    s = Survey.objects.create(
        title="効果検証",
        owner=people["pref"].organization,
        created_by=people["pref"].user,
        opens_on=today,
        closes_on=today,
    )
    assert (
        _client(people["other_pref"]).get(f"/api/v1/referrals/surveys/{s.code}/tally").status_code
        == 404
    )
    r = _send(
        _client(people["msw"]),
        "post",
        "/api/v1/referrals/surveys",
        {"title": "x", "opens_on": str(today), "closes_on": str(today)},
    )
    assert r.status_code == 403
    assert Client().get("/api/v1/referrals/surveys").status_code == 401
