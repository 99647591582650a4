from __future__ import annotations

import pytest

from renkei.accounts.models import Membership, OrgKind, Role
from renkei.pdca.models import Survey
from renkei.pdca.testing import make_city_officer, make_prefecture_officer, send_kenou_survey
from renkei.testing import make_member, make_org


@pytest.fixture
def pref(db: None) -> Membership:
    return make_prefecture_officer()


@pytest.fixture
def ebina(db: None) -> Membership:
    return make_city_officer("142158", "海老名市", username="ebina")


@pytest.fixture
def atsugi(db: None) -> Membership:
    return make_city_officer("142123", "厚木市", username="atsugi")


@pytest.fixture
def yokosuka(db: None) -> Membership:
    """A municipality of another 二次医療圏: not among 県央's survey's addressees."""
    return make_city_officer("142018", "横須賀市", username="yokosuka")


@pytest.fixture
def other_pref(db: None) -> Membership:
    org = make_org("岩手県 長寿社会課（テスト）", OrgKind.PREFECTURE, prefecture_code="03")
    return make_member(org, Role.PREFECTURAL_OFFICER, username="iwate")


@pytest.fixture
def hospital(db: None) -> Membership:
    org = make_org("県央見本病院", OrgKind.HOSPITAL, municipality_code="142158")
    return make_member(org, Role.MSW, username="msw")


@pytest.fixture
def survey(pref: Membership, ebina: Membership, atsugi: Membership) -> Survey:
    return send_kenou_survey(pref)
