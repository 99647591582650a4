"""第29条 provision records are kept their legal period, then purged by a nightly job."""

from __future__ import annotations

import datetime as dt

import pytest

from renkei.accounts.models import AuditEntry, Membership, Organization
from renkei.care.actions.consent import purge_expired_provisions
from renkei.care.jobs import purge_provision_records
from renkei.care.models import Patient, ProvisionBasis, ProvisionRecord
from renkei.lib.jobs import registry

pytestmark = pytest.mark.django_db


def _record(p: Patient, org: Organization, keep_until: dt.date) -> ProvisionRecord:
    return ProvisionRecord.objects.create(
        patient=p,
        recipient=org,
        items="テスト",
        basis=ProvisionBasis.CONSENT,
        keep_until=keep_until,
        provided_at=dt.datetime(2023, 1, 1, tzinfo=dt.UTC),
    )


def test_only_records_past_their_keep_until_are_purged_and_audited(
    patient: Patient, nurse: Membership, other_org: Organization
) -> None:
    today = dt.date(2026, 12, 7)
    old = _record(patient, other_org, dt.date(2026, 12, 6))
    last_day = _record(patient, other_org, today)
    future = _record(patient, other_org, dt.date(2029, 12, 6))
    # The acceptance of the nurse into the team wrote one that is kept 3 years from now.
    kept_before = ProvisionRecord.objects.exclude(pk__in=[old.pk, last_day.pk, future.pk])
    assert kept_before.count() == 1 and kept_before.get().keep_until > today

    assert purge_expired_provisions(today) == 1
    assert not ProvisionRecord.objects.filter(pk=old.pk).exists()
    assert ProvisionRecord.objects.filter(pk__in=[last_day.pk, future.pk]).count() == 2
    assert kept_before.exists()
    entry = AuditEntry.objects.get(action="care.provisions_purged")
    assert entry.detail["count"] == 1 and entry.detail["kept_from"] == "2026-12-07"
    assert entry.detail["patients"] == [str(patient.code)]

    # A second run the same day deletes nothing and writes no second row.
    assert purge_expired_provisions(today) == 0
    assert AuditEntry.objects.filter(action="care.provisions_purged").count() == 1
    # The next day, the record whose last day it was goes.
    assert purge_expired_provisions(today + dt.timedelta(days=1)) == 1
    assert ProvisionRecord.objects.filter(pk=future.pk).exists()


def test_the_purge_is_a_nightly_job(patient: Patient) -> None:
    registered = registry["renkei.care.jobs.purge_provision_records"]
    assert registered.periodic == "30 3 * * *"
    assert purge_provision_records.func() == 0  # nothing expired today
