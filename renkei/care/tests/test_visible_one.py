"""The fetch of one patient (`visible_one`, ADR 0060) is `visible_to` written as one SQL
condition: through every rule of who may open a patient now, both must agree."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from renkei.accounts.models import Membership, Organization, Role
from renkei.care.access import visible_patient
from renkei.care.models import BreakGlassGrant, CareTeamMember, Consent, ConsentScope, Patient
from renkei.care.testing import make_consent
from renkei.lib.actions import NotFound
from renkei.testing import make_member

pytestmark = pytest.mark.django_db


def same(m: Membership | None, patient: Patient, expected: bool) -> None:
    ours = list(Patient.objects.visible_one(m, patient.code))
    rule = list(Patient.objects.visible_to(m).filter(code=patient.code))
    assert (ours, rule) == (([patient], [patient]) if expected else ([], []))
    if ours:  # read with it: whether the reader is on the team now (a grant is not)
        assert m is not None
        team = CareTeamMember.objects.current().filter(patient=patient, membership=m)
        assert ours[0].on_team_now is team.exists()  # type: ignore[attr-defined]


def test_one_patient_is_visible_exactly_when_visible_to_says_so(
    patient: Patient,
    doctor: Membership,
    nurse: Membership,
    other_org: Organization,
    outsider: Membership,
    station: Organization,
) -> None:
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    same(doctor, patient, True)
    same(nurse, patient, True)
    same(outsider, patient, False)
    same(None, patient, False)
    same(make_member(station, Role.MUNICIPAL_OFFICER, username="vis-officer"), patient, False)

    # The nurse's organisation does not own the patient: she reads through the consent.
    Consent.objects.filter(patient=patient).update(revoked_at=timezone.now())
    same(nurse, patient, False)
    same(doctor, patient, True)  # the owner's member needs no consent
    make_consent(patient, by=doctor, scope=ConsentScope.ORGANIZATIONS, organizations=[other_org])
    make_consent(patient, by=doctor, scope=ConsentScope.PEOPLE, people=[outsider.user])
    same(nurse, patient, False)
    people = make_consent(patient, by=doctor, scope=ConsentScope.PEOPLE, people=[nurse.user])
    same(nurse, patient, True)
    Consent.objects.filter(pk=people.pk).update(revoked_at=timezone.now())
    orgs = make_consent(
        patient, by=doctor, scope=ConsentScope.ORGANIZATIONS, organizations=[nurse.organization]
    )
    same(nurse, patient, True)
    Consent.objects.filter(pk=orgs.pk).update(
        valid_from=yesterday - dt.timedelta(days=5), valid_until=yesterday
    )
    same(nurse, patient, False)
    Consent.objects.filter(pk=orgs.pk).update(valid_from=timezone.localdate() + dt.timedelta(1))
    same(nurse, patient, False)

    # A break-glass grant opens it while it lasts, to someone off the team too.
    grant = BreakGlassGrant.objects.create(
        patient=patient,
        membership=outsider,
        reason="救急搬送の連絡",
        expires_at=timezone.now() + dt.timedelta(hours=4),
    )
    same(outsider, patient, True)
    assert Patient.objects.visible_one(outsider, patient.code).get().on_team_now is False  # type: ignore[attr-defined]
    same(nurse, patient, False)  # another member's grant is not hers
    BreakGlassGrant.objects.filter(pk=grant.pk).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    same(outsider, patient, False)

    # Under a consent for all, the team row itself decides.
    make_consent(patient, by=doctor)
    same(nurse, patient, True)
    same(outsider, patient, False)  # consented, but not on the team
    row = CareTeamMember.objects.filter(patient=patient, membership=nurse)
    row.update(end_date=yesterday)
    same(nurse, patient, False)
    row.update(end_date=None, start_date=timezone.localdate() + dt.timedelta(days=1))
    same(nurse, patient, False)
    row.update(start_date=yesterday, status="invited")
    same(nurse, patient, False)
    row.update(status="active")
    same(nurse, patient, True)
    assert visible_patient(nurse, patient.code).owner == doctor.organization
    with pytest.raises(NotFound):
        visible_patient(outsider, patient.code)
