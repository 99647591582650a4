"""The facility query's fragments in the ORM (facility_sql), and HOME_PREFECTURE."""

from __future__ import annotations

import pytest
from django.http import QueryDict
from django.test import Client, override_settings

from renkei.directory.models import Facility
from renkei.directory.search import FacilitySearch
from renkei.lib.geo import distance_km
from renkei.testing import make_facility

pytestmark = pytest.mark.django_db


def test_search_queryset_nests_as_a_subquery() -> None:
    """The conditions are compiled for the alias the query gives the table, so the search's
    queryset works inside another query (where Django renames the table U0)."""
    near = make_facility("近い", lat=35.3389, lng=139.4911, vacancy="available")
    make_facility("遠い", lat=35.4389, lng=139.4911, vacancy="available")
    make_facility("満床", lat=35.3390, lng=139.4911, vacancy="none")
    s = FacilitySearch.from_querydict(QueryDict("lat=35.3389&lng=139.4911&radius_km=5&vacancy=1"))
    assert list(s.queryset().values_list("pk", flat=True)) == [near.pk]
    outer = Facility.objects.filter(pk__in=s.queryset().values("pk"))
    assert "U0" in str(outer.query)
    assert list(outer.values_list("pk", flat=True)) == [near.pk]


def test_search_distance_is_the_geo_distance() -> None:
    f = make_facility("甲", lat=35.40, lng=139.55)
    [found] = FacilitySearch.from_querydict(QueryDict("lat=35.34&lng=139.49")).queryset()
    assert found.pk == f.pk
    assert found.dist2**0.5 == pytest.approx(distance_km(35.34, 139.49, 35.40, 139.55), rel=1e-3)  # type: ignore[attr-defined]


def test_municipalities_default_to_the_home_prefecture(client: Client) -> None:
    r = client.get("/api/v1/directory/municipalities")
    assert r.status_code == 200
    assert r.json() and {m["code"][:2] for m in r.json()} == {"14"}
    with override_settings(HOME_PREFECTURE="13"):
        r = client.get("/api/v1/directory/municipalities")
        assert r.status_code == 200
        assert all(m["code"].startswith("13") for m in r.json())
        # The search page's municipality filter lists the home prefecture's only.
        page = client.get("/directory/").content.decode()
        assert "藤沢市" not in page
    assert "藤沢市" in client.get("/directory/").content.decode()
