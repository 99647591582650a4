"""Matching's facilities as tuples (referrals.facility_rows, ADR 0075) hold what the Facility
instances of `Facility.objects.raw` held, value for value, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from renkei.accounts.models import Membership
from renkei.directory.models import Facility, FacilityKind, SexAccepted, VacancyStatus
from renkei.referrals.facility_rows import COLUMNS, OWN_COLUMNS, FacilityRow
from renkei.referrals.matching import Criteria, _served_ids, candidate_rows, candidate_sql
from renkei.referrals.testing import make_case, make_receiver
from renkei.referrals.tests.test_matching import place

pytestmark = pytest.mark.django_db


def test_the_rows_hold_what_the_raw_instances_held(msw: Membership) -> None:
    """Every column of every row equals the attribute of the instance raw() built from the same
    statement: UUIDs, datetimes, booleans true/false/unknown, numbers, empty and set phones."""
    place("全部あり", capability_codes=["suction"], phone="0466-22-0000", cost_min=120000)
    place("不明だらけ", accepts_dementia=None, vacancy=VacancyStatus.UNKNOWN)
    place(
        "拒否あり",
        FacilityKind.ROKEN,
        capability_codes=["suction"],
        accepts_dementia=False,
        accepts_infection=True,
        sex_accepted=SexAccepted.FEMALE,
        care_level_min=2,
        care_level_max=4,
    )
    place("訪看", FacilityKind.VISITING_NURSE, km=3, service_radius_km=7.5)
    make_receiver("受入れ特養", FacilityKind.TOKUYO, username="r1", capability_codes=["suction"])
    Facility.objects.filter(name="全部あり").update(
        vacancy_confirmed_at=timezone.now() - dt.timedelta(days=3, hours=5),
        is_backup_hospital=True,
        is_home_care_support=True,
    )
    case = make_case(
        msw,
        capability_codes=["suction"],
        destinations=[FacilityKind.TOKUYO, FacilityKind.ROKEN, "home"],
        budget_monthly=200000,
    )
    c = Criteria.of(case)
    served = _served_ids(c)
    rows = candidate_rows(c, served)
    q = candidate_sql(c, served, 120)
    instances = list(Facility.objects.raw(q.text, q.params))
    assert len(rows) == len(instances) == 5
    for row, f in zip(rows, instances, strict=True):
        assert isinstance(row, FacilityRow)
        for name in COLUMNS + OWN_COLUMNS:
            value, expected = getattr(row, name), getattr(f, name)
            assert value == expected and type(value) is type(expected), (f.name, name, value)
        assert row.pk == f.pk
        now = timezone.now()
        assert row.vacancy_age_days(now) == f.vacancy_age_days(now)
    assert {r.accepts_dementia for r in rows} == {True, False, None}
    assert any(r.vacancy_confirmed_at and r.vacancy_age_days() == 3 for r in rows)


def test_the_labels_are_the_model_s() -> None:
    """Each kind and vacancy status, and a value the choices do not know, shows as
    get_FOO_display() shows it."""
    empty = FacilityRow._make([None] * len(FacilityRow._fields))
    for kind in [*FacilityKind.values, "<unknown>"]:
        assert (
            empty._replace(kind=kind).get_kind_display() == Facility(kind=kind).get_kind_display()
        )
    for status in [*VacancyStatus.values, "<unknown>"]:
        assert (
            empty._replace(vacancy_status=status).get_vacancy_status_display()
            == Facility(vacancy_status=status).get_vacancy_status_display()
        )
