"""Parity of the 副主治医 search writes: posting a case, volunteering, choosing and recording the
month's share run the same action with the same typed input on the screens under /oncall/ and
/api/v1/oncall/. Each test runs once per door and compares with one expected state; the same
bad input is refused with the same Japanese message on both, changing nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from renkei.accounts.models import AuditEntry, Membership
from renkei.care.models import Patient
from renkei.care.tests.conftest import verified
from renkei.oncall import search
from renkei.oncall.models import (
    CoverAgreement,
    CoverRole,
    CoverSearch,
    CoverShare,
    CoverVolunteer,
)
from renkei.oncall.tests.test_search import CASE, patient

pytestmark = pytest.mark.django_db
DOORS = ["html", "api"]
API = "/api/v1/oncall"
__all__ = ["patient"]  # the fixture, used by name


def _audit() -> list[str]:
    return list(
        AuditEntry.objects.filter(action__startswith="oncall.")
        .order_by("pk")
        .values_list("action", flat=True)
    )


def _door(client: Client, door: str, html: str, api: str, body: dict[str, Any]) -> Any:
    """The same body to the screen (as a form post) or to the API (as JSON)."""
    if door == "html":
        return client.post(html, body)
    return client.post(f"{API}{api}", body, content_type="application/json")


def _refused(r: Any, door: str, status: int, message: str) -> None:
    assert r.status_code == status, r.content
    shown = r.content.decode() if door == "html" else r.json()["detail"]
    assert message in shown


def _searches() -> list[tuple[Any, ...]]:
    return list(
        CoverSearch.objects.order_by("pk").values_list(
            "wanted", "municipality__code", "age_band", "disease_group", "needs", "status"
        )
    )


def _posted(doctor: Membership, patient: Patient) -> CoverSearch:
    return search.post_search(patient, by=doctor, data=search.SearchInput(**CASE))


def _offer(s: CoverSearch, doctor: Membership) -> CoverVolunteer:
    return search.volunteer(
        s,
        by=doctor,
        data=search.VolunteerInput(role=CoverRole.SECONDARY, doctor="医師B", phone="046-100-0002"),
    )


@pytest.mark.parametrize("door", DOORS)
def test_a_case_is_posted_the_same_and_identifying_text_refused_the_same(
    doctor_a: Membership, patient: Patient, door: str
) -> None:
    client = verified(Client(), doctor_a)
    html = f"/oncall/patients/{patient.code}/search/"
    api = f"/patients/{patient.code}/cover-searches"
    r = _door(client, door, html, api, {**CASE, "needs": "田中花子さん、電話 046-111-2222"})
    _refused(r, door, 400, "個人を特定できる情報が含まれている可能性があります")
    assert _searches() == [] and _audit() == []
    r = _door(client, door, html, api, CASE)
    assert r.status_code == (302 if door == "html" else 201), r.content
    assert _searches() == [("secondary", "142123", "80", "cancer", CASE["needs"], "open")]
    assert CoverSearch.objects.get().recipients.count() >= 3
    assert _audit() == ["oncall.cover_search_posted"]


@pytest.mark.parametrize("door", DOORS)
def test_a_clinic_volunteers_the_same_and_only_once_on_either_door(
    doctor_a: Membership, doctor_b: Membership, patient: Patient, door: str
) -> None:
    s = _posted(doctor_a, patient)
    client = verified(Client(), doctor_b)
    body = {"role": "secondary", "doctor": "医師B", "phone": "046-100-0002", "message": "夜間可"}
    html, api = f"/oncall/searches/{s.code}/volunteer/", f"/cover-searches/{s.code}/volunteers"
    before = _audit()
    r = _door(client, door, html, api, body)
    assert r.status_code == (302 if door == "html" else 201), r.content
    rows = list(CoverVolunteer.objects.values_list("organization", "role", "doctor", "message"))
    assert rows == [(doctor_b.organization_id, "secondary", "医師B", "夜間可")]
    assert _audit()[len(before) :] == ["oncall.cover_volunteered"]
    r = _door(client, door, html, api, {**body, "role": "primary"})
    _refused(r, door, 409, "この募集には既に名乗り出ています")
    assert CoverVolunteer.objects.count() == 1
    assert _audit()[len(before) :] == ["oncall.cover_volunteered"]


@pytest.mark.parametrize("door", DOORS)
def test_the_choice_becomes_the_same_agreement_and_a_stranger_is_refused_the_same(
    doctor_a: Membership, doctor_b: Membership, patient: Patient, door: str
) -> None:
    s = _posted(doctor_a, patient)
    v = _offer(s, doctor_b)
    client = verified(Client(), doctor_a)
    html, api = f"/oncall/searches/{s.code}/choose/", f"/cover-searches/{s.code}/choose"
    today = timezone.localdate().isoformat()
    body = {"own_doctor": "医師A", "own_phone": "046-100-0001", "valid_from": today}
    before = _audit()
    r = _door(client, door, html, api, {**body, "volunteer": str(s.code)})
    _refused(r, door, 400, "名乗り出た医療機関から選んでください")
    assert not CoverAgreement.objects.exists() and _audit() == before
    r = _door(client, door, html, api, {**body, "volunteer": str(v.code)})
    assert r.status_code == (302 if door == "html" else 201), r.content
    a = CoverAgreement.objects.get(patient=patient)
    assert (a.primary_id, a.secondary_id) == (doctor_a.organization_id, doctor_b.organization_id)
    assert (a.primary_doctor, a.primary_phone, a.secondary_phone) == (
        "医師A",
        "046-100-0001",
        "046-100-0002",
    )
    assert list(CoverSearch.objects.values_list("status", flat=True)) == ["decided"]
    assert _audit()[len(before) :] == ["oncall.cover_search_decided"]


@pytest.mark.parametrize("door", DOORS)
def test_a_share_is_recorded_the_same_and_refused_the_same_without_an_agreement(
    doctor_a: Membership, doctor_b: Membership, patient: Patient, door: str
) -> None:
    client = verified(Client(), doctor_a)
    html, api = (
        f"/oncall/patients/{patient.code}/cover/print/",
        f"/patients/{patient.code}/cover/shares",
    )
    today = timezone.localdate()
    body = {"month": f"{today:%Y-%m}", "shared_on": today.isoformat(), "note": "急変時の方針"}
    r = _door(client, door, html, api, body)
    _refused(r, door, 400, "主治医・副主治医の取り決めが記録されていません")
    assert not CoverShare.objects.exists()
    s = _posted(doctor_a, patient)
    search.choose(
        s,
        by=doctor_a,
        data=search.ChooseInput(
            volunteer=_offer(s, doctor_b).code, own_phone="046-100-0001", valid_from=today
        ),
    )
    before = _audit()
    future = {**body, "shared_on": (today + dt.timedelta(days=40)).isoformat()}
    r = _door(client, door, html, api, future)
    _refused(r, door, 400, "共有した日")
    assert not CoverShare.objects.exists() and _audit() == before
    r = _door(client, door, html, api, body)
    assert r.status_code == (302 if door == "html" else 201), r.content
    rows = list(CoverShare.objects.values_list("month", "shared_on", "note", "by"))
    assert rows == [(today.replace(day=1), today, "急変時の方針", doctor_a.pk)]
    assert _audit()[len(before) :] == ["oncall.cover_shared"]
