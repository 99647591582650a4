from __future__ import annotations

import pytest
from django.test import Client

from renkei.accounts.models import Membership, OrgKind, Role
from renkei.directory.models import Facility, FacilityKind, VacancyStatus
from renkei.referrals.models import PlacementCase
from renkei.referrals.testing import make_case, make_hospital, make_receiver
from renkei.testing import make_member, make_org, sign_in

# 藤沢市役所 and points around it.
FUJISAWA = (35.3389, 139.4911)


@pytest.fixture
def msw(db: None) -> Membership:
    """Alice, MSW of the hospital that registers the case."""
    return make_hospital("湘南さくら総合病院", username="alice")


@pytest.fixture
def colleague(msw: Membership) -> Membership:
    """Bob, 退院支援看護師 of the same hospital: may pick the case up."""
    return make_member(msw.organization, Role.DISCHARGE_NURSE, username="bob")


@pytest.fixture
def other_msw(db: None) -> Membership:
    """Charlie, MSW of another hospital: must never see Alice's cases."""
    return make_hospital("横浜みなと病院", municipality_code="141011", username="charlie")


@pytest.fixture
def tokuyo(db: None) -> tuple[Facility, Membership]:
    return make_receiver(
        "特養なぎさ苑",
        FacilityKind.TOKUYO,
        username="nagisa",
        lat=35.3312,
        lng=139.4801,
        capability_codes=["suction", "tube-feeding"],
        vacancy=VacancyStatus.AVAILABLE,
        confirmed_days_ago=1,
        accepts_dementia=True,
    )


@pytest.fixture
def roken(db: None) -> tuple[Facility, Membership]:
    return make_receiver(
        "老健ひかりの丘",
        FacilityKind.ROKEN,
        municipality_code="142077",
        username="hikari",
        lat=35.3331,
        lng=139.4040,
        capability_codes=["suction"],
        vacancy=VacancyStatus.FEW,
        confirmed_days_ago=2,
    )


@pytest.fixture
def third(db: None) -> tuple[Facility, Membership]:
    return make_receiver(
        "特養みどり荘",
        FacilityKind.TOKUYO,
        username="midori",
        lat=35.35,
        lng=139.50,
        capability_codes=["suction"],
    )


@pytest.fixture
def unsent(db: None) -> tuple[Facility, Membership]:
    """A facility in the network the case was never sent to."""
    return make_receiver(
        "特養あおば", FacilityKind.TOKUYO, username="aoba", capability_codes=["suction"]
    )


@pytest.fixture
def prefecture_officer(db: None) -> Membership:
    org = make_org("神奈川県 地域包括ケア推進課", OrgKind.PREFECTURE, prefecture_code="14")
    return make_member(org, Role.PREFECTURAL_OFFICER, username="kanagawa")


@pytest.fixture
def case(msw: Membership) -> PlacementCase:
    return make_case(
        msw,
        capability_codes=["suction"],
        destinations=[FacilityKind.TOKUYO, FacilityKind.ROKEN],
    )


def login(client: Client, m: Membership) -> Client:
    sign_in(client, m.user)
    return client
