from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from renkei.accounts.models import Membership, OrgKind, Role
from renkei.desk.models import Desk
from renkei.desk.testing import make_desk, make_desk_member
from renkei.testing import make_member, make_org, sign_in


@pytest.fixture
def desk(db: None) -> Desk:
    """えびな: run by the 医師会, contracted by 海老名市."""
    city = make_org("海老名市", OrgKind.MUNICIPALITY, municipality_code="142158")
    operator = make_org("海老名市医師会", OrgKind.MEDICAL_ASSOCIATION, municipality_code="142158")
    return make_desk("えびな在宅医療相談室", organization=operator, contractors=[city])


@pytest.fixture
def counselor(desk: Desk) -> Membership:
    """A 相談員: may record and confirm."""
    return make_desk_member(desk, Role.COUNSELOR, username="alice")


@pytest.fixture
def clerk(desk: Desk) -> Membership:
    """A 介護職 member of the desk: may record, may not confirm."""
    return make_desk_member(desk, Role.CARE_WORKER, username="bob")


@pytest.fixture
def city_officer(desk: Desk) -> Membership:
    """A member of the contracting municipality: tallies only."""
    return make_member(desk.contractors.get(), Role.MUNICIPAL_OFFICER, username="mayor")


@pytest.fixture
def other_desk(db: None) -> Desk:
    return make_desk(
        "厚木在宅医療相談窓口",
        organization=make_org(
            "厚木医師会", OrgKind.MEDICAL_ASSOCIATION, municipality_code="142123"
        ),
        municipality_codes=["142123", "144011", "144029"],
    )


@pytest.fixture
def charlie(other_desk: Desk) -> Membership:
    """Another municipality's desk counselor: must never see えびな's consultations."""
    return make_desk_member(other_desk, Role.COUNSELOR, username="charlie", is_org_admin=True)


def login(client: Client, m: Membership) -> Client:
    sign_in(client, m.user)
    return client


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))
