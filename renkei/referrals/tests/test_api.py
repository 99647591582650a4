from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from renkei.accounts.models import Membership
from renkei.directory.models import Facility
from renkei.referrals.models import CaseStatus, PlacementCase, PlacementRequest, RequestStatus
from renkei.referrals.tests.conftest import login
from renkei.testing import sign_in

pytestmark = pytest.mark.django_db
BASE = "/api/v1/referrals"


def post(client: Client, path: str, body: dict[str, Any], **headers: Any) -> Any:
    return client.post(BASE + path, json.dumps(body), content_type="application/json", **headers)


CASE = {
    "age_band": "85",
    "sex": "female",
    "care_level": 5,
    "dementia": "2a",
    "required_capabilities": ["suction"],
    "infections": [],
    "residence": "142051",
    "destinations": ["tokuyo", "roken"],
    "budget_monthly": 150000,
    "household": "alone",
    "key_person": "yes",
    "key_person_relation": "child",
    "note": "日中は車椅子",
}


def test_every_step_through_the_api(
    client: Client,
    msw: Membership,
    tokuyo: tuple[Facility, Membership],
    roken: tuple[Facility, Membership],
) -> None:
    """Register, list candidates, send, answer (decline and accept), ask, confirm, record handover."""
    login(client, msw)
    r = post(client, "/cases", CASE)
    assert r.status_code == 201, r.content
    code = r.json()["code"]
    assert r.json()["status"] == CaseStatus.SEARCHING
    assert r.json()["required_capabilities"] == ["suction"]

    cands = client.get(f"{BASE}/cases/{code}/candidates").json()
    names = [c["name"] for c in cands["matches"]]
    assert "特養なぎさ苑" in names
    assert all(c["reasons"] for c in cands["matches"])

    deadline = (timezone.now() + dt.timedelta(days=2)).isoformat()
    r = post(
        client,
        f"/cases/{code}/requests",
        {"facilities": [str(tokuyo[0].code), str(roken[0].code)], "deadline": deadline},
    )
    assert r.status_code == 201, r.content
    codes = {x["facility_name"]: x["code"] for x in r.json()}

    login(client, roken[1])
    assert client.get(f"{BASE}/unread").json() == {"count": 1}
    inbox = client.get(f"{BASE}/requests").json()
    assert [i["code"] for i in inbox["items"]] == [codes["老健ひかりの丘"]]
    detail = client.get(f"{BASE}/requests/{codes['老健ひかりの丘']}").json()
    assert detail["status"] == RequestStatus.READ
    assert detail["case_summary"]["assignee"] is None
    r = post(
        client,
        f"/requests/{codes['老健ひかりの丘']}/answer",
        {"answer": "declined", "decline_reason": "care_level"},
    )
    assert r.json()["status"] == "declined"

    login(client, tokuyo[1])
    r = post(client, f"/requests/{codes['特養なぎさ苑']}/messages", {"body": "吸引の頻度は？"})
    assert r.status_code == 201 and r.json()["from_hospital"] is False
    r = post(client, f"/requests/{codes['特養なぎさ苑']}/answer", {"answer": "accepted"})
    assert r.status_code == 200

    login(client, msw)
    r = post(client, f"/cases/{code}/confirm", {"request": codes["特養なぎさ苑"]})
    assert r.status_code == 200, r.content
    assert r.json()["status"] == CaseStatus.DECIDED
    assert r.json()["placed_facility"] == str(tokuyo[0].code)
    r = post(
        client,
        f"/cases/{code}/handovers",
        {"kind": "referral_letter", "exchanged_on": timezone.localdate().isoformat()},
    )
    assert r.status_code == 201
    events = [e["kind"] for e in client.get(f"{BASE}/cases/{code}/events").json()]
    assert events[0] == "created" and "decided" in events and events[-1] == "handover"


@pytest.mark.parametrize(
    "change, fragment",
    [
        ({"note": "鈴木一郎様"}, "氏名"),
        ({"residence": "999999"}, "市区町村コード"),
        ({"required_capabilities": ["teleport"]}, "処置項目が見つかりません"),
        ({"care_level": 9}, "入力内容が正しくありません"),
        ({"sex": "x"}, "入力内容が正しくありません"),
        ({"destinations": []}, "退院・転院先を1つ以上"),
    ],
)
def test_bad_input_gets_a_japanese_detail_and_creates_nothing(
    client: Client, msw: Membership, change: dict[str, Any], fragment: str
) -> None:
    """400 with {"detail": ...} naming the problem; no case is stored."""
    login(client, msw)
    r = post(client, "/cases", {**CASE, **change})
    assert r.status_code == 400
    assert fragment in r.json()["detail"]
    assert PlacementCase.objects.count() == 0


