"""Who may edit which facility, and what the public sees (security R01, R02; ADR 0005).

A facility's own organisation may edit it; a municipality may edit the facilities in its
area (a designated city also its wards). Anyone else gets 404, so the existence of an
editing page reveals nothing. Anonymous visitors see public fields only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from renkei.accounts.models import Membership, OrgKind, Role
from renkei.directory.models import Facility
from renkei.testing import make_facility, make_member, make_org, make_user, sign_in

pytestmark = pytest.mark.django_db

LIAISON = "連携室直通テスト 0466-99-1234"
NOTE = "男性のみ受入れ可テスト備考"
COUNT = 37


@dataclass
class World:
    own: Facility  # run by the provider, in 藤沢市
    neighbour: Facility  # another provider's, in 藤沢市
    elsewhere: Facility  # in 平塚市
    ward: Facility  # in 横浜市鶴見区
    provider: Membership
    fujisawa: Membership  # 藤沢市 staff
    yokohama: Membership  # 横浜市 staff


@pytest.fixture
def world() -> World:
    provider_org = make_org("みなと福祉会", OrgKind.CARE_PROVIDER, municipality_code="142051")
    other_org = make_org("やまて福祉会", OrgKind.CARE_PROVIDER, municipality_code="142051")
    fujisawa_org = make_org("藤沢市 介護保険課", OrgKind.MUNICIPALITY, municipality_code="142051")
    yokohama_org = make_org("横浜市 医療局", OrgKind.MUNICIPALITY, municipality_code="141003")
    return World(
        own=make_facility(
            "みなと苑",
            organization=provider_org,
            liaison_contact=LIAISON,
            vacancy="available",
            vacancy_count=COUNT,
            vacancy_note=NOTE,
        ),
        neighbour=make_facility("やまて荘", organization=other_org),
        elsewhere=make_facility("ひらつか苑", municipality_code="142034"),
        ward=make_facility("つるみ苑", municipality_code="141011"),
        provider=make_member(provider_org, Role.CARE_WORKER, username="minato-staff"),
        fujisawa=make_member(fujisawa_org, Role.MUNICIPAL_OFFICER, username="fujisawa-city"),
        yokohama=make_member(yokohama_org, Role.MUNICIPAL_OFFICER, username="yokohama-city"),
    )


def client_for(member: Membership | None) -> Client:
    client = Client()
    if member is not None:
        sign_in(client, member.user)
    return client


# (who, which facility, allowed?)
MATRIX = [
    ("provider", "own", True),
    ("provider", "neighbour", False),
    ("provider", "elsewhere", False),
    ("fujisawa", "own", True),
    ("fujisawa", "neighbour", True),
    ("fujisawa", "elsewhere", False),
    ("fujisawa", "ward", False),
    ("yokohama", "ward", True),
    ("yokohama", "own", False),
]


def _vacancy_post(f: Facility) -> dict[str, Any]:
    return {"status": "few", "count": "1", "note": "", "version": str(f.version)}


@pytest.mark.parametrize("who, which, allowed", MATRIX)
def test_edit_page_only_for_those_in_charge(
    world: World, who: str, which: str, allowed: bool
) -> None:
    """The edit page opens for the facility's own organisation or its municipality; else 404."""
    facility: Facility = getattr(world, which)
    response = client_for(getattr(world, who)).get(reverse("directory:edit", args=[facility.code]))
    assert response.status_code == (200 if allowed else 404)


@pytest.mark.parametrize("who, which, allowed", MATRIX)
def test_vacancy_post_only_for_those_in_charge(
    world: World, who: str, which: str, allowed: bool
) -> None:
    """Posting a vacancy works where editing is allowed; elsewhere 404 and nothing changes."""
    facility: Facility = getattr(world, which)
    before = facility.vacancy_status
    response = client_for(getattr(world, who)).post(
        reverse("directory:vacancy", args=[facility.code]), _vacancy_post(facility)
    )
    facility.refresh_from_db()
    if allowed:
        assert response.status_code == 302
        assert facility.vacancy_status == "few"
    else:
        assert response.status_code == 404
        assert facility.vacancy_status == before


@pytest.mark.parametrize("who, which, allowed", MATRIX)
def test_api_vacancy_put_only_for_those_in_charge(
    world: World, who: str, which: str, allowed: bool
) -> None:
    """PUT …/vacancy follows the same rule: 200 where allowed, else 404 and no change."""
    facility: Facility = getattr(world, which)
    before = facility.vacancy_status
    response = client_for(getattr(world, who)).put(
        f"/api/v1/directory/facilities/{facility.code}/vacancy",
        {"status": "few", "count": 1, "version": facility.version},
        content_type="application/json",
    )
    facility.refresh_from_db()
    assert response.status_code == (200 if allowed else 404)
    assert facility.vacancy_status == ("few" if allowed else before)


