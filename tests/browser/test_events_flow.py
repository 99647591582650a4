from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from playwright.sync_api import expect

from renkei.accounts.models import OrgKind
from renkei.events.models import Applicant, Application
from renkei.events.testing import make_application, make_event
from renkei.testing import make_org
from tests.browser.conftest import screenshot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_care_worker_applies_with_two_colleagues_81st_waits_then_promoted(
    page: Any, live_server: Any
) -> None:
    """78 of 80 places are taken. A care worker applies with two colleagues: two get the
    last places, the third (the 81st) waits. One earlier applicant cancels through their
    link, and the 81st is confirmed and told by e-mail."""
    org = make_org("愛川町 高齢介護課", OrgKind.MUNICIPALITY, municipality_code="144011")
    event = make_event(org, title="安心して過ごせる場をどう作っていくか", capacity=80)
    first = make_application(event, 3, start=0, contact_email="first@example.jp", notify=False)
    i = 3
    while i < 78:
        make_application(event, 3, start=i, contact_email=f"o{i}@example.jp", notify=False)
        i += 3

    page.goto(live_server.url + event.get_absolute_url())
    page.get_by_text("残り 2 名").wait_for()
    page.get_by_role("link", name="申し込む").click()
    page.get_by_label("事業所名").fill("つばさデイサービスセンター（仮名）")
    page.get_by_label("事業所連絡担当者").fill("介護 花子")
    page.get_by_label("事業所メールアドレス").fill("tsubasa@example.jp")
    page.get_by_label("事業所電話番号").fill("046-000-0123")
    rows = [
        ("介護 花子", "かいご はなこ", "hanako@example.jp", "care_worker"),
        ("看護 次郎", "カンゴ ジロウ", "", "nurse"),
        ("理学 三郎", "りがく さぶろう", "saburo@example.jp", "rehab"),
    ]
    for n, (name, kana, email, occupation) in enumerate(rows):
        page.fill(f'input[name="a-{n}-name"]', name)
        page.fill(f'input[name="a-{n}-kana"]', kana)
        page.fill(f'input[name="a-{n}-email"]', email)
        page.select_option(f'select[name="a-{n}-occupation"]', occupation)
    # The htmx button adds a fourth row in place; leaving it blank is allowed.
    page.get_by_role("button", name="申込者を追加").click()
    page.locator('input[name="a-3-name"]').wait_for()
    page.select_option('select[name="question_to"]', "doctor")
    page.get_by_label("聞いてみたい内容").fill("夜間の急変時、主治医への連絡の目安を知りたいです。")
    page.get_by_label("いただいた情報を研修の運営のため主催者が共有することに同意します").check()
    screenshot(page, "events-apply-form")
    page.get_by_role("button", name="申し込む").click()

    page.get_by_text("申込を受け付けました").wait_for()
    expect(page.get_by_text("キャンセル待ち 1番目")).to_be_visible()
    assert page.locator("text=参加確定").count() == 2
    screenshot(page, "events-application-waiting")
    app = Application.objects.get(contact_email="tsubasa@example.jp")
    third = app.applicants.get(name="理学 三郎")
    assert third.status == Applicant.Status.WAITLISTED
    assert app.applicants.get(name="看護 次郎").kana == "かんご じろう"

    page.goto(live_server.url + first.get_absolute_url())
    # Cancelling asks first (issue 9 §3): the link opens the confirmation, its button cancels.
    page.get_by_role("link", name="この方の申込を取り消す").first.click()
    page.get_by_role("heading", name="取消の確認").wait_for()
    page.get_by_role("button", name="取り消す").click()
    page.get_by_text("申込を取り消しました").wait_for()

    third.refresh_from_db()
    assert third.status == Applicant.Status.CONFIRMED
    promoted = [m for m in mail.outbox if "参加確定のお知らせ" in m.subject]
    # One message each: the promoted colleague (their own link) and the office's contact.
    assert sorted(m.to[0] for m in promoted) == ["saburo@example.jp", "tsubasa@example.jp"]
    page.goto(live_server.url + app.get_absolute_url())
    assert page.locator("text=参加確定").count() == 3
    screenshot(page, "events-application-promoted")
