"""The cover chain per patient (ADR 0036): in order, skipping the absent, following swaps at the
right minute, scoped exactly like the patient on both doors."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from renkei.accounts.models import AuditEntry, Membership, Organization
from renkei.care.models import Patient
from renkei.care.testing import make_consent, make_patient
from renkei.care.tests.conftest import verified
from renkei.oncall import actions, cover
from renkei.oncall.models import Absence, CoverAgreement, Rota, Shift, SwapStatus
from renkei.oncall.testing import member_of, publish

JST = ZoneInfo("Asia/Tokyo")


def _at(y: int, m: int, d: int, hh: int, mm: int) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=JST)


@pytest.fixture
def patient(doctor_a: Membership, clinics: list[Organization]) -> Patient:
    """Clinic A's patient in 厚木市, clinic B as 副主治医."""
    p = make_patient(doctor_a)
    make_consent(p, by=doctor_a)
    cover.save_cover(
        p,
        by=doctor_a,
        data=cover.CoverInput(
            primary_doctor="医師A",
            primary_phone="046-100-0001",
            night_arrangement="院長携帯に転送",
            night_phone="090-1000-0001",
            secondary=clinics[1].code,
            secondary_doctor="医師B",
            secondary_phone="046-100-0002",
            agreed_on=dt.date(2026, 10, 1),
            municipality="142123",
            valid_from=dt.date(2026, 10, 1),
        ),
    )
    return p


def _roles(steps: list[cover.Step]) -> list[tuple[str, str, bool]]:
    return [(s.role, s.phone, s.skipped) for s in steps]


@pytest.mark.django_db
def test_chain_in_order_and_skips_an_absent_doctor(
    rota: Rota,
    organiser: Membership,
    clinics: list[Organization],
    patient: Patient,
    doctor_a: Membership,
    doctor_b: Membership,
) -> None:
    publish(rota, organiser, "2026-11")
    night = Shift.objects.get(rota=rota, day=dt.date(2026, 11, 24))
    actions.assign_shift(
        night, by=organiser, data=actions.AssignInput(member=member_of(rota, clinics[3]).code)
    )
    steps = cover.cover_chain(patient, _at(2026, 11, 24, 23, 0))
    assert _roles(steps) == [
        ("主治医", "046-100-0001", False),
        ("主治医の夜間体制", "090-1000-0001", False),
        ("副主治医", "046-100-0002", False),
        ("地域の当番医", member_of(rota, clinics[3]).phone, False),
    ]
    # Clinic A away for the night: the chain starts at the 副主治医.
    cover.record_absence(
        by=doctor_a,
        data=cover.AbsenceInput(
            starts_at=_at(2026, 11, 24, 18, 0), ends_at=_at(2026, 11, 25, 9, 0), note="学会"
        ),
    )
    steps = cover.cover_chain(patient, _at(2026, 11, 24, 23, 0))
    assert [s.skipped for s in steps[:3]] == [True, True, False]
    first = cover.first_to_call(steps)
    assert first is not None and first.role == "副主治医"
    # Only Dr B away (named doctor): the 副主治医 line is skipped, the 当番医 answers after A.
    cover.record_absence(
        by=doctor_b,
        data=cover.AbsenceInput(
            doctor="医師B", starts_at=_at(2026, 11, 24, 18, 0), ends_at=_at(2026, 11, 25, 9, 0)
        ),
    )
    steps = cover.cover_chain(patient, _at(2026, 11, 24, 23, 0))
    assert [s.skipped for s in steps] == [True, True, True, False]
    # Before and after the absence, the 主治医 answers again.
    assert cover.first_to_call(cover.cover_chain(patient, _at(2026, 11, 25, 9, 0))).role == "主治医"  # type: ignore[union-attr]


@pytest.mark.django_db
def test_the_chain_s_probe_picks_the_agreement_agreement_at_picks(patient: Patient) -> None:
    """Of overlapping agreements the latest started (then the newest) is in force, before the
    first none; the probe of ids (ADR 0060) and the QuerySet agree at each moment."""
    first = CoverAgreement.objects.get(patient=patient)
    later = CoverAgreement.objects.get(pk=first.pk)
    later.pk, later.code, later.valid_from = None, uuid.uuid4(), dt.date(2026, 11, 1)
    later.primary_phone = "046-100-0009"
    later.save()
    same_day = CoverAgreement.objects.get(pk=later.pk)
    same_day.pk, same_day.code, same_day.primary_phone = None, uuid.uuid4(), "046-100-0008"
    same_day.save()
    expected = {
        _at(2026, 9, 30, 12, 0): None,
        _at(2026, 10, 15, 12, 0): first.pk,
        _at(2026, 11, 24, 23, 0): same_day.pk,  # same start as `later`: the newer row
    }
    for moment, pk in expected.items():
        found = cover.agreement_at(patient, moment)
        assert (cover.chain_ids(patient, moment)[0], found.pk if found else None) == (pk, pk)
    CoverAgreement.objects.filter(pk=same_day.pk).update(valid_until=dt.date(2026, 11, 20))
    assert cover.chain_ids(patient, _at(2026, 11, 24, 23, 0))[0] == later.pk
    steps = cover.cover_chain(patient, _at(2026, 11, 24, 23, 0))
    assert steps[0].phone == "046-100-0009"
    assert cover.cover_chain(patient, _at(2026, 9, 30, 12, 0)) == []


