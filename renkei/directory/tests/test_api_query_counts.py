"""The directory's API lists cost the same number of queries for a few facilities as for many,
for the public and for a signed-in member (who also reads the vacancy details)."""

from __future__ import annotations

import pytest
from django.test import Client
from pytest_django import DjangoAssertNumQueries

from renkei.accounts.models import OrgKind, Role
from renkei.testing import make_facility, make_member, make_org, sign_in

pytestmark = pytest.mark.django_db
API = "/api/v1/directory"


def _facilities(start: int, n: int) -> None:
    for i in range(start, start + n):
        make_facility(
            f"施設{i}",
            kind=["tokuyo", "roken", "clinic"][i % 3],
            capability_codes=["suction", "drip"][: i % 3],
            vacancy="available",
            vacancy_count=1 + i % 4,
            confirmed_days_ago=i % 5,
            service_municipality_codes=["142051"],
        )


@pytest.mark.parametrize("who", ["anonymous", "member"])
@pytest.mark.parametrize(
    "query",
    [
        "",
        "?q=施設",
        "?capability=suction",
        "?municipality=142051&vacancy=true",
        "?lat=35.34&lng=139.49&radius_km=30",
    ],
)
def test_the_search_reads_2_or_12_facilities_in_the_same_queries(
    client: Client,
    django_assert_num_queries: DjangoAssertNumQueries,
    django_assert_max_num_queries: DjangoAssertNumQueries,
    who: str,
    query: str,
) -> None:
    if who == "member":
        org = make_org("みなと福祉会", OrgKind.CARE_PROVIDER, municipality_code="142051")
        sign_in(client, make_member(org, Role.CARE_WORKER, username="minato").user)
    _facilities(0, 2)
    client.get(f"{API}/facilities{query}")  # vocabularies cached in the process, as in service
    with django_assert_max_num_queries(12) as few:
        r = client.get(f"{API}/facilities{query}")
    assert r.status_code == 200 and r.json()["count"] >= 1
    _facilities(2, 10)
    with django_assert_num_queries(len(few.captured_queries)):
        r = client.get(f"{API}/facilities{query}")
    assert r.status_code == 200 and r.json()["count"] > 2
    if who == "member":
        assert "vacancy_count" in r.json()["items"][0]


@pytest.mark.parametrize("path", ["/capabilities", "/kinds", "/areas", "/municipalities"])
def test_the_vocabularies_take_a_fixed_number_of_queries(
    client: Client, django_assert_max_num_queries: DjangoAssertNumQueries, path: str
) -> None:
    with django_assert_max_num_queries(2):
        assert client.get(f"{API}{path}").status_code == 200
