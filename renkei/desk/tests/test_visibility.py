from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from renkei.accounts.models import Membership
from renkei.desk.models import Consultation, Desk
from renkei.desk.testing import make_consultation, make_followup
from renkei.desk.tests.conftest import login


@pytest.fixture
def case(desk: Desk, counselor: Membership) -> Consultation:
    c = make_consultation(desk, counselor, subject_name="相談 太郎（仮名）")
    make_followup(c, counselor, due_date=timezone.localdate() + dt.timedelta(days=3))
    return c


def html_urls(desk: Desk, c: Consultation) -> list[tuple[str, str]]:
    f = c.followups.get()
    return [
        ("get", reverse("desk:dashboard", args=[desk.code])),
        ("get", reverse("desk:list", args=[desk.code])),
        ("get", reverse("desk:new", args=[desk.code])),
        ("get", reverse("desk:export", args=[desk.code, "csv"])),
        ("get", reverse("desk:topics", args=[desk.code])),
        ("get", reverse("desk:detail", args=[c.code])),
        ("get", reverse("desk:edit", args=[c.code])),
        ("post", reverse("desk:confirm", args=[c.code])),
        ("post", reverse("desk:followup_add", args=[c.code])),
        ("get", reverse("desk:version", args=[c.code, 1])),
        ("post", reverse("desk:followup_done", args=[f.pk])),
    ]


def test_other_municipalitys_desk_gets_404_on_every_screen(
    client: Client, desk: Desk, case: Consultation, charlie: Membership
) -> None:
    """A counselor of 厚木's desk reaches none of えびな's screens: 404, never 403 or data."""
    login(client, charlie)
    for method, url in [
        *html_urls(desk, case),
        ("get", reverse("desk:tally", args=[desk.code])),
        ("get", reverse("desk:report", args=[desk.code])),
        ("get", reverse("desk:tally_export", args=[desk.code, "csv"])),
    ]:
        response = getattr(client, method)(url)
        assert response.status_code == 404, (method, url, response.status_code)
    case.refresh_from_db()
    assert case.confirmed_at is None
    assert case.followups.get().done_at is None


def test_other_municipalitys_desk_gets_404_from_the_api(
    client: Client, desk: Desk, case: Consultation, charlie: Membership
) -> None:
    """The API answers 404 with a Japanese detail for another desk's records."""
    login(client, charlie)
    for method, url in [
        ("get", f"/api/v1/desk/consultations/{case.code}"),
        ("get", f"/api/v1/desk/consultations/{case.code}/versions"),
        ("get", f"/api/v1/desk/desks/{desk.code}/consultations"),
        ("get", f"/api/v1/desk/desks/{desk.code}/followups"),
        ("get", f"/api/v1/desk/desks/{desk.code}/tally"),
        ("post", f"/api/v1/desk/consultations/{case.code}/confirm"),
        ("post", f"/api/v1/desk/followups/{case.followups.get().pk}/done"),
    ]:
        response = (
            getattr(client, method)(url, data=json.dumps({}), content_type="application/json")
            if method == "post"
            else client.get(url)
        )
        assert response.status_code == 404, (url, response.status_code)
        assert "見つかりません" in response.json()["detail"]
    codes = [d["code"] for d in client.get("/api/v1/desk/desks").json()]
    assert codes == [str(charlie.organization.desks.get().code)]


def test_anonymous_is_refused(client: Client, desk: Desk, case: Consultation) -> None:
    """Signed-out visitors are sent to the login page; the API answers 401."""
    for method, url in [*html_urls(desk, case), ("get", reverse("desk:home"))]:
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("accounts:login")), url
    api = client.get(f"/api/v1/desk/consultations/{case.code}")
    assert api.status_code == 401
    assert api.json()["detail"] == "ログインが必要です"


def test_contracting_municipality_sees_tallies_but_not_cases(
    client: Client, desk: Desk, case: Consultation, city_officer: Membership
) -> None:
    """海老名市 (委託元) reads the tally and report, and gets 404 for the case records."""
    login(client, city_officer)
    assert client.get(reverse("desk:tally", args=[desk.code])).status_code == 200
    assert client.get(reverse("desk:report", args=[desk.code])).status_code == 200
    assert client.get(f"/api/v1/desk/desks/{desk.code}/tally").status_code == 200
    assert client.get(reverse("desk:detail", args=[case.code])).status_code == 404
    assert client.get(reverse("desk:list", args=[desk.code])).status_code == 404
    assert client.get(f"/api/v1/desk/consultations/{case.code}").status_code == 404
    tally_html = client.get(reverse("desk:tally", args=[desk.code])).content.decode()
    assert "相談 太郎（仮名）" not in tally_html
