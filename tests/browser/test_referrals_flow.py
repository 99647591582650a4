"""The placement loop in a real browser (Playwright + Debian Chromium).

Screenshots go to docs/screenshots/ with RENKEI_SCREENSHOTS=1.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from renkei.directory.models import FacilityKind, VacancyStatus
from renkei.referrals.models import CaseStatus, PlacementCase, PlacementRequest, RequestStatus
from renkei.referrals.testing import make_hospital, make_receiver
from renkei.testing import DEMO_PASSWORD
from tests.browser.conftest import screenshot, second_factor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(pg, live_server, username: str, next_url: str) -> None:  # type: ignore[no-untyped-def]
    pg.context.clear_cookies()
    pg.goto(f"{live_server.url}/accounts/login/?next={next_url}")
    pg.get_by_label("ログインID").fill(username)
    pg.get_by_label("パスワード").fill(DEMO_PASSWORD)
    pg.get_by_role("button", name="ログイン").click()
    second_factor(pg)


def test_register_send_answer_confirm(page, live_server) -> None:  # type: ignore[no-untyped-def]
    """An MSW registers a case and sees candidates with reasons, sends three requests; one
    facility declines with a reason, one accepts; the MSW confirms; the third facility sees its
    request withdrawn."""
    make_hospital("湘南さくら総合病院（仮名）", username="msw")
    common: dict[str, Any] = {
        "capability_codes": ["suction", "tube-feeding"],
        "vacancy": VacancyStatus.AVAILABLE,
        "confirmed_days_ago": 1,
        "accepts_dementia": True,
    }
    make_receiver(
        "特養なぎさ苑（仮名）",
        FacilityKind.TOKUYO,
        username="nagisa",
        lat=35.3312,
        lng=139.4801,
        **common,
    )
    make_receiver(
        "老健ひかりの丘（仮名）",
        FacilityKind.ROKEN,
        username="hikari",
        municipality_code="142077",
        lat=35.3331,
        lng=139.4040,
        **common,
    )
    make_receiver(
        "特養みどり荘（仮名）",
        FacilityKind.TOKUYO,
        username="midori",
        lat=35.35,
        lng=139.50,
        **common,
    )

    login(page, live_server, "msw", "/referrals/cases/new/")
    page.get_by_label("年齢").select_option(label="85〜89歳")
    page.get_by_label("性別").select_option(label="女性")
    page.get_by_label("要介護度").select_option(label="要介護4")
    page.get_by_label("認知症高齢者の日常生活自立度").select_option(label="Ⅱb")
    page.get_by_label("喀痰吸引").check()
    page.get_by_label("経管栄養").check()
    page.get_by_label("居住地（市区町村）").select_option(label="藤沢市")
    page.get_by_label("介護老人福祉施設（特養）").check()
    page.get_by_label("介護老人保健施設（老健）").check()
    page.get_by_label("同居者の有無").select_option(label="独居")
    page.get_by_label("キーパーソンの続柄").select_option(label="子")
    page.get_by_label("補足（個人を特定できる情報は書かないでください）").fill(
        "胃ろう造設後、経過良好。日中は車椅子。"
    )
    screenshot(page, "referrals-case-form")
    page.get_by_role("button", name="登録して候補を探す").click()

    page.get_by_role("heading", name="受入れ候補").wait_for()
    expect(page.get_by_text("処置: 経管栄養・喀痰吸引 対応可").first).to_be_visible()
    for name in ("特養なぎさ苑（仮名）", "老健ひかりの丘（仮名）", "特養みどり荘（仮名）"):
        page.get_by_label(name).check()
    screenshot(page, "referrals-candidates")
    page.get_by_role("button", name="選んだ施設に一斉に依頼する").click()
    page.get_by_text("3施設に受入れ依頼を送信しました。").wait_for()
    case = PlacementCase.objects.get()
    reqs = {r.facility.name: r for r in PlacementRequest.objects.select_related("facility")}

    # The facilities answer on a phone.
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, live_server, "hikari", "/referrals/inbox/")
    page.get_by_role("link", name="85〜89歳・女性・要介護4").click()
    page.get_by_label("受入不可", exact=True).check()
    page.get_by_label("満床").check()
    page.get_by_role("button", name="回答を送信").click()
    page.get_by_text("回答を送信しました。").wait_for()

    login(page, live_server, "nagisa", "/referrals/inbox/")
    page.get_by_role("link", name="85〜89歳・女性・要介護4").click()
    page.get_by_label("受入可", exact=True).check()
    page.get_by_label("補足").fill("来週月曜から受入れ可能です。")
    screenshot(page, "referrals-answer-phone")
    page.get_by_role("button", name="回答を送信").click()
    page.get_by_text("回答を送信しました。").wait_for()

    # The MSW confirms the acceptance.
    page.set_viewport_size({"width": 1280, "height": 900})
    login(page, live_server, "msw", f"/referrals/cases/{case.code}/")
    expect(page.get_by_role("cell", name="理由: 満床")).to_be_visible()
    page.get_by_role("link", name="この施設に決定…").click()
    # The confirmation names the facilities that will be told before anything happens.
    page.get_by_role("heading", name="特養なぎさ苑（仮名）に決定しますか").wait_for()
    expect(page.get_by_role("listitem").filter(has_text="特養みどり荘（仮名）")).to_be_visible()
    screenshot(page, "referrals-confirm-placement")
    page.get_by_role("button", name="特養なぎさ苑（仮名）に決定する").click()
    page.get_by_text("特養なぎさ苑（仮名）に決定しました。").wait_for()
    screenshot(page, "referrals-case-decided")
    case.refresh_from_db()
    assert case.status == CaseStatus.DECIDED

    # The third facility sees its request withdrawn.
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, live_server, "midori", "/referrals/inbox/?show=all")
    page.get_by_role("link", name="85〜89歳・女性・要介護4").click()
    page.get_by_text("この依頼は取り下げられました").wait_for()
    screenshot(page, "referrals-withdrawn-phone")
    assert (
        PlacementRequest.objects.get(pk=reqs["特養みどり荘（仮名）"].pk).status
        == RequestStatus.WITHDRAWN
    )


def test_prefecture_sees_the_effect_dashboard(page, live_server) -> None:  # type: ignore[no-untyped-def]
    """The demo network's figures and bar charts on the 効果検証 dashboard."""
    from renkei.accounts.models import OrgKind, Role
    from renkei.demo.referrals import seed_referrals
    from renkei.testing import make_member, make_org

    seed_referrals()
    pref = make_org("神奈川県 医療課（仮名）", OrgKind.PREFECTURE, prefecture_code="14")
    make_member(pref, Role.PREFECTURAL_OFFICER, username="kanagawa")
    login(page, live_server, "kanagawa", "/referrals/dashboard/")
    page.get_by_role("heading", name="入退院支援ネットワーク 効果検証").wait_for()
    assert page.locator("svg[aria-label='施設種別 受入可の割合']").count() == 1
    screenshot(page, "referrals-dashboard")


