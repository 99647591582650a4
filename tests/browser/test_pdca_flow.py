"""Surveys and indicators in the browser: a municipality answers and submits, the prefecture
reads seed 002's comparison table (and its A4 landscape print); a municipality's indicator
dashboard on a 390 px phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from renkei.lib.dates import fiscal_year_label
from renkei.pdca import actions
from renkei.pdca.catalogue import ensure_indicators
from renkei.pdca.models import IndicatorValue
from renkei.pdca.testing import (
    answer,
    make_city_officer,
    make_prefecture_officer,
    send_kenou_survey,
)
from renkei.testing import DEMO_PASSWORD, municipality
from tests.browser.conftest import screenshot, second_factor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture(autouse=True)
def _patient(page):  # type: ignore[no-untyped-def]
    page.set_default_timeout(30_000)


def _login(page, live_server, username: str, next_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server.url}/accounts/login/?next={next_url}")
    page.get_by_label("ログインID").fill(username)
    page.get_by_label("パスワード").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    second_factor(page)


def test_a_municipality_submits_and_the_prefecture_reads_the_table(page, live_server) -> None:  # type: ignore[no-untyped-def]
    pref = make_prefecture_officer()
    make_city_officer("142158", "海老名市", username="ebina")
    others = [make_city_officer(c, n) for c, n in [("142123", "厚木市"), ("142131", "大和市")]]
    survey = send_kenou_survey(pref)
    for officer, text in zip(
        others,
        [
            (
                "医師会へ委託し、資源マップ・相談窓口・多職種研修会を実施。",
                "緊急時の対応、人材の不足。",
            ),
            (
                "地域ケア会議（入退院支援）と出前講座を実施。",
                "療養型病院がなく長期療養の受け皿が不足。",
            ),
        ],
        strict=True,
    ):
        answer(survey, officer, {"torikumi": text[0], "kadai": text[1]})

    r = survey.responses.get(municipality__code="142158")
    _login(page, live_server, "ebina", f"/pdca/responses/{r.code}/")
    page.get_by_label("1 貴自治体において").fill("在宅医療相談室の運営と連携協議会の開催。")
    page.get_by_label("2(2) 病院・在宅医療・介護連携の取組・事業に係る貴自治体としての課題").fill(
        "指標を設定して事業を評価することが難しい。"
    )
    page.get_by_role("button", name="提出する").click()
    expect(page.get_by_text("提出しました。")).to_be_visible()
    expect(page.get_by_text("第1回")).to_be_visible()

    page.context.clear_cookies()
    _login(page, live_server, pref.user.username, f"/pdca/surveys/{survey.code}/")
    table = page.locator("table.survey-table")
    expect(table).to_contain_text("海老名市")
    expect(table).to_contain_text("指標を設定して事業を評価することが難しい。")
    expect(table.locator("tr.group")).to_have_text("県央")
    expect(page.get_by_text("提出 3／7市町村")).to_be_visible()
    screenshot(page, "pdca-survey-comparison")
    page.goto(f"{live_server.url}/pdca/surveys/{survey.code}/?print=1")
    page.emulate_media(media="print")
    expect(page.locator("h1")).to_contain_text(fiscal_year_label(survey.fiscal_year))
    screenshot(page, "pdca-survey-print-a4-landscape")
    pdf = page.pdf(prefer_css_page_size=True)
    assert pdf.startswith(b"%PDF")


def test_a_municipalitys_dashboard_fits_a_phone(page, live_server) -> None:  # type: ignore[no-untyped-def]
    make_city_officer("142158", "海老名市", username="ebina")
    indicators = ensure_indicators()
    ebina = municipality("142158")
    for code, values in {
        "desk.consultations": (96, 131),
        "events.trainings": (4, 6),
        "events.attended": (88, 140),
        "referrals.days": (9.5, 7.2),
        "mentoring.done": (2, 3),
    }.items():
        for fy, v in zip(actions.default_years(), values, strict=True):
            IndicatorValue.objects.create(
                indicator=indicators[code], municipality=ebina, fiscal_year=fy, numerator=v, value=v
            )
    page.set_viewport_size(PHONE)
    _login(page, live_server, "ebina", "/pdca/indicators/142158/")
    expect(page.get_by_role("heading", name="海老名市の指標")).to_be_visible()
    expect(page.locator(".ind-card svg")).to_have_count(5)
    expect(page.locator(".ind-card").first).to_contain_text("令和")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    screenshot(page, "pdca-dashboard-phone")