@pytest.mark.django_db
def test_an_agreement_replaced_between_the_probe_and_its_read_is_no_500(
    patient: Patient,
) -> None:
    """The probe reads ids, then the rows: a new agreement that replaces (deletes) the probed one
    in between must give the chain of the one in force now, and a vanished id none."""
    moment = _at(2026, 11, 24, 23, 0)
    old = CoverAgreement.objects.get(patient=patient)
    newer = CoverAgreement.objects.get(pk=old.pk)
    newer.pk, newer.code, newer.primary_phone = None, uuid.uuid4(), "046-100-0007"
    newer.valid_from = dt.date(2026, 10, 2)
    newer.save()
    probed = (old.pk, None)
    CoverAgreement.objects.filter(pk=old.pk).delete()
    with mock.patch.object(cover, "chain_ids", return_value=probed):
        steps = cover.cover_chain(patient, moment)
    assert steps[0].phone == "046-100-0007"
    # Nothing in force any more, and a bed registration that vanished too: an empty chain.
    CoverAgreement.objects.filter(patient=patient).delete()
    with mock.patch.object(cover, "chain_ids", return_value=(old.pk, 987654)):
        assert cover.cover_chain(patient, moment) == []


@pytest.mark.django_db
def test_chain_follows_a_swap_at_the_right_minute(
    rota: Rota,
    organiser: Membership,
    clinics: list[Organization],
    patient: Patient,
    doctor_a: Membership,
    doctor_b: Membership,
    django_capture_on_commit_callbacks: Any,
) -> None:
    publish(rota, organiser, "2026-11")
    night = Shift.objects.get(rota=rota, day=dt.date(2026, 11, 24))
    a, b = member_of(rota, clinics[0]), member_of(rota, clinics[1])
    actions.assign_shift(night, by=organiser, data=actions.AssignInput(member=a.code))
    night.refresh_from_db()
    with (
        mock.patch("django.utils.timezone.now", return_value=_at(2026, 11, 20, 10, 0)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        swap = actions.request_swap(night, by=doctor_a, data=actions.SwapInput(to_member=b.code))
        actions.answer_swap(swap, by=doctor_b, data=actions.SwapAnswerInput(accept=True))
    swap.refresh_from_db()
    assert swap.status == SwapStatus.DONE

    def duty(moment: dt.datetime) -> str | None:
        lines = [s for s in cover.cover_chain(patient, moment) if s.role == "地域の当番医"]
        return lines[0].phone if lines else None

    assert duty(_at(2026, 11, 24, 17, 59)) is None  # daytime: no duty line
    assert duty(_at(2026, 11, 24, 18, 0)) == b.phone
    assert duty(_at(2026, 11, 25, 0, 0)) == b.phone  # across midnight, JST
    assert duty(_at(2026, 11, 25, 8, 59)) == b.phone
    assert duty(_at(2026, 11, 25, 9, 0)) is None


@pytest.mark.django_db
def test_chain_doors_are_scoped_like_the_patient(
    client: Client,
    rota: Rota,
    organiser: Membership,
    patient: Patient,
    doctor_a: Membership,
    outsider: Membership,
) -> None:
    # Anonymous: refused on both doors.
    assert client.get(f"/api/v1/oncall/patients/{patient.code}/chain").status_code == 401
    r = client.get(f"/oncall/patients/{patient.code}/chain/")
    assert r.status_code == 302 and "login" in r["Location"]
    # An outsider (and the rota's organiser, who is not on the team): 404 everywhere.
    for m in (outsider, organiser):
        c = verified(Client(), m)
        assert c.get(f"/api/v1/oncall/patients/{patient.code}/chain").status_code == 404
        assert c.get(f"/oncall/patients/{patient.code}/chain/").status_code == 404
        assert c.get(f"/oncall/patients/{patient.code}/cover/").status_code == 404
        r = c.post(
            f"/api/v1/oncall/patients/{patient.code}/cover",
            {"primary_phone": "046-100-0001", "municipality": "142123", "valid_from": "2026-12-01"},
            content_type="application/json",
        )
        assert r.status_code == 404
    # The team: the chain on both doors, each read audited.
    c = verified(Client(), doctor_a)
    before = AuditEntry.objects.filter(action="care.patient_viewed").count()
    r = c.get(f"/api/v1/oncall/patients/{patient.code}/chain?at=2026-11-24T23:00:00%2B09:00")
    assert r.status_code == 200
    assert [s["role"] for s in r.json()["steps"]][:3] == ["主治医", "主治医の夜間体制", "副主治医"]
    html = c.get(f"/oncall/patients/{patient.code}/chain/").content.decode()
    assert "急変時の連絡順" in html and "046-100-0002" in html
    assert AuditEntry.objects.filter(action="care.patient_viewed").count() == before + 2
    # The patient page carries the chain panel (care does not import oncall).
    assert "急変時の連絡順" in c.get(f"/care/p/{patient.code}/").content.decode()


@pytest.mark.django_db
def test_cover_doors_agree_and_refuse_bad_input(
    patient: Patient, doctor_a: Membership, clinics: list[Organization]
) -> None:
    c = verified(Client(), doctor_a)
    body = {
        "primary_phone": "046-100-0009",
        "secondary": str(clinics[2].code),
        "secondary_phone": "046-100-0003",
        "municipality": "142123",
        "valid_from": "2026-12-01",
    }
    bad = c.post(
        f"/api/v1/oncall/patients/{patient.code}/cover",
        {**body, "municipality": "999999"},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "市区町村" in bad.json()["detail"]
    bad_html = c.post(f"/oncall/patients/{patient.code}/cover/", {**body, "secondary_phone": ""})
    assert bad_html.status_code == 400 and "副主治医の連絡先電話" in bad_html.content.decode()
    assert CoverAgreement.objects.filter(patient=patient).count() == 1
    r = c.post(
        f"/api/v1/oncall/patients/{patient.code}/cover", body, content_type="application/json"
    )
    assert r.status_code == 201
    api_rows = list(
        CoverAgreement.objects.filter(patient=patient).values_list(
            "secondary_id", "primary_phone", "valid_from", "valid_until"
        )
    )
    CoverAgreement.objects.filter(
        pk=CoverAgreement.objects.get(valid_from="2026-12-01").pk
    ).delete()
    CoverAgreement.objects.filter(patient=patient).update(valid_until=None)
    r = c.post(f"/oncall/patients/{patient.code}/cover/", body)
    assert r.status_code == 302, r.context["form"].errors
    html_rows = list(
        CoverAgreement.objects.filter(patient=patient).values_list(
            "secondary_id", "primary_phone", "valid_from", "valid_until"
        )
    )
    assert api_rows == html_rows
    assert html_rows[0][3] is None and html_rows[1][3] == dt.date(2026, 11, 30)
    # Absences: both doors, bad period refused with nothing stored.
    r = c.post(
        "/api/v1/oncall/absences",
        {"starts_at": "2026-12-02T18:00:00+09:00", "ends_at": "2026-12-02T09:00:00+09:00"},
        content_type="application/json",
    )
    assert r.status_code == 400 and "終了" in r.json()["detail"]
    r = c.post(
        "/oncall/absences/", {"starts_at": "2026-12-02T18:00", "ends_at": "2026-12-03T09:00"}
    )
    assert r.status_code == 302
    assert Absence.objects.get().organization == doctor_a.organization


@pytest.mark.django_db
def test_emergency_sheet_contacts_come_from_the_chain(
    patient: Patient, doctor_a: Membership
) -> None:
    from renkei.care.actions import emergency as em

    moment = _at(2026, 11, 24, 23, 0)
    contacts = em.doctor_contacts(patient, at=moment)
    assert [(c.label, c.phone, c.source) for c in contacts][:3] == [
        ("主治医", "046-100-0001", "oncall"),
        ("主治医の夜間体制", "090-1000-0001", "oncall"),
        ("副主治医", "046-100-0002", "oncall"),
    ]
    cover.record_absence(
        by=doctor_a,
        data=cover.AbsenceInput(
            starts_at=_at(2026, 11, 24, 18, 0), ends_at=_at(2026, 11, 25, 9, 0)
        ),
    )
    assert em.doctor_contacts(patient, at=moment)[0].label == "副主治医"