def _busiest_open_case() -> PlacementCase:
    from renkei.referrals.matching import find_candidates

    cases = PlacementCase.objects.filter(status__in=[CaseStatus.SEARCHING, CaseStatus.REQUESTING])
    return max(cases, key=lambda c: len(find_candidates(c).all()))


@pytest.mark.parametrize("width, height", [(390, 844), (1280, 900)])
def test_busiest_demo_case_keeps_its_send_bar_in_view(  # type: ignore[no-untyped-def]
    page, live_server, width: int, height: int
) -> None:
    """The demo's busiest case: members first, the count of the selected in a send bar that
    stays in view while scrolling, the facilities outside the network paged with their phone."""
    from renkei.demo.seed import seed_demo, seed_feature_demos

    seed_demo()  # the demo region as `run.py demo` builds it: 3,000 facilities
    seed_feature_demos()
    case = _busiest_open_case()
    username = case.hospital.memberships.filter(is_active=True).first().user.username
    page.set_viewport_size({"width": width, "height": height})
    login(page, live_server, username, f"/referrals/cases/{case.code}/candidates/")
    page.get_by_role("heading", name="受入れ候補").wait_for()
    bar = page.get_by_role("region", name="依頼の送信")

    def bar_in_view() -> bool:
        box = bar.bounding_box()
        return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height + 1

    assert bar_in_view(), bar.bounding_box()
    boxes = page.locator('input[name="facility"]')
    if boxes.count():
        boxes.first.check()
        assert page.locator("#selected-count").inner_text() == "1"
    page.mouse.wheel(0, 600)
    page.wait_for_timeout(200)
    assert bar_in_view(), bar.bounding_box()
    suffix = "phone" if width < 600 else "desktop"
    screenshot(page, f"referrals-candidates-busiest-{suffix}", full_page=False)
    outside = page.locator("#outside")
    if outside.count():
        outside.scroll_into_view_if_needed()
        screenshot(page, f"referrals-candidates-outside-{suffix}", full_page=False)


