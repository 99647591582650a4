"""Cancelling asks first, and a resident applies to a public lecture (issue 9 §3, §5): at
phone width (390 px) and on a desktop, with screenshots in docs/screenshots/."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from renkei.accounts.models import OrgKind, Role
from renkei.events.models import Applicant, Application, EventKind
from renkei.events.testing import make_application, make_event, person
from renkei.testing import DEMO_PASSWORD, make_member, make_org
from tests.browser.conftest import screenshot, second_factor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}


def _size(page: Any, width: str) -> None:
    w, h = WIDTHS[width]
    page.set_viewport_size({"width": w, "height": h})


def _fits(page: Any) -> None:
    """Nothing wider than the screen: no sideways scrolling on a phone."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"page is {overflow}px wider than the viewport"


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_cancelling_a_whole_application_asks_first(page: Any, live_server: Any, width: str) -> None:
    """「この申込をすべて取り消す」 opens a confirmation naming the people, the address told
    and how many move up; 「取り消さずに戻る」 changes nothing; 「取り消す」 does it."""
    _size(page, width)
    org = make_org("えびな在宅医療相談室", OrgKind.COORDINATION_CENTER, municipality_code="142158")
    event = make_event(org, title="在宅での看取りを支える多職種連携", capacity=2)
    mine = make_application(event, [person(1), person(2)], contact_email="sakura@example.jp")
    make_application(event, [person(3)], contact_email="wait@example.jp")

    page.goto(live_server.url + mine.get_absolute_url())
    page.get_by_role("link", name="この申込をすべて取り消す").click()
    page.get_by_role("heading", name="取消の確認").wait_for()
    confirm = page.locator("#confirm")
    expect(confirm.get_by_text("sakura@example.jp")).to_be_visible()
    expect(confirm.get_by_text("1名")).to_be_visible()
    expect(confirm.get_by_text(person(1).name)).to_be_visible()
    _fits(page)
    screenshot(page, f"events-cancel-confirm-{width}", full_page=False)
    page.get_by_role("link", name="取り消さずに戻る").click()
    page.get_by_role("link", name="この申込をすべて取り消す").wait_for()
    assert not Applicant.objects.filter(status="cancelled").exists()

    page.get_by_role("link", name="この申込をすべて取り消す").click()
    page.get_by_role("button", name="取り消す").click()
    page.get_by_text("さんの申込を取り消しました").wait_for()
    statuses = list(event.applicants.order_by("position").values_list("status", flat=True))
    assert statuses == ["cancelled", "cancelled", "confirmed"]
    screenshot(page, f"events-cancel-done-{width}", full_page=False)


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_the_organisers_cancel_asks_first(page: Any, live_server: Any, width: str) -> None:
    """The organiser's 取消 opens a page with the applicant, who is told and who moves up."""
    _size(page, width)
    org = make_org("えびな在宅医療相談室", OrgKind.COORDINATION_CENTER, municipality_code="142158")
    make_member(org, Role.COUNSELOR, username="organiser")
    event = make_event(org, title="介護職のための褥瘡ケア入門", capacity=1)
    leaving = make_application(event, [person(1)], contact_email="a@example.jp").applicants.get()
    make_application(event, [person(2)], contact_email="b@example.jp")

    page.goto(f"{live_server.url}/accounts/login/?next=/events/manage/{event.code}/")
    page.get_by_label("ログインID").fill("organiser")
    page.get_by_label("パスワード").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    second_factor(page)
    page.get_by_role("link", name="取消").first.click()
    page.get_by_role("heading", name=f"{person(1).name} さんの申込を取り消しますか").wait_for()
    expect(page.get_by_text(f"{person(2).name}（受付2番")).to_be_visible()
    _fits(page)
    screenshot(page, f"events-organiser-cancel-confirm-{width}")
    page.get_by_role("button", name="取り消す").click()
    page.get_by_text("キャンセル待ちから繰り上げ").wait_for()
    leaving.refresh_from_db()
    assert leaving.status == Applicant.Status.CANCELLED


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_a_resident_finds_a_lecture_from_home_and_applies_for_two(
    page: Any, live_server: Any, width: str
) -> None:
    """From the home page, without an account: the lecture, then the resident's form (name,
    kana, e-mail, two people, a wheelchair); the confirmation shows two places."""
    _size(page, width)
    org = make_org("愛川町 高齢介護課", OrgKind.MUNICIPALITY, municipality_code="144011")
    lecture = make_event(
        org,
        title="人生会議（ACP）を知ろう",
        kind=EventKind.PUBLIC_LECTURE,
        capacity=50,
        venue_name="愛川町 中津公民館 講堂",
        contact="愛川町 高齢介護課（デモ）\nTEL 046-000-2111",
    )
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="人生会議（ACP）を知ろう").click()
    page.get_by_role("link", name="申し込む").click()
    assert page.get_by_text("事業所名").count() == 0
    page.get_by_label("お名前").fill("海老名 春子")
    page.get_by_label("ふりがな").fill("えびな はるこ")
    page.get_by_label("メールアドレス").fill("haruko@example.jp")
    page.get_by_label("参加人数（ご本人を含む）").select_option("2")
    page.get_by_label("車椅子で来場").check()
    page.get_by_label("手話通訳").check()
    page.get_by_label("いただいた情報を研修の運営のため主催者が共有することに同意します").check()
    _fits(page)
    screenshot(page, f"events-resident-form-{width}")
    page.get_by_role("button", name="申し込む").click()
    page.get_by_text("申込を受け付けました").wait_for()
    assert page.locator("text=参加確定").count() == 2
    expect(page.get_by_text("車椅子で来場、手話通訳")).to_be_visible()
    _fits(page)
    screenshot(page, f"events-resident-applied-{width}")
    app = Application.objects.get(event=lecture)
    assert (app.applicants.count(), app.needs) == (2, ["wheelchair", "sign_language"])


