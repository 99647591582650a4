"""The search page says what its results are of; 印刷用一覧 prints exactly that search; a
facility's page says when its information is old."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from renkei.testing import make_facility

pytestmark = pytest.mark.django_db


def test_the_active_filters_are_shown_above_the_results(client: Client) -> None:
    make_facility("さくら苑", capability_codes=["suction"], vacancy="available")
    body = client.get(
        "/directory/", {"kind": "tokuyo", "capability": "suction", "vacancy": "1"}
    ).content.decode()
    chips = body[body.index('id="active-filters"') :]
    chips = chips[: chips.index("</p>")]
    for label in ("介護老人福祉施設（特養）", "喀痰吸引", "空きあり"):
        assert f'<span class="tag">{label}</span>' in chips
    assert "（3件指定中）" in body


def test_htmx_results_update_the_count_of_filters(client: Client) -> None:
    body = client.get("/directory/", {"vacancy": "1"}, headers={"HX-Request": "true"})
    text = body.content.decode()
    assert 'id="filter-count" hx-swap-oob="true"' in text and "（1件指定中）" in text


def test_the_print_list_prints_what_the_filters_selected(client: Client) -> None:
    make_facility("藤沢の特養 空きあり", kind="tokuyo", vacancy="available")
    make_facility("藤沢の特養 満床", kind="tokuyo", vacancy="none")
    make_facility("藤沢の病院", kind="hospital", vacancy="available")
    make_facility("平塚の特養", kind="tokuyo", municipality_code="142034", vacancy="available")
    search = client.get("/directory/", {"municipality": "142051", "kind": "tokuyo", "vacancy": "1"})
    link = "/directory/print/?municipality=142051&amp;kind=tokuyo&amp;vacancy=1&amp;"
    assert link in search.content.decode()
    body = client.get(link.replace("&amp;", "&")).content.decode()
    assert "藤沢の特養 空きあり" in body
    for other in ("藤沢の特養 満床", "藤沢の病院", "平塚の特養"):
        assert other not in body
    assert "介護老人福祉施設（特養）（1件）" in body and "空きあり" in body


def test_the_print_list_refuses_a_bad_search_in_japanese(client: Client) -> None:
    r = client.get("/directory/print/", {"radius_km": "5"})
    assert r.status_code == 400 and "地点" in r.content.decode()


def test_a_municipality_alone_is_its_handbook(client: Client) -> None:
    make_facility("藤沢の特養")
    body = client.get("/directory/print/", {"municipality": "142051"}).content.decode()
    assert "藤沢市 在宅医療・介護福祉ハンドブック" in body and "藤沢の特養" in body


def test_the_facility_page_says_when_its_information_is_old(client: Client) -> None:
    old = make_facility("古い苑", vacancy="few", confirmed_days_ago=45)
    old.info_updated_at = timezone.now() - dt.timedelta(days=500)
    old.source_date = None
    old.save()
    body = client.get(old.get_absolute_url()).content.decode()
    assert "情報が古い可能性があります" in body
    assert "空き状況は45日前に確認されたもの" in body
    assert "施設の基本情報は1年以上更新されていません" in body
    fresh = make_facility("新しい苑", vacancy="few", confirmed_days_ago=1)
    fresh.info_updated_at = timezone.now()
    fresh.save()
    assert 'id="staleness"' not in client.get(fresh.get_absolute_url()).content.decode()


def test_a_vacancy_never_confirmed_is_flagged_without_a_date(client: Client) -> None:
    f = make_facility("日付なし苑", vacancy="available", confirmed_days_ago=None)
    r = client.get(f.get_absolute_url())
    assert r.status_code == 200
    assert "空き状況はいつ確認されたか不明なもので" in r.content.decode()
