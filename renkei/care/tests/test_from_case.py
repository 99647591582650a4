"""A decided placement case becomes a patient (issue 13 §4): identity entered once, the case's
data carried over, the receiving facility invited, the case left anonymous, the link audited."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.forms.models import model_to_dict
from django.test import Client
from django.urls import reverse

from renkei.accounts.models import AuditEntry, Membership
from renkei.care import actions
from renkei.care.actions import from_case as fc
from renkei.care.models import (
    CareLevel,
    CareTeamMember,
    Consent,
    ConsentScope,
    MemberStatus,
    Patient,
    Post,
    Sex,
)
from renkei.care.testing import make_patient
from renkei.care.tests.conftest import verified
from renkei.directory.models import Facility, FacilityKind
from renkei.referrals import actions as referrals
from renkei.referrals.inputs import RequestAnswerInput
from renkei.referrals.models import Answer, CaseStatus, PlacementCase
from renkei.referrals.testing import make_case, make_hospital, make_receiver, send

pytestmark = pytest.mark.django_db

# 85〜89歳 on any day of the test run: the case's age band.
BIRTH = dt.date(dt.datetime.now(dt.UTC).year - 87, 7, 1)


@pytest.fixture
def msw() -> Membership:
    return make_hospital("海老名中央病院（テスト）", username="msw_case")


@pytest.fixture
def tokuyo() -> tuple[Facility, Membership]:
    return make_receiver("特養えびなの杜（テスト）", FacilityKind.TOKUYO, username="sodan_case")


@pytest.fixture
def case(msw: Membership) -> PlacementCase:
    return make_case(msw, note="胃ろうの管理あり。", target_date=dt.date(2030, 4, 1))


def decide(case: PlacementCase, msw: Membership, tokuyo: tuple[Facility, Membership]) -> None:
    (request,) = send(case, msw, [tokuyo[0]])
    referrals.answer_request(request, by=tokuyo[1], data=RequestAnswerInput(answer=Answer.ACCEPTED))
    referrals.confirm_placement(case, request, by=msw)
    case.refresh_from_db()


def body(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "引継 ウメ",
        "kana": "ひきつぎ うめ",
        "birth_date": BIRTH.isoformat(),
        "address": "神奈川県海老名市中央二丁目2-2",
        "phone": "046-200-1111",
        "key_person": "引継 一郎（長男）",
        "consented": True,
        "given_by": "本人",
    }
    data.update(changes)
    return data


def via(door: str, client: Client, case: PlacementCase, data: dict[str, Any]) -> Any:
    if door == "api":
        return client.post(
            f"/api/v1/care/placement-cases/{case.code}/patient",
            json.dumps(data),
            content_type="application/json",
        )
    form = {k: ("on" if v is True else v) for k, v in data.items() if v is not False}
    form.setdefault("sex", case.sex)
    form.setdefault("care_level", fc.CARE_LEVELS[case.care_level])
    form.setdefault("purpose", fc.PURPOSE)  # prefilled on the page
    return client.post(reverse("care:from_case", args=[case.code]), form)


@pytest.mark.parametrize("door", ["html", "api"])
def test_a_decided_case_becomes_a_patient_and_the_facility_is_invited(
    door: str, msw: Membership, tokuyo: tuple[Facility, Membership], case: PlacementCase
) -> None:
    decide(case, msw, tokuyo)
    before = model_to_dict(PlacementCase.objects.get(pk=case.pk))
    client = verified(Client(), msw)
    if door == "html":
        detail = client.get(case.get_absolute_url()).content.decode()
        assert reverse("care:from_case", args=[case.code]) in detail  # the door, on the case
        page = client.get(reverse("care:from_case", args=[case.code]))
        assert page.status_code == 200
        assert "胃ろうの管理あり" in page.content.decode()
    r = via(door, client, case, body())
    assert r.status_code == (302 if door == "html" else 201), r.content
    p = Patient.objects.get()
    assert (p.name, p.kana, p.birth_date) == ("引継 ウメ", "ひきつぎ うめ", BIRTH)
    # Carried over from the case, not typed again: sex, care level, the needs.
    assert (p.sex, p.care_level) == (Sex.FEMALE, CareLevel.CARE3)
    assert p.placement_case == case.code and p.owner_id == msw.organization_id
    first = Post.objects.get(patient=p)
    assert "入退院支援の案件から引き継いだ情報" in first.body and "胃ろうの管理あり" in first.body
    assert "2030-04-01" in first.body
    consent = Consent.objects.get(patient=p)
    assert consent.scope == ConsentScope.ORGANIZATIONS
    assert list(consent.organizations.all()) == [tokuyo[1].organization]
    invited = CareTeamMember.objects.get(patient=p, membership=tokuyo[1])
    assert invited.status == MemberStatus.INVITED
    link = AuditEntry.objects.get(action="care.patient_from_case")
    assert link.target_id == str(p.code) and link.detail["case"] == str(case.code)
    # The case stays anonymous: not one of its fields changed.
    assert model_to_dict(PlacementCase.objects.get(pk=case.pk)) == before
    # The facility's member accepts there, as every invitation, and then reads the patient.
    actions.accept_invitation(invited, by=tokuyo[1])
    assert verified(Client(), tokuyo[1]).get(p.get_absolute_url()).status_code == 200


@pytest.mark.parametrize("door", ["html", "api"])
def test_an_outsider_gets_404_and_an_anonymous_caller_is_refused(
    door: str, msw: Membership, tokuyo: tuple[Facility, Membership], case: PlacementCase
) -> None:
    decide(case, msw, tokuyo)
    other = make_hospital("別の病院（テスト）", username="msw_other")
    r = via(door, verified(Client(), other), case, body())
    assert r.status_code == 404
    anonymous = via(door, Client(), case, body())
    assert anonymous.status_code in (302, 401)
    if door == "html":
        assert "/accounts/login/" in anonymous["Location"]
    assert not Patient.objects.exists()


@pytest.mark.parametrize("door", ["html", "api"])
def test_without_consent_nothing_is_registered(
    door: str, msw: Membership, tokuyo: tuple[Facility, Membership], case: PlacementCase
) -> None:
    decide(case, msw, tokuyo)
    r = via(door, verified(Client(), msw), case, body(consented=False))
    assert r.status_code == 400
    assert "同意がなければ患者として登録できません" in r.content.decode()
    assert not Patient.objects.exists() and not Consent.objects.exists()


@pytest.mark.parametrize("door", ["html", "api"])
def test_an_undecided_case_is_refused(
    door: str, msw: Membership, tokuyo: tuple[Facility, Membership], case: PlacementCase
) -> None:
    send(case, msw, [tokuyo[0]])
    assert case.status != CaseStatus.DECIDED
    client = verified(Client(), msw)
    r = via(door, client, case, body())
    assert r.status_code == 400
    assert fc.NOT_DECIDED in r.content.decode()
    assert (
        fc.NOT_DECIDED in client.get(reverse("care:from_case", args=[case.code])).content.decode()
    )
    assert not Patient.objects.exists()


def test_the_receiving_facility_cannot_register_the_patient(
    msw: Membership, tokuyo: tuple[Facility, Membership], case: PlacementCase
) -> None:
    """The facility sees the case, but the identity is the hospital's to enter."""
    decide(case, msw, tokuyo)
    r = via("api", verified(Client(), tokuyo[1]), case, body())
    assert r.status_code == 403 and r.json()["detail"] == fc.NOT_HOSPITAL


