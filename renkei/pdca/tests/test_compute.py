"""Computed indicators match a hand count of the records in the test data (issue 15 §5)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from renkei.accounts.models import OrgKind, Role
from renkei.desk.testing import make_consultation, make_desk, make_desk_member
from renkei.directory.models import FacilityKind
from renkei.events.models import Applicant, EventKind, Occupation
from renkei.events.testing import make_application as apply_event
from renkei.events.testing import make_event
from renkei.mentoring import testing as mt
from renkei.pdca.catalogue import POPULATION_65, ensure_indicators
from renkei.pdca.compute import compute
from renkei.pdca.models import IndicatorValue
from renkei.referrals.models import CaseStatus, PlacementCase
from renkei.referrals.testing import make_case, make_hospital, make_receiver, send
from renkei.testing import make_facility, make_member, make_org, municipality

JST = ZoneInfo("Asia/Tokyo")
EBINA, ATSUGI = "142158", "142123"


def at(y: int, m: int, d: int, h: int = 10, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=JST)


def value(code: str, muni: str, fy: int) -> IndicatorValue:
    return IndicatorValue.objects.get(indicator__code=code, municipality__code=muni, fiscal_year=fy)


@pytest.fixture
def records(db: None) -> None:
    # Consultations at a desk run in 海老名: the fiscal year turns at midnight Japan time.
    desk = make_desk()
    counselor = make_desk_member(desk)
    for when, scene, subject in [
        (at(2025, 3, 31, 23, 0), "daily", None),  # FY2024: outside the years computed
        (at(2025, 4, 1, 0, 30), "discharge", None),  # 2025-03-31 15:30 UTC, FY2025
        (at(2025, 10, 10), "daily", None),
        (at(2026, 3, 31, 23, 30), "daily", None),
        (at(2026, 4, 1, 9, 0), "emergency", None),  # FY2026
        (at(2025, 6, 1), "end_of_life", ATSUGI),  # a resident of 厚木 counts for 厚木
    ]:
        make_consultation(
            desk, counselor, received_at=when, scene=scene, subject_municipality_code=subject
        )

    # Events of 海老名: one training with three applicants (two attended), a public lecture,
    # and next year's training.
    city = make_org("海老名市 地域包括ケア推進課", OrgKind.MUNICIPALITY, municipality_code=EBINA)
    training = make_event(city, starts_at=at(2025, 7, 1, 18), apply_until=None)
    app = apply_event(training, 3, now=at(2025, 6, 1), notify=False)
    applicants = list(Applicant.objects.filter(application=app).order_by("pk"))
    for a, occupation, attended in zip(
        applicants,
        [Occupation.NURSE, Occupation.CARE_MANAGER, Occupation.NURSE],
        [True, True, False],
        strict=True,
    ):
        Applicant.objects.filter(pk=a.pk).update(occupation=occupation, attended=attended)
    make_event(city, kind=EventKind.PUBLIC_LECTURE, starts_at=at(2025, 9, 1, 14), apply_until=None)
    symposium = make_event(
        city, kind=EventKind.SYMPOSIUM, starts_at=at(2025, 11, 1, 14), apply_until=None
    )
    public_app = apply_event(symposium, 2, now=at(2025, 6, 1), notify=False)
    Applicant.objects.filter(application=public_app).update(attended=True)
    make_event(city, starts_at=at(2026, 5, 1, 18), apply_until=None)

    # Placements of residents of 海老名: 10 days with three requests, 4 days with one; a
    # withdrawn case does not count.
    msw = make_hospital()
    receivers = [make_receiver(f"受入施設{i}", municipality_code=EBINA)[0] for i in range(3)]
    for registered, decided, n in [
        (at(2025, 5, 1), at(2025, 5, 11), 3),
        (at(2025, 6, 1), at(2025, 6, 5), 1),
    ]:
        case = make_case(msw, residence_code=EBINA)
        send(case, msw, receivers[:n])
        PlacementCase.objects.filter(pk=case.pk).update(
            status=CaseStatus.DECIDED,
            registered_at=registered,
            decided_at=decided,
            placed_facility=receivers[0],
        )
    withdrawn = make_case(msw, residence_code=EBINA)
    PlacementCase.objects.filter(pk=withdrawn.pk).update(
        status=CaseStatus.WITHDRAWN, registered_at=at(2025, 7, 1), withdrawn_at=at(2025, 7, 2)
    )

    # 同行研修 of 海老名's programme: two matches, one reported.
    program = mt.make_program(city, fiscal_year=2025)
    office = make_member(city, Role.MUNICIPAL_OFFICER, username="office")
    mentor = mt.make_mentor(city, area_codes=(EBINA,))
    today = dt.date(2025, 6, 1)
    for i, reported in enumerate([True, False]):
        application = mt.make_application(
            program,
            name=f"受講 {i}郎（仮名）",
            kana=f"じゅこう {'いち' if i == 0 else 'じ'}ろう",
            email=f"trainee{i}@example.jp",
            area_codes=(EBINA,),
            today=today,
        )
        match = mt.decide(application, mentor, by=office, today=today)
        if reported:
            mt.schedule(match, dt.date(2025, 6, 20), by=office)
            mt.report(match, "mentor", "同行訪問を実施しました。", today=dt.date(2025, 7, 1))

    # The directory now: two clinics and a 特養 in 海老名, a closed clinic not counted.
    make_facility("えびな見本クリニック", FacilityKind.CLINIC, municipality_code=EBINA)
    make_facility("えびな見本診療所", FacilityKind.CLINIC, municipality_code=EBINA)
    make_facility("えびな見本ホーム", FacilityKind.TOKUYO, municipality_code=EBINA)
    make_facility("閉院した見本医院", FacilityKind.CLINIC, municipality_code=EBINA, is_active=False)
    pop = ensure_indicators()[POPULATION_65]
    IndicatorValue.objects.create(
        indicator=pop,
        municipality=municipality(EBINA),
        fiscal_year=2025,
        numerator=40_000,
        value=40_000,
    )


@pytest.mark.django_db
def test_values_match_a_hand_count(records: None) -> None:
    """Each computed indicator for 海老名 is what counting the records above by hand gives."""
    current = 2026
    written = compute([2025, current])
    assert written > 0
    expected = {
        ("desk.consultations", 2025): 3,
        ("desk.consultations.discharge", 2025): 1,
        ("desk.consultations.daily", 2025): 2,
        ("desk.consultations.emergency", 2025): 0,
        ("desk.consultations", 2026): 1,
        ("desk.consultations.emergency", 2026): 1,
        ("events.trainings", 2025): 1,
        ("events.public", 2025): 2,
        ("events.trainings", 2026): 1,
        ("events.attended", 2025): 2,
        ("events.attended.nurse", 2025): 1,
        ("events.attended.care_manager", 2025): 1,
        ("referrals.placements", 2025): 2,
        ("referrals.days", 2025): 7.0,  # (10 + 4) / 2
        ("referrals.requests_per_placement", 2025): 2.0,  # (3 + 1) / 2
        ("mentoring.done", 2025): 1,
        # 2 clinics per 40,000 people aged 65+ → 0.5 per 10,000 (last year's population).
        ("directory.clinic.per65", current): 0.5,
        # The 特養 and the three receivers of the placements: 4 per 40,000.
        ("directory.residential.per65", current): 1.0,
    }
    got = {key: value(key[0], EBINA, key[1]).value for key in expected}
    assert got == {k: float(v) for k, v in expected.items()}
    assert value("desk.consultations.end_of_life", ATSUGI, 2025).value == 1.0
    assert value("desk.consultations", ATSUGI, 2025).value == 1.0
    days = value("referrals.days", EBINA, 2025)
    assert (days.numerator, days.denominator) == (14.0, 2.0)


@pytest.mark.django_db
def test_one_municipality_is_recomputed_alone(records: None) -> None:
    """The incremental run rewrites only its municipality's values."""
    compute([2025])
    atsugi = value("desk.consultations", ATSUGI, 2025)
    desk_member = make_desk_member(make_desk("二つ目の窓口"), username="second")
    make_consultation(desk_member.organization.desks.get(), desk_member, received_at=at(2025, 8, 1))
    make_consultation(
        desk_member.organization.desks.get(),
        desk_member,
        received_at=at(2025, 8, 2),
        subject_municipality_code=ATSUGI,
    )
    compute([2025], municipality_id=municipality(EBINA).pk)
    assert value("desk.consultations", EBINA, 2025).value == 4.0
    untouched = value("desk.consultations", ATSUGI, 2025)
    assert (untouched.pk, untouched.value) == (atsugi.pk, 1.0)
    compute([2025], municipality_id=municipality(ATSUGI).pk)
    assert value("desk.consultations", ATSUGI, 2025).value == 2.0


