"""Bad input on the two long forms of issue 9 §2, at phone (390 px) and desktop width: the
facility's answer to a placement request and the desk's consultation record. The Japanese
message stands beside the field in error, what was typed is still there, nothing is saved.

Screenshots go to docs/screenshots/ with RENKEI_SCREENSHOTS=1.
"""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from renkei.accounts.models import OrgKind, Role
from renkei.desk.models import Consultation
from renkei.desk.testing import make_desk, make_desk_member
from renkei.desk.vocabulary import ensure_default_topics
from renkei.directory.models import FacilityKind, VacancyStatus
from renkei.referrals.models import RequestStatus
from renkei.referrals.testing import make_case, make_hospital, make_receiver, send
from renkei.testing import DEMO_PASSWORD, make_org
from tests.browser.conftest import screenshot, second_factor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}


def login(pg, live_server, username: str, next_url: str) -> None:  # type: ignore[no-untyped-def]
    # A busy machine makes pages slow; slowness is not what these tests look at.
    pg.set_default_timeout(30_000)
    pg.context.clear_cookies()
    pg.goto(f"{live_server.url}/accounts/login/?next={next_url}")
    pg.get_by_label("ログインID").fill(username)
    pg.get_by_label("パスワード").fill(DEMO_PASSWORD)
    pg.get_by_role("button", name="ログイン").click()
    second_factor(pg)
    pg.wait_for_url(re.compile(re.escape(next_url.split("?")[0])))


def beside(pg, name: str):  # type: ignore[no-untyped-def]
    """The messages shown in the field (or fieldset) that holds the input called `name`."""
    holder = pg.locator(".field.has-error").filter(has=pg.locator(f"[name={name}]"))
    return holder.locator(".errorlist")


@pytest.mark.parametrize("size", SIZES)
def test_a_refused_answer_keeps_what_was_typed(page, live_server, size: str) -> None:  # type: ignore[no-untyped-def]
    msw = make_hospital("湘南さくら総合病院（仮名）", username="msw")
    facility, _ = make_receiver(
        "特養なぎさ苑（仮名）",
        FacilityKind.TOKUYO,
        username="nagisa",
        vacancy=VacancyStatus.AVAILABLE,
        confirmed_days_ago=1,
    )
    req = send(make_case(msw), msw, [facility])[0]
    page.set_viewport_size(SIZES[size])
    login(page, live_server, "nagisa", f"/referrals/requests/{req.code}/")

    # 条件付きで可 without the condition: refused beside the conditions, the note kept.
    page.get_by_label("条件付きで可", exact=True).check()
    page.get_by_label("補足").fill("来週月曜から受入れ可能です。")
    page.get_by_role("button", name="回答を送信").click()
    message = beside(page, "conditions")
    message.wait_for()
    assert message.inner_text() == "条件付きで可の場合は、条件を入力してください"
    expect(message).to_be_visible()
    assert page.get_by_label("条件付きで可", exact=True).is_checked()
    assert page.get_by_label("補足").input_value() == "来週月曜から受入れ可能です。"

    # A condition with a phone number in it: screened, refused beside it, the text kept to fix.
    condition = "夜間の吸引は長女（090-1234-5678）に確認のうえで"
    page.locator("[name=conditions]").fill(condition)
    page.get_by_role("button", name="回答を送信").click()
    page.wait_for_load_state()
    message = beside(page, "conditions")
    message.wait_for()
    assert "電話番号" in message.inner_text()
    assert page.locator("[name=conditions]").input_value() == condition
    assert page.get_by_label("補足").input_value() == "来週月曜から受入れ可能です。"
    # The summary at the top names the field too, linked to it.
    expect(page.locator(".error-summary a[href='#id_conditions']")).to_be_visible()
    screenshot(page, f"referrals-answer-refused-{size}", full_page=size == "phone")

    # Opened (既読), not answered.
    req.refresh_from_db()
    assert (req.status, req.answer, req.answered_at, req.conditions) == (
        RequestStatus.READ,
        "",
        None,
        "",
    )


@pytest.mark.parametrize("size", SIZES)
def test_a_refused_consultation_keeps_what_was_typed(page, live_server, size: str) -> None:  # type: ignore[no-untyped-def]
    ensure_default_topics()
    operator = make_org("海老名市医師会", OrgKind.MEDICAL_ASSOCIATION, municipality_code="142158")
    desk = make_desk("えびな在宅医療相談室", organization=operator)
    make_desk_member(desk, Role.COUNSELOR, username="soudan")
    page.set_viewport_size(SIZES[size])
    login(page, live_server, "soudan", f"/desk/{desk.code}/consultations/new/")

    # Everything but what the consultation was about (相談内容, required).
    page.get_by_role("radio", name="電話").check()
    page.get_by_role("radio", name="ケアマネジャー").check()
    page.get_by_role("radio", name="入退院支援").check()
    summary = "退院後の点滴管理ができる訪問看護を探している。"
    page.locator("textarea[name=summary]").fill(summary)
    page.get_by_label("相談対象者の氏名").fill("相談 太郎（仮名）")
    page.get_by_label("同意あり").check()
    page.get_by_label("同意の確認日").fill(timezone.localdate().isoformat())
    page.get_by_role("button", name="登録する").click()

    message = beside(page, "topics")
    message.wait_for()
    assert message.inner_text() == "相談内容の分類を1つ以上選んでください"
    expect(message).to_be_visible()
    assert page.locator("textarea[name=summary]").input_value() == summary
    assert page.get_by_label("相談対象者の氏名").input_value() == "相談 太郎（仮名）"
    assert page.get_by_role("radio", name="電話").is_checked()
    assert page.get_by_role("radio", name="ケアマネジャー").is_checked()
    assert page.get_by_label("同意あり").is_checked()
    assert (
        page.locator(".error-summary").get_by_text("相談内容の分類を1つ以上選んでください").count()
    )
    message.scroll_into_view_if_needed()
    screenshot(page, f"desk-consultation-refused-{size}", full_page=False)

    assert not Consultation.objects.exists()
