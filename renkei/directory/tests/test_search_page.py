"""The page a search returns: totals, order and preloaded capabilities (the fast paths)."""

from __future__ import annotations

import json

import pytest
from django.http import QueryDict
from django.test import Client
from ninja.responses import NinjaJSONEncoder
from pytest_django import DjangoAssertNumQueries

from renkei.directory.api import FacilityMemberOut, FacilityOut
from renkei.directory.search import FacilitySearch
from renkei.testing import make_facility, make_member, make_org, sign_in

pytestmark = pytest.mark.django_db

FUJISAWA = "lat=35.3389&lng=139.4911"


def test_page_capabilities_are_loaded_in_vocabulary_order(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    """Each facility on the page lists its own capabilities (decoded from capability_mask),
    in the vocabulary's order, without a query (ADR 0040)."""
    make_facility("甲", capability_codes=["oxygen", "drip", "suction"])
    make_facility("乙", capability_codes=["suction"], lat=35.35)
    make_facility("丙", lat=35.36)
    page, total = FacilitySearch.from_querydict(QueryDict(f"{FUJISAWA}&radius_km=20")).results()
    assert total == 3
    with django_assert_num_queries(0):
        caps = {f.name: [c.code for c in f.capability_tags] for f in page}  # type: ignore[attr-defined]
    assert caps == {"甲": ["drip", "oxygen", "suction"], "乙": ["suction"], "丙": []}


@pytest.mark.parametrize("radius", ["&radius_km=20", ""])
def test_total_counts_every_match_on_every_page(radius: str) -> None:
    """The total is that of all matches, on later pages and past the last one too,
    with and without a radius."""
    for i in range(5):
        make_facility(f"施設{i}", lat=35.3389 + i * 0.01)
    pages = []
    for n in (1, 2, 3, 4):
        page, total = FacilitySearch.from_querydict(
            QueryDict(f"{FUJISAWA}{radius}&sort=distance&per_page=2&page={n}")
        ).results()
        assert total == 5
        pages.append([f.name for f in page])
    assert pages == [["施設0", "施設1"], ["施設2", "施設3"], ["施設4"], []]


def test_distance_is_set_on_each_facility_of_the_page() -> None:
    """Results from a point carry their distance in km; without a point it is None."""
    make_facility("近い", lat=35.3389, lng=139.4911)
    make_facility("遠い", lat=35.4389, lng=139.4911)
    page, _ = FacilitySearch.from_querydict(QueryDict(f"{FUJISAWA}&radius_km=20")).results()
    found = [(f.name, round(f.distance_km, 1)) for f in page]  # type: ignore[attr-defined]
    assert found == [("近い", 0.0), ("遠い", 11.1)]
    page, _ = FacilitySearch.from_querydict(QueryDict("sort=name")).results()
    assert {f.distance_km for f in page} == {None}  # type: ignore[attr-defined]


@pytest.mark.parametrize("signed_in", [False, True])
def test_api_search_items_are_exactly_their_schema(client: Client, signed_in: bool) -> None:
    """The search API renders its JSON itself; each item still has exactly the fields of
    FacilityOut (public) or FacilityMemberOut (members), with values the schema accepts and
    renders unchanged."""
    make_facility(
        "甲",
        capability_codes=["drip"],
        vacancy="available",
        vacancy_count=2,
        confirmed_days_ago=1.5,
    )
    make_facility("乙", lat=35.35)
    if signed_in:
        sign_in(client, make_member(make_org("藤沢病院", municipality_code="142051")).user)
    r = client.get(
        "/api/v1/directory/facilities", {"lat": "35.34", "lng": "139.49", "radius_km": "5"}
    )
    assert r.status_code == 200 and r["Content-Type"] == "application/json; charset=utf-8"
    body = r.json()
    assert (body["count"], body["page"], body["per_page"]) == (2, 1, 20)
    schema = FacilityMemberOut if signed_in else FacilityOut
    for item in body["items"]:
        assert list(item) == list(schema.model_fields)
        rendered = json.dumps(schema.model_validate(item).model_dump(), cls=NinjaJSONEncoder)
        assert json.loads(rendered) == item
    assert body["items"][0]["capabilities"] == ["drip"]
