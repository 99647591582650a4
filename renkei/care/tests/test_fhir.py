"""FHIR R4B for care (issue 13 §6): every resource validated with fhir.resources, reads
audited, outsiders and anonymous callers refused with an OperationOutcome, bad input never 500."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from fhir.resources.R4B.auditevent import AuditEvent
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.careteam import CareTeam
from fhir.resources.R4B.communication import Communication
from fhir.resources.R4B.consent import Consent
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.task import Task

from renkei.accounts.models import AuditEntry, Membership
from renkei.care.actions import consent as consent_actions
from renkei.care.actions import forms as fa
from renkei.care.actions import timeline as tl
from renkei.care.actions.patients import view_patient
from renkei.care.models import FormKind, Patient, PostRead
from renkei.care.testing import make_post
from renkei.care.tests.conftest import verified
from renkei.testing import sign_in

pytestmark = pytest.mark.django_db

BASE = "/api/fhir"


@pytest.fixture
def world(patient: Patient, doctor: Membership, nurse: Membership) -> dict[str, Any]:
    """A thread with a reply request and a reply, a read receipt, and a form sent to the
    clinic by the nurse's station."""
    head = make_post(
        patient,
        doctor,
        body="@訪問看護 明日の訪問で血圧を測ってください",
        reply_due=dt.date(2026, 12, 20),
    )
    reply = make_post(patient, nurse, body="承知しました", parent=head)
    tl.mark_read(head, by=nurse)
    form = fa.create_form(patient, by=nurse, data=fa.NewFormInput(kind=FormKind.DOCTOR_CM))
    fa.send_form(form, by=nurse, data=fa.SendInput(recipient=doctor.organization.code))
    view_patient(patient, by=doctor)  # one read in the 閲覧記録 (an AuditEvent)
    return {
        "head": head,
        "reply": reply,
        "receipt": PostRead.objects.get(post=head, user=nurse.user),
        "form": form,
        "consent": patient.consents.get(),
    }


def _reads(p: Patient, w: dict[str, Any]) -> list[tuple[str, type[Any]]]:
    audit_id = AuditEntry.objects.filter(
        target_id=str(p.code), action="care.patient_viewed"
    ).values_list("pk", flat=True)
    return [
        (f"Patient/{p.code}", FhirPatient),
        (f"CareTeam/{p.code}", CareTeam),
        (f"Consent/{w['consent'].code}", Consent),
        (f"Communication/{w['head'].code}", Communication),
        (f"Task/{w['head'].code}", Task),
        (f"Task/receipt-{w['receipt'].pk}", Task),
        (f"DocumentReference/{w['form'].code}", DocumentReference),
        (f"AuditEvent/{audit_id.first()}", AuditEvent),
    ]


def _searches(p: Patient) -> list[str]:
    return [
        "Patient",
        f"CareTeam?patient=Patient/{p.code}",
        f"Consent?patient={p.code}",
        f"Communication?subject=Patient/{p.code}",
        f"Communication?patient=Patient/{p.code}",
        f"Task?subject=Patient/{p.code}",
        f"Task?patient=Patient/{p.code}",
        f"DocumentReference?patient=Patient/{p.code}",
        f"AuditEvent?patient=Patient/{p.code}",
    ]


def test_a_member_reads_every_resource_valid_and_audited(
    patient: Patient, nurse: Membership, world: dict[str, Any]
) -> None:
    client = verified(Client(), nurse)
    for path, model in _reads(patient, world):
        r = client.get(f"{BASE}/{path}")
        assert r.status_code == 200, (path, r.content)
        assert r["Content-Type"].startswith("application/fhir+json")
        model.model_validate(r.json())
        entry = AuditEntry.objects.filter(actor=nurse.user).latest("id")
        assert entry.action in ("care.patient_viewed", "care.form_received"), path
        assert entry.target_id == str(patient.code), path


def test_searches_return_valid_bundles(
    patient: Patient, nurse: Membership, world: dict[str, Any]
) -> None:
    client = verified(Client(), nurse)
    for path in _searches(patient):
        r = client.get(f"{BASE}/{path}")
        assert r.status_code == 200, (path, r.content)
        bundle = Bundle.model_validate(r.json())
        assert bundle.type == "searchset" and bundle.total, path


def test_jp_core_patient_shape(patient: Patient, nurse: Membership) -> None:
    body = verified(Client(), nurse).get(f"{BASE}/Patient/{patient.code}").json()
    assert body["meta"]["profile"] == ["http://jpfhir.jp/fhir/core/StructureDefinition/JP_Patient"]
    ide, syl = body["name"]
    assert ide["extension"][0]["valueCode"] == "IDE" and ide["family"] == "連携"
    assert syl["extension"][0]["valueCode"] == "SYL" and syl["given"] == ["はなこ"]
    assert {"system": "urn:renkei:identifier:ltci-insured-number", "value": "1400000001"} in body[
        "identifier"
    ]
    assert body["birthDate"] == "1938-04-12" and body["address"][0]["country"] == "JP"


