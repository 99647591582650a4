"""An application answers with what it wrote: the same body a fresh read gives (ADR 0081)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from renkei.accounts.models import Organization
from renkei.events.models import Applicant, Application
from renkei.events.testing import make_application, make_event

pytestmark = pytest.mark.django_db

BASE = "/api/v1/events"


def _body(n: int, *, tag: str) -> dict[str, Any]:
    return {
        "office_name": "さくら訪問看護ステーション",
        "contact_name": "連絡 担当",
        "contact_email": f"{tag}@example.jp",
        "contact_phone": "046-000-0001",
        "question_to": None,
        "question": "",
        "agree": True,
        "applicants": [
            {
                "name": f"山田 花子{i}",
                "kana": "やまだ はなこ",
                "email": f"{tag}{i}@example.jp" if i % 2 == 0 else "",
                "occupation": "nurse",
            }
            for i in range(n)
        ],
    }


def _post(client: Client, url: str, data: Any, **headers: Any) -> Any:
    return client.post(url, json.dumps(data), content_type="application/json", **headers)


@pytest.mark.parametrize("key", ["", "answer-key-1"])
def test_apply_answers_as_a_fresh_read_with_places_and_waiting_ranks(
    client: Client, organiser: Organization, key: str
) -> None:
    """Over capacity, with someone already waiting and a cancelled place behind: each new
    applicant's status and waiting rank in the answer are what GET reads back, with or
    without an Idempotency-Key; a replay answers the same body."""
    event = make_event(organiser, capacity=3)
    make_application(event, 2, start=0)  # two places taken
    earlier = make_application(event, 2, start=10)  # one place, one waiting (rank 1)
    Applicant.objects.filter(application=earlier, status="confirmed").update(status="cancelled")
    # The cancelled place is free again: the first new applicant takes it, the others wait
    # behind the one already waiting (ranks 2 and 3; the waiting one keeps rank 1).
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    url = f"{BASE}/{event.code}/applications"
    answer = _post(client, url, _body(3, tag=f"new{len(key)}"), **headers)
    assert answer.status_code == 201, answer.content
    got = answer.json()
    assert [(a["status"], a["waitlist_rank"]) for a in got["applicants"]] == [
        ("confirmed", None),
        ("waitlisted", 2),
        ("waitlisted", 3),
    ]
    fresh = client.get(f"{BASE}/applications/{got['token']}")
    assert fresh.status_code == 200
    assert got == fresh.json()
    if key:
        replay = _post(client, url, _body(3, tag=f"new{len(key)}"), **headers)
        assert replay.status_code == 200 and replay.json() == got
    assert Application.objects.filter(event=event).count() == 3


def test_apply_takes_eleven_statements(
    client: Client, organiser: Organization, django_assert_num_queries: Any
) -> None:
    """An application by the API: the event found and its owner (a course's round) read,
    then in a savepoint pair the event locked with its organisation, the duplicate check,
    the application, the tally, the applicant and the audit entry (its chain's head and its
    row); no read-back for the answer (the mails' defer is on commit in the tests)."""
    event = make_event(organiser, capacity=3)
    url = f"{BASE}/{event.code}/applications"
    with django_assert_num_queries(11):
        assert _post(client, url, _body(1, tag="count")).status_code == 201
