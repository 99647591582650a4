"""院内メモ（管理番号）: the hospital's own handle on a case, never shown to facilities."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from renkei.accounts.models import Membership
from renkei.directory.models import Facility
from renkei.referrals import actions
from renkei.referrals.models import PlacementCase
from renkei.referrals.testing import make_case, send
from renkei.referrals.tests.conftest import login

pytestmark = pytest.mark.django_db
REF = "5階東 B3 退院調整No.12"


def test_the_hospital_sees_it_on_lists_and_every_page_of_the_case(
    client: Client, msw: Membership, tokuyo: tuple[Facility, Membership]
) -> None:
    case = make_case(msw, internal_ref=REF)
    (req,) = send(case, msw, [tokuyo[0]])
    login(client, msw)
    for url in (
        reverse("referrals:case_list"),
        case.get_absolute_url(),
        reverse("referrals:candidates", args=[case.code]),
        reverse("referrals:case_edit", args=[case.code]),
        reverse("referrals:case_withdraw", args=[case.code]),
        req.get_absolute_url(),
    ):
        assert REF in client.get(url).content.decode(), url
    assert client.get(f"/api/v1/referrals/cases/{case.code}").json()["internal_ref"] == REF


def test_facilities_never_see_it(
    client: Client, msw: Membership, tokuyo: tuple[Facility, Membership]
) -> None:
    case = make_case(msw, internal_ref=REF)
    (req,) = send(case, msw, [tokuyo[0]])
    login(client, tokuyo[1])
    assert REF not in client.get(req.get_absolute_url()).content.decode()
    assert REF not in client.get(reverse("referrals:inbox")).content.decode()
    r = client.get(f"/api/v1/referrals/requests/{req.code}")
    assert r.json()["case_summary"]["internal_ref"] == ""
    assert REF not in r.content.decode()
    assert REF not in client.get(f"/api/v1/referrals/cases/{case.code}").content.decode()


@pytest.mark.parametrize("door", ["action", "api"])
def test_it_is_screened_like_the_note(client: Client, msw: Membership, door: str) -> None:
    """A name in the reference is refused with the note's message; nothing is saved."""
    if door == "action":
        with pytest.raises(actions.ActionError, match="氏名"):
            make_case(msw, internal_ref="山田花子さん")
    else:
        login(client, msw)
        case = make_case(msw)
        r = client.patch(
            f"/api/v1/referrals/cases/{case.code}",
            json.dumps({"internal_ref": "患者 山田花子"}),
            content_type="application/json",
        )
        assert r.status_code == 400 and "氏名" in r.json()["detail"]
        case.refresh_from_db()
        assert case.internal_ref == ""
    assert not PlacementCase.objects.filter(internal_ref__contains="山田").exists()
