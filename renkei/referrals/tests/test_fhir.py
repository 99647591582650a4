from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task

from renkei.accounts.models import Membership
from renkei.directory.models import Facility
from renkei.referrals import actions
from renkei.referrals.inputs import RequestAnswerInput
from renkei.referrals.models import Answer, PlacementCase, PlacementRequest
from renkei.referrals.testing import make_case, send
from renkei.referrals.tests.conftest import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def placed(
    msw: Membership,
    tokuyo: tuple[Facility, Membership],
    roken: tuple[Facility, Membership],
    third: tuple[Facility, Membership],
) -> tuple[PlacementCase, list[PlacementRequest]]:
    case = make_case(
        msw,
        capability_codes=["suction", "tube-feeding"],
        infections=["mrsa"],
        note="日中は車椅子",
        budget_monthly=150000,
    )
    reqs = send(case, msw, [tokuyo[0], roken[0], third[0]])
    actions.answer_request(
        reqs[1], by=roken[1], data=RequestAnswerInput(answer=Answer.DECLINED, decline_reason="full")
    )
    actions.answer_request(reqs[0], by=tokuyo[1], data=RequestAnswerInput(answer=Answer.ACCEPTED))
    return case, reqs


def get(client: Client, path: str) -> Any:
    response = client.get("/api/fhir/" + path)
    assert response["Content-Type"] == "application/fhir+json"
    return response


def test_case_is_a_valid_service_request_with_an_anonymous_patient(
    client: Client, msw: Membership, placed: tuple[PlacementCase, list[PlacementRequest]]
) -> None:
    """R4B ServiceRequest: active, procedures as orderDetail, a contained Patient with sex and
    age band only."""
    case, _ = placed
    login(client, msw)
    body = get(client, f"ServiceRequest/{case.code}").json()
    resource = ServiceRequest.model_validate(body)
    assert resource.status == "active"
    assert resource.subject.reference == "#patient"
    patient = body["contained"][0]
    assert set(patient) == {"resourceType", "id", "extension", "gender"}
    assert patient["gender"] == "female"
    assert {d["coding"][0]["code"] for d in body["orderDetail"]} == {"suction", "tube-feeding"}
    assert body["locationCode"][0]["coding"][0]["code"] == "142051"
    assert body["note"] == [{"text": "日中は車椅子"}]


def test_tasks_follow_the_answers(
    client: Client, msw: Membership, placed: tuple[PlacementCase, list[PlacementRequest]]
) -> None:
    """One Task per request: accepted, rejected (with the reason), requested; after the decision
    completed and cancelled; every Task and the Bundle validate."""
    case, reqs = placed
    login(client, msw)
    bundle = get(client, f"Task?focus=ServiceRequest/{case.code}").json()
    Bundle.model_validate(bundle)
    status = {e["resource"]["owner"]["display"]: e["resource"] for e in bundle["entry"]}
    assert status["特養なぎさ苑"]["status"] == "accepted"
    assert status["老健ひかりの丘"]["status"] == "rejected"
    assert status["老健ひかりの丘"]["statusReason"]["coding"][0]["code"] == "full"
    assert status["特養みどり荘"]["status"] == "requested"
    for e in bundle["entry"]:
        Task.model_validate(e["resource"])
        assert e["resource"]["focus"]["reference"] == f"ServiceRequest/{case.code}"
    actions.confirm_placement(case, reqs[0], by=msw)
    assert get(client, f"Task/{reqs[0].code}").json()["status"] == "completed"
    withdrawn = get(client, f"Task/{reqs[2].code}").json()
    assert withdrawn["status"] == "cancelled"
    Task.model_validate(withdrawn)
    sr = get(client, f"ServiceRequest/{case.code}").json()
    assert sr["status"] == "completed"
    ServiceRequest.model_validate(sr)


def test_fhir_access_follows_the_case(
    client: Client,
    other_msw: Membership,
    tokuyo: tuple[Facility, Membership],
    unsent: tuple[Facility, Membership],
    placed: tuple[PlacementCase, list[PlacementRequest]],
) -> None:
    """Another hospital and an unsent facility get 404; a facility sees only its own Task."""
    case, reqs = placed
    for outsider in (other_msw, unsent[1]):
        login(client, outsider)
        r = get(client, f"ServiceRequest/{case.code}")
        assert r.status_code == 404
        assert r.json()["resourceType"] == "OperationOutcome"
        assert get(client, f"Task/{reqs[0].code}").status_code == 404
    login(client, tokuyo[1])
    assert get(client, f"ServiceRequest/{case.code}").status_code == 200
    bundle = get(client, f"Task?focus=ServiceRequest/{case.code}").json()
    assert [e["resource"]["owner"]["display"] for e in bundle["entry"]] == ["特養なぎさ苑"]
    assert get(client, f"Task/{reqs[1].code}").status_code == 404


def test_search_and_bad_parameters(
    client: Client, msw: Membership, placed: tuple[PlacementCase, list[PlacementRequest]]
) -> None:
    """ServiceRequest search returns a valid searchset; malformed parameters are 400 outcomes."""
    login(client, msw)
    bundle = get(client, "ServiceRequest?status=active").json()
    Bundle.model_validate(bundle)
    assert bundle["total"] == 1
    assert get(client, "ServiceRequest?status=bogus").status_code == 400
    assert get(client, "Task?focus=ServiceRequest/not-a-uuid").status_code == 400
    assert get(client, "ServiceRequest?_count=0").status_code == 400


def test_fhir_requires_the_second_factor_when_the_user_has_one(
    client: Client, msw: Membership, placed: tuple[PlacementCase, list[PlacementRequest]]
) -> None:
    """/api/fhir/ skips the two-factor middleware, so case data checks it itself."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=msw.user, name="phone", confirmed=True)
    client.force_login(msw.user)  # the password only: the second factor not passed
    r = client.get(f"/api/fhir/ServiceRequest/{placed[0].code}")
    assert r.status_code == 401
    assert "二要素認証" in r.json()["issue"][0]["diagnostics"]
