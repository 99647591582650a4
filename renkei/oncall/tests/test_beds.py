"""Backup beds (issue 14 §3, ADR 0047): one hospital per patient within consent, the hospital's
answer, the information exchanged and its three-month alert, bed uses, the bed in the cover
chain, and care facilities' 協力医療機関 with their yearly confirmation."""

from __future__ import annotations

import datetime as dt
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from renkei.accounts.models import AuditEntry, Membership, Organization, OrgKind, Role
from renkei.care.models import ConsentScope, Patient, ProvisionRecord
from renkei.care.testing import make_consent, make_patient
from renkei.care.tests.conftest import verified
from renkei.lib.actions import ActionError, Conflict, Forbidden
from renkei.oncall import beds, cover
from renkei.oncall.models import (
    BackupBedOffer,
    BackupBedRegistration,
    BackupBedUse,
    BedOutcome,
    BedScheme,
    CooperatingInstitution,
    CooperationConfirmation,
    RegistrationStatus,
)
from renkei.oncall.testing import make_clinic
from renkei.regions.models import Municipality
from renkei.testing import make_member, make_org, sign_in

JST = ZoneInfo("Asia/Tokyo")


def make_hospital(name: str, username: str) -> tuple[Organization, Membership, BackupBedOffer]:
    org = make_org(
        name, OrgKind.HOSPITAL, municipality_code="142123", email=f"{username}@example.jp"
    )
    staff = make_member(org, Role.MSW, username=username)
    offer = beds.save_offer(
        by=staff,
        data=beds.OfferInput(
            scheme=BedScheme.SUPPORT_HOSPITAL,
            name=f"{name} 後方ベッド",
            phone="046-300-0001",
            beds=4,
        ),
    )
    return org, staff, offer


@pytest.fixture
def hospital(db: None) -> tuple[Organization, Membership, BackupBedOffer]:
    return make_hospital("県央後方支援病院", "msw-h1")


@pytest.fixture
def hospital2(db: None) -> tuple[Organization, Membership, BackupBedOffer]:
    return make_hospital("相模第二病院", "msw-h2")


@pytest.fixture
def patient(doctor_a: Membership) -> Patient:
    p = make_patient(doctor_a)
    make_consent(p, by=doctor_a)
    return p


def register(p: Patient, by: Membership, offer: BackupBedOffer) -> BackupBedRegistration:
    return beds.register_patient(
        p, by=by, data=beds.RegisterInput(offer=offer.code, summary="心不全。急変時は入院を希望。")
    )


@pytest.mark.django_db
def test_register_needs_a_consent_that_covers_the_hospital(
    doctor_a: Membership, hospital: tuple[Organization, Membership, BackupBedOffer]
) -> None:
    p = make_patient(doctor_a)
    other = make_org("別の訪問看護", OrgKind.VISITING_NURSE)
    make_consent(p, by=doctor_a, scope=ConsentScope.ORGANIZATIONS, organizations=[other])
    with pytest.raises(ActionError, match="同意"):
        register(p, doctor_a, hospital[2])
    assert not BackupBedRegistration.objects.exists()
    make_consent(p, by=doctor_a, scope=ConsentScope.ORGANIZATIONS, organizations=[hospital[0]])
    reg = register(p, doctor_a, hospital[2])
    assert reg.status == RegistrationStatus.REQUESTED
    # The information reaching the hospital is a 第29条 provision on that consent.
    prov = ProvisionRecord.objects.get(patient=p, recipient=hospital[0])
    assert prov.consent_id == reg.consent_id


