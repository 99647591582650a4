"""The screen and the API update a vacancy through one action with one typed input."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from renkei.accounts.models import OrgKind, Role
from renkei.directory.models import Facility, VacancyReport
from renkei.testing import make_facility, make_member, make_org, sign_in

pytestmark = pytest.mark.django_db


def _setup(client: Client) -> Facility:
    org = make_org("ひだまり会", OrgKind.CARE_PROVIDER, municipality_code="142051")
    sign_in(client, make_member(org, Role.COUNSELOR, username="hidamari").user)
    return make_facility("ひだまりの家", organization=org)


def _state(f: Facility) -> tuple[str, int | None, str, int, int]:
    f.refresh_from_db()
    return (
        f.vacancy_status,
        f.vacancy_count,
        f.vacancy_note,
        f.version,
        VacancyReport.objects.filter(facility=f).count(),
    )


@pytest.mark.parametrize("door", ["html", "api"])
def test_both_doors_leave_the_same_state(client: Client, door: str) -> None:
    """The same report through either door gives the same row, history and version."""
    f = _setup(client)
    loaded = f.version
    body = {"status": "few", "count": 2, "note": "女性1床", "version": loaded}
    if door == "html":
        r = client.post(f"/directory/{f.code}/vacancy/", body)
        assert r.status_code == 302
    else:
        r = client.put(
            f"/api/v1/directory/facilities/{f.code}/vacancy",
            json.dumps(body),
            content_type="application/json",
        )
        assert r.status_code == 200
    assert _state(f) == ("few", 2, "女性1床", loaded + 1, 1)


@pytest.mark.parametrize("door", ["html", "htmx", "api"])
def test_both_doors_refuse_places_when_full_with_the_same_message(
    client: Client, door: str
) -> None:
    """満床 with 3 places is refused with one message on every door, and nothing changes."""
    f = _setup(client)
    before = _state(f)
    body = {"status": "none", "count": 3, "note": "", "version": f.version}
    message = "満床の場合は空き数を0にするか空欄にしてください"
    if door == "api":
        r = client.put(
            f"/api/v1/directory/facilities/{f.code}/vacancy",
            json.dumps(body),
            content_type="application/json",
        )
        assert r.status_code == 400
        assert r.json() == {"detail": message, "field": "count"}
    else:
        headers = {"HX-Request": "true"} if door == "htmx" else {}
        r = client.post(f"/directory/{f.code}/vacancy/", body, headers=headers)
        assert r.status_code == 400
        assert message in r.content.decode()
    assert _state(f) == before


def test_the_api_refuses_unknown_fields(client: Client) -> None:
    """The typed input forbids fields it does not know, instead of silently ignoring them."""
    f = _setup(client)
    r = client.put(
        f"/api/v1/directory/facilities/{f.code}/vacancy",
        json.dumps({"status": "few", "count": 1, "colour": "red"}),
        content_type="application/json",
    )
    assert r.status_code == 400
    assert "colour" in r.json()["detail"]
