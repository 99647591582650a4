from __future__ import annotations

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from renkei.accounts.models import Membership, Organization, OrgKind, Role
from renkei.care.models import Patient
from renkei.care.testing import add_to_team, make_consent, make_patient
from renkei.testing import make_member, make_org


def verified(client: Client, m: Membership) -> Client:
    """Signed in with password and a confirmed TOTP device, as after the real 2FA step."""
    device, _ = TOTPDevice.objects.get_or_create(
        user=m.user, name="test", defaults={"confirmed": True}
    )
    client.force_login(m.user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def clinic(db: None) -> Organization:
    return make_org("えびな在宅クリニック", OrgKind.CLINIC, municipality_code="142158")


@pytest.fixture
def station(db: None) -> Organization:
    return make_org(
        "海老名訪問看護ステーション", OrgKind.VISITING_NURSE, municipality_code="142158"
    )


@pytest.fixture
def other_org(db: None) -> Organization:
    return make_org("厚木中央病院", OrgKind.HOSPITAL, municipality_code="142123")


@pytest.fixture
def doctor(clinic: Organization) -> Membership:
    return make_member(clinic, Role.DOCTOR, username="dr_sato", display_name="佐藤医師")


@pytest.fixture
def nurse(station: Organization) -> Membership:
    return make_member(
        station, Role.VISITING_NURSE, username="ns_tanaka", display_name="田中看護師"
    )


@pytest.fixture
def station_admin(station: Organization) -> Membership:
    return make_member(
        station, Role.VISITING_NURSE, username="ns_admin", display_name="所長", is_org_admin=True
    )


@pytest.fixture
def outsider(other_org: Organization) -> Membership:
    """A doctor and administrator of another organisation: never sees the patient."""
    return make_member(
        other_org, Role.DOCTOR, username="dr_out", display_name="外部医師", is_org_admin=True
    )


@pytest.fixture
def patient(doctor: Membership, nurse: Membership) -> Patient:
    """Registered by the clinic, consent 一括, the station's nurse on the team."""
    p = make_patient(doctor)
    make_consent(p, by=doctor)
    add_to_team(p, nurse, by=doctor)
    return p