def test_idempotency_key_replays_the_first_response(
    client: Client, msw: Membership, tokuyo: tuple[Facility, Membership]
) -> None:
    """The same Idempotency-Key twice: one case, the same body; reusing it elsewhere is a conflict."""
    login(client, msw)
    first = post(client, "/cases", CASE, HTTP_IDEMPOTENCY_KEY="key-0001-abcdef")
    second = post(client, "/cases", CASE, HTTP_IDEMPOTENCY_KEY="key-0001-abcdef")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert PlacementCase.objects.count() == 1
    code = first.json()["code"]
    deadline = (timezone.now() + dt.timedelta(days=1)).isoformat()
    body = {"facilities": [str(tokuyo[0].code)], "deadline": deadline}
    a = post(client, f"/cases/{code}/requests", body, HTTP_IDEMPOTENCY_KEY="send-0001-abcdef")
    b = post(client, f"/cases/{code}/requests", body, HTTP_IDEMPOTENCY_KEY="send-0001-abcdef")
    assert a.json() == b.json() and a.status_code == b.status_code == 201
    assert PlacementRequest.objects.count() == 1
    reused = post(
        client,
        f"/cases/{code}/withdraw",
        {"reason": "other"},
        HTTP_IDEMPOTENCY_KEY="key-0001-abcdef",
    )
    assert reused.status_code == 409
    bad = post(client, "/cases", CASE, HTTP_IDEMPOTENCY_KEY="x")
    assert bad.status_code == 400


def test_failed_calls_do_not_burn_the_key(client: Client, msw: Membership) -> None:
    """A refused call stores nothing: the corrected retry with the same key succeeds."""
    login(client, msw)
    r = post(client, "/cases", {**CASE, "note": "山田様"}, HTTP_IDEMPOTENCY_KEY="retry-0001-abc")
    assert r.status_code == 400
    r = post(client, "/cases", CASE, HTTP_IDEMPOTENCY_KEY="retry-0001-abc")
    assert r.status_code == 201


def test_cookie_clients_need_the_csrf_token(msw: Membership) -> None:
    """Session authentication enforces CSRF: a POST without the token is refused."""
    client = Client(enforce_csrf_checks=True)
    login(client, msw)
    r = post(client, "/cases", CASE)
    assert r.status_code == 403
    assert PlacementCase.objects.count() == 0


def test_other_hospital_gets_404_and_conflicts_are_409(
    client: Client, msw: Membership, other_msw: Membership, case: PlacementCase
) -> None:
    """Another hospital's calls on the case are 404; withdrawing twice is 409."""
    login(client, other_msw)
    assert client.get(f"{BASE}/cases/{case.code}").status_code == 404
    assert post(client, f"/cases/{case.code}/withdraw", {"reason": "other"}).status_code == 404
    login(client, msw)
    assert post(client, f"/cases/{case.code}/withdraw", {"reason": "other"}).status_code == 200
    r = post(client, f"/cases/{case.code}/withdraw", {"reason": "other"})
    assert r.status_code == 409 and "取下げ済み" in r.json()["detail"]


def test_patch_with_stale_version_is_409(
    client: Client, msw: Membership, case: PlacementCase
) -> None:
    """PATCH with the version read earlier succeeds once; the second with the same version is 409."""
    login(client, msw)
    r = client.patch(
        f"{BASE}/cases/{case.code}",
        json.dumps({"radius_km": 30, "version": 1}),
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["radius_km"] == 30
    r = client.patch(
        f"{BASE}/cases/{case.code}",
        json.dumps({"radius_km": 10, "version": 1}),
        content_type="application/json",
    )
    assert r.status_code == 409


def test_member_without_organisation_is_403(client: Client, db: None) -> None:
    """Signed in but without a membership: 403 with a detail."""
    from renkei.testing import make_user

    sign_in(client, make_user("nobody"))
    r = client.get(f"{BASE}/cases")
    assert r.status_code == 403
    assert "所属" in r.json()["detail"]


def test_dashboard_api_is_for_government_only(
    client: Client, msw: Membership, prefecture_officer: Membership, case: PlacementCase
) -> None:
    """The effect figures are for the prefecture; a hospital member gets 403."""
    login(client, msw)
    assert client.get(f"{BASE}/dashboard").status_code == 403
    login(client, prefecture_officer)
    r = client.get(f"{BASE}/dashboard")
    assert r.status_code == 200
    assert r.json()["total"]["cases"] == 1


def test_admission_api(client: Client, msw: Membership) -> None:
    """受入れ病院 search by ward kind; bad ward kinds are a 400 with the value named."""
    from renkei.directory.models import Ward
    from renkei.testing import make_facility

    h = make_facility("後方支援病院", "hospital", is_backup_hospital=True)
    Ward.objects.create(facility=h, kind="community", beds=40, vacant_beds=2)
    login(client, msw)
    r = client.get(f"{BASE}/admission/hospitals?ward_kind=community&vacant_only=true")
    assert [x["name"] for x in r.json()] == ["後方支援病院"]
    r = client.get(f"{BASE}/admission/hospitals?ward_kind=castle")
    assert r.status_code == 400 and "castle" in r.json()["detail"]
