"""「変わりなし」: a facility confirms its vacancy unchanged in one tap, on either door."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from renkei.accounts.models import AuditEntry, OrgKind, Role
from renkei.directory.models import Facility, VacancyReport
from renkei.testing import make_facility, make_member, make_org, sign_in

pytestmark = pytest.mark.django_db


def _setup(client: Client, vacancy: str = "few") -> Facility:
    org = make_org("ひだまり会", OrgKind.CARE_PROVIDER, municipality_code="142051")
    sign_in(client, make_member(org, Role.COUNSELOR, username="hidamari").user)
    return make_facility(
        "ひだまりの家", organization=org, vacancy=vacancy, vacancy_count=2, confirmed_days_ago=40
    )


def _state(f: Facility) -> tuple[str, int | None, int, int, int]:
    f.refresh_from_db()
    return (
        f.vacancy_status,
        f.vacancy_count,
        f.version,
        VacancyReport.objects.filter(facility=f).count(),
        AuditEntry.objects.filter(action="directory.vacancy_confirmed").count(),
    )


def _confirm(client: Client, door: str, f: Facility, version: int | None) -> int:
    if door == "api":
        r = client.post(
            f"/api/v1/directory/facilities/{f.code}/vacancy/confirm",
            json.dumps({"version": version}),
            content_type="application/json",
        )
    else:
        r = client.post(
            f"/directory/{f.code}/vacancy/confirm/",
            {"version": "" if version is None else version, "next": "/directory/mine/"},
        )
    return r.status_code


@pytest.mark.parametrize("door", ["html", "api"])
def test_both_doors_renew_the_freshness_and_nothing_else(client: Client, door: str) -> None:
    """The status and count stay; the confirmation time is now; a history row and an audit
    entry record it; the version moves on."""
    f = _setup(client)
    assert f.vacancy_is_stale()
    loaded = f.version
    status = _confirm(client, door, f, loaded)
    assert status == (302 if door == "html" else 200)
    assert _state(f) == ("few", 2, loaded + 1, 1, 1)
    assert f.vacancy_confirmed_at is not None
    assert timezone.now() - f.vacancy_confirmed_at < dt.timedelta(minutes=1)
    assert not f.vacancy_is_stale()
    report = VacancyReport.objects.get(facility=f)
    assert (report.status, report.count) == ("few", 2)


def test_the_screen_returns_to_the_list_with_what_was_confirmed(client: Client) -> None:
    f = _setup(client)
    r = client.post(
        f"/directory/{f.code}/vacancy/confirm/",
        {"version": f.version, "next": "/directory/mine/"},
        follow=True,
    )
    assert r.redirect_chain[-1][0] == "/directory/mine/"
    assert "変わりなしとして確認しました" in r.content.decode()


def test_a_foreign_next_is_not_followed(client: Client) -> None:
    f = _setup(client)
    r = client.post(
        f"/directory/{f.code}/vacancy/confirm/",
        {"version": f.version, "next": "https://evil.example/"},
    )
    assert r.status_code == 302 and r["Location"] == f.get_absolute_url()


@pytest.mark.parametrize("door", ["html", "api"])
def test_both_doors_refuse_a_stale_version_and_change_nothing(client: Client, door: str) -> None:
    f = _setup(client)
    before = _state(f)
    assert _confirm(client, door, f, f.version - 1) == 409
    assert _state(f) == before


@pytest.mark.parametrize("door", ["html", "api"])
def test_an_unregistered_vacancy_cannot_be_confirmed(client: Client, door: str) -> None:
    """Nothing to confirm: the same Japanese message on both doors, nothing changed."""
    f = _setup(client, vacancy="unknown")
    before = _state(f)
    message = "空き状況が未登録のため「変わりなし」にできません"
    if door == "api":
        r = client.post(
            f"/api/v1/directory/facilities/{f.code}/vacancy/confirm",
            json.dumps({"version": f.version}),
            content_type="application/json",
        )
        assert r.status_code == 400 and message in r.json()["detail"]
    else:
        r = client.post(f"/directory/{f.code}/vacancy/confirm/", {"version": f.version})
        assert r.status_code == 400 and message in r.content.decode()
    assert _state(f) == before


@pytest.mark.parametrize("door", ["html", "api"])
def test_another_organisations_user_gets_404(client: Client, door: str) -> None:
    f = _setup(client)
    other = make_org("よその会", OrgKind.CARE_PROVIDER, municipality_code="142077")
    sign_in(client, make_member(other, Role.COUNSELOR, username="other").user)
    before = _state(f)
    assert _confirm(client, door, f, f.version) == 404
    assert _state(f) == before


@pytest.mark.parametrize("door", ["html", "api"])
def test_anonymous_is_refused(client: Client, door: str) -> None:
    f = _setup(client)
    client.logout()
    before = _state(f)
    status = _confirm(client, door, f, f.version)
    assert status in ((302,) if door == "html" else (401, 403))
    assert _state(f) == before


def test_the_api_refuses_unknown_fields(client: Client) -> None:
    f = _setup(client)
    r = client.post(
        f"/api/v1/directory/facilities/{f.code}/vacancy/confirm",
        json.dumps({"version": f.version, "status": "none"}),
        content_type="application/json",
    )
    assert r.status_code == 400 and "status" in r.json()["detail"]
    assert _state(f)[3] == 0


def test_an_htmx_vacancy_update_refreshes_the_confirm_button(client: Client) -> None:
    """After the vacancy form is saved in place, 「変わりなし」 carries the new version (swapped out
    of band), so pressing it next is not refused as stale."""
    f = _setup(client)
    r = client.post(
        f"/directory/{f.code}/vacancy/",
        {"status": "available", "count": 3, "note": "", "version": f.version},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200
    f.refresh_from_db()
    body = r.content.decode()
    oob = body[body.index('id="vacancy-current" hx-swap-oob="true"') :]
    assert f'name="version" value="{f.version}"' in oob
    assert _confirm(client, "html", f, f.version) == 302
