from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from renkei.accounts.models import Role
from renkei.oncall.models import Rota, Shift, SwapStatus
from renkei.oncall.testing import make_clinic, make_organiser, make_rota, publish
from renkei.testing import DEMO_PASSWORD, make_member
from tests.browser.conftest import screenshot, second_factor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(page, live_server, username: str, next_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server.url}/accounts/login/?next={next_url}")
    page.get_by_label("ログインID").fill(username)
    page.get_by_label("パスワード").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    second_factor(page)


def _next_month() -> str:
    return f"{(timezone.localdate().replace(day=1) + dt.timedelta(days=32)):%Y-%m}"


def test_organiser_draws_publishes_and_prints_a_month_on_one_a4_page(page, live_server) -> None:  # type: ignore[no-untyped-def]
    """The 医師会 draws next month's draft (asked first what it does), publishes it (asked
    first who will be told), and prints the month: one A4 page, holidays named."""
    organiser = make_organiser("県央みらい医師会（仮名）", username="ishikai")
    clinics = [make_clinic(f"見本在宅クリニック{c}（仮名）") for c in "ABCDE"]
    rota = make_rota(organiser, clinics, name="県央地区 夜間・休日当番医")
    month = _next_month()
    _login(page, live_server, "ishikai", f"/oncall/rotas/{rota.code}/?month={month}")
    page.get_by_role("link", name="この月の下書きを作る").click()
    page.get_by_text("公平に割り当てます").wait_for()
    page.get_by_role("button", name="下書きを作る").click()
    page.get_by_text("の当番表（下書き）を作成しました。").wait_for()
    page.get_by_role("link", name="公開する").click()
    page.get_by_text("公開すると、参加機関に当番表が見えるようになり").wait_for()
    screenshot(page, "oncall-publish-confirm")
    page.get_by_role("button", name="公開する").click()
    page.get_by_text("参加機関に知らせました").wait_for()
    assert Shift.objects.filter(rota=rota, month__status="published").count() > 28
    page.get_by_role("link", name="印刷用（A4）").click()
    page.get_by_role(
        "heading", name=f"県央地区 夜間・休日当番医 {int(month[:4])}年{int(month[5:])}月"
    ).wait_for()
    page.set_viewport_size({"width": 794, "height": 1123})
    screenshot(page, "oncall-month-print-a4")
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.count(b"/Type /Pages") == 1
    pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    assert pages == 1, f"the month's rota prints on {pages} A4 pages"


def test_a_clinic_asks_for_a_swap_on_a_phone_and_the_other_accepts(browser, live_server) -> None:  # type: ignore[no-untyped-def]
    organiser = make_organiser("県央みらい医師会（仮名）", username="ishikai")
    clinics = [make_clinic(f"見本在宅クリニック{c}（仮名）") for c in "ABC"]
    rota: Rota = make_rota(organiser, clinics, name="県央地区 夜間・休日当番医", swap_freely=True)
    make_member(clinics[0], Role.DOCTOR, username="dr-a", display_name="在宅 一郎（仮名）")
    make_member(clinics[1], Role.DOCTOR, username="dr-b", display_name="訪問 二郎（仮名）")
    publish(rota, organiser, _next_month())
    first = (
        Shift.objects.filter(rota=rota, member__organization=clinics[0])
        .order_by("starts_at")
        .first()
    )
    assert first is not None
    phone = {
        "viewport": {"width": 390, "height": 844},
        "locale": "ja-JP",
        "timezone_id": "Asia/Tokyo",
    }

    contexts = [browser.new_context(**phone), browser.new_context(**phone)]
    try:
        _swap_on_phones(contexts, live_server, rota, clinics, first)
    finally:
        # Closed before the live server stops, so no request is still in flight.
        for c in contexts:
            c.close()


def _swap_on_phones(contexts, live_server, rota, clinics, first) -> None:  # type: ignore[no-untyped-def]
    a = contexts[0].new_page()
    _login(a, live_server, "dr-a", "/oncall/")
    a.get_by_role("link", name="交代を頼む").first.click()
    a.get_by_label("代わりに入ってもらう医療機関").select_option(
        label="見本在宅クリニックB（仮名）"
    )
    a.get_by_label("ひとこと（任意）").fill("学会出張のため、お願いできますか")
    screenshot(a, "oncall-swap-request-phone")
    a.get_by_role("button", name="交代を頼む").click()
    a.get_by_text("交代をお願いしました").wait_for()

    b = contexts[1].new_page()
    _login(b, live_server, "dr-b", "/oncall/")
    b.get_by_role(
        "link", name="見本在宅クリニックA（仮名） → 見本在宅クリニックB（仮名）", exact=False
    ).click()
    b.get_by_text("学会出張のため").wait_for()
    screenshot(b, "oncall-swap-answer-phone")
    b.get_by_role("button", name="引き受ける").click()
    b.get_by_text("回答しました: 交代済み").wait_for()
    first.refresh_from_db()
    assert first.member is not None and first.member.organization == clinics[1]
    assert first.swaps.get().status == SwapStatus.DONE
    # Her own upcoming duties now list the night she took over.
    expect(b.get_by_text(rota.name).first).to_be_visible()
