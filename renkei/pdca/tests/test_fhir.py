"""Indicators as FHIR R4B Measure / MeasureReport (issue 15 §4), validated with fhir.resources,
listed in /api/fhir/metadata, scoped like the dashboard: a municipality its own values, the
prefecture its municipalities', everyone else 404; anonymous 401; bad input 400 in Japanese."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.measure import Measure
from fhir.resources.R4B.measurereport import MeasureReport

from renkei.accounts.models import Membership
from renkei.pdca.catalogue import DEFINITIONS, ensure_indicators
from renkei.pdca.models import IndicatorValue
from renkei.testing import municipality, sign_in

EBINA, ATSUGI = "142158", "142123"


def login(m: Membership) -> Client:
    c = Client()
    sign_in(c, m.user)
    return c


def read(c: Client, url: str, kind: Any) -> dict[str, Any]:
    """One resource, validated as its type by fhir.resources, as JSON."""
    r = c.get(url)
    assert r.status_code == 200, r.content
    found: dict[str, Any] = kind.model_validate_json(r.content).model_dump(mode="json")
    return found


def entries(content: bytes) -> list[dict[str, Any]]:
    bundle = Bundle.model_validate_json(content).model_dump(mode="json")
    kinds: dict[str, Any] = {"Measure": Measure, "MeasureReport": MeasureReport}
    found = [e["resource"] for e in bundle.get("entry") or []]
    for res in found:
        kinds[res["resourceType"]].model_validate(res)
    return found


@pytest.fixture
def values(db: None) -> None:
    ind = ensure_indicators()
    for code, muni, fy, num, den in [
        ("desk.consultations", EBINA, 2025, 12, None),
        ("desk.consultations", EBINA, 2026, 15, None),
        ("referrals.days", EBINA, 2025, 14.5, 2),
        ("desk.consultations", ATSUGI, 2025, 30, None),
    ]:
        i = ind[code]
        IndicatorValue.objects.create(
            indicator=i,
            municipality=municipality(muni),
            fiscal_year=fy,
            numerator=num,
            denominator=den,
            value=i.rate(num, den),
        )


@pytest.mark.django_db
def test_measures_are_the_catalogue_and_the_statement_lists_them(ebina: Membership) -> None:
    c = login(ebina)
    got = entries(c.get("/api/fhir/Measure?_count=100").content)
    assert len(got) == len(DEFINITIONS)
    one = read(c, "/api/fhir/Measure/referrals.requests-per-placement", Measure)
    assert one["url"] == "urn:renkei:measure:referrals.requests_per_placement"
    assert one["title"] == "決定1件あたりの依頼数"
    assert one["improvementNotation"]["coding"][0]["code"] == "decrease"
    codes = [p["code"]["coding"][0]["code"] for p in one["group"][0]["population"]]
    assert codes == ["numerator", "denominator"]
    share = read(c, "/api/fhir/Measure/care.admission-info.within", Measure)
    assert share["scoring"]["coding"][0]["code"] == "proportion"
    assert c.get("/api/fhir/Measure/no.such").status_code == 404
    statement = read(c, "/api/fhir/metadata", CapabilityStatement)
    kinds = {r["type"] for r in statement["rest"][0]["resource"]}
    assert {"Measure", "MeasureReport"} <= kinds


@pytest.mark.django_db
def test_a_municipality_reads_its_own_reports_only(values: None, ebina: Membership) -> None:
    c = login(ebina)
    got = entries(c.get("/api/fhir/MeasureReport?_count=100").content)
    assert {r["subject"]["identifier"]["value"] for r in got} == {EBINA}
    assert len(got) == 3
    r = c.get(
        f"/api/fhir/MeasureReport?subject={EBINA}&measure=Measure/desk.consultations"
        "&period=2025-10-01"
    )
    [report] = entries(r.content)
    assert report["id"] == f"{EBINA}-2025-desk.consultations"
    assert report["period"] == {"start": "2025-04-01", "end": "2026-03-31"}
    assert report["group"][0]["measureScore"]["value"] == 12.0
    days = read(c, f"/api/fhir/MeasureReport/{EBINA}-2025-referrals.days", MeasureReport)
    assert days["group"][0]["measureScore"]["value"] == 7.25
    # A sum of days is no count: only the denominator (the cases) is a population count.
    counts = [(p["code"]["coding"][0]["code"], p["count"]) for p in days["group"][0]["population"]]
    assert counts == [("denominator", 2)]
    # 厚木's value: 404 on read and on a search naming it.
    assert c.get(f"/api/fhir/MeasureReport/{ATSUGI}-2025-desk.consultations").status_code == 404
    assert c.get(f"/api/fhir/MeasureReport?subject={ATSUGI}").status_code == 404


@pytest.mark.django_db
def test_the_prefecture_reads_its_municipalities(values: None, pref: Membership) -> None:
    c = login(pref)
    got = entries(
        c.get(
            "/api/fhir/MeasureReport?measure=urn:renkei:measure:desk.consultations&period=2025-04-01"
        ).content
    )
    assert sorted(r["subject"]["identifier"]["value"] for r in got) == [ATSUGI, EBINA]
    r = c.get(f"/api/fhir/MeasureReport/{ATSUGI}-2025-desk.consultations")
    assert r.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["other_pref", "hospital"])
def test_outsiders_get_404_and_anonymous_401(
    values: None, who: str, request: pytest.FixtureRequest
) -> None:
    outsider: Membership = request.getfixturevalue(who)
    c = login(outsider)
    read = f"/api/fhir/MeasureReport/{EBINA}-2025-desk.consultations"
    assert c.get(read).status_code == 404
    assert c.get(f"/api/fhir/MeasureReport?subject={EBINA}").status_code == 404
    if who == "other_pref":
        assert entries(c.get("/api/fhir/MeasureReport").content) == []
    else:
        assert c.get("/api/fhir/Measure").status_code == 404
    anonymous = Client()
    for url in (read, "/api/fhir/MeasureReport", "/api/fhir/Measure"):
        assert anonymous.get(url).status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("period=2025", "period"),
        ("period=2025-13-01", "period"),
        ("subject=14215", "subject"),
        ("measure=desk.consultations", "measure"),
        ("_count=abc", "_count"),
    ],
)
def test_bad_search_input_is_400_in_japanese(
    values: None, ebina: Membership, query: str, message: str
) -> None:
    r = login(ebina).get(f"/api/fhir/MeasureReport?{query}")
    assert r.status_code == 400
    outcome = r.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert message in outcome["issue"][0]["diagnostics"]