@pytest.mark.parametrize("who, which, allowed", MATRIX)
def test_api_patch_only_for_those_in_charge(
    world: World, who: str, which: str, allowed: bool
) -> None:
    """PATCH of a facility's conditions follows the same rule."""
    facility: Facility = getattr(world, which)
    response = client_for(getattr(world, who)).patch(
        f"/api/v1/directory/facilities/{facility.code}",
        {"accepts_dementia": True, "version": facility.version},
        content_type="application/json",
    )
    facility.refresh_from_db()
    assert response.status_code == (200 if allowed else 404)
    assert facility.accepts_dementia is (True if allowed else None)


def test_anonymous_is_sent_to_login_from_html_edit(world: World) -> None:
    """Anonymous visitors are redirected to sign in from the edit page and the vacancy form."""
    client = Client()
    login = reverse("accounts:login")
    edit = client.get(reverse("directory:edit", args=[world.own.code]))
    assert edit.status_code == 302 and edit["Location"].startswith(login)
    post = client.post(
        reverse("directory:vacancy", args=[world.own.code]), _vacancy_post(world.own)
    )
    assert post.status_code == 302 and post["Location"].startswith(login)
    world.own.refresh_from_db()
    assert world.own.vacancy_status == "available"


def test_anonymous_api_writes_get_401(world: World) -> None:
    """Anonymous API writes are refused with 401 and a Japanese detail."""
    client = Client()
    url = f"/api/v1/directory/facilities/{world.own.code}"
    put = client.put(url + "/vacancy", {"status": "none"}, content_type="application/json")
    patch = client.patch(url, {"accepts_dementia": True}, content_type="application/json")
    assert put.status_code == patch.status_code == 401
    assert put.json()["detail"] == "ログインが必要です"
    world.own.refresh_from_db()
    assert world.own.vacancy_status == "available"


def test_signed_in_user_without_membership_cannot_edit(world: World) -> None:
    """A user who belongs to no organisation gets the no-membership page (HTML) or 403 (API)."""
    client = Client()
    sign_in(client, make_user("lonely-user"))
    assert client.get(reverse("directory:edit", args=[world.own.code])).status_code == 403
    response = client.put(
        f"/api/v1/directory/facilities/{world.own.code}/vacancy",
        {"status": "none"},
        content_type="application/json",
    )
    assert response.status_code == 403


def test_detail_page_hides_member_fields_from_anonymous(world: World) -> None:
    """Liaison contact, vacancy note and count are absent for the public, present for members."""
    url = reverse("directory:detail", args=[world.own.code])
    public = Client().get(url).content.decode()
    assert LIAISON not in public and NOTE not in public and f"空き{COUNT}" not in public
    assert "みなと苑" in public
    # Any signed-in professional sees them, not only the facility's own staff.
    member = client_for(world.yokohama).get(url).content.decode()
    assert LIAISON in member and NOTE in member and f"空き{COUNT}" in member


def test_api_detail_and_search_hide_member_fields_from_anonymous(world: World) -> None:
    """The API's public answers have no member-only keys; a member's answers carry the values."""
    detail_url = f"/api/v1/directory/facilities/{world.own.code}"
    search_url = "/api/v1/directory/facilities"
    member_only = {"liaison_contact", "vacancy_note", "vacancy_count", "conditions_note"}
    public_detail = Client().get(detail_url).json()
    public_item = next(
        i
        for i in Client().get(search_url, {"q": "みなと"}).json()["items"]
        if i["name"] == "みなと苑"
    )
    for data in (public_detail, public_item):
        assert member_only.isdisjoint(data)
        assert LIAISON not in str(data) and NOTE not in str(data)
    member = client_for(world.fujisawa)
    member_detail = member.get(detail_url).json()
    assert member_detail["liaison_contact"] == LIAISON
    assert member_detail["vacancy_note"] == NOTE
    assert member_detail["vacancy_count"] == COUNT


def test_public_exports_hold_no_member_fields(world: World) -> None:
    """The CSV export and the map points, open to all, do not carry member-only values."""
    csv_text = Client().get("/directory/export.csv").content.decode("utf-8")
    points = json.dumps(Client().get("/directory/points.json").json(), ensure_ascii=False)
    for text in (csv_text, points):
        assert "みなと苑" in text
        assert LIAISON not in text and NOTE not in text