def test_thread_reply_request_and_receipt(
    patient: Patient, nurse: Membership, world: dict[str, Any]
) -> None:
    client = verified(Client(), nurse)
    reply = client.get(f"{BASE}/Communication/{world['reply'].code}").json()
    assert reply["partOf"] == [{"reference": f"Communication/{world['head'].code}"}]
    request = client.get(f"{BASE}/Task/{world['head'].code}").json()
    assert request["status"] == "completed"  # replied to
    assert request["focus"]["reference"] == f"Communication/{world['head'].code}"
    assert request["restriction"]["period"]["end"] == "2026-12-20"
    receipt = client.get(f"{BASE}/Task/receipt-{world['receipt'].pk}").json()
    assert receipt["code"]["coding"][0]["code"] == "read-receipt"
    assert receipt["owner"]["display"] == str(nurse.user)
    tasks = client.get(f"{BASE}/Task?subject=Patient/{patient.code}").json()
    codes = [e["resource"]["code"]["coding"][0]["code"] for e in tasks["entry"]]
    assert codes.count("reply-request") == 1
    assert codes.count("read-receipt") == PostRead.objects.filter(post__patient=patient).count()
    assert f"receipt-{world['receipt'].pk}" in {e["resource"]["id"] for e in tasks["entry"]}


def test_the_recipients_fhir_read_of_a_form_is_its_receipt(
    patient: Patient, doctor: Membership, world: dict[str, Any]
) -> None:
    form = world["form"]
    r = verified(Client(), doctor).get(f"{BASE}/DocumentReference/{form.code}")
    assert r.status_code == 200
    doc = r.json()
    assert doc["docStatus"] == "final" and doc["type"]["text"] == "医師とケアマネジャーの連絡票"
    form.refresh_from_db()
    assert form.read_by == doctor


def test_outsiders_get_404_and_anonymous_401_as_operation_outcomes(
    patient: Patient, outsider: Membership, world: dict[str, Any]
) -> None:
    paths = [p for p, _ in _reads(patient, world)] + _searches(patient)[1:]
    outside = verified(Client(), outsider)
    for path in paths:
        r = Client().get(f"{BASE}/{path}")
        assert r.status_code == 401, path
        OperationOutcome.model_validate(r.json())
        r = outside.get(f"{BASE}/{path}")
        assert r.status_code == 404, (path, r.content)
        OperationOutcome.model_validate(r.json())
    assert outside.get(f"{BASE}/Patient").json()["total"] == 0
    assert not AuditEntry.objects.filter(actor=outsider.user, action="care.patient_viewed")


def test_a_password_alone_is_refused(patient: Patient, nurse: Membership) -> None:
    client = Client()
    sign_in(client, nurse.user)
    r = client.get(f"{BASE}/Patient/{patient.code}")
    assert r.status_code == 401 and "二要素認証" in r.json()["issue"][0]["diagnostics"]


def test_revoking_consent_stops_the_next_fhir_read(
    patient: Patient, doctor: Membership, nurse: Membership
) -> None:
    client = verified(Client(), nurse)
    assert client.get(f"{BASE}/Patient/{patient.code}").status_code == 200
    consent_actions.revoke_consent(
        patient.consents.get(), by=doctor, data=consent_actions.RevokeInput(reason="本人の希望")
    )
    assert client.get(f"{BASE}/Patient/{patient.code}").status_code == 404
    assert client.get(f"{BASE}/CareTeam?patient={patient.code}").status_code == 404


@pytest.mark.parametrize(
    "path, status",
    [
        ("Patient/not-a-uuid", 404),
        ("Patient?_count=abc", 400),
        ("Patient?_count=100000000000000000000000", 400),
        ("CareTeam", 400),
        ("CareTeam?patient=Patient/%00", 404),
        ("Consent?patient=" + "x" * 5000, 404),
        ("AuditEvent/99999999999999999999999", 404),
        ("AuditEvent/-1", 404),
        ("Task/receipt-abc", 404),
        ("Task/receipt-99999999999999999999", 404),
        ("Task/zzz", 404),
        ("DocumentReference/%E3%81%82", 404),
    ],
)
def test_bad_input_is_an_operation_outcome_never_a_500(
    patient: Patient, nurse: Membership, path: str, status: int
) -> None:
    r = verified(Client(), nurse).get(f"{BASE}/{path}")
    assert r.status_code in (status, 400), (path, r.status_code)
    OperationOutcome.model_validate(r.json())


def test_subject_and_patient_must_agree(patient: Patient, nurse: Membership) -> None:
    r = verified(Client(), nurse).get(
        f"{BASE}/Communication?subject=Patient/{patient.code}"
        "&patient=Patient/00000000-0000-0000-0000-000000000001"
    )
    assert r.status_code == 400


def test_capability_statement_lists_care_resources_publicly() -> None:
    r = Client().get(f"{BASE}/metadata")
    assert r.status_code == 200
    CapabilityStatement.model_validate(r.json())
    served = {res["type"] for res in r.json()["rest"][0]["resource"]}
    assert {
        "Patient",
        "CareTeam",
        "Consent",
        "Communication",
        "Task",
        "DocumentReference",
        "AuditEvent",
    } <= served
    communication = next(x for x in r.json()["rest"][0]["resource"] if x["type"] == "Communication")
    assert {"subject", "patient"} <= {p["name"] for p in communication["searchParam"]}
