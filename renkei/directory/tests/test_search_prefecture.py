"""The directory serves the whole country: a prefecture filter, and the 二次医療圏 and
municipality lists of the chosen prefecture (HOME_PREFECTURE until one is chosen)."""

from __future__ import annotations

import pytest
from django.http import QueryDict
from django.test import Client

from renkei.directory.search import FacilitySearch, SearchError
from renkei.regions.models import SecondaryArea
from renkei.testing import make_facility

pytestmark = pytest.mark.django_db


def names(query: str) -> set[str]:
    items, _ = FacilitySearch.from_querydict(QueryDict(query)).results()
    return {f.name for f in items}


def test_prefecture_filter_keeps_only_that_prefectures_facilities_wards_included() -> None:
    make_facility("藤沢の家", municipality_code="142051")
    make_facility("青葉区の家", municipality_code="141178")  # 横浜市青葉区: a ward
    make_facility("盛岡の家", municipality_code="032018", lat=39.70, lng=141.15)
    assert names("prefecture=14") == {"藤沢の家", "青葉区の家"}
    assert names("prefecture=03") == {"盛岡の家"}
    assert names("") == {"藤沢の家", "青葉区の家", "盛岡の家"}


@pytest.mark.parametrize("bad", ["48", "00", "3", "abc", "１４"])
def test_a_malformed_prefecture_is_refused_in_japanese(bad: str) -> None:
    with pytest.raises(SearchError, match="都道府県コードは01〜47"):
        FacilitySearch.from_querydict(QueryDict(f"prefecture={bad}"))


def test_an_area_of_another_prefecture_is_refused_not_silently_empty() -> None:
    kanagawa_area = SecondaryArea.objects.filter(prefecture__code="14").first()
    assert kanagawa_area is not None
    with pytest.raises(SearchError, match="神奈川県の医療圏です"):
        FacilitySearch.from_querydict(QueryDict(f"prefecture=03&area={kanagawa_area.pk}"))


def test_page_lists_the_chosen_prefectures_areas_and_municipalities() -> None:
    page = Client().get("/directory/", {"prefecture": "03"}).content.decode()
    assert '<option value="03" selected>岩手県</option>' in page
    assert "盛岡市" in page and "藤沢市" not in page
    iwate_area = SecondaryArea.objects.filter(prefecture__code="03").first()
    assert iwate_area is not None and f">{iwate_area.name}</option>" in page
    home = Client().get("/directory/").content.decode()
    assert "藤沢市" in home and "盛岡市" not in home


def test_the_place_fields_fragment_follows_the_prefecture_and_reruns_the_search() -> None:
    r = Client().get("/directory/places/", {"prefecture": "03"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    body = r.content.decode()
    assert body.lstrip().startswith('<div id="place-fields">')
    assert "盛岡市" in body and "藤沢市" not in body
    assert r["HX-Trigger-After-Swap"] == "places-changed"
    # A nonsense prefecture falls back to the home prefecture's lists, never a 500.
    fallback = Client().get("/directory/places/", {"prefecture": "%00zz"}).content.decode()
    assert "藤沢市" in fallback


def test_the_api_search_takes_the_prefecture_and_refuses_a_bad_one() -> None:
    make_facility("盛岡の家", municipality_code="032018", lat=39.70, lng=141.15)
    make_facility("藤沢の家", municipality_code="142051")
    ok = Client().get("/api/v1/directory/facilities", {"prefecture": "03"})
    assert ok.status_code == 200
    assert [i["name"] for i in ok.json()["items"]] == ["盛岡の家"]
    # The API's query schema refuses the shape before the search runs (ADR 0042), naming the field.
    bad = Client().get("/api/v1/directory/facilities", {"prefecture": "99"})
    assert bad.status_code == 400
    assert "prefecture" in bad.json()["detail"] and "正しくありません" in bad.json()["detail"]