@pytest.mark.parametrize("door", ["html", "api"])
def test_the_duplicate_check_still_applies_and_a_case_converts_once(
    door: str, msw: Membership, tokuyo: tuple[Facility, Membership], case: PlacementCase
) -> None:
    decide(case, msw, tokuyo)
    make_patient(msw, kana="ひきつぎ うめ", birth_date=BIRTH)
    client = verified(Client(), msw)
    r = via(door, client, case, body())
    assert r.status_code == 409
    assert "同じふりがな・生年月日の患者が既に登録されています" in r.content.decode()
    assert Patient.objects.count() == 1
    assert via(door, client, case, body(allow_duplicate=True)).status_code in (201, 302)
    again = via(door, client, case, body(allow_duplicate=True))
    assert again.status_code == 409 and fc.ALREADY in again.content.decode()
    assert Patient.objects.count() == 2


def test_a_birth_date_outside_the_case_age_band_is_refused(
    msw: Membership, tokuyo: tuple[Facility, Membership], case: PlacementCase
) -> None:
    decide(case, msw, tokuyo)
    r = via("api", verified(Client(), msw), case, body(birth_date="1990-05-05"))
    assert r.status_code == 400 and r.json()["field"] == "birth_date"
    assert "85〜89歳" in r.json()["detail"]
    assert not Patient.objects.exists()
