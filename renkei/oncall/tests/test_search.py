"""The 副主治医 search (issue 14 §2, ADR 0016): an anonymous case to the clinics of the area,
screened like the placement network's; volunteers; the choice recorded as the cover agreement;
the 往診時医療情報連携加算 print and monthly record."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from renkei.accounts.models import AuditEntry, Membership, Organization, OrgKind, Role
from renkei.care.models import Patient
from renkei.care.testing import make_consent, make_patient
from renkei.care.tests.conftest import verified
from renkei.lib.actions import ActionError, Conflict, Forbidden
from renkei.oncall import cover, search
from renkei.oncall.models import (
    CoverAgreement,
    CoverRole,
    CoverSearch,
    CoverShare,
    CoverVolunteer,
    DiseaseGroup,
    SearchStatus,
    VolunteerStatus,
)
from renkei.oncall.testing import make_clinic
from renkei.testing import make_member, make_org

CASE = {
    "wanted": "secondary",
    "municipality": "142123",  # 厚木市, 県央
    "disease_group": "cancer",
    "age_band": "80",
    "needs": "がん終末期。疼痛コントロール、夜間の看取り対応ができる医療機関を希望。",
}


@pytest.fixture
def patient(doctor_a: Membership) -> Patient:
    p = make_patient(doctor_a)
    make_consent(p, by=doctor_a)
    return p


@pytest.fixture
def far_clinic(db: None) -> Membership:
    """A clinic in 横浜 (another 二次医療圏): the case never reaches it."""
    return make_member(make_clinic("よこはま在宅クリニック", "141003"), Role.DOCTOR, username="far")


@pytest.mark.django_db
def test_search_reaches_the_area_volunteers_answer_and_the_choice_becomes_the_agreement(
    doctor_a: Membership,
    doctor_b: Membership,
    clinics: list[Organization],
    patient: Patient,
    far_clinic: Membership,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        s = search.post_search(patient, by=doctor_a, data=search.SearchInput(**CASE))
    got = set(s.recipients.values_list("organization_id", flat=True))
    assert {c.pk for c in clinics[1:]} <= got
    assert clinics[0].pk not in got and far_clinic.organization_id not in got
    # Clinic B's doctor was told, without anything about the patient.
    told = [m for m in mail.outbox if "dr-b@example.jp" in m.to]
    assert told and "花子" not in told[0].body and "副主治医の募集" in told[0].subject
    with pytest.raises(Forbidden):
        search.volunteer(
            s,
            by=far_clinic,
            data=search.VolunteerInput(
                role=CoverRole.SECONDARY, doctor="医師F", phone="045-000-0000"
            ),
        )
    v = search.volunteer(
        s,
        by=doctor_b,
        data=search.VolunteerInput(
            role=CoverRole.SECONDARY, doctor="医師B", phone="046-100-0002", message="夜間対応可"
        ),
    )
    with pytest.raises(Conflict):
        search.volunteer(
            s,
            by=doctor_b,
            data=search.VolunteerInput(
                role=CoverRole.PRIMARY, doctor="医師B", phone="046-100-0002"
            ),
        )
    agreement = search.choose(
        s,
        by=doctor_a,
        data=search.ChooseInput(
            volunteer=v.code,
            own_doctor="医師A",
            own_phone="046-100-0001",
            valid_from=timezone.localdate(),
        ),
    )
    assert (agreement.primary, agreement.secondary) == (clinics[0], clinics[1])
    assert (agreement.primary_phone, agreement.secondary_phone) == ("046-100-0001", "046-100-0002")
    assert agreement.municipality.code == "142123"
    s.refresh_from_db()
    assert s.status == SearchStatus.DECIDED
    assert CoverVolunteer.objects.get().status == VolunteerStatus.CHOSEN
    roles = [st.role for st in cover.cover_chain(patient)]
    assert roles[:2] == ["主治医", "副主治医"]
    with pytest.raises(Conflict):
        search.choose(
            s,
            by=doctor_a,
            data=search.ChooseInput(
                volunteer=v.code, own_phone="046-100-0001", valid_from=timezone.localdate()
            ),
        )


@pytest.mark.django_db
def test_a_volunteer_as_primary_takes_the_primary_line(
    doctor_a: Membership, doctor_b: Membership, clinics: list[Organization], patient: Patient
) -> None:
    s = search.post_search(
        patient, by=doctor_a, data=search.SearchInput(**{**CASE, "wanted": "primary"})
    )
    v = search.volunteer(
        s,
        by=doctor_b,
        data=search.VolunteerInput(role=CoverRole.PRIMARY, doctor="医師B", phone="046-100-0002"),
    )
    a = search.choose(
        s,
        by=doctor_a,
        data=search.ChooseInput(
            volunteer=v.code, own_phone="046-100-0001", valid_from=timezone.localdate()
        ),
    )
    assert (a.primary, a.secondary, a.primary_doctor) == (clinics[1], clinics[0], "医師B")


@pytest.mark.django_db
def test_identifying_text_is_refused_like_a_placement_case(
    doctor_a: Membership, patient: Patient
) -> None:
    for needs in ("山田太郎さん 疼痛あり", "連絡は090-1234-5678へ", "昭和12年3月4日生まれ"):
        with pytest.raises(ActionError) as e:
            search.post_search(
                patient, by=doctor_a, data=search.SearchInput(**{**CASE, "needs": needs})
            )
        assert e.value.field == "needs"
    assert not CoverSearch.objects.exists()


@pytest.mark.django_db
def test_search_doors_scoped_and_anonymous_to_recipients(
    client: Client,
    doctor_a: Membership,
    doctor_b: Membership,
    patient: Patient,
    far_clinic: Membership,
    outsider: Membership,
) -> None:
    a = verified(Client(), doctor_a)
    r = a.post(
        f"/api/v1/oncall/patients/{patient.code}/cover-searches",
        CASE,
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    code = r.json()["code"]
    assert r.json()["patient"] == str(patient.code)
    # Bad input: the same message on both doors, nothing stored.
    bad = {**CASE, "needs": "田中花子さん"}
    r = a.post(
        f"/api/v1/oncall/patients/{patient.code}/cover-searches",
        bad,
        content_type="application/json",
    )
    assert r.status_code == 400 and r.json()["field"] == "needs"
    r = a.post(f"/oncall/patients/{patient.code}/search/", bad)
    assert r.status_code == 400
    assert CoverSearch.objects.count() == 1
    # Anonymous: refused.
    assert client.get(f"/api/v1/oncall/cover-searches/{code}").status_code == 401
    assert client.get(f"/oncall/searches/{code}/").status_code == 302
    # Outsiders (another area, another role): 404 on every door.
    for m in (far_clinic, outsider):
        c = verified(Client(), m)
        assert c.get(f"/api/v1/oncall/cover-searches/{code}").status_code == 404
        assert c.get(f"/oncall/searches/{code}/").status_code == 404
        r = c.post(
            f"/api/v1/oncall/cover-searches/{code}/volunteers",
            {"role": "secondary", "doctor": "x", "phone": "045-000-0000"},
            content_type="application/json",
        )
        assert r.status_code == 404
        assert c.post(f"/oncall/searches/{code}/withdraw/").status_code == 404
        assert c.get("/api/v1/oncall/cover-searches").json() == []
    # A recipient sees the anonymous case: never the patient.
    b = verified(Client(), doctor_b)
    body = b.get(f"/api/v1/oncall/cover-searches/{code}").json()
    assert body["patient"] is None and body["needs"] == CASE["needs"]
    html = b.get(f"/oncall/searches/{code}/").content.decode()
    assert "花子" not in html and "名乗り出る" in html
    dump = json.dumps(body, ensure_ascii=False)
    assert "花子" not in dump
    # A recipient may not choose or withdraw.
    assert b.post(f"/oncall/searches/{code}/withdraw/").status_code == 302
    assert CoverSearch.objects.get().status == SearchStatus.OPEN
    r = b.post(
        f"/api/v1/oncall/cover-searches/{code}/volunteers",
        {"role": "secondary", "doctor": "医師B", "phone": "046-100-0002"},
        content_type="application/json",
    )
    assert r.status_code == 201
    r = b.post(
        f"/api/v1/oncall/cover-searches/{code}/choose",
        {"volunteer": r.json()["code"], "own_phone": "046-100-0002", "valid_from": "2026-12-01"},
        content_type="application/json",
    )
    assert r.status_code == 404
    # The requester chooses on the HTML door and lands on the print.
    v = CoverVolunteer.objects.get()
    r = a.post(
        f"/oncall/searches/{code}/choose/",
        {
            "volunteer": str(v.code),
            "own_phone": "046-100-0001",
            "valid_from": timezone.localdate().isoformat(),
        },
    )
    assert r.status_code == 302 and r["Location"].endswith("/cover/print/")
    assert CoverAgreement.objects.get(patient=patient).secondary_id == doctor_b.organization_id
    assert AuditEntry.objects.filter(action="oncall.cover_search_decided").count() == 1


@pytest.mark.django_db
def test_the_print_names_the_cover_clinic_and_the_months_shared(
    doctor_a: Membership,
    doctor_b: Membership,
    clinics: list[Organization],
    patient: Patient,
    outsider: Membership,
) -> None:
    s = search.post_search(patient, by=doctor_a, data=search.SearchInput(**CASE))
    v = search.volunteer(
        s,
        by=doctor_b,
        data=search.VolunteerInput(role=CoverRole.SECONDARY, doctor="医師B", phone="046-100-0002"),
    )
    search.choose(
        s,
        by=doctor_a,
        data=search.ChooseInput(
            volunteer=v.code, own_phone="046-100-0001", valid_from=timezone.localdate()
        ),
    )
    a = verified(Client(), doctor_a)
    month = f"{timezone.localdate():%Y-%m}"
    r = a.post(
        f"/oncall/patients/{patient.code}/cover/print/",
        {"month": month, "shared_on": (timezone.localdate() + dt.timedelta(days=40)).isoformat()},
    )
    assert r.status_code == 400 and not CoverShare.objects.exists()
    r = a.post(
        f"/api/v1/oncall/patients/{patient.code}/cover/shares",
        {
            "month": month,
            "shared_on": timezone.localdate().isoformat(),
            "note": "訪問診療計画と急変時の方針",
        },
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    html = a.get(f"/oncall/patients/{patient.code}/cover/print/").content.decode()
    assert clinics[1].name in html and "046-100-0002" in html and "医師B" in html
    assert "訪問診療計画と急変時の方針" in html and "連携 花子 様" in html
    c = verified(Client(), outsider)
    assert c.get(f"/oncall/patients/{patient.code}/cover/print/").status_code == 404
    r = c.post(
        f"/api/v1/oncall/patients/{patient.code}/cover/shares",
        {"month": month, "shared_on": timezone.localdate().isoformat()},
        content_type="application/json",
    )
    assert r.status_code == 404
    assert Client().get(f"/oncall/patients/{patient.code}/cover/print/").status_code == 302


@pytest.mark.django_db
def test_a_search_with_nobody_in_the_area_is_refused(
    doctor_a: Membership, patient: Patient
) -> None:
    # 横浜市 (another 二次医療圏) with no clinic on the platform besides none.
    with pytest.raises(ActionError, match="参加している医療機関がありません"):
        search.post_search(
            patient, by=doctor_a, data=search.SearchInput(**{**CASE, "municipality": "141003"})
        )
    nurse_org = make_org("訪問看護A", OrgKind.VISITING_NURSE)
    nurse = make_member(nurse_org, Role.VISITING_NURSE, username="ns")
    with pytest.raises(Forbidden):
        search.post_search(patient, by=nurse, data=search.SearchInput(**CASE))
    _ = DiseaseGroup.CANCER
