"""Registering and sending answer with the objects the action wrote, not a second read
(ADR 0067): the answers must be what a fresh read of the same rows gives."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from renkei.accounts.models import AuditEntry, Membership
from renkei.directory.models import Capability, Facility, vocabulary
from renkei.lib.http import json_bytes
from renkei.referrals.models import PlacementCase, PlacementRequest
from renkei.referrals.schemas import ReferralRequestOut
from renkei.referrals.tests.conftest import login
from renkei.referrals.tests.test_api import CASE, post

pytestmark = pytest.mark.django_db
BASE = "/api/v1/referrals"

# Every field of the case set, relations and lists with more than one value.
FULL_CASE = {
    **CASE,
    "required_capabilities": ["suction", "tube-feeding"],
    "infections": ["mrsa"],
    "desired_municipalities": ["142051", "142077"],
    "radius_km": 15,
    "target_date": "2026-12-20",
    "internal_ref": "K-0042",
}


def test_the_new_case_is_answered_as_read_back(
    client: Client, msw: Membership, django_assert_num_queries: Any
) -> None:
    """POST /cases answers what GET /cases/{code} answers for the case just made, relations
    given out of their order; the answer reads nothing back (ADR 0081): the session, the
    membership, the residence, the capabilities, the desired municipalities, the case, its two
    relations, its event and the audit entry (two), in the savepoint pair of the test's
    transaction."""
    login(client, msw)
    out_of_order = {
        **FULL_CASE,
        "required_capabilities": ["tube-feeding", "suction"],
        "desired_municipalities": ["142077", "142051"],
    }
    with django_assert_num_queries(13):
        r = post(client, "/cases", out_of_order)
    assert r.status_code == 201, r.content
    made = r.json()
    assert sorted(made["required_capabilities"]) == ["suction", "tube-feeding"]
    assert sorted(made["desired_municipalities"]) == ["142051", "142077"]
    assert made["internal_ref"] == "K-0042" and made["hospital"]
    assert client.get(f"{BASE}/cases/{made['code']}").json() == made


def test_a_capability_deleted_elsewhere_is_refused_with_its_code(
    client: Client, msw: Membership
) -> None:
    """A capability another process deleted while this one still has it in its vocabulary:
    the case is refused with the code named and nothing is written (it would otherwise fail
    at COMMIT on the relation's foreign key)."""
    login(client, msw)
    vocabulary()
    Capability.objects.filter(code="suction").delete()  # no forget_vocabulary(): elsewhere
    before = PlacementCase.objects.count()
    r = post(client, "/cases", FULL_CASE)
    assert r.status_code == 400, r.content
    assert "suction" in r.content.decode()
    assert PlacementCase.objects.count() == before


def test_another_hospitals_send_is_a_refused_read(
    client: Client,
    msw: Membership,
    other_msw: Membership,
    tokuyo: tuple[Facility, Membership],
) -> None:
    """Sending another hospital's case answers 404 and writes nothing, with or without an
    Idempotency-Key; the log keeps each refusal (the lookup is the send's lock, ADR 0081);
    an unknown code is no refusal."""
    login(client, msw)
    code = post(client, "/cases", CASE).json()["code"]
    deadline = (timezone.now() + dt.timedelta(days=2)).isoformat()
    body = {"facilities": [str(tokuyo[0].code)], "deadline": deadline}
    login(client, other_msw)
    assert post(client, f"/cases/{code}/requests", body).status_code == 404
    keyed = post(client, f"/cases/{code}/requests", body, HTTP_IDEMPOTENCY_KEY="send-refused-1")
    assert keyed.status_code == 404
    assert post(client, f"/cases/{uuid.uuid4()}/requests", body).status_code == 404
    assert not PlacementRequest.objects.exists()
    refused = AuditEntry.objects.filter(action="access.refused").order_by("id")
    assert [(e.actor, e.target_type, e.target_id) for e in refused] == [
        (other_msw.user, "referrals.PlacementCase", code),
        (other_msw.user, "referrals.PlacementCase", code),
    ]


def test_a_draft_is_answered_as_read_back(client: Client, msw: Membership) -> None:
    login(client, msw)
    r = post(client, "/cases", {**CASE, "draft": True})
    assert r.status_code == 201, r.content
    assert r.json()["registered_at"] is None
    assert client.get(f"{BASE}/cases/{r.json()['code']}").json() == r.json()


def test_the_sent_requests_are_answered_as_read_back(
    client: Client,
    msw: Membership,
    tokuyo: tuple[Facility, Membership],
    roken: tuple[Facility, Membership],
    third: tuple[Facility, Membership],
    django_assert_max_num_queries: Any,
) -> None:
    """POST /cases/{code}/requests answers each request as ReferralRequestOut makes it of the
    request read whole with its whole case and facility, in the order chosen, and as GET
    /cases/{code}/requests lists them; the case is read once: found by its lock (ADR 0081)."""
    login(client, msw)
    code = post(client, "/cases", CASE).json()["code"]
    chosen = [third[0], tokuyo[0], roken[0]]
    deadline = (timezone.now() + dt.timedelta(days=2)).isoformat()
    body = {"facilities": [str(f.code) for f in chosen], "deadline": deadline}
    with django_assert_max_num_queries(15) as ctx:
        r = post(client, f"/cases/{code}/requests", body)
    assert r.status_code == 201, r.content
    reads = [q["sql"] for q in ctx.captured_queries if 'FROM "referrals_placementcase"' in q["sql"]]
    assert len(reads) == 1
    whole = PlacementRequest.objects.select_related("case", "facility").order_by("id")
    expected = [
        json.loads(json_bytes(ReferralRequestOut.model_validate(q).model_dump())) for q in whole
    ]
    assert r.json() == expected
    assert [item["facility"] for item in r.json()] == [str(f.code) for f in chosen]
    assert client.get(f"{BASE}/cases/{code}/requests").json() == expected