@pytest.mark.django_db
def test_a_past_years_facility_snapshot_is_kept(records: None) -> None:
    """Recomputing a closed year leaves the directory snapshot taken while it was current."""
    compute([2025, 2026])
    assert not IndicatorValue.objects.filter(
        indicator__code="directory.clinic.per65", fiscal_year=2025
    ).exists()
    snap = value("directory.clinic.per65", EBINA, 2026)
    compute([2025])
    assert value("directory.clinic.per65", EBINA, 2026).pk == snap.pk
    assert timezone.localdate().year >= 2026


@pytest.mark.django_db
def test_rota_gaps_are_the_share_of_published_shifts_without_anyone() -> None:
    """厚木's 医師会 publishes November 2026; two shifts left empty are counted against all."""
    from renkei.oncall.models import Shift
    from renkei.oncall.testing import make_clinic, make_organiser, make_rota, publish

    organiser = make_organiser()
    rota = make_rota(organiser, [make_clinic(f"見本クリニック{c}") for c in "AB"])
    publish(rota, organiser, "2026-11")
    shifts = list(Shift.objects.filter(rota=rota).order_by("starts_at"))
    Shift.objects.filter(pk__in=[s.pk for s in shifts[:2]]).update(member=None)
    compute([2026])
    gaps = value("oncall.gaps", ATSUGI, 2026)
    assert (gaps.numerator, gaps.denominator) == (2.0, float(len(shifts)))
    assert gaps.value == round(200 / len(shifts), 2)


@pytest.mark.django_db
def test_postgresql_rewrites_only_the_figures_that_changed(records: None) -> None:
    """The upsert (ADR 0049): an unchanged value keeps its row and time, a changed one is
    rewritten in place."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the SQLite path deletes and inserts the scope's values")
    compute([2025])
    long_ago = at(2025, 4, 2)
    IndicatorValue.objects.filter(fiscal_year=2025).update(computed_at=long_ago)
    before = value("desk.consultations", EBINA, 2025)
    desk_member = make_desk_member(make_desk("三つ目の窓口"), username="third")
    make_consultation(desk_member.organization.desks.get(), desk_member, received_at=at(2025, 8, 1))
    compute([2025])
    changed = value("desk.consultations", EBINA, 2025)
    assert (changed.pk, changed.value) == (before.pk, 4.0) and changed.computed_at > long_ago
    same = value("events.trainings", EBINA, 2025)
    assert (same.value, same.computed_at) == (1.0, long_ago)