@pytest.mark.django_db
def test_one_hospital_only_and_the_bed_joins_the_chain(
    doctor_a: Membership,
    patient: Patient,
    hospital: tuple[Organization, Membership, BackupBedOffer],
    hospital2: tuple[Organization, Membership, BackupBedOffer],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        reg = register(patient, doctor_a, hospital[2])
    assert [m.to for m in mail.outbox] == [["msw-h1@example.jp"]] or any(
        "msw-h1@example.jp" in m.to for m in mail.outbox
    )
    # A second hospital is refused, naming the first; nothing is stored.
    with pytest.raises(Conflict, match="県央後方支援病院"):
        register(patient, doctor_a, hospital2[2])
    assert BackupBedRegistration.objects.filter(patient=patient).count() == 1
    # The constraint holds even for a write that goes around the action.
    with pytest.raises(IntegrityError), transaction.atomic():
        BackupBedRegistration.objects.create(
            patient=patient,
            offer=hospital2[2],
            hospital=hospital2[0],
            clinic=doctor_a.organization,
            consent=reg.consent,
            registered_by=doctor_a,
            last_exchange_at=timezone.now(),
        )
    # Not in the chain until the hospital accepts.
    assert cover.backup_bed_step(patient) is None
    assert cover.cover_chain(patient, dt.datetime(2026, 11, 24, 23, 0, tzinfo=JST)) == []
    with pytest.raises(Forbidden):
        beds.decide_registration(reg, by=doctor_a, data=beds.DecisionInput(accept=True))
    beds.decide_registration(reg, by=hospital[1], data=beds.DecisionInput(accept=True))
    steps = cover.cover_chain(patient, dt.datetime(2026, 11, 24, 23, 0, tzinfo=JST))
    assert [(s.role, s.name, s.phone) for s in steps] == [
        ("後方支援病院（登録済み）", "県央後方支援病院", "046-300-0001")
    ]
    # Ended, another hospital may be chosen.
    beds.end_registration(reg, by=doctor_a)
    assert cover.backup_bed_step(patient) is None
    assert register(patient, doctor_a, hospital2[2]).hospital == hospital2[0]


@pytest.mark.django_db
def test_stale_information_is_alerted_once_and_a_new_exchange_restarts_the_clock(
    doctor_a: Membership,
    patient: Patient,
    hospital: tuple[Organization, Membership, BackupBedOffer],
    django_capture_on_commit_callbacks: Any,
) -> None:
    reg = register(patient, doctor_a, hospital[2])
    beds.decide_registration(reg, by=hospital[1], data=beds.DecisionInput(accept=True))
    BackupBedRegistration.objects.filter(pk=reg.pk).update(
        last_exchange_at=dt.datetime(2026, 8, 20, 10, 0, tzinfo=JST)
    )
    mail.outbox.clear()
    # Three months to the day is not yet "older than three months".
    with django_capture_on_commit_callbacks(execute=True):
        assert beds.alert_stale(dt.datetime(2026, 11, 20, 9, 0, tzinfo=JST)) == 0
        assert beds.alert_stale(dt.datetime(2026, 11, 21, 9, 0, tzinfo=JST)) == 1
        assert beds.alert_stale(dt.datetime(2026, 11, 22, 9, 0, tzinfo=JST)) == 0  # once
    assert len(mail.outbox) == 1 and "3か月" in mail.outbox[0].subject
    assert "花子" not in mail.outbox[0].body  # no patient name in the mail
    beds.send_information(reg, by=doctor_a, data=beds.ExchangeInput(summary="内服変更あり"))
    reg.refresh_from_db()
    assert reg.stale_alerted_at is None
    assert beds.alert_stale(timezone.now() + dt.timedelta(days=40)) == 0
    assert beds.alert_stale(timezone.now() + dt.timedelta(days=95)) == 1


@pytest.mark.django_db
def test_bed_uses_are_recorded_for_accepted_registrations_only(
    doctor_a: Membership,
    patient: Patient,
    hospital: tuple[Organization, Membership, BackupBedOffer],
) -> None:
    reg = register(patient, doctor_a, hospital[2])
    use = beds.BedUseInput(admitted_on=timezone.localdate(), outcome=BedOutcome.HOME)
    with pytest.raises(Conflict):
        beds.record_use(reg, by=hospital[1], data=use)
    beds.decide_registration(reg, by=hospital[1], data=beds.DecisionInput(accept=True))
    with pytest.raises(ActionError, match="未来"):
        beds.record_use(
            reg,
            by=hospital[1],
            data=beds.BedUseInput(
                admitted_on=timezone.localdate() + dt.timedelta(days=1), outcome=BedOutcome.HOME
            ),
        )
    beds.record_use(reg, by=hospital[1], data=use)
    assert BackupBedUse.objects.get().outcome == BedOutcome.HOME


@pytest.mark.django_db
def test_bed_uses_count_per_municipality_and_fiscal_year(
    doctor_a: Membership,
    patient: Patient,
    hospital: tuple[Organization, Membership, BackupBedOffer],
) -> None:
    """The PDCA indicator's source: uses per the 主治医 clinic's municipality × fiscal year,
    with 31 March in the year before 1 April."""
    other_clinic = make_clinic("別市の在宅クリニック", "141003")
    doctor_c = make_member(other_clinic, Role.DOCTOR, username="dr-c")
    other = make_patient(doctor_c)
    make_consent(other, by=doctor_c)
    days = {
        patient: [dt.date(2025, 3, 31), dt.date(2025, 4, 1), dt.date(2026, 3, 31)],
        other: [dt.date(2026, 4, 1)],
    }
    for p, by in ((patient, doctor_a), (other, doctor_c)):
        reg = register(p, by, hospital[2])
        beds.decide_registration(reg, by=hospital[1], data=beds.DecisionInput(accept=True))
        for day in days[p]:
            beds.record_use(
                reg, by=hospital[1], data=beds.BedUseInput(admitted_on=day, outcome="home")
            )
    here = Municipality.objects.get(code="142123").pk
    there = Municipality.objects.get(code="141003").pk
    assert list(BackupBedUse.objects.per_municipality_year()) == [
        {"municipality": m, "fiscal_year": fy, "uses": n}
        for m, fy, n in sorted([(here, 2024, 1), (here, 2025, 2), (there, 2026, 1)])
    ]
    assert list(BackupBedUse.objects.per_municipality_year(years=[2025, 2026])) == [
        {"municipality": m, "fiscal_year": fy, "uses": n}
        for m, fy, n in sorted([(here, 2025, 2), (there, 2026, 1)])
    ]
    assert not BackupBedUse.objects.filter(outcome="died").per_municipality_year().exists()


@pytest.mark.django_db
def test_declining_needs_a_reason(
    doctor_a: Membership,
    patient: Patient,
    hospital: tuple[Organization, Membership, BackupBedOffer],
) -> None:
    reg = register(patient, doctor_a, hospital[2])
    with pytest.raises(ActionError, match="理由"):
        beds.decide_registration(reg, by=hospital[1], data=beds.DecisionInput(accept=False))
    beds.decide_registration(
        reg, by=hospital[1], data=beds.DecisionInput(accept=False, reason="満床が続くため")
    )
    reg.refresh_from_db()
    assert reg.status == RegistrationStatus.DECLINED
    # A declined registration is not open: another hospital may be asked.
    assert beds.open_registration(patient) is None


@pytest.mark.django_db
def test_registration_doors_scoped_and_refusing(
    client: Client,
    doctor_a: Membership,
    patient: Patient,
    outsider: Membership,
    hospital: tuple[Organization, Membership, BackupBedOffer],
    hospital2: tuple[Organization, Membership, BackupBedOffer],
) -> None:
    reg = register(patient, doctor_a, hospital[2])
    urls = [
        f"/oncall/beds/{reg.code}/",
        f"/api/v1/oncall/beds/registrations/{reg.code}",
        f"/oncall/patients/{patient.code}/backup-bed/",
    ]
    posts = [
        (f"/oncall/beds/{reg.code}/exchange/", {"summary": "x"}),
        (f"/oncall/beds/{reg.code}/end/", {}),
        (f"/api/v1/oncall/beds/registrations/{reg.code}/end", None),
        (f"/api/v1/oncall/beds/registrations/{reg.code}/exchanges", {"summary": "x"}),
        (
            f"/api/v1/oncall/patients/{patient.code}/backup-bed",
            {"offer": str(hospital2[2].code), "summary": "x"},
        ),
    ]
    # Anonymous: refused.
    for url in urls:
        r = client.get(url)
        assert r.status_code in (302, 401), url
        assert r.status_code == 401 or "login" in r["Location"]
    # An outsider and the other hospital: 404 on every door.
    for m in (outsider, hospital2[1]):
        c = verified(Client(), m)
        for url in urls:
            assert c.get(url).status_code == 404, (m, url)
        for url, body in posts:
            if url.startswith("/api/"):
                r = c.post(url, body or {}, content_type="application/json")
            else:
                r = c.post(url, body or {})
            assert r.status_code == 404, (m, url, r.status_code)
        assert c.get("/api/v1/oncall/beds/registrations").json() == []
    reg.refresh_from_db()
    assert reg.status == RegistrationStatus.REQUESTED and reg.exchanges.count() == 1
    # The hospital sees its patient (name included) and the read is audited.
    h = verified(Client(), hospital[1])
    before = AuditEntry.objects.filter(action="care.patient_viewed").count()
    html = h.get("/oncall/beds/").content.decode()
    assert "連携 花子" in html and "県央後方支援病院" in html
    assert h.get(f"/oncall/beds/{reg.code}/").status_code == 200
    assert AuditEntry.objects.filter(action="care.patient_viewed").count() == before + 2
    # Revoking the consent takes the registration away from the hospital.
    reg.consent.revoked_at = timezone.now()
    reg.consent.save(update_fields=["revoked_at"])
    assert h.get(f"/oncall/beds/{reg.code}/").status_code == 404


@pytest.mark.django_db
def test_second_registration_refused_on_both_doors_with_the_same_message(
    doctor_a: Membership,
    patient: Patient,
    hospital: tuple[Organization, Membership, BackupBedOffer],
    hospital2: tuple[Organization, Membership, BackupBedOffer],
) -> None:
    c = verified(Client(), doctor_a)
    body = {"offer": str(hospital[2].code), "summary": "心不全。"}
    r = c.post(
        f"/api/v1/oncall/patients/{patient.code}/backup-bed", body, content_type="application/json"
    )
    assert r.status_code == 201, r.content
    second = {"offer": str(hospital2[2].code), "summary": "心不全。"}
    r = c.post(
        f"/api/v1/oncall/patients/{patient.code}/backup-bed",
        second,
        content_type="application/json",
    )
    assert r.status_code == 409 and "県央後方支援病院" in r.json()["detail"]
    r = c.post(f"/oncall/patients/{patient.code}/backup-bed/", second)
    assert r.status_code == 409 and "既に県央後方支援病院" in r.content.decode()
    r = c.post(
        f"/oncall/patients/{patient.code}/backup-bed/", {"offer": "not-a-code", "summary": ""}
    )
    assert r.status_code == 400
    assert BackupBedRegistration.objects.count() == 1
    # The hospital answers on the HTML door; declining without a reason is refused beside it.
    h = verified(Client(), hospital[1])
    reg = BackupBedRegistration.objects.get()
    r = h.post(f"/oncall/beds/{reg.code}/decide/", {"accept": "0", "reason": ""})
    assert r.status_code == 400 and "お断りの理由を入力してください" in r.content.decode()
    r = h.post(f"/oncall/beds/{reg.code}/decide/", {"accept": "1", "version": reg.version})
    assert r.status_code == 302
    r = h.post(
        f"/api/v1/oncall/beds/registrations/{reg.code}/uses",
        {"admitted_on": "2026-11-01", "outcome": "home"},
        content_type="application/json",
    )
    assert r.status_code == 201
    detail = c.get(f"/api/v1/oncall/beds/registrations/{reg.code}").json()
    assert detail["status"] == "accepted" and detail["uses"][0]["outcome"] == "home"
    assert detail["exchanges"][0]["summary"] == "心不全。"


# 協力医療機関 ---------------------------------------------------------------------------------


@pytest.fixture
def gh(db: None) -> Membership:
    org = make_org("グループホームさくら", OrgKind.CARE_PROVIDER, email="gh@example.jp")
    return make_member(org, Role.CARE_WORKER, username="gh-staff")


@pytest.mark.django_db
def test_cooperation_confirmed_yearly_and_reminded_once_when_missing(
    gh: Membership,
    clinics: list[Organization],
    doctor_a: Membership,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with pytest.raises(Forbidden):
        beds.save_cooperation(
            by=doctor_a,
            data=beds.CooperationInput(
                phone="046-100-0001", name="x", valid_from=dt.date(2026, 4, 1)
            ),
        )
    coop = beds.save_cooperation(
        by=gh,
        data=beds.CooperationInput(
            institution=clinics[0].code, phone="046-100-0001", valid_from=dt.date(2025, 4, 1)
        ),
    )
    assert coop.name == clinics[0].name
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert beds.remind_confirmations(dt.date(2026, 4, 20)) == 0  # within the first month
        assert beds.remind_confirmations(dt.date(2026, 5, 2)) == 1
        assert beds.remind_confirmations(dt.date(2026, 6, 2)) == 0  # once a year
    # One reminder, to the facility's address and its staff.
    assert sorted(m.to[0] for m in mail.outbox) == ["gh-staff@example.jp", "gh@example.jp"]
    assert all("2026年度" in m.subject for m in mail.outbox)
    # Confirmed but not yet filed: still missing; filed: no longer.
    with mock.patch("django.utils.timezone.localdate", return_value=dt.date(2026, 7, 1)):
        beds.record_confirmation(
            coop,
            by=gh,
            data=beds.ConfirmationInput(fiscal_year=2026, confirmed_on=dt.date(2026, 6, 10)),
        )
        assert coop in beds.cooperations_missing_confirmation(dt.date(2026, 7, 1))
        with pytest.raises(ActionError, match="届け出た日は確認した日以降"):
            beds.record_confirmation(
                coop,
                by=gh,
                data=beds.ConfirmationInput(
                    fiscal_year=2026,
                    confirmed_on=dt.date(2026, 6, 10),
                    filed_on=dt.date(2026, 6, 1),
                ),
            )
        beds.record_confirmation(
            coop,
            by=gh,
            data=beds.ConfirmationInput(
                fiscal_year=2026, confirmed_on=dt.date(2026, 6, 10), filed_on=dt.date(2026, 6, 20)
            ),
        )
    assert CooperationConfirmation.objects.get().filed_on == dt.date(2026, 6, 20)
    assert coop not in beds.cooperations_missing_confirmation(dt.date(2026, 7, 1))
    # Next fiscal year: missing again, reminded again.
    with django_capture_on_commit_callbacks(execute=True):
        assert beds.remind_confirmations(dt.date(2027, 5, 2)) == 1


@pytest.mark.django_db
def test_cooperation_doors_scoped(
    client: Client,
    gh: Membership,
    clinics: list[Organization],
    doctor_a: Membership,
    outsider: Membership,
) -> None:
    coop = beds.save_cooperation(
        by=gh,
        data=beds.CooperationInput(
            institution=clinics[0].code, phone="046-100-0001", valid_from=dt.date(2025, 4, 1)
        ),
    )
    assert client.get("/oncall/cooperation/").status_code == 302
    assert client.get("/api/v1/oncall/cooperation").status_code == 401
    o = Client()
    sign_in(o, outsider.user)
    assert o.get(f"/oncall/cooperation/{coop.code}/").status_code == 404
    r = o.post(
        f"/api/v1/oncall/cooperation/{coop.code}/confirmations",
        {"fiscal_year": 2026, "confirmed_on": "2026-06-01"},
        content_type="application/json",
    )
    assert r.status_code == 404
    assert o.get("/api/v1/oncall/cooperation").json() == []
    # The 協力医療機関 sees it; the facility records the year's confirmation on both doors.
    d = Client()
    sign_in(d, doctor_a.user)
    assert d.get(f"/oncall/cooperation/{coop.code}/").status_code == 200
    g = Client()
    sign_in(g, gh.user)
    r = g.post(
        f"/api/v1/oncall/cooperation/{coop.code}/confirmations",
        {"fiscal_year": 2026, "confirmed_on": "2099-06-01"},
        content_type="application/json",
    )
    assert r.status_code == 400 and "未来" in r.json()["detail"]
    r = g.post(
        f"/oncall/cooperation/{coop.code}/", {"fiscal_year": "2026", "confirmed_on": "2099-06-01"}
    )
    assert r.status_code == 400 and "未来" in r.content.decode()
    assert not CooperationConfirmation.objects.exists()
    r = g.post("/oncall/cooperation/", {"name": "", "phone": "046-1", "valid_from": "2026-04-01"})
    assert r.status_code == 400
    assert CooperatingInstitution.objects.count() == 1


@pytest.mark.django_db
def test_bed_use_counts_for_the_hospital_the_clinic_and_the_organiser(
    client: Client,
    doctor_a: Membership,
    patient: Patient,
    hospital: tuple[Organization, Membership, BackupBedOffer],
    rota: Any,
    organiser: Membership,
    outsider: Membership,
) -> None:
    """Counts per hospital × month and per year × 転帰, never a patient: the hospital, the
    主治医's clinic and the organiser of the area's rota see them, a clinic elsewhere sees
    none; the same table downloads through lib.exports."""
    reg = register(patient, doctor_a, hospital[2])
    beds.decide_registration(reg, by=hospital[1], data=beds.DecisionInput(accept=True))
    for day, outcome in [
        (dt.date(2026, 4, 3), BedOutcome.HOME),
        (dt.date(2026, 4, 20), BedOutcome.DIED),
        (dt.date(2026, 11, 2), BedOutcome.HOME),
        (dt.date(2026, 3, 30), BedOutcome.NOT_ADMITTED),  # the fiscal year before
    ]:
        beds.record_use(
            reg, by=hospital[1], data=beds.BedUseInput(admitted_on=day, outcome=outcome)
        )
    for who in (hospital[1], doctor_a, organiser):
        sign_in(client, who.user)
        page = client.get("/oncall/beds/uses/?year=2026").content.decode()
        assert "令和8年度（2026年度） 月別（3回）" in page, who
        assert "県央後方支援病院" in page and "花子" not in page
        assert "令和7年度（2025年度）" in page  # the year table keeps the earlier year
    sign_in(client, outsider.user)
    page = client.get("/oncall/beds/uses/?year=2026").content.decode()
    assert "月別（0回）" in page and "県央後方支援病院" not in page
    sign_in(client, organiser.user)
    csv = client.get("/oncall/beds/uses.csv?year=2026").content.decode("utf-8-sig")
    assert "県央後方支援病院,2,0,0,0,0,0,0,1,0,0,0,0,3" in csv
    assert "令和8年度（2026年度）,2,0,0,1,0,3" in csv
    assert "花子" not in csv
    xlsx = client.get("/oncall/beds/uses.xlsx?year=2026")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    bad = client.get("/oncall/beds/uses/?year=20x6")
    assert bad.status_code == 400 and "年度は" in bad.content.decode()
    assert client.get("/oncall/beds/uses.pdf").status_code == 404
    client.logout()
    for url in ("/oncall/beds/uses/", "/oncall/beds/uses.csv"):
        assert client.get(url).status_code == 302
