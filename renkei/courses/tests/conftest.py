from __future__ import annotations

import pytest
from django.test import Client

from renkei.accounts.models import Membership, Organization, OrgKind, Role
from renkei.courses.models import Course
from renkei.courses.testing import make_course
from renkei.testing import make_member, make_org, sign_in


@pytest.fixture
def prefecture() -> Organization:
    return make_org("神奈川県 医療課", OrgKind.PREFECTURE, prefecture_code="14")


@pytest.fixture
def alice(prefecture: Organization) -> Membership:
    """A prefectural officer: the course's organiser."""
    return make_member(prefecture, Role.PREFECTURAL_OFFICER, username="alice")


@pytest.fixture
def charlie() -> Membership:
    """A member of a municipality that organises none of these courses: sees no applicant."""
    other = make_org("愛川町 高齢介護課", OrgKind.MUNICIPALITY, municipality_code="144011")
    return make_member(other, Role.MUNICIPAL_OFFICER, username="charlie")


@pytest.fixture
def course(alice: Membership) -> Course:
    return make_course(alice)


def client_for(m: Membership) -> Client:
    c = Client()
    sign_in(c, m.user)
    return c
