from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from renkei.accounts.models import OrgKind, Role
from renkei.desk.models import Consultation
from renkei.desk.testing import make_desk, make_desk_member
from renkei.desk.vocabulary import ensure_default_topics
from renkei.testing import DEMO_PASSWORD, make_facility, make_org
from tests.browser.conftest import screenshot, second_factor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_desk_officer_records_consultation_and_finds_it_in_month_tally(page, live_server) -> None:  # type: ignore[no-untyped-def]
    """On a phone-sized screen: record a consultation with a referred facility and a follow-up,
    see the follow-up on the desk home, then find the case in this month's tally."""
    ensure_default_topics()
    operator = make_org("海老名市医師会", OrgKind.MEDICAL_ASSOCIATION, municipality_code="142158")
    desk = make_desk("えびな在宅医療相談室", organization=operator)
    make_desk_member(desk, Role.COUNSELOR, username="soudan", display_name="相談員 見本（仮名）")
    make_facility(
        "さくら訪問看護ステーション（仮名）",
        "visiting_nurse",
        kana="サクラホウモンカンゴ",
        municipality_code="142158",
    )
    page.set_viewport_size({"width": 390, "height": 844})

    page.goto(live_server.url + "/accounts/login/?next=/desk/")
    page.get_by_label("ログインID").fill("soudan")
    page.get_by_label("パスワード").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    second_factor(page)
    page.get_by_role("link", name="相談を記録する").click()

    page.get_by_role("radio", name="電話").check()
    page.get_by_role("radio", name="ケアマネジャー").check()
    page.get_by_role("checkbox", name="訪問看護", exact=True).check()
    page.get_by_role("radio", name="入退院支援").check()
    page.locator("textarea[name=summary]").fill("退院後の点滴管理ができる訪問看護を探している。")
    page.get_by_label("相談対象者の氏名").fill("相談 太郎（仮名）")
    page.get_by_label("同意あり").check()
    page.get_by_label("同意の確認日").fill(timezone.localdate().isoformat())
    page.get_by_label("資源マップから施設名で探す").fill("さくら")
    page.get_by_label("さくら訪問看護ステーション（仮名）").check()
    due = timezone.localdate() + dt.timedelta(days=3)
    page.get_by_label("フォローアップの期日").fill(due.isoformat())
    page.get_by_label("フォローアップの内容").fill("利用開始できたか確認する")
    screenshot(page, "desk-new-consultation-phone")
    page.get_by_role("button", name="登録する").click()

    page.get_by_text("相談記録を登録しました。").wait_for()
    expect(page.get_by_role("link", name="さくら訪問看護ステーション（仮名）")).to_be_visible()
    c = Consultation.objects.get()
    assert c.followups.get().note == "利用開始できたか確認する"

    page.goto(live_server.url + "/desk/")
    expect(page.get_by_text("利用開始できたか確認する")).to_be_visible()
    page.get_by_role("link", name="今月の集計").click()
    page.get_by_text("の相談件数: 1件").wait_for()
    assert page.locator("svg[aria-label^='相談方法: 電話 1件']").count() == 1
    screenshot(page, "desk-month-tally-phone")


def test_a_refused_follow_up_stays_open_with_its_input_and_the_reason(page, live_server) -> None:  # type: ignore[no-untyped-def]
    """On a phone: a follow-up due in four years is refused beside its date, the section stays
    open with what was typed, and nothing is added."""
    ensure_default_topics()
    operator = make_org("海老名市医師会", OrgKind.MEDICAL_ASSOCIATION, municipality_code="142158")
    desk = make_desk("えびな在宅医療相談室", organization=operator)
    member = make_desk_member(desk, Role.COUNSELOR, username="soudan2")
    from renkei.desk.testing import make_consultation

    c = make_consultation(desk, member)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + f"/accounts/login/?next=/desk/c/{c.code}/")
    page.get_by_label("ログインID").fill("soudan2")
    page.get_by_label("パスワード").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    second_factor(page)
    page.get_by_text("フォローアップを追加").click()
    far = timezone.localdate() + dt.timedelta(days=4 * 366)
    page.locator("input[name=due_date]").fill(far.isoformat())
    page.locator("input[name=note]").fill("ケアマネジャーに確認する")
    page.get_by_role("button", name="追加する").click()

    # Beside the field (exact); the summary at the top repeats it as 「期日: …」.
    page.get_by_text("期日は2000年以降、3年以内の日付を入力してください", exact=True).wait_for()
    page.get_by_text("期日: 期日は2000年以降、3年以内の日付を入力してください").wait_for()
    assert page.locator("input[name=note]").input_value() == "ケアマネジャーに確認する"
    screenshot(page, "desk-followup-refused-phone")
    assert not c.followups.exists()