def test_withdrawing_a_case_asks_first_without_javascript(browser, live_server) -> None:  # type: ignore[no-untyped-def]
    """The withdrawal page names the facilities to be told and works with JavaScript off."""
    from renkei.referrals.testing import make_case, send

    msw = make_hospital("湘南さくら総合病院（仮名）", username="msw")
    f, _ = make_receiver("特養なぎさ苑（仮名）", FacilityKind.TOKUYO, username="nagisa")
    case = make_case(msw, internal_ref="5階東 B3")
    send(case, msw, [f])
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="ja-JP", java_script_enabled=False
    )
    pg = context.new_page()
    login(pg, live_server, "msw", f"/referrals/cases/{case.code}/")
    pg.get_by_role("link", name="案件を取り下げる…").click()
    pg.get_by_role(
        "heading", name=f"案件 {case.short_code}「5階東 B3」 を取り下げますか"
    ).wait_for()
    expect(pg.get_by_role("listitem").filter(has_text="特養なぎさ苑（仮名）")).to_be_visible()
    screenshot(pg, "referrals-withdraw-confirm-phone")
    pg.get_by_label("取下げの理由").select_option(label="本人・家族の意向")
    pg.get_by_role("button", name="取り下げる").click()
    pg.get_by_text("案件を取り下げました。依頼先には通知しました。").wait_for()
    case.refresh_from_db()
    assert case.status == CaseStatus.WITHDRAWN
    context.close()


@pytest.mark.parametrize("width, height", [(390, 844), (1280, 900)])
def test_admission_search_explains_its_order(page, live_server, width: int, height: int) -> None:  # type: ignore[no-untyped-def]
    """受入れ病院を探す: sort control, the order explained, the conditions shown with the results."""
    from renkei.directory.models import Ward
    from renkei.testing import make_facility

    make_hospital("湘南さくら総合病院（仮名）", username="msw")
    for name, vacant, lat in (("近い病院（仮名）", 1, 35.34), ("空床の多い病院（仮名）", 9, 35.40)):
        f = make_facility(name, "hospital", lat=lat, lng=139.49, is_backup_hospital=True)
        Ward.objects.create(facility=f, kind="community", beds=40, vacant_beds=vacant)
    page.set_viewport_size({"width": width, "height": height})
    login(page, live_server, "msw", "/referrals/admission/")
    page.get_by_label("地域包括ケア病棟").check()
    page.get_by_label("並び順").select_option(label="選んだ病棟の空床が多い順（同数は近い順）")
    page.get_by_role("button", name="この条件で探す").click()
    page.get_by_text("並び順: 選んだ病棟の空床が多い順（同数は近い順）").wait_for()
    names = page.locator(".results h3").all_inner_texts()
    assert names == ["空床の多い病院（仮名）", "近い病院（仮名）"]
    expect(page.get_by_role("list", name="指定している条件")).to_be_visible()
    suffix = "phone" if width < 600 else "desktop"
    page.get_by_role("heading", name="検索結果").scroll_into_view_if_needed()
    screenshot(page, f"referrals-admission-{suffix}", full_page=False)
