"""The candidates page's case lookup as one written statement (access.own_case_to_match,
ADR 0075) reads what own_case reads and keeps its rule: the case of the member's own hospital,
404 for everyone else."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from renkei.accounts.models import AuditEntry, Membership
from renkei.directory.models import Capability, Facility, FacilityKind
from renkei.lib.actions import NotFound
from renkei.referrals import access
from renkei.referrals.matching import Criteria, find_candidates
from renkei.referrals.models import PlacementCase
from renkei.referrals.testing import make_case, send
from renkei.referrals.tests.conftest import login
from renkei.regions.models import Municipality

pytestmark = pytest.mark.django_db


def fields(obj: Any) -> dict[str, Any]:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def assert_same_as_own_case(m: Membership, case: PlacementCase) -> access.CaseToMatch:
    found = access.own_case_to_match(m, case.code)
    orm = access.own_case(m, case.code)
    assert fields(found.case) == fields(orm)
    assert fields(found.case.residence) == fields(orm.residence)
    if orm.residence.parent_id is not None:
        assert fields(found.case.residence.parent) == fields(orm.residence.parent)
    assert found.case.residence.point() == orm.residence.point()
    assert found.capabilities == list(orm.required_capabilities.all())
    assert [c.name for c in found.capabilities] == [c.name for c in orm.required_capabilities.all()]
    assert found.criteria() == Criteria.of(orm)
    return found


def test_a_ward_resident_with_procedures_and_desired_cities(msw: Membership) -> None:
    """A ward without its own point (the city's stands in), procedures chosen out of their
    order, a designated city and a town desired: the same case, residence, city, procedures
    in the vocabulary's order, desired ids and the city's wards as own_case and Criteria.of."""
    Municipality.objects.filter(code="141011").update(lat=None, lng=None)
    case = make_case(
        msw,
        residence_code="141011",
        capability_codes=["tube-feeding", "oxygen", "suction"],
        desired_codes=["141003", "142051"],
        infections=["mrsa"],
        budget_monthly=150000,
    )
    found = assert_same_as_own_case(msw, case)
    yokohama = Municipality.objects.get(code="141003")
    wards = set(Municipality.objects.filter(parent=yokohama).values_list("pk", flat=True))
    assert len(wards) >= 18 and set(found.desired_ward_ids) == wards
    assert found.case.residence.parent_id == yokohama.pk
    assert found.case.residence.point() == yokohama.point()
    assert len(found.capabilities) == 3


def test_a_case_with_nothing_optional(msw: Membership) -> None:
    """No procedures, no desired municipality, care level 申請中: empty lists, same criteria."""
    case = make_case(msw, care_level=None)
    found = assert_same_as_own_case(msw, case)
    assert found.capabilities == [] and found.desired_ids == [] == found.desired_ward_ids


def test_the_candidates_are_the_same_as_through_own_case(
    msw: Membership, tokuyo: tuple[Facility, Membership], roken: tuple[Facility, Membership]
) -> None:
    """Matching over either lookup finds the same candidates with the same reasons."""
    case = make_case(
        msw,
        capability_codes=["suction"],
        desired_codes=["142077"],
        destinations=[FacilityKind.TOKUYO, FacilityKind.ROKEN],
    )
    send(case, msw, [roken[0]])
    found = access.own_case_to_match(msw, case.code)
    ours = find_candidates(found.case, criteria=found.criteria())
    theirs = find_candidates(access.own_case(msw, case.code))
    assert ours == theirs and len(ours.all()) == 2


def test_a_new_capability_is_read_without_waiting_for_the_vocabulary(msw: Membership) -> None:
    """A procedure added after the vocabulary was loaded is found at once, not 60 s later."""
    make_case(msw, capability_codes=["suction"])
    access.own_case_to_match(msw, PlacementCase.objects.get().code)  # loads the vocabulary
    # bulk_create: save() would drop this process's vocabulary, as another process's does not.
    Capability.objects.bulk_create([Capability(code="new-item", name="新しい処置", bit=60)])
    case = make_case(msw, capability_codes=["new-item"])
    assert [c.name for c in access.own_case_to_match(msw, case.code).capabilities] == ["新しい処置"]


def test_everyone_but_the_hospital_gets_404(
    msw: Membership,
    colleague: Membership,
    other_msw: Membership,
    tokuyo: tuple[Facility, Membership],
) -> None:
    """Another hospital, a facility the case was sent to, no membership and an unknown code
    are all refused with own_case's message; a colleague of the same hospital is not."""
    case = make_case(msw, capability_codes=["suction"])
    send(case, msw, [tokuyo[0]])
    for m in (other_msw, tokuyo[1], None):
        with pytest.raises(NotFound, match=access.CASE_NOT_FOUND):
            access.own_case_to_match(m, case.code)
    with pytest.raises(NotFound, match=access.CASE_NOT_FOUND):
        access.own_case_to_match(msw, uuid.uuid4())
    assert access.own_case_to_match(colleague, case.code).case.pk == case.pk


def test_both_doors_refuse_outsiders_and_anonymous(
    client: Client, msw: Membership, other_msw: Membership
) -> None:
    """The page and the API: 404 for another hospital's MSW, sign-in and 401 for no one."""
    case = make_case(msw, capability_codes=["suction"])
    page = reverse("referrals:candidates", args=[case.code])
    api = f"/api/v1/referrals/cases/{case.code}/candidates"
    response = client.get(page)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert client.get(api).status_code == 401
    login(client, other_msw)
    assert client.get(page).status_code == 404
    assert client.get(api).status_code == 404
    login(client, msw)
    assert client.get(page).status_code == 200
    assert client.get(api).status_code == 200


def test_an_outsiders_404_is_audited_on_both_doors(
    client: Client, msw: Membership, other_msw: Membership
) -> None:
    """The one-statement lookup keeps get_visible's audit: another hospital's MSW asking for the
    case's candidates on the page and through the API gets 404 twice, and the log keeps two
    refusals naming them and the case; an unknown code and the owner are not refusals."""
    case = make_case(msw, capability_codes=["suction"])
    login(client, other_msw)
    assert client.get(reverse("referrals:candidates", args=[case.code])).status_code == 404
    assert client.get(f"/api/v1/referrals/cases/{case.code}/candidates").status_code == 404
    assert client.get(reverse("referrals:candidates", args=[uuid.uuid4()])).status_code == 404
    login(client, msw)
    assert client.get(reverse("referrals:candidates", args=[case.code])).status_code == 200
    refused = AuditEntry.objects.filter(action="access.refused").order_by("id")
    assert [(e.actor, e.target_type, e.target_id) for e in refused] == [
        (other_msw.user, "referrals.PlacementCase", str(case.code)),
        (other_msw.user, "referrals.PlacementCase", str(case.code)),
    ]