@pytest.mark.parametrize("width", WIDTHS)
def test_a_bad_resident_form_keeps_what_was_typed(page: Any, live_server: Any, width: str) -> None:
    """Kana in kanji is refused beside the field, the rest stays filled, nothing is saved."""
    _size(page, width)
    org = make_org("愛川町 高齢介護課", OrgKind.MUNICIPALITY, municipality_code="144011")
    lecture = make_event(org, title="人生会議（ACP）を知ろう", kind=EventKind.PUBLIC_LECTURE)
    page.goto(live_server.url + f"/events/{lecture.code}/apply/")
    page.get_by_label("お名前").fill("海老名 春子")
    page.get_by_label("ふりがな").fill("海老名春子")
    page.get_by_label("メールアドレス").fill("haruko@example.jp")
    page.get_by_label("いただいた情報を研修の運営のため主催者が共有することに同意します").check()
    page.get_by_role("button", name="申し込む").click()
    beside = page.locator(".field.has-error").filter(has=page.get_by_label("ふりがな"))
    beside.get_by_text("ひらがなで入力してください").wait_for()
    assert page.get_by_label("ふりがな").input_value() == "海老名春子"
    assert page.get_by_label("お名前").input_value() == "海老名 春子"
    assert page.get_by_label("メールアドレス").input_value() == "haruko@example.jp"
    screenshot(page, f"events-resident-form-error-{width}", full_page=False)
    assert not Application.objects.exists()


def test_the_confirmation_works_without_javascript(browser: Any, live_server: Any) -> None:
    """With scripts off, the link, the confirmation and its button still cancel."""
    org = make_org("えびな在宅医療相談室", OrgKind.COORDINATION_CENTER, municipality_code="142158")
    event = make_event(org, title="在宅での看取りを支える多職種連携")
    app = make_application(event, [person(1)], contact_email="sakura@example.jp")
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    pg = context.new_page()
    try:
        pg.goto(live_server.url + app.get_absolute_url())
        pg.get_by_role("link", name="この方の申込を取り消す").click()
        pg.get_by_role("button", name="取り消す").click()
        pg.get_by_text("さんの申込を取り消しました").wait_for()
    finally:
        context.close()
    assert app.applicants.get().status == Applicant.Status.CANCELLED
