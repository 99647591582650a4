from __future__ import annotations

import pytest
from django.test import Client

from renkei.accounts.models import Membership, OrgKind, Role
from renkei.mentoring.models import TrainingProgram
from renkei.mentoring.testing import make_office_member, make_program
from renkei.testing import make_member, make_org, sign_in


@pytest.fixture
def program(db: None) -> TrainingProgram:
    """横須賀市 FY2025 (令和7年度), two trainings planned, 20,000円 per training."""
    return make_program(fiscal_year=2025, planned_count=2, honorarium_amount=20_000)


@pytest.fixture
def office(program: TrainingProgram) -> Membership:
    return make_office_member(program, "office")


@pytest.fixture
def charlie(db: None) -> Membership:
    """鎌倉市's office, running its own programme: must never see 横須賀's."""
    kamakura = make_org("鎌倉市 介護保険課", OrgKind.MUNICIPALITY, municipality_code="142042")
    make_program(kamakura, fiscal_year=2025)
    return make_member(kamakura, Role.MUNICIPAL_OFFICER, username="charlie")


def login(client: Client, m: Membership) -> Client:
    sign_in(client, m.user)
    return client
