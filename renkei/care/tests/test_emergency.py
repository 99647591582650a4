"""救急医療情報シート, the ambulance crew's one-time view, and the ACP record (ADR 0034)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from renkei.accounts.models import AuditEntry, Membership, Organization
from renkei.care.actions import emergency as em
from renkei.care.models import AcpRecord, AmbulanceCode, EmergencySheet, Patient
from renkei.care.testing import make_consent, make_patient
from renkei.care.tests.conftest import verified

pytestmark = pytest.mark.django_db

SHEET = {
    "diagnoses": "心不全（2019年〜）、糖尿病",
    "medicines": "フロセミド 20mg 朝1錠",
    "allergies": "ペニシリン（発疹）",
    "family_doctor": "えびな在宅クリニック 046-200-1111",
    "resuscitation": "no_cpr",
    "resuscitation_confirmed_on": "2026-11-01",
    "notes": "右耳が遠い",
}
SHEET_FIELDS = [*SHEET]
ACP = {
    "what_matters": "家で猫と過ごすこと",
    "place_of_care": "自宅",
    "place_of_death": "自宅",
    "treatment_wishes": "苦しくない治療を。胃ろうは望まない。",
    "proxy": "連携 一郎（長男）090-0000-0001",
    "participants": "本人、長男、主治医、訪問看護師",
    "discussed_on": "2026-11-01",
    "next_review_on": "2027-05-01",
}


def _api(client: Client, method: str, url: str, body: dict[str, Any]) -> Any:
    return getattr(client, method)(url, json.dumps(body), content_type="application/json")


def _sheet_state(p: Patient) -> dict[str, Any]:
    s = EmergencySheet.objects.get(patient=p)
    return {f: str(getattr(s, f)) for f in SHEET_FIELDS} | {"version": s.version}


def _second(doctor: Membership) -> Patient:
    p = make_patient(doctor, name="連携 次郎", kana="れんけい じろう")
    make_consent(p, by=doctor)
    return p


def test_sheet_parity_screen_and_api(patient: Patient, doctor: Membership) -> None:
    other = _second(doctor)
    client = verified(Client(), doctor)
    html = client.post(reverse("care:emergency", args=[patient.code]), {**SHEET, "version": 0})
    assert html.status_code == 302
    api = _api(client, "put", f"/api/v1/care/patients/{other.code}/emergency-sheet", SHEET)
    assert api.status_code == 200, api.content
    assert _sheet_state(patient) == _sheet_state(other)
    body = api.json()
    assert body["resuscitation"] == "no_cpr" and body["key_person"].startswith("連携 一郎")
    assert body["doctors"][0]["label"] == "主治医"


def test_sheet_bad_input_is_refused_on_both_doors(patient: Patient, doctor: Membership) -> None:
    client = verified(Client(), doctor)
    bad = {**SHEET, "resuscitation_confirmed_on": ""}
    html = client.post(reverse("care:emergency", args=[patient.code]), bad)
    assert html.status_code == 400
    assert "確認した日を入力してください" in html.content.decode()
    api = _api(
        client,
        "put",
        f"/api/v1/care/patients/{patient.code}/emergency-sheet",
        bad | {"resuscitation_confirmed_on": None},
    )
    assert api.status_code == 400 and "確認した日" in api.json()["detail"]
    future = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    api = _api(
        client,
        "put",
        f"/api/v1/care/patients/{patient.code}/emergency-sheet",
        SHEET | {"resuscitation_confirmed_on": future},
    )
    assert api.status_code == 400
    assert not EmergencySheet.objects.exists()


def test_sheet_stale_version_is_409(
    patient: Patient, doctor: Membership, nurse: Membership
) -> None:
    url = f"/api/v1/care/patients/{patient.code}/emergency-sheet"
    assert _api(verified(Client(), doctor), "put", url, SHEET).status_code == 200
    assert _api(verified(Client(), nurse), "put", url, SHEET | {"version": 1}).status_code == 200
    late = _api(verified(Client(), doctor), "put", url, SHEET | {"version": 1, "notes": "x"})
    assert late.status_code == 409
    assert EmergencySheet.objects.get(patient=patient).notes == SHEET["notes"]


def test_sheet_is_sealed_at_rest(patient: Patient, doctor: Membership) -> None:
    em.save_sheet(patient, by=doctor, data=em.SheetInput.model_validate(SHEET))
    with connection.cursor() as cur:
        cur.execute("SELECT diagnoses, allergies FROM care_emergencysheet")
        raw = " ".join(str(v) for v in cur.fetchone())
    assert "心不全" not in raw and "ペニシリン" not in raw


def test_doctor_contacts_hook(patient: Patient, clinic: Organization, doctor: Membership) -> None:
    clinic.phone = "046-200-1111"
    clinic.save()
    contacts = em.doctor_contacts(patient)
    assert [(c.label, c.organization, c.phone, c.source) for c in contacts] == [
        ("主治医", clinic.name, "046-200-1111", "team")
    ]


def test_print_is_one_page_with_a_fresh_code(patient: Patient, doctor: Membership) -> None:
    em.save_sheet(patient, by=doctor, data=em.SheetInput.model_validate(SHEET))
    response = verified(Client(), doctor).get(reverse("care:emergency_print", args=[patient.code]))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    text = response.content.decode()
    assert "<svg" in text and "心肺蘇生・挿管は望まない" in text and "ペニシリン" in text
    assert AmbulanceCode.objects.filter(patient=patient, used_at__isnull=True).count() == 1


def test_ambulance_code_opens_the_current_sheet_once(
    patient: Patient, doctor: Membership, django_capture_on_commit_callbacks: Any, mailoutbox: Any
) -> None:
    em.save_sheet(patient, by=doctor, data=em.SheetInput.model_validate(SHEET))
    token = em.issue_ambulance_code(patient, by=doctor)
    # Edited after printing: the crew sees what is stored now.
    em.save_sheet(
        patient,
        by=doctor,
        data=em.SheetInput.model_validate(SHEET | {"allergies": "なし", "version": 1}),
    )
    crew = Client()
    url = reverse("care:ambulance", args=[token])
    with django_capture_on_commit_callbacks(execute=True):
        first = crew.get(url)
    assert first.status_code == 200
    text = first.content.decode()
    assert "なし" in text and "ペニシリン" not in text and patient.name in text
    assert crew.get(url).status_code == 200  # same browser, within the window
    assert Client().get(url).status_code == 404  # anyone else: used
    entry = AuditEntry.objects.filter(action="care.patient_viewed").order_by("-id").first()
    assert entry is not None and entry.target_id == str(patient.code)
    assert entry.detail["via"] == "ambulance_code" and entry.actor is None
    assert any("救急医療情報シート" in m.subject for m in mailoutbox)
    assert all(patient.name not in m.body for m in mailoutbox)


def test_ambulance_code_window_revocation_and_garbage(patient: Patient, doctor: Membership) -> None:
    token = em.issue_ambulance_code(patient, by=doctor)
    crew = Client()
    url = reverse("care:ambulance", args=[token])
    assert crew.get(url).status_code == 200
    AmbulanceCode.objects.update(used_at=timezone.now() - dt.timedelta(hours=3))
    assert crew.get(url).status_code == 404
    other = em.issue_ambulance_code(patient, by=doctor)
    em.revoke_ambulance_codes(patient, by=doctor)
    assert Client().get(reverse("care:ambulance", args=[other])).status_code == 404
    assert Client().get(reverse("care:ambulance", args=["x" * 32])).status_code == 404


def test_acp_versions_parity_and_stale(
    patient: Patient, doctor: Membership, nurse: Membership
) -> None:
    other = _second(doctor)
    client = verified(Client(), doctor)
    assert client.post(reverse("care:acp", args=[patient.code]), ACP).status_code == 302
    api = _api(client, "post", f"/api/v1/care/patients/{other.code}/acp", ACP)
    assert api.status_code == 201, api.content

    def rows(p: Patient) -> list[dict[str, Any]]:
        return [
            {f: str(getattr(r, f)) for f in ACP} | {"n": r.number, "c": r.changed}
            for r in AcpRecord.objects.filter(patient=p)
        ]

    assert rows(patient) == rows(other)
    # A second version by the nurse: only what changed is named, with who.
    second = _api(
        verified(Client(), nurse),
        "post",
        f"/api/v1/care/patients/{patient.code}/acp",
        ACP | {"place_of_death": "ホスピス", "base": 1},
    )
    assert second.status_code == 201
    assert second.json()["changed"] == ["place_of_death"] and second.json()["number"] == 2
    assert "田中看護師" in second.json()["recorded_by"]
    stale = _api(client, "post", f"/api/v1/care/patients/{patient.code}/acp", ACP | {"base": 1})
    assert stale.status_code == 409
    html = client.post(reverse("care:acp", args=[patient.code]), ACP | {"base": 1})
    assert html.status_code == 409
    assert AcpRecord.objects.filter(patient=patient).count() == 2
    listed = client.get(f"/api/v1/care/patients/{patient.code}/acp").json()
    assert [r["number"] for r in listed] == [2, 1]
    page = client.get(reverse("care:acp", args=[patient.code])).content.decode()
    assert "ホスピス" in page and "最期を迎えたい場所" in page


def test_acp_bad_input(patient: Patient, doctor: Membership) -> None:
    client = verified(Client(), doctor)
    url = f"/api/v1/care/patients/{patient.code}/acp"
    assert _api(client, "post", url, ACP | {"discussed_on": None}).status_code == 400
    r = _api(client, "post", url, ACP | {"next_review_on": "2026-01-01"})
    assert r.status_code == 400 and "見直す日" in r.json()["detail"]
    html = client.post(reverse("care:acp", args=[patient.code]), ACP | {"discussed_on": ""})
    assert html.status_code == 400 and "話し合った日を入力してください" in html.content.decode()
    assert not AcpRecord.objects.exists()


def test_break_glass_reader_sees_the_sheet_but_cannot_write(
    patient: Patient, outsider: Membership
) -> None:
    from renkei.care.actions import BreakGlassInput, break_glass

    break_glass(
        by=outsider,
        data=BreakGlassInput(
            kana=patient.kana,
            birth_date=patient.birth_date,
            reason="救急搬送の受け入れ時の確認のため",
        ),
    )
    client = verified(Client(), outsider)
    assert client.get(reverse("care:emergency", args=[patient.code])).status_code == 200
    r = _api(client, "put", f"/api/v1/care/patients/{patient.code}/emergency-sheet", SHEET)
    assert r.status_code == 403
    assert client.get(reverse("care:emergency_print", args=[patient.code])).status_code == 302
    assert not AmbulanceCode.objects.exists()
