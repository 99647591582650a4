"""Parity of the 専門職派遣 writes: /courses/dispatch/ and /api/v1/courses/dispatch/ hand the
same typed input to the same action. Each test runs once per door and compares with one
expected state (the request's row and audit lines); the same refusal has the same message."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from renkei.accounts.models import AuditEntry, Membership
from renkei.courses.models import DispatchRequest, Specialist
from renkei.courses.tests.conftest import client_for
from renkei.courses.tests.test_dispatch import _next, city, rehab

__all__ = ["city", "rehab"]  # the fixtures of the dispatch tests

pytestmark = pytest.mark.django_db
DOORS = ["html", "api"]
API = "/api/v1/courses/dispatch/requests"


def _send(c: Client, url: str, body: dict[str, Any] | None = None) -> Any:
    return c.post(url, json.dumps(body or {}), content_type="application/json")


def _audit() -> list[str]:
    return list(
        AuditEntry.objects.filter(action__startswith="courses.dispatch")
        .order_by("pk")
        .values_list("action", flat=True)
    )


def _row(req: DispatchRequest) -> tuple[Any, ...]:
    req.refresh_from_db()
    return (
        req.date,
        req.starts,
        req.ends,
        req.purpose,
        req.kind,
        req.venue,
        req.detail,
        req.status,
        req.specialist.name if req.specialist else None,
        req.report,
        req.participants,
        req.fee,
    )


def _shown(r: Any, door: str) -> str:
    return r.content.decode() if door == "html" else str(r.json()["detail"])


@pytest.mark.parametrize("door", DOORS)
def test_a_dispatch_is_asked_and_decided_the_same_and_early_steps_refused_the_same(
    city: Membership, alice: Membership, rehab: Specialist, door: str
) -> None:
    day = _next(1)
    asked = {
        "date": day.isoformat(),
        "starts": "14:00",
        "ends": "16:00",
        "purpose": "care_meeting",
        "kind": "rehab",
        "venue": "厚木市役所 会議室",
        "detail": "自立支援型地域ケア会議の助言者",
    }
    town, pref = client_for(city), client_for(alice)
    if door == "html":
        assert town.post("/courses/dispatch/new/", asked).status_code == 302
        req = DispatchRequest.objects.get()
        form = {"step": "decide", "specialist": str(rehab.code), "note": "駐車場あり"}
        assert pref.post(req.get_absolute_url(), form).status_code == 302
    else:
        assert _send(town, API, asked).status_code == 201
        req = DispatchRequest.objects.get()
        decision = {"specialist": str(rehab.code), "note": "駐車場あり"}
        assert _send(pref, f"{API}/{req.code}/decision", decision).status_code == 200
    decided = _row(req)
    assert decided[7:9] == ("confirmed", "相模 理子")
    assert decided[5:7] == ("厚木市役所 会議室", "自立支援型地域ケア会議の助言者")
    assert _audit() == ["courses.dispatch_requested", "courses.dispatch_decided"]
    # Before the day: no report; before a report: no fee. One message each on both doors.
    early: tuple[tuple[str, dict[str, Any], int, str], ...] = (
        ("report", {"report": "実施しました", "participants": 12}, 400, "派遣日以降に"),
        ("fee", {"fee": 10000}, 409, "謝金は実施報告の後に記録します。"),
    )
    for step, body, status, message in early:
        if door == "html":
            r = pref.post(req.get_absolute_url(), {"step": step, **body})
        else:
            r = _send(pref, f"{API}/{req.code}/{step}", body)
        assert r.status_code == status and message in _shown(r, door)
        assert _row(req) == decided
    assert _audit() == ["courses.dispatch_requested", "courses.dispatch_decided"]


@pytest.mark.parametrize("door", DOORS)
def test_a_dispatch_is_withdrawn_the_same_and_only_once(
    city: Membership, rehab: Specialist, door: str
) -> None:
    town = client_for(city)
    asked = {
        "date": _next(2).isoformat(),
        "starts": "10:00",
        "ends": "12:00",
        "purpose": "care_meeting",
        "kind": "rehab",
        "venue": "厚木市役所",
    }
    assert _send(town, API, asked).status_code == 201
    req = DispatchRequest.objects.get()
    for attempt in range(2):
        if door == "html":
            r = town.post(req.get_absolute_url(), {"step": "withdraw"})
        else:
            r = _send(town, f"{API}/{req.code}/withdraw")
        if attempt == 0:
            assert r.status_code in (200, 302)
            withdrawn = _row(req)
            assert withdrawn[7] == "withdrawn"
        else:
            assert r.status_code == 409
            assert "この依頼は既に「取下げ」です。" in _shown(r, door)
            assert _row(req) == withdrawn
    assert _audit() == ["courses.dispatch_requested", "courses.dispatch_withdrawn"]
