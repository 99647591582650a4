"""Rotas as FHIR R4B Schedule / Slot / PractitionerRole (issue 14 §4), validated with
fhir.resources, listed in /api/fhir/metadata, scoped like the screens."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.practitionerrole import PractitionerRole
from fhir.resources.R4B.schedule import Schedule
from fhir.resources.R4B.slot import Slot

from renkei.accounts.models import Membership, Organization
from renkei.oncall import actions
from renkei.oncall.models import Rota, Shift
from renkei.oncall.testing import member_of, publish
from renkei.testing import sign_in

NIGHT = quote("2026-11-24T23:00:00+09:00")


def login(m: Membership) -> Client:
    c = Client()
    sign_in(c, m.user)
    return c


@pytest.fixture
def published(rota: Rota, organiser: Membership, clinics: list[Organization]) -> Shift:
    publish(rota, organiser, "2026-11")
    actions.generate_month(rota, by=organiser, data=actions.MonthInput(month="2026-12"))  # draft
    night = Shift.objects.get(rota=rota, day=dt.date(2026, 11, 24))
    actions.assign_shift(
        night, by=organiser, data=actions.AssignInput(member=member_of(rota, clinics[2]).code)
    )
    return night


def entries(content: bytes) -> list[dict[str, Any]]:
    """The bundle's resources, each validated as its own type by fhir.resources."""
    bundle = Bundle.model_validate_json(content).model_dump(mode="json")
    kinds: dict[str, Any] = {
        "Schedule": Schedule,
        "Slot": Slot,
        "PractitionerRole": PractitionerRole,
    }
    found = [e["resource"] for e in bundle.get("entry") or []]
    for res in found:
        kinds[res["resourceType"]].model_validate(res)
    return found


@pytest.mark.django_db
def test_schedule_slot_and_who_is_on_duty(
    published: Shift, rota: Rota, doctor_a: Membership, clinics: list[Organization]
) -> None:
    c = login(doctor_a)
    r = c.get("/api/fhir/Schedule")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/fhir+json")
    [schedule] = entries(r.content)
    assert schedule["id"] == str(rota.code)
    # Only the published month is in the horizon (December is a draft).
    assert schedule["planningHorizon"] == {"start": "2026-11-01", "end": "2026-11-30"}
    r = c.get(f"/api/fhir/Slot?schedule=Schedule/{rota.code}&start=ge2026-11-24&start=lt2026-11-25")
    slots = entries(r.content)
    assert [s["id"] for s in slots] == [str(published.code)]
    assert slots[0]["status"] == "busy" and slots[0]["start"] == "2026-11-24T18:00:00+09:00"
    # No December slot leaks from the draft.
    assert entries(c.get("/api/fhir/Slot?start=ge2026-12-01&_count=100").content) == []
    roles = entries(c.get(f"/api/fhir/PractitionerRole?date={NIGHT}").content)
    assert len(roles) == 1
    assert roles[0]["organization"]["display"] == clinics[2].name
    assert roles[0]["telecom"][0]["value"] == member_of(rota, clinics[2]).phone
    r = c.get(f"/api/fhir/PractitionerRole/{published.code}")
    assert PractitionerRole.model_validate_json(r.content).id == str(published.code)


@pytest.mark.django_db
def test_gap_is_a_free_slot(
    published: Shift, rota: Rota, organiser: Membership, doctor_a: Membership
) -> None:
    published.refresh_from_db()
    actions.assign_shift(published, by=organiser, data=actions.AssignInput(member=None))
    c = login(doctor_a)
    r = c.get(f"/api/fhir/Slot/{published.code}")
    assert Slot.model_validate_json(r.content).status == "free"
    assert entries(c.get(f"/api/fhir/PractitionerRole?date={NIGHT}").content) == []


@pytest.mark.django_db
def test_scoped_like_the_screens(
    client: Client, published: Shift, rota: Rota, outsider: Membership
) -> None:
    for url in (
        "/api/fhir/Schedule",
        f"/api/fhir/Slot/{published.code}",
        "/api/fhir/PractitionerRole",
    ):
        r = client.get(url)
        assert r.status_code == 401 and r.json()["resourceType"] == "OperationOutcome"
    o = login(outsider)
    assert o.get(f"/api/fhir/Schedule/{rota.code}").status_code == 404
    assert o.get(f"/api/fhir/Slot/{published.code}").status_code == 404
    assert o.get(f"/api/fhir/PractitionerRole/{published.code}").status_code == 404
    assert Bundle.model_validate_json(o.get("/api/fhir/Schedule").content).total == 0
    assert (
        Bundle.model_validate_json(o.get(f"/api/fhir/PractitionerRole?date={NIGHT}").content).total
        == 0
    )
    # 「いまの当番」 for an area is every member's, as on the screen.
    r = o.get(f"/api/fhir/PractitionerRole?date={NIGHT}&municipality=142123")
    assert Bundle.model_validate_json(r.content).total == 1
    # Bad input: a 400 OperationOutcome, never a 500.
    for q in ("date=yesterday", "date=ge2026-11-24", "municipality=abc", "date=9999-01-01"):
        r = o.get(f"/api/fhir/PractitionerRole?{q}")
        assert r.status_code == 400 and r.json()["resourceType"] == "OperationOutcome", q
    assert o.get("/api/fhir/Slot?status=maybe").status_code == 400
    assert o.get("/api/fhir/Slot?schedule=Schedule/nope").status_code == 400


@pytest.mark.django_db
def test_metadata_lists_the_rota_resources(client: Client) -> None:
    r = client.get("/api/fhir/metadata")
    CapabilityStatement.model_validate_json(r.content)
    resources = r.json()["rest"][0]["resource"]
    assert {"Schedule", "Slot", "PractitionerRole"} <= {x["type"] for x in resources}
    slot = next(x for x in resources if x["type"] == "Slot")
    assert {p["name"] for p in slot["searchParam"]} >= {"schedule", "start", "status", "_count"}
