"""Each placement workflow through both doors: the same input leaves the same database state.

The screen posts its form, the API its JSON body; both build the same typed input and call
the same action, so the rows they leave (statuses, flags, events, audit) must be equal, and
the same bad input must be refused on both with the same message.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from renkei.accounts.models import AuditEntry, Membership
from renkei.directory.models import Facility
from renkei.referrals import actions
from renkei.referrals.inputs import RequestAnswerInput
from renkei.referrals.models import (
    CaseEvent,
    PlacementCase,
    PlacementRequest,
    RequestMessage,
)
from renkei.referrals.testing import make_case, send
from renkei.referrals.tests.conftest import login
from renkei.regions.models import Municipality

pytestmark = pytest.mark.django_db
API = "/api/v1/referrals"
DOORS = ["html", "api"]


def _token(client: Client, url: str) -> str:
    m = re.search(r'name="form_token" value="([^"]+)"', client.get(url).content.decode())
    assert m, url
    return m.group(1)


def _api(client: Client, path: str, body: dict[str, Any], method: str = "post") -> Any:
    return getattr(client, method)(API + path, json.dumps(body), content_type="application/json")


def _case_state(case: PlacementCase) -> tuple[Any, ...]:
    case.refresh_from_db()
    return (
        case.status,
        case.assignee_id,
        case.radius_km,
        case.note,
        case.withdrawal_reason,
        case.version,
        case.placed_facility_id,
        sorted(case.requests.values_list("facility__name", "status", "unread_by_facility")),
        sorted(CaseEvent.objects.filter(case=case).values_list("kind", flat=True)),
    )


def _audit() -> list[str]:
    return sorted(
        AuditEntry.objects.filter(action__startswith="referrals.").values_list("action", flat=True)
    )


CASE_FORM: dict[str, Any] = {
    "age_band": "85",
    "sex": "female",
    "care_level": "5",
    "dementia": "2a",
    "destinations": ["tokuyo"],
    "radius_km": "20",
    "household": "alone",
    "key_person": "yes",
    "key_person_relation": "child",
    "note": "日中は車椅子",
}


@pytest.mark.parametrize("door", DOORS)
def test_registering_a_case(client: Client, msw: Membership, door: str) -> None:
    login(client, msw)
    if door == "html":
        muni = Municipality.objects.get(code="142051")
        body = {**CASE_FORM, "residence": str(muni.pk), "action": "register"}
        body["form_token"] = _token(client, reverse("referrals:case_new"))
        assert client.post(reverse("referrals:case_new"), body).status_code == 302
    else:
        body = {**CASE_FORM, "care_level": 5, "radius_km": 20, "residence": "142051"}
        assert _api(client, "/cases", body).status_code == 201
    case = PlacementCase.objects.get()
    assert case.residence.code == "142051" and case.care_level == 5
    assert case.destinations == ["tokuyo"] and case.key_person_relation == "child"
    assert _case_state(case)[0] == "searching"
    assert _audit() == ["referrals.case_created"]


@pytest.mark.parametrize("door", DOORS)
def test_a_note_naming_the_patient_is_refused_alike(
    client: Client, msw: Membership, door: str
) -> None:
    login(client, msw)
    note = "長女 090-1234-5678"
    if door == "html":
        muni = Municipality.objects.get(code="142051")
        body = {**CASE_FORM, "residence": str(muni.pk), "note": note}
        body["form_token"] = _token(client, reverse("referrals:case_new"))
        r = client.post(reverse("referrals:case_new"), body)
        text = r.content.decode()
    else:
        r = _api(
            client,
            "/cases",
            {**CASE_FORM, "care_level": 5, "radius_km": 20, "residence": "142051", "note": note},
        )
        text = r.json()["detail"]
    assert r.status_code == 400 and "電話番号（「090-1234-5678」）" in text
    assert PlacementCase.objects.count() == 0


@pytest.mark.parametrize("door", DOORS)
def test_editing_a_case(client: Client, msw: Membership, door: str) -> None:
    case = make_case(msw)
    login(client, msw)
    if door == "html":
        url = reverse("referrals:case_edit", args=[case.code])
        body = {
            **CASE_FORM,
            "care_level": str(case.care_level),
            "dementia": "2a",
            "residence": str(case.residence_id),
            "radius_km": "30",
            "note": "",
            "version": str(case.version),
            "form_token": _token(client, url),
            "action": "register",
        }
        assert client.post(url, body).status_code == 302
    else:
        r = _api(client, f"/cases/{case.code}", {"radius_km": 30, "version": case.version}, "patch")
        assert r.status_code == 200, r.content
    state = _case_state(case)
    assert state[2] == 30 and state[5] == 2
    event = case.events.get(kind="updated")
    assert event.detail == {"fields": ["radius_km"]}


@pytest.mark.parametrize("door", DOORS)
def test_assigning_an_unknown_colleague_is_refused_on_both_doors(
    client: Client, msw: Membership, colleague: Membership, other_msw: Membership, door: str
) -> None:
    """Not "assign to me": an unknown or outside member is a refusal, and nothing moves."""
    case = make_case(msw)
    login(client, colleague)
    before = _case_state(case)
    message = "担当者は同じ医療機関の職員から選んでください"
    if door == "html":
        url = reverse("referrals:case_assign", args=[case.code])
        r = client.post(url, {"username": other_msw.user.username}, follow=True)
        assert message in r.content.decode()
    else:
        r = _api(client, f"/cases/{case.code}/assign", {"username": other_msw.user.username})
        assert r.status_code == 400 and r.json()["detail"] == message
    assert _case_state(case) == before


@pytest.mark.parametrize("door", DOORS)
def test_assigning_a_colleague(
    client: Client, msw: Membership, colleague: Membership, door: str
) -> None:
    case = make_case(msw)
    login(client, msw)
    if door == "html":
        url = reverse("referrals:case_assign", args=[case.code])
        assert client.post(url, {"username": colleague.user.username}).status_code == 302
    else:
        r = _api(client, f"/cases/{case.code}/assign", {"username": colleague.user.username})
        assert r.status_code == 200
    assert _case_state(case)[1] == colleague.user_id


@pytest.mark.parametrize("door", DOORS)
def test_sending_requests(
    client: Client,
    msw: Membership,
    case: PlacementCase,
    tokuyo: tuple[Facility, Membership],
    roken: tuple[Facility, Membership],
    door: str,
) -> None:
    login(client, msw)
    deadline = timezone.localtime() + dt.timedelta(days=2)
    codes = [str(tokuyo[0].code), str(roken[0].code)]
    if door == "html":
        url = reverse("referrals:candidates", args=[case.code])
        body = {
            "form_token": _token(client, url),
            "deadline": deadline.strftime("%Y-%m-%dT%H:%M"),
            "facility": codes,
        }
        assert client.post(url, body).status_code == 302
    else:
        body = {"facilities": codes, "deadline": deadline.isoformat()}
        assert _api(client, f"/cases/{case.code}/requests", body).status_code == 201
    state = _case_state(case)
    assert state[0] == "requesting"
    assert state[7] == [("特養なぎさ苑", "sent", True), ("老健ひかりの丘", "sent", True)]
    assert _audit().count("referrals.requests_sent") == 1


@pytest.mark.parametrize("door", DOORS)
def test_an_unknown_facility_is_refused_on_both_doors(
    client: Client,
    msw: Membership,
    case: PlacementCase,
    tokuyo: tuple[Facility, Membership],
    door: str,
) -> None:
    """The screen no longer drops a code it does not know: it refuses, as the API does."""
    login(client, msw)
    deadline = timezone.localtime() + dt.timedelta(days=2)
    codes = [str(tokuyo[0].code), "7b0c0f4e-0000-4000-8000-000000000000"]
    message = "存在しない施設が含まれています"
    if door == "html":
        url = reverse("referrals:candidates", args=[case.code])
        body = {
            "form_token": _token(client, url),
            "deadline": deadline.strftime("%Y-%m-%dT%H:%M"),
            "facility": codes,
        }
        r = client.post(url, body)
        assert r.status_code == 400 and message in r.content.decode()
    else:
        r = _api(
            client,
            f"/cases/{case.code}/requests",
            {"facilities": codes, "deadline": deadline.isoformat()},
        )
        assert r.status_code == 400 and r.json()["detail"] == message
    assert PlacementRequest.objects.count() == 0


@pytest.mark.parametrize("door", DOORS)
def test_reading_a_request_clears_what_was_new_on_both_doors(
    client: Client,
    msw: Membership,
    case: PlacementCase,
    tokuyo: tuple[Facility, Membership],
    door: str,
) -> None:
    """The facility's look marks it 既読; the hospital's look clears its 新着 flag."""
    (req,) = send(case, msw, [tokuyo[0]])
    for who in (tokuyo[1], msw):
        login(client, who)
        if door == "html":
            assert client.get(req.get_absolute_url()).status_code == 200
        else:
            assert client.get(f"{API}/requests/{req.code}").status_code == 200
        if who == tokuyo[1]:
            actions.answer_request(req, by=tokuyo[1], data=RequestAnswerInput(answer="accepted"))
    req.refresh_from_db()
    assert req.status == "accepted" and req.read_at is not None
    assert req.unread_by_facility is False and req.unread_by_hospital is False
    assert _audit().count("referrals.request_viewed") == 2


@pytest.mark.parametrize("door", DOORS)
def test_answering_and_asking(
    client: Client,
    msw: Membership,
    case: PlacementCase,
    tokuyo: tuple[Facility, Membership],
    door: str,
) -> None:
    (req,) = send(case, msw, [tokuyo[0]])
    login(client, tokuyo[1])
    if door == "html":
        url = req.get_absolute_url()
        body = {"form_token": _token(client, url), "answer": "declined", "decline_reason": "full"}
        assert (
            client.post(reverse("referrals:request_answer", args=[req.code]), body).status_code
            == 302
        )
        body = {"form_token": _token(client, url), "body": "空き次第ご連絡します"}
        assert (
            client.post(reverse("referrals:request_message", args=[req.code]), body).status_code
            == 302
        )
    else:
        body = {"answer": "declined", "decline_reason": "full"}
        assert _api(client, f"/requests/{req.code}/answer", body).status_code == 200
        body = {"body": "空き次第ご連絡します"}
        assert _api(client, f"/requests/{req.code}/messages", body).status_code == 201
    req.refresh_from_db()
    assert (req.status, req.decline_reason, req.unread_by_hospital) == ("declined", "full", True)
    assert RequestMessage.objects.get().body == "空き次第ご連絡します"


@pytest.mark.parametrize("door", DOORS)
def test_an_incomplete_answer_is_refused_alike(
    client: Client,
    msw: Membership,
    case: PlacementCase,
    tokuyo: tuple[Facility, Membership],
    door: str,
) -> None:
    (req,) = send(case, msw, [tokuyo[0]])
    login(client, tokuyo[1])
    message = "受入不可の理由を選んでください"
    if door == "html":
        body = {"form_token": _token(client, req.get_absolute_url()), "answer": "declined"}
        r = client.post(reverse("referrals:request_answer", args=[req.code]), body)
        assert r.status_code == 400 and message in r.content.decode()
    else:
        r = _api(client, f"/requests/{req.code}/answer", {"answer": "declined"})
        assert r.status_code == 400
        assert r.json() == {"detail": message, "field": "decline_reason"}
    req.refresh_from_db()
    assert req.answered_at is None


@pytest.mark.parametrize("door", DOORS)
def test_confirming_a_placement(
    client: Client,
    msw: Membership,
    case: PlacementCase,
    tokuyo: tuple[Facility, Membership],
    roken: tuple[Facility, Membership],
    door: str,
) -> None:
    """この施設に決定: the case is decided, the other open request withdrawn."""
    accepted, other = send(case, msw, [tokuyo[0], roken[0]])
    actions.answer_request(accepted, by=tokuyo[1], data=RequestAnswerInput(answer="accepted"))
    login(client, msw)
    if door == "html":
        url = reverse("referrals:confirm", args=[case.code, accepted.code])
        assert client.post(url, {"form_token": _token(client, url)}).status_code == 302
    else:
        r = _api(client, f"/cases/{case.code}/confirm", {"request": str(accepted.code)})
        assert r.status_code == 200
    state = _case_state(case)
    assert state[0] == "decided" and state[6] == tokuyo[0].pk
    assert state[7] == [("特養なぎさ苑", "confirmed", True), ("老健ひかりの丘", "withdrawn", True)]


@pytest.mark.parametrize("door", DOORS)
def test_withdrawing_a_case_and_a_request(
    client: Client,
    msw: Membership,
    case: PlacementCase,
    tokuyo: tuple[Facility, Membership],
    roken: tuple[Facility, Membership],
    door: str,
) -> None:
    one, _ = send(case, msw, [tokuyo[0], roken[0]])
    login(client, msw)
    if door == "html":
        url = reverse("referrals:request_withdraw", args=[one.code])
        assert client.post(url).status_code == 302
        url = reverse("referrals:case_withdraw", args=[case.code])
        assert client.post(url, {"reason": "family"}).status_code == 302
    else:
        assert _api(client, f"/requests/{one.code}/withdraw", {}).status_code == 200
        assert _api(client, f"/cases/{case.code}/withdraw", {"reason": "family"}).status_code == 200
    state = _case_state(case)
    assert state[0] == "withdrawn" and state[4] == "family"
    assert state[7] == [("特養なぎさ苑", "withdrawn", True), ("老健ひかりの丘", "withdrawn", True)]


@pytest.mark.parametrize("door", DOORS)
def test_recording_a_handover(
    client: Client,
    msw: Membership,
    case: PlacementCase,
    tokuyo: tuple[Facility, Membership],
    door: str,
) -> None:
    (req,) = send(case, msw, [tokuyo[0]])
    actions.answer_request(req, by=tokuyo[1], data=RequestAnswerInput(answer="accepted"))
    actions.confirm_placement(case, req, by=msw)
    login(client, msw)
    today = timezone.localdate().isoformat()
    if door == "html":
        body = {
            "form_token": _token(client, case.get_absolute_url()),
            "kind": "nursing_summary",
            "method": "hand",
            "exchanged_on": today,
        }
        assert client.post(reverse("referrals:handover", args=[case.code]), body).status_code == 302
    else:
        body = {"kind": "nursing_summary", "method": "hand", "exchanged_on": today}
        assert _api(client, f"/cases/{case.code}/handovers", body).status_code == 201
    h = case.handovers.get()
    assert (h.kind, h.method, h.exchanged_on.isoformat()) == ("nursing_summary", "hand", today)
