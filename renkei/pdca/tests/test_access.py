"""Only the owning organisation edits; the prefecture reads its municipalities; everyone
else gets 404 on every door; anonymous callers are refused (issue 15 §5)."""

from __future__ import annotations

import pytest
from django.test import Client

from renkei.accounts.models import Membership
from renkei.pdca.catalogue import POPULATION_65, ensure_indicators
from renkei.pdca.compute import compute
from renkei.pdca.models import IndicatorValue, Response, Survey
from renkei.testing import municipality, sign_in


def _routes(survey: Survey) -> tuple[list[str], list[tuple[str, str, dict[str, object]]]]:
    r = Response.objects.get(survey=survey, municipality__code="142158")
    html = [
        f"/pdca/surveys/{survey.code}/",
        f"/pdca/surveys/{survey.code}/?print=1",
        f"/pdca/surveys/{survey.code}/export.csv",
        f"/pdca/surveys/{survey.code}/export.xlsx",
        f"/pdca/responses/{r.code}/",
        "/pdca/indicators/142158/",
        "/pdca/indicators/142158/?format=xlsx",
    ]
    api: list[tuple[str, str, dict[str, object]]] = [
        ("get", f"/api/v1/programmes/surveys/{survey.code}", {}),
        ("get", f"/api/v1/programmes/surveys/{survey.code}/table", {}),
        ("get", f"/api/v1/programmes/surveys/responses/{r.code}", {}),
        ("put", f"/api/v1/programmes/surveys/responses/{r.code}", {"answers": {"kadai": "x"}}),
        ("get", "/api/v1/programmes/indicators/municipalities/142158", {}),
    ]
    return html, api


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["yokosuka", "other_pref", "hospital"])
def test_outsiders_get_404_on_every_route(
    client: Client, survey: Survey, who: str, request: pytest.FixtureRequest
) -> None:
    """Another municipality (even of the same prefecture), another prefecture and a hospital
    of the municipality itself see nothing."""
    outsider: Membership = request.getfixturevalue(who)
    compute([2025])
    html, api = _routes(survey)
    sign_in(client, outsider.user)
    for url in html:
        assert client.get(url).status_code == 404, url
    for method, url, body in api:
        got = getattr(client, method)(url, body, content_type="application/json")
        assert got.status_code == 404, url
    r = Response.objects.get(survey=survey, municipality__code="142158")
    assert (r.answers, r.version) == ({}, 1)
    assert client.get("/api/v1/programmes/surveys/").json() == []


@pytest.mark.django_db
def test_a_neighbouring_municipality_sees_neither_answer_nor_table(
    client: Client, survey: Survey, atsugi: Membership
) -> None:
    """厚木 is among the addressees: it reaches its own answer, never 海老名's or the table."""
    html, api = _routes(survey)
    sign_in(client, atsugi.user)
    own = Response.objects.get(survey=survey, municipality__code="142123")
    assert client.get(f"/pdca/surveys/{survey.code}/")["Location"] == f"/pdca/responses/{own.code}/"
    for url in html[2:]:
        assert client.get(url).status_code == 404, url
    for method, url, body in api[1:]:
        assert (
            getattr(client, method)(url, body, content_type="application/json").status_code == 404
        )


@pytest.mark.django_db
def test_anonymous_callers_are_refused(client: Client, survey: Survey) -> None:
    html, api = _routes(survey)
    for url in [*html, "/pdca/", "/pdca/indicators/compare", "/pdca/surveys/new"]:
        got = client.get(url)
        assert got.status_code == 302 and "/accounts/login" in got["Location"], url
    for method, url, body in api:
        assert (
            getattr(client, method)(url, body, content_type="application/json").status_code == 401
        )


@pytest.mark.django_db
def test_the_prefecture_reads_and_only_the_municipality_enters(
    client: Client, pref: Membership, ebina: Membership
) -> None:
    ensure_indicators()
    body = {"indicator": POPULATION_65, "fiscal_year": 2026, "numerator": 38000}
    sign_in(client, pref.user)
    put = client.put("/api/v1/programmes/indicators/values", body, content_type="application/json")
    assert put.status_code == 403
    sign_in(client, ebina.user)
    put = client.put("/api/v1/programmes/indicators/values", body, content_type="application/json")
    assert put.status_code == 200, put.content
    computed = client.put(
        "/api/v1/programmes/indicators/values",
        {**body, "indicator": "desk.consultations"},
        content_type="application/json",
    )
    assert computed.status_code == 400
    assert "算出される" in computed.json()["detail"]
    value = IndicatorValue.objects.get(indicator__code=POPULATION_65)
    assert (value.municipality, value.numerator) == (municipality("142158"), 38000)
    sign_in(client, pref.user)
    got = client.get("/api/v1/programmes/indicators/municipalities/142158?fiscal_year=2026")
    assert [v["numerator"] for v in got.json() if v["indicator"] == POPULATION_65] == [38000]
    assert client.get("/pdca/indicators/142158/").status_code == 200
