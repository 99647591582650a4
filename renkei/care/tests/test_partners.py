"""The clinic's published partner list (在宅医療情報連携加算): opt-in, public, no patient data."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from renkei.accounts.models import Membership, Organization, OrgKind, Role
from renkei.care.models import Patient, partner_organizations
from renkei.care.testing import add_to_team
from renkei.care.tests.conftest import verified
from renkei.testing import make_member, make_org

pytestmark = pytest.mark.django_db

KINDS = [
    ("綾瀬訪問看護ステーション", OrgKind.VISITING_NURSE),
    ("海老名中央薬局", OrgKind.PHARMACY),
    ("えびな居宅介護支援事業所", OrgKind.CARE_PROVIDER),
    ("座間ヘルパーステーション", OrgKind.CARE_PROVIDER),
]


@pytest.fixture
def five_partners(patient: Patient, doctor: Membership, clinic: Organization) -> list[str]:
    names = ["海老名訪問看護ステーション"]
    for i, (name, kind) in enumerate(KINDS):
        org = make_org(name, kind, municipality_code="142158")
        m = make_member(org, Role.CARE_MANAGER, username=f"p{i}", display_name=f"連携先{i}")
        add_to_team(patient, m, by=doctor)
        names.append(name)
    return names


def test_partner_list_is_opt_in_public_and_names_no_patient(
    five_partners: list[str],
    patient: Patient,
    doctor: Membership,
    clinic: Organization,
    outsider: Membership,
) -> None:
    assert sorted(o.name for o in partner_organizations(clinic)) == sorted(five_partners)
    public = reverse("care:partners_public", args=[clinic.code])
    assert Client().get(public).status_code == 404  # not published yet
    admin = make_member(
        clinic, Role.DOCTOR, username="dr_admin", display_name="院長", is_org_admin=True
    )
    # A member who is not the administrator sees the preview but cannot publish.
    page = verified(Client(), doctor).get(reverse("care:partners"))
    assert page.status_code == 200 and "5</strong>組織" in page.content.decode()
    verified(Client(), doctor).post(reverse("care:partners"), {"published": "1"})
    assert Client().get(public).status_code == 404
    verified(Client(), admin).post(reverse("care:partners"), {"published": "1"})
    shown = Client().get(public)
    assert shown.status_code == 200
    text = shown.content.decode()
    assert all(name in text for name in five_partners)
    assert patient.name not in text and "厚木中央病院" not in text
    # Withdrawn: gone again.
    verified(Client(), admin).post(reverse("care:partners"), {"published": "0"})
    assert Client().get(public).status_code == 404


def test_partner_screen_refuses_anonymous() -> None:
    response = Client().get(reverse("care:partners"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
