"""The menu's unread badge is written in SQL (ADR 0060): it must count exactly what
`unread_posts(m).count()` counts, through every rule of who may open a patient now."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from renkei.accounts import menu
from renkei.accounts.models import Membership, Organization, Role
from renkei.care.models import (
    BreakGlassGrant,
    CareTeamMember,
    Consent,
    ConsentScope,
    Patient,
    PostRead,
)
from renkei.care.models.timeline import unread_badge_sql, unread_posts
from renkei.care.testing import make_consent, make_post
from renkei.testing import make_member

pytestmark = pytest.mark.django_db


def badge(m: Membership) -> int:
    """The badge as the menu counts it (inside its one statement)."""
    found = unread_badge_sql(m)
    if isinstance(found, int):
        return found
    item: dict[str, Any] = {}
    menu.count_together([(item, found)])
    return int(item["badge"])


def same(m: Membership, expected: int) -> None:
    assert (badge(m), unread_posts(m).count()) == (expected, expected)


def test_the_sql_badge_counts_what_the_queryset_counts(
    patient: Patient,
    doctor: Membership,
    nurse: Membership,
    other_org: Organization,
    outsider: Membership,
) -> None:
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    first = make_post(patient, nurse, body="一つ目")
    make_post(patient, nurse, body="二つ目")
    make_post(patient, doctor, body="医師から")
    same(doctor, 2)  # the nurse's two; the doctor's own post is never unread to him
    same(nurse, 1)
    same(outsider, 0)
    PostRead.objects.create(post=first, user=doctor.user)
    same(doctor, 1)

    # The nurse's organisation does not own the patient: she reads through the consent.
    Consent.objects.filter(patient=patient).update(revoked_at=timezone.now())
    same(nurse, 0)
    same(doctor, 1)  # the owner's member needs no consent
    make_consent(patient, by=doctor, scope=ConsentScope.ORGANIZATIONS, organizations=[other_org])
    same(nurse, 0)
    make_consent(patient, by=doctor, scope=ConsentScope.PEOPLE, people=[outsider.user])
    same(nurse, 0)
    people = make_consent(patient, by=doctor, scope=ConsentScope.PEOPLE, people=[nurse.user])
    same(nurse, 1)
    Consent.objects.filter(pk=people.pk).update(revoked_at=timezone.now())
    orgs = make_consent(
        patient, by=doctor, scope=ConsentScope.ORGANIZATIONS, organizations=[nurse.organization]
    )
    same(nurse, 1)
    Consent.objects.filter(pk=orgs.pk).update(
        valid_from=yesterday - dt.timedelta(days=5), valid_until=yesterday
    )
    same(nurse, 0)
    Consent.objects.filter(pk=orgs.pk).update(valid_from=timezone.localdate() + dt.timedelta(1))
    same(nurse, 0)

    # A break-glass grant opens it while it lasts (to a member still on the team).
    grant = BreakGlassGrant.objects.create(
        patient=patient,
        membership=nurse,
        reason="救急搬送の連絡",
        expires_at=timezone.now() + dt.timedelta(hours=4),
    )
    same(nurse, 1)
    BreakGlassGrant.objects.filter(pk=grant.pk).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    same(nurse, 0)

    # Back under a consent for all: the team row itself decides.
    make_consent(patient, by=doctor)
    same(nurse, 1)
    row = CareTeamMember.objects.filter(patient=patient, membership=nurse)
    row.update(end_date=yesterday)
    same(nurse, 0)
    row.update(end_date=None, start_date=timezone.localdate() + dt.timedelta(days=1))
    same(nurse, 0)
    row.update(start_date=yesterday, status="invited")
    same(nurse, 0)
    row.update(status="active")
    same(nurse, 1)


def test_a_role_outside_care_has_no_badge(station: Organization) -> None:
    officer = make_member(station, Role.MUNICIPAL_OFFICER, username="badge-officer")
    assert unread_badge_sql(officer) == 0
    assert unread_posts(officer).count() == 0
