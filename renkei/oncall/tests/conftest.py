from __future__ import annotations

import pytest

from renkei.accounts.models import Membership, Organization, Role
from renkei.oncall.models import Rota
from renkei.oncall.testing import make_clinic, make_organiser, make_rota
from renkei.testing import make_member


@pytest.fixture
def organiser(db: None) -> Membership:
    return make_organiser(username="ishikai")


@pytest.fixture
def clinics(db: None) -> list[Organization]:
    return [make_clinic(f"テスト在宅クリニック{c}") for c in "ABCD"]


@pytest.fixture
def rota(organiser: Membership, clinics: list[Organization]) -> Rota:
    return make_rota(organiser, clinics, swap_freely=True)


@pytest.fixture
def doctor_a(clinics: list[Organization]) -> Membership:
    return make_member(clinics[0], Role.DOCTOR, username="dr-a")


@pytest.fixture
def doctor_b(clinics: list[Organization]) -> Membership:
    return make_member(clinics[1], Role.DOCTOR, username="dr-b")


@pytest.fixture
def outsider(db: None) -> Membership:
    """A clinic in another area that takes part in no rota: must see none of them."""
    return make_member(make_clinic("よそ在宅診療所", "141003"), Role.DOCTOR, username="outsider")
