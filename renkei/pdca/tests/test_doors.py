"""Parity of the survey and indicator writes: the screens under /pdca/ and
/api/v1/programmes/ hand the same typed input to the same action. Each test runs once per door
and compares with one expected state (rows and audit lines); the same bad input is refused
with the same Japanese message and changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from renkei.accounts.models import AuditEntry, Membership
from renkei.pdca import actions
from renkei.pdca.catalogue import POPULATION_65, ensure_indicators
from renkei.pdca.models import ComputeRun, IndicatorValue, Response, Survey
from renkei.pdca.testing import KENOU
from renkei.regions.models import SecondaryArea
from renkei.testing import sign_in

pytestmark = pytest.mark.django_db
DOORS = ["html", "api"]
API = "/api/v1/programmes"


def _audit() -> list[tuple[str, dict[str, Any]]]:
    return [
        (a, d)
        for a, d in AuditEntry.objects.filter(action__startswith="pdca.")
        .order_by("pk")
        .values_list("action", "detail")
    ]


def _api(client: Client, method: str, path: str, body: dict[str, Any]) -> Any:
    return getattr(client, method)(f"{API}{path}", body, content_type="application/json")


@pytest.mark.parametrize("door", DOORS)
def test_a_survey_is_sent_the_same_through_either_door(
    client: Client, pref: Membership, door: str
) -> None:
    area = SecondaryArea.objects.get(prefecture__code="14", name="県央").pk
    deadline = timezone.localdate() + dt.timedelta(days=20)
    body: dict[str, Any] = {
        "title": "県央 取組状況",
        "fiscal_year": 2026,
        "deadline": deadline.isoformat(),
        "area_id": area,
        "instructions": "前年度の回答を見直してください",
    }
    sign_in(client, pref.user)
    if door == "html":
        seed = [k for k, _n, _l in actions.SEED_QUESTIONS]
        assert client.post("/pdca/surveys/new", {**body, "seed": seed}).status_code == 302
    else:
        assert _api(client, "post", "/surveys/", body).status_code == 201
    survey = Survey.objects.get()
    assert (
        survey.title,
        survey.fiscal_year,
        survey.deadline,
        survey.area_id,
        survey.instructions,
    ) == ("県央 取組状況", 2026, deadline, area, "前年度の回答を見直してください")
    assert [(q.key, q.number, q.label) for q in survey.questions.order_by("sort_order")] == [
        (k, n, label) for k, n, label in actions.SEED_QUESTIONS
    ]
    assert sorted(survey.responses.values_list("municipality__code", flat=True)) == list(KENOU)
    assert [a for a, _ in _audit()] == ["pdca.survey_sent"]


@pytest.mark.parametrize("door", DOORS)
def test_a_past_deadline_is_refused_the_same_on_either_door(
    client: Client, pref: Membership, door: str
) -> None:
    body = {
        "title": "県央 取組状況",
        "fiscal_year": 2026,
        "deadline": (timezone.localdate() - dt.timedelta(days=1)).isoformat(),
    }
    sign_in(client, pref.user)
    message = "回答期限が過ぎた日付です"
    if door == "html":
        seed = [k for k, _n, _l in actions.SEED_QUESTIONS]
        r = client.post("/pdca/surveys/new", {**body, "seed": seed})
        assert r.status_code == 400 and message in r.content.decode()
    else:
        r = _api(client, "post", "/surveys/", body)
        assert r.status_code == 400
        assert r.json() == {"detail": message, "field": "deadline"}
    assert not Survey.objects.exists() and _audit() == []


def _response_state(r: Response) -> tuple[Any, ...]:
    r.refresh_from_db()
    return (
        r.status,
        r.answers,
        r.version,
        [(s.number, s.answers) for s in r.submissions.order_by("number")],
    )


@pytest.mark.parametrize("door", DOORS)
def test_answers_are_saved_and_submitted_the_same_through_either_door(
    client: Client, survey: Survey, ebina: Membership, door: str
) -> None:
    r = Response.objects.get(survey=survey, municipality__code="142158")
    keys = [q.key for q in survey.questions.all()]
    sign_in(client, ebina.user)
    before = _audit()
    for submit, text in ((False, "下書き"), (True, "人材の確保")):
        if door == "html":
            form = {"version": r.version, "a_kadai": text, "action": "submit" if submit else ""}
            assert client.post(f"/pdca/responses/{r.code}/", form).status_code == 302
        else:
            body = {"answers": {"kadai": text}, "submit": submit, "version": r.version}
            assert _api(client, "put", f"/surveys/responses/{r.code}", body).status_code == 200
        r.refresh_from_db()
    expected = dict.fromkeys(keys, "") | {"kadai": "人材の確保"}
    assert _response_state(r) == ("submitted", expected, 3, [(1, expected)])
    assert [a for a, _ in _audit()[len(before) :]] == [
        "pdca.response_saved",
        "pdca.response_submitted",
    ]


@pytest.mark.parametrize("door", DOORS)
def test_an_empty_submission_and_a_stale_one_are_refused_the_same(
    client: Client, survey: Survey, ebina: Membership, door: str
) -> None:
    r = Response.objects.get(survey=survey, municipality__code="142158")
    sign_in(client, ebina.user)
    before = (_response_state(r), _audit())
    for body, status, message in (
        ({"answers": {}, "submit": True, "version": 1}, 400, "回答が空のままでは提出できません"),
        ({"answers": {"kadai": "x"}, "submit": False, "version": 9}, 409, None),
    ):
        if door == "html":
            form = {"version": body["version"], "action": "submit" if body["submit"] else ""}
            form |= {f"a_{k}": v for k, v in body["answers"].items()}  # type: ignore[attr-defined]
            got = client.post(f"/pdca/responses/{r.code}/", form)
            assert got.status_code == status
            shown = got.content.decode()
        else:
            got = _api(client, "put", f"/surveys/responses/{r.code}", body)
            assert got.status_code == status
            shown = got.json()["detail"]
        if message:
            assert message in shown
        assert (_response_state(r), _audit()) == before


@pytest.mark.parametrize("door", DOORS)
def test_a_value_is_entered_the_same_and_a_negative_one_refused_the_same(
    client: Client, ebina: Membership, door: str
) -> None:
    ensure_indicators()
    sign_in(client, ebina.user)
    bad = {"indicator": POPULATION_65, "fiscal_year": 2026, "numerator": -1}
    message = "0.0以上の値を指定してください"
    if door == "html":
        page = client.post("/pdca/indicators/values", bad, follow=True)
        assert message in page.content.decode()
    else:
        got = _api(client, "put", "/indicators/values", bad)
        assert got.status_code == 400 and f"numerator: {message}" in got.json()["detail"]
    assert not IndicatorValue.objects.exists() and _audit() == []
    good = {**bad, "numerator": 61234}
    if door == "html":
        assert client.post("/pdca/indicators/values", good).status_code == 302
    else:
        assert _api(client, "put", "/indicators/values", good).status_code == 200
    assert list(
        IndicatorValue.objects.values_list(
            "indicator__code", "municipality__code", "fiscal_year", "numerator", "denominator"
        )
    ) == [(POPULATION_65, "142158", 2026, 61234.0, None)]
    assert _audit() == [
        ("pdca.value_entered", {"indicator": POPULATION_65, "fiscal_year": 2026}),
    ]


@pytest.mark.parametrize("door", DOORS)
def test_a_compute_run_is_started_the_same_through_either_door(
    client: Client, ebina: Membership, door: str
) -> None:
    """The screen computes the default years; the API, given those years, the same."""
    sign_in(client, ebina.user)
    years = actions.default_years()
    if door == "html":
        assert client.post("/pdca/indicators/compute").status_code == 302
    else:
        r = _api(client, "post", "/indicators/compute", {"fiscal_years": years})
        assert r.status_code == 202
    run = ComputeRun.objects.get()
    municipality = ebina.organization.municipality_id
    assert (run.organization_id, run.fiscal_years, run.municipality_id) == (
        ebina.organization_id,
        sorted(years),
        municipality,
    )
    assert _audit() == [
        (
            "pdca.compute_started",
            {"fiscal_years": sorted(years), "municipality": municipality},
        )
    ]
