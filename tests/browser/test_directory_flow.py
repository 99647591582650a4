from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from renkei.accounts.models import OrgKind, Role
from renkei.testing import DEMO_PASSWORD, make_facility, make_member, make_org
from tests.browser.conftest import screenshot, second_factor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _directory() -> None:
    make_facility(
        "特別養護老人ホーム さくら苑",
        kana="トクベツヨウゴロウジンホーム サクラエン",
        capability_codes=["suction", "gastrostomy", "end-of-life"],
        vacancy="available",
        vacancy_count=2,
        confirmed_days_ago=3,
        phone="0466-00-1234",
        capacity=80,
        lat=35.3401,
        lng=139.4870,
    )
    make_facility(
        "さくら訪問看護ステーション",
        kind="visiting_nurse",
        kana="サクラホウモンカンゴステーション",
        capability_codes=["suction", "ivh", "oxygen", "terminal-care"],
        vacancy="few",
        confirmed_days_ago=45,
        lat=35.3302,
        lng=139.4990,
    )
    make_facility(
        "介護老人保健施設 みどりの丘",
        kind="roken",
        kana="カイゴロウジンホケンシセツ ミドリノオカ",
        municipality_code="142034",
        lat=35.3351,
        lng=139.3495,
        vacancy="none",
        confirmed_days_ago=1,
    )


def test_anonymous_search_map_and_detail(page, live_server) -> None:  # type: ignore[no-untyped-def]
    """A visitor finds facilities by half-width kana, sees them on the map and opens one."""
    _directory()
    page.goto(live_server.url + "/directory/")
    page.get_by_label("施設名・ふりがな").fill("ｻｸﾗ")
    page.get_by_role("button", name="この条件で探す").click()
    page.wait_for_url(re.compile(r"q=%EF%BD%BB"))
    results = page.locator("ol.results > li")
    # Locator waits, not wait_for_function: a string predicate that has to be polled is
    # evaluated with eval, which the site's Content-Security-Policy rightly refuses.
    expect(results).to_have_count(2)
    assert results.count() == 2
    expect(page.get_by_text("3日前に更新")).to_be_visible()
    expect(page.get_by_text("情報が古い可能性があります")).to_be_visible()
    page.get_by_role("button", name="地図で見る").click()
    # Both facilities are ~1.4 km apart: once the map has zoomed to fit, each has its own marker.
    expect(page.locator("#map .leaflet-marker-icon:not(.marker-cluster)")).to_have_count(2)
    page.wait_for_timeout(500)
    screenshot(page, "directory-search")
    page.get_by_role("link", name="特別養護老人ホーム さくら苑").click()
    page.wait_for_selector("h1:has-text('さくら苑')")
    expect(page.get_by_text("空きあり").first).to_be_visible()
    expect(page.get_by_text("喀痰吸引")).to_be_visible()
    expect(
        page.get_by_text("空き数や連携窓口は、ログインした医療・介護関係者に表示されます")
    ).to_be_visible()
    page.wait_for_selector("#detail-map .leaflet-marker-icon")
    screenshot(page, "directory-detail")


def test_facility_user_updates_vacancy_and_search_shows_freshness(page, live_server) -> None:  # type: ignore[no-untyped-def]
    """Staff sign in, update their facility's vacancy on a phone, and the search shows it as just updated."""
    org = make_org("社会福祉法人 湘風会", OrgKind.CARE_PROVIDER, municipality_code="142051")
    make_member(org, Role.COUNSELOR, username="tokuyo-staff", display_name="相談員 デモ")
    make_facility(
        "特別養護老人ホーム 若葉の里",
        kana="トクベツヨウゴロウジンホーム ワカバノサト",
        organization=org,
        vacancy="none",
        confirmed_days_ago=20,
        capability_codes=["suction"],
    )
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/accounts/login/?next=/directory/mine/")
    page.get_by_label("ログインID").fill("tokuyo-staff")
    page.get_by_label("パスワード").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    second_factor(page)
    page.wait_for_url(re.compile(r"/directory/mine/"))
    page.get_by_role("link", name="更新").first.click()
    page.wait_for_selector("#vacancy-form")
    page.get_by_label("空きあり").check()
    page.get_by_label("空き数（床・人）").fill("2")
    page.get_by_label("補足（例: 男性のみ可、来週から1床）").fill("女性1床・男性1床")
    page.locator("#vacancy-form").get_by_role("button", name="空き状況を更新").click()
    page.wait_for_selector("text=空き状況を更新しました")
    screenshot(page, "facility-vacancy-update-phone")
    page.goto(live_server.url + "/directory/?q=わかば")
    item = page.locator("ol.results > li").first
    assert "空きあり" in item.inner_text()
    assert "たった今に更新" in item.inner_text()
    screenshot(page, "directory-search-after-update-phone")


def test_choosing_a_prefecture_lists_its_places_and_searches_again(page, live_server) -> None:  # type: ignore[no-untyped-def]
    """A nurse in Iwate picks 岩手県: the 市区町村 list becomes Iwate's, a municipality left
    selected from Kanagawa is dropped, and the results show Iwate's facilities only."""
    _directory()
    make_facility("盛岡ケアホーム", municipality_code="032018", lat=39.70, lng=141.15)
    page.goto(live_server.url + "/directory/?municipality=142051")
    expect(page.locator("ol.results > li")).to_have_count(2)
    page.get_by_label("都道府県").select_option(label="岩手県")
    muni = page.get_by_label("市区町村")
    expect(muni.locator("option", has_text="盛岡市")).to_have_count(1)
    expect(muni.locator("option", has_text="藤沢市")).to_have_count(0)
    page.wait_for_url(re.compile(r"prefecture=03"))
    expect(page.locator("ol.results > li")).to_have_count(1)
    expect(page.locator("ol.results")).to_contain_text("盛岡ケアホーム")
    assert "municipality=142051" not in page.url
    screenshot(page, "directory-prefecture-iwate")
