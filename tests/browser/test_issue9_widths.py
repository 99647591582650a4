"""Issue 9 points that other browser tests show at one width only, here at the other as well:
この施設に決定 asks first (§3) with the hospital's 院内メモ on the case list and the case page (§4),
withdrawing a case with scripts on at desktop width (§3; the phone without scripts is in
test_referrals_flow), 「変わりなし」 and public events from the header at desktop width (§5).

Screenshots go to docs/screenshots/ with RENKEI_SCREENSHOTS=1.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from renkei.accounts.models import OrgKind, Role
from renkei.directory.models import Facility, FacilityKind, VacancyStatus
from renkei.referrals.actions import answer_request
from renkei.referrals.inputs import RequestAnswerInput
from renkei.referrals.models import CaseStatus, RequestStatus
from renkei.referrals.testing import make_case, make_hospital, make_receiver, send
from renkei.testing import DEMO_PASSWORD, make_facility, make_member, make_org
from tests.browser.conftest import screenshot, second_factor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
REF = "5階東 B3"


def login(pg, live_server, username: str, next_url: str) -> None:  # type: ignore[no-untyped-def]
    pg.set_default_timeout(30_000)  # a busy machine is not what is tested
    pg.context.clear_cookies()
    pg.goto(f"{live_server.url}/accounts/login/?next={next_url}")
    pg.get_by_label("ログインID").fill(username)
    pg.get_by_label("パスワード").fill(DEMO_PASSWORD)
    pg.get_by_role("button", name="ログイン").click()
    second_factor(pg)
    pg.wait_for_url(re.compile(re.escape(next_url.split("?")[0])))


@pytest.mark.parametrize("size", SIZES)
def test_deciding_a_facility_asks_first_and_names_who_is_told(page, live_server, size: str) -> None:  # type: ignore[no-untyped-def]
    msw = make_hospital("湘南さくら総合病院（仮名）", username="msw")
    nagisa, nagisa_staff = make_receiver("特養なぎさ苑（仮名）", FacilityKind.TOKUYO, username="n")
    midori, _ = make_receiver("特養みどり荘（仮名）", FacilityKind.TOKUYO, username="m")
    case = make_case(msw, internal_ref=REF)
    accepted, other = send(case, msw, [nagisa, midori])
    answer_request(accepted, by=nagisa_staff, data=RequestAnswerInput(answer="accepted"))
    page.set_viewport_size(SIZES[size])

    # The hospital's own reference tells its cases apart in the list.
    login(page, live_server, "msw", "/referrals/cases/")
    expect(page.get_by_role("main")).to_contain_text(REF)
    page.get_by_role("link", name=re.compile(re.escape(case.short_code))).first.click()
    page.wait_for_url(re.compile(str(case.code)))
    expect(page.get_by_role("main")).to_contain_text(REF)

    page.get_by_role("link", name="この施設に決定…").click()
    page.get_by_role("heading", name="特養なぎさ苑（仮名）に決定しますか").wait_for()
    told = page.get_by_role("listitem").filter(has_text="特養みどり荘（仮名）")
    expect(told).to_be_visible()
    screenshot(page, f"referrals-confirm-placement-{size}", full_page=size == "phone")
    # Nothing has happened yet.
    case.refresh_from_db()
    assert case.status != CaseStatus.DECIDED
    page.get_by_role("button", name="特養なぎさ苑（仮名）に決定する").click()
    page.get_by_text("特養なぎさ苑（仮名）に決定しました。").wait_for()
    case.refresh_from_db()
    other.refresh_from_db()
    assert (case.status, other.status) == (CaseStatus.DECIDED, RequestStatus.WITHDRAWN)


def test_withdrawing_a_case_asks_first_at_desktop_width(page, live_server) -> None:  # type: ignore[no-untyped-def]
    msw = make_hospital("湘南さくら総合病院（仮名）", username="msw")
    f, _ = make_receiver("特養なぎさ苑（仮名）", FacilityKind.TOKUYO, username="nagisa")
    case = make_case(msw, internal_ref=REF)
    send(case, msw, [f])
    page.set_viewport_size(SIZES["desktop"])
    login(page, live_server, "msw", f"/referrals/cases/{case.code}/")
    page.get_by_role("link", name="案件を取り下げる…").click()
    page.get_by_role("heading", name=f"案件 {case.short_code}「{REF}」 を取り下げますか").wait_for()
    expect(page.get_by_role("listitem").filter(has_text="特養なぎさ苑（仮名）")).to_be_visible()
    screenshot(page, "referrals-withdraw-confirm-desktop", full_page=False)
    case.refresh_from_db()
    assert case.status != CaseStatus.WITHDRAWN
    page.get_by_label("取下げの理由").select_option(label="本人・家族の意向")
    page.get_by_role("button", name="取り下げる").click()
    page.get_by_text("案件を取り下げました。依頼先には通知しました。").wait_for()
    case.refresh_from_db()
    assert case.status == CaseStatus.WITHDRAWN


def test_unchanged_vacancy_in_one_click_at_desktop_width(page, live_server) -> None:  # type: ignore[no-untyped-def]
    org = make_org("社会福祉法人 湘風会（仮名）", OrgKind.CARE_PROVIDER, municipality_code="142051")
    make_member(org, Role.COUNSELOR, username="tokuyo-staff")
    f = make_facility(
        "特別養護老人ホーム 若葉の里（仮名）",
        organization=org,
        vacancy=VacancyStatus.FEW,
        vacancy_count=1,
        confirmed_days_ago=40,
    )
    page.set_viewport_size(SIZES["desktop"])
    page.goto(live_server.url + f.get_absolute_url())
    expect(page.locator("#staleness")).to_contain_text("空き状況は40日前に確認されたもの")
    login(page, live_server, "tokuyo-staff", "/directory/mine/")
    expect(page.locator("table.data")).to_contain_text("情報が古い可能性があります")
    page.get_by_role("button", name=re.compile("変わりなし")).click()
    expect(page.locator(".messages")).to_contain_text("変わりなしとして確認しました")
    expect(page.locator("table.data")).not_to_contain_text("情報が古い可能性があります")
    screenshot(page, "facility-vacancy-unchanged-desktop", full_page=False)
    f.refresh_from_db()
    assert (f.vacancy_status, f.vacancy_count) == (VacancyStatus.FEW, 1)
    assert Facility.objects.get(pk=f.pk).vacancy_confirmed_at is not None


def test_public_events_are_in_the_desktop_header_for_anonymous_visitors(page, live_server) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size(SIZES["desktop"])
    page.goto(live_server.url + "/")
    # No menu button to press at this width: the link is in the header itself.
    link = page.locator("#main-nav").get_by_role("link", name="研修・講座")
    expect(link).to_be_visible()
    link.click()
    page.wait_for_url(re.compile(r"/events/$"))
