"""Parity of the patient and team writes not covered elsewhere: editing a patient, removing a
team member and breaking the glass run the same action with the same typed input on the
screens under /care/ and /api/v1/care/. Each test runs once per door and compares with one
expected state; the same bad input is refused with the same Japanese message, changing nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from renkei.accounts.models import AuditEntry, Membership
from renkei.care.models import CareTeamMember, MemberStatus, Patient
from renkei.care.tests.conftest import verified
from renkei.care.tests.test_patients import BODY, state
from renkei.care.tests.test_team import BREAK

pytestmark = pytest.mark.django_db
DOORS = ["html", "api"]


def _json(client: Client, url: str, body: dict[str, Any], method: str = "post") -> Any:
    return getattr(client, method)(url, json.dumps(body), content_type="application/json")


def _audit(prefix: str = "care.") -> list[str]:
    return list(
        AuditEntry.objects.filter(action__startswith=prefix)
        .exclude(action="care.patient_viewed")
        .order_by("pk")
        .values_list("action", flat=True)
    )


@pytest.mark.parametrize("door", DOORS)
def test_a_patient_is_edited_the_same_and_a_stale_edit_refused_the_same(
    doctor: Membership, patient: Patient, door: str
) -> None:
    client = verified(Client(), doctor)
    body = {k: v for k, v in BODY.items() if k != "team_role"} | {"version": patient.version}
    before = _audit()
    if door == "html":
        r = client.post(reverse("care:edit", args=[patient.code]), body)
        assert r.status_code == 302
    else:
        r = _json(client, f"/api/v1/care/patients/{patient.code}", body, "put")
        assert r.status_code == 200
    patient = Patient.objects.get(pk=patient.pk)
    edited = state(patient)
    assert edited[:7] == (
        "海老名 太郎",
        "エビナ タロウ",
        patient.birth_date,
        "male",
        "神奈川県海老名市国分南1-2-3",
        "046-111-2222",
        "1412345678",
    )
    assert str(patient.birth_date) == "1940-02-03" and patient.version == 2
    assert _audit()[len(before) :] == ["care.patient_updated"]
    # The same body again carries the version it read: someone saved since, so 409.
    if door == "html":
        r = client.post(reverse("care:edit", args=[patient.code]), body)
        shown = r.content.decode()
    else:
        r = _json(client, f"/api/v1/care/patients/{patient.code}", body, "put")
        shown = r.json()["detail"]
    assert r.status_code == 409 and "他の方が先に" in shown
    assert state(Patient.objects.get(pk=patient.pk)) == edited
    assert _audit()[len(before) :] == ["care.patient_updated"]


def _team(p: Patient) -> list[tuple[int, str, str]]:
    return list(
        CareTeamMember.objects.filter(patient=p)
        .order_by("pk")
        .values_list("membership_id", "status", "end_reason")
    )


@pytest.mark.parametrize("door", DOORS)
def test_a_member_is_removed_the_same_and_the_last_one_cannot_leave_on_either_door(
    doctor: Membership, nurse: Membership, patient: Patient, door: str
) -> None:
    client = verified(Client(), doctor)
    row = CareTeamMember.objects.get(patient=patient, membership=nurse)
    before = _audit()
    if door == "html":
        r = client.post(
            reverse("care:team_end", args=[patient.code, row.pk]), {"reason": "担当交代"}
        )
        assert r.status_code == 302
    else:
        url = f"/api/v1/care/patients/{patient.code}/team/{row.pk}/end"
        assert _json(client, url, {"reason": "担当交代"}).status_code == 200
    assert (nurse.pk, MemberStatus.ENDED, "担当交代") in _team(patient)
    assert _audit()[len(before) :] == ["care.team_removed"]
    # Alone on the team now, the doctor cannot leave: the same reason on both doors.
    mine = CareTeamMember.objects.get(patient=patient, membership=doctor)
    team, audit = _team(patient), _audit()
    if door == "html":
        r = client.post(reverse("care:team_end", args=[patient.code, mine.pk]), {}, follow=True)
        shown = r.content.decode()
    else:
        r = _json(client, f"/api/v1/care/patients/{patient.code}/team/{mine.pk}/end", {})
        assert r.status_code == 409
        shown = r.json()["detail"]
    assert "チームの最後のメンバーは外せません" in shown
    assert (_team(patient), _audit()) == (team, audit)


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize(
    "body, status, message",
    [
        ({**BREAK, "reason": "短い"}, 400, "10文字以上で入力してください"),
        ({**BREAK, "kana": "べつじん"}, 404, "ふりがなと生年月日が一致する患者が見つかりません"),
    ],
)
def test_break_glass_is_refused_with_the_same_message_on_either_door(
    patient: Patient,
    outsider: Membership,
    door: str,
    body: dict[str, str],
    status: int,
    message: str,
) -> None:
    client = verified(Client(), outsider)
    if door == "html":
        r = client.post(reverse("care:break_glass"), body)
        shown = r.content.decode()
    else:
        r = _json(client, "/api/v1/care/break-glass", body)
        shown = r.json()["detail"]
    assert r.status_code == status and message in shown
    assert not AuditEntry.objects.filter(action="care.break_glass").exists()


@pytest.mark.parametrize("door", DOORS)
def test_a_reason_too_long_is_refused_with_the_inputs_message_on_either_door(
    doctor: Membership, nurse: Membership, patient: Patient, door: str
) -> None:
    client = verified(Client(), doctor)
    row = CareTeamMember.objects.get(patient=patient, membership=nurse)
    team, audit = _team(patient), _audit()
    body = {"reason": "理" * 201}
    if door == "html":
        url = reverse("care:team_end", args=[patient.code, row.pk])
        shown = client.post(url, body, follow=True).content.decode()
    else:
        r = _json(client, f"/api/v1/care/patients/{patient.code}/team/{row.pk}/end", body)
        assert r.status_code == 400
        shown = r.json()["detail"]
    assert "200文字以内で入力してください" in shown
    assert (_team(patient), _audit()) == (team, audit)
