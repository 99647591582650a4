"""The directory on a phone (390 px) and on a desktop: results first, filters folded into a
panel that says what is active, 探す visibly updating the page, the header menu as one button,
「変わりなし」 in one tap, old information flagged, and the print list of the search."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from renkei.accounts.models import OrgKind, Role
from renkei.testing import DEMO_PASSWORD, make_facility, make_member, make_org
from tests.browser.conftest import screenshot, second_factor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture(autouse=True)
def _patient(page):  # type: ignore[no-untyped-def]
    # The machine is shared: give slow page loads time instead of failing them.
    page.set_default_timeout(30_000)


def _directory() -> None:
    for i in range(8):
        make_facility(
            f"特別養護老人ホーム さくら苑{i}",
            kana=f"さくらえん{i}",
            capability_codes=["suction"],
            vacancy="available" if i % 2 else "none",
            confirmed_days_ago=2,
            lat=35.3389 + i * 0.003,
        )
    make_facility("さくら訪問看護ステーション", kind="visiting_nurse", vacancy="few")
    make_facility("平塚の特養", municipality_code="142034", vacancy="available")


def test_phone_search_shows_results_first_and_folds_the_filters(page, live_server) -> None:  # type: ignore[no-untyped-def]
    _directory()
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/directory/?municipality=142051&kind=tokuyo")
    panel = page.locator("#filter-panel")
    expect(panel).not_to_have_attribute("open", "")
    expect(page.get_by_label("施設名・ふりがな")).to_be_hidden()
    # What is active is said above the results, and the first result is on the first screen.
    chips = page.locator("#active-filters")
    expect(chips).to_contain_text("介護老人福祉施設（特養）")
    expect(chips).to_contain_text("藤沢市")
    first = page.locator("ol.results > li").first
    box = first.bounding_box()
    assert box is not None and box["y"] < 500, box
    # The header menu is one button; its links open below it.
    nav = page.locator("#main-nav")
    expect(nav).to_be_hidden()
    header_box = page.locator(".site-header").bounding_box()
    assert header_box is not None and header_box["height"] < 80, header_box
    screenshot(page, "directory-search-results-first-phone", full_page=False)
    page.get_by_role("button", name="メニュー").click()
    expect(nav).to_be_visible()
    expect(nav.get_by_role("link", name="研修・講座")).to_be_visible()
    screenshot(page, "header-menu-open-phone", full_page=False)
    page.get_by_role("button", name="メニュー").click()
    expect(nav).to_be_hidden()

    # Open the panel, add a filter, press 探す: the panel folds, the new results show.
    page.locator("#filter-panel > summary").click()
    expect(panel).to_have_attribute("open", "")
    page.get_by_label("施設名・ふりがな").fill("さくら苑3")
    screenshot(page, "directory-filters-open-phone", full_page=False)
    page.get_by_role("button", name="この条件で探す").click()
    page.wait_for_url(re.compile(r"q=%E3%81%95"))
    expect(page.locator("ol.results > li")).to_have_count(1)
    expect(panel).not_to_have_attribute("open", "")
    expect(chips).to_contain_text("「さくら苑3」")
    expect(page.locator("#filter-count")).to_have_text("（3件指定中）")
    heading = page.get_by_text("1件見つかりました")
    expect(heading).to_be_in_viewport()
    screenshot(page, "directory-search-after-submit-phone", full_page=False)


def test_print_list_prints_the_filtered_search(page, live_server) -> None:  # type: ignore[no-untyped-def]
    _directory()
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/directory/?municipality=142051&kind=tokuyo&vacancy=1")
    page.get_by_role("link", name="印刷用一覧").click()
    page.wait_for_url(re.compile(r"/directory/print/\?"))
    rows = page.locator("table.data tbody tr")
    expect(rows).to_have_count(4)
    body = page.locator("main").inner_text()
    assert "平塚の特養" not in body and "訪問看護" not in body
    assert "空きあり" in page.locator(".print-filters").inner_text()
    screenshot(page, "directory-print-list-phone")


def test_desktop_keeps_the_filters_beside_the_results(page, live_server) -> None:  # type: ignore[no-untyped-def]
    _directory()
    page.goto(live_server.url + "/directory/?kind=tokuyo")
    expect(page.locator("#filter-panel")).to_have_attribute("open", "")
    filters = page.locator("#search-form").bounding_box()
    results = page.locator("ol.results").bounding_box()
    assert filters and results and filters["x"] < results["x"] and results["y"] < 400
    expect(page.get_by_role("button", name="メニュー")).to_be_hidden()
    expect(page.locator("#main-nav").get_by_role("link", name="研修・講座")).to_be_visible()
    page.get_by_label("空きあり").check()
    expect(page.locator("#active-filters")).to_contain_text("空きあり")
    expect(page.locator("ol.results > li")).to_have_count(5)
    page.locator("h1").scroll_into_view_if_needed()
    screenshot(page, "directory-search-desktop", full_page=False)


def test_public_events_are_reachable_from_the_home_page(page, live_server) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="研修・講座の一覧").click()
    page.wait_for_url(re.compile(r"/events/$"))
    page.goto(live_server.url + "/")
    page.get_by_role("button", name="メニュー").click()
    page.locator("#main-nav").get_by_role("link", name="研修・講座").click()
    page.wait_for_url(re.compile(r"/events/$"))


def test_unchanged_vacancy_in_one_tap_and_old_information_flagged(page, live_server) -> None:  # type: ignore[no-untyped-def]
    org = make_org("社会福祉法人 湘風会", OrgKind.CARE_PROVIDER, municipality_code="142051")
    make_member(org, Role.COUNSELOR, username="tokuyo-staff", display_name="相談員 デモ")
    f = make_facility(
        "特別養護老人ホーム 若葉の里",
        organization=org,
        vacancy="few",
        vacancy_count=1,
        confirmed_days_ago=40,
    )
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + f.get_absolute_url())
    expect(page.locator("#staleness")).to_contain_text("空き状況は40日前に確認されたもの")
    screenshot(page, "facility-old-information-phone", full_page=False)
    page.goto(live_server.url + "/accounts/login/?next=/directory/mine/")
    page.get_by_label("ログインID").fill("tokuyo-staff")
    page.get_by_label("パスワード").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    second_factor(page)
    page.wait_for_url(re.compile(r"/directory/mine/"))
    expect(page.locator("table.data")).to_contain_text("情報が古い可能性があります")
    page.get_by_role("button", name=re.compile("変わりなし")).click()
    page.wait_for_url(re.compile(r"/directory/mine/"))
    expect(page.locator(".messages")).to_contain_text("変わりなしとして確認しました")
    expect(page.locator("table.data")).to_contain_text("たった今に更新")
    expect(page.locator("table.data")).not_to_contain_text("情報が古い可能性があります")
    screenshot(page, "facility-vacancy-unchanged-phone", full_page=False)
