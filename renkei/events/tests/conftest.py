from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from renkei.accounts.models import Membership, Organization, OrgKind, Role
from renkei.events.models import Event
from renkei.events.testing import make_event
from renkei.testing import make_member, make_org, sign_in


@pytest.fixture
def organiser() -> Organization:
    return make_org("えびな在宅医療相談室", OrgKind.COORDINATION_CENTER, municipality_code="142158")


@pytest.fixture
def alice(organiser: Organization) -> Membership:
    """A member of the organising organisation."""
    return make_member(organiser, Role.COUNSELOR, username="alice")


@pytest.fixture
def charlie() -> Membership:
    """A member of another municipality: must see none of the organiser's applicants."""
    other = make_org("愛川町 高齢介護課", OrgKind.MUNICIPALITY, municipality_code="144011")
    return make_member(other, Role.MUNICIPAL_OFFICER, username="charlie")


@pytest.fixture
def event(organiser: Organization) -> Event:
    return make_event(
        organiser,
        title="在宅・施設での急変時対応",
        capacity=30,
        fax="046-000-8651",
        lecturers=[("相模 一郎", "さがみ台中央病院", "院長", "心不全の急変時対応")],
    )


@pytest.fixture
def alice_client(alice: Membership) -> Client:
    c = Client()
    sign_in(c, alice.user)
    return c


@pytest.fixture
def charlie_client(charlie: Membership) -> Client:
    c = Client()
    sign_in(c, charlie.user)
    return c


def local(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    return dt.datetime(
        year, month, day, hour, minute, second, tzinfo=timezone.get_current_timezone()
    )
