"""Concurrent backup-bed registrations on PostgreSQL: real threads with their own connections,
released together. One patient, six hospitals at once: exactly one registration stands."""

from __future__ import annotations

import pytest
from django.db import connection

from renkei.accounts.models import Membership
from renkei.care.testing import make_consent, make_patient
from renkei.lib.actions import Conflict
from renkei.oncall import beds
from renkei.oncall.models import BackupBedRegistration
from renkei.oncall.tests.test_beds import make_hospital
from renkei.testing import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrency tests need PostgreSQL (row locks)")


def test_six_concurrent_registrations_leave_one(doctor_a: Membership) -> None:
    patient = make_patient(doctor_a)
    make_consent(patient, by=doctor_a)
    offers = [make_hospital(f"後方病院{i}", f"msw-race-{i}")[2] for i in range(6)]

    def work(i: int) -> str:
        reg = beds.register_patient(
            patient, by=doctor_a, data=beds.RegisterInput(offer=offers[i].code, summary="同時")
        )
        return reg.hospital.name

    results = race(6, work)
    ok = [v for kind, v in results if kind == "ok"]
    errors = [v for kind, v in results if kind == "err"]
    assert len(ok) == 1, results
    assert len(errors) == 5 and all(isinstance(e, Conflict) for e in errors), errors
    assert BackupBedRegistration.objects.filter(patient=patient).count() == 1
    assert BackupBedRegistration.objects.get(patient=patient).hospital.name == ok[0]


def test_the_constraint_alone_refuses_a_second_open_row(doctor_a: Membership) -> None:
    """Without the action's row lock (as a write around it would be), the partial unique
    index still refuses the second open registration."""
    patient = make_patient(doctor_a)
    make_consent(patient, by=doctor_a)
    offers = [make_hospital(f"後方病院{i}", f"msw-raw-{i}")[2] for i in range(2)]
    first = beds.register_patient(
        patient, by=doctor_a, data=beds.RegisterInput(offer=offers[0].code, summary="一つ目")
    )

    def work(i: int) -> int:
        row = BackupBedRegistration.objects.create(
            patient=patient,
            offer=offers[1],
            hospital=offers[1].hospital,
            clinic=doctor_a.organization,
            consent=first.consent,
            registered_by=doctor_a,
            last_exchange_at=first.last_exchange_at,
        )
        return row.pk

    results = race(2, work)
    assert [kind for kind, _ in results] == ["err", "err"], results
    assert BackupBedRegistration.objects.filter(patient=patient).count() == 1
