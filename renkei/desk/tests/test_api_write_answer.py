"""Recording a consultation answers with the record as written, not a second read (ADR 0076):
the answer must be what GET /consultations/{code} gives for the same record."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from renkei.accounts.models import Membership
from renkei.desk.models import Desk
from renkei.desk.testing import topics
from renkei.desk.tests.conftest import login
from renkei.desk.tests.test_consultation_doors import post_api
from renkei.testing import make_facility

pytestmark = pytest.mark.django_db


def body(desk: Desk, **extra: Any) -> dict[str, Any]:
    return {
        "received_at": timezone.localtime().replace(microsecond=123456).isoformat(),
        "channel": "phone",
        "asker_type": "family",
        "topics": [t.pk for t in topics(desk, "医療処置・服薬", "訪問看護")],
        "scene": "daily",
        "summary": "訪問看護を利用したいが、どこに相談すればよいか。",
        **extra,
    }


def created_and_read(client: Client, desk: Desk, payload: dict[str, Any]) -> tuple[Any, Any]:
    r = post_api(client, f"/api/v1/desk/desks/{desk.code}/consultations", payload)
    assert r.status_code == 201, r.content
    made = r.json()
    return made, client.get(f"/api/v1/desk/consultations/{made['code']}").json()


def test_the_new_consultation_is_answered_as_read_back(
    client: Client, desk: Desk, counselor: Membership, clerk: Membership
) -> None:
    """Every field set, two topics, two facilities (out of their name order), a follow-up
    with an assignee, a time given in Japan time: the answer equals the read."""
    login(client, counselor)
    later = make_facility("わかば訪問看護（仮名）", "visiting_nurse")
    earlier = make_facility("あおば訪問看護（仮名）", "visiting_nurse")
    made, read = created_and_read(
        client,
        desk,
        body(
            desk,
            asker_detail="見本居宅介護支援事業所（仮名）",
            programme_item="o",
            subject_name="相談 花子（仮名）",
            subject_kana="そうだん はなこ",
            subject_age=81,
            subject_municipality="142051",
            consent="given",
            consent_date=timezone.localdate().isoformat(),
            actions_taken="2か所を紹介した。",
            referred_facilities=[str(later.code), str(earlier.code)],
            followup={
                "due_date": (timezone.localdate() + dt.timedelta(days=7)).isoformat(),
                "note": "利用開始できたか確認する",
                "assignee": clerk.user.username,
            },
        ),
    )
    assert [f["name"] for f in made["referred_facilities"]] == [
        "あおば訪問看護（仮名）",
        "わかば訪問看護（仮名）",
    ]
    assert len(made["topics"]) == 2 and made["followups"][0]["assignee"]
    assert made == read


def test_a_bare_consultation_is_answered_as_read_back(
    client: Client, desk: Desk, counselor: Membership
) -> None:
    """What the Monday mix sends: no facilities, no follow-up, no municipality."""
    login(client, counselor)
    made, read = created_and_read(client, desk, body(desk))
    assert made["referred_facilities"] == [] and made["followups"] == []
    assert made == read


def test_a_consultation_confirmed_at_once_is_answered_as_read_back(
    client: Client, desk: Desk, counselor: Membership
) -> None:
    login(client, counselor)
    made, read = created_and_read(client, desk, body(desk, confirm=True))
    assert made["confirmed_by"] and made["version"] == read["version"]
    assert made == read


def test_recording_costs_a_fixed_number_of_statements(
    client: Client,
    desk: Desk,
    counselor: Membership,
    django_assert_num_queries: Any,
) -> None:
    """The session, the membership, the desk, the topics, the insert, the topics' insert and
    the audit entry (two), with the savepoint pair the test's transaction turns the action's
    into: a read-back (four before ADR 0076) or a uniqueness check would add to them."""
    login(client, counselor)
    url, payload = f"/api/v1/desk/desks/{desk.code}/consultations", body(desk)
    post_api(client, url, payload)
    with django_assert_num_queries(10):
        r = post_api(client, url, payload)
    assert r.status_code == 201
