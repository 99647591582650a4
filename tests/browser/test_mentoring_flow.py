from __future__ import annotations

import re

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from renkei.lib.dates import fiscal_year
from renkei.mentoring.models import ApplicationStatus, TraineeApplication
from renkei.mentoring.testing import make_mentor, make_office_member, make_program
from renkei.testing import DEMO_PASSWORD
from tests.browser.conftest import screenshot, second_factor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_office_matches_a_ride_along_and_both_sides_report(page, live_server, settings) -> None:  # type: ignore[no-untyped-def]
    """A trainee applies, the office picks the suggested mentor, the notices go out, and the
    mentor and the trainee each register the day and file a report through their own link."""
    settings.SITE_URL = live_server.url
    today = timezone.localdate()
    program = make_program(fiscal_year=fiscal_year(today), planned_count=10)
    make_office_member(program, "office")
    mentor = make_mentor(
        program.organizer, "指導 一郎（仮名）", area_codes=["142018"], weekdays=[today.weekday()]
    )

    page.goto(f"{live_server.url}/mentoring/p/{program.code}/apply/")
    page.get_by_label("氏名").fill("受講 花子（仮名）")
    page.get_by_label("ふりがな").fill("じゅこう はなこ")
    page.get_by_label("診療所医師（在宅医療未経験）").check()
    page.get_by_label("所属（医療機関・事業所名）").fill("見本診療所（仮名）")
    page.get_by_label("メールアドレス").fill("hanako@example.jp")
    page.get_by_label("電話番号").fill("046-000-0001")
    page.get_by_label("希望する地域（複数可）").select_option(label="横須賀市")
    page.get_by_role("button", name="申し込む").click()
    page.get_by_text("申込みを受け付けました").first.wait_for()

    page.goto(live_server.url + "/accounts/login/?next=/mentoring/")
    page.get_by_label("ログインID").fill("office")
    page.get_by_label("パスワード").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    second_factor(page)
    page.get_by_role("link", name="受講 花子（仮名）").click()
    expect(page.get_by_text("希望地域に対応（1/1地域）")).to_be_visible()
    screenshot(page, "mentoring-suggestions")
    page.get_by_role("button", name="この指導医に決定し、決定連絡票を送る").click()
    page.get_by_text("決定連絡票を指導医と受講者にメールで送りました").wait_for()

    links = {}
    for message in mail.outbox:
        found = re.findall(r"(http://\S+/mentoring/r/[^\s/]+/)\s", str(message.body))
        if found:
            links[message.to[0]] = found[0]
    assert set(links) == {mentor.email, "hanako@example.jp"}

    for who, text in (
        (mentor.email, "訪問診療3件に同行。"),
        ("hanako@example.jp", "看取りの実際を学んだ。"),
    ):
        page.goto(links[who])
        if who == mentor.email:
            page.get_by_label("研修日").fill(today.isoformat())
            page.get_by_role("button", name="研修日を登録").click()
            page.get_by_text("研修日を登録しました。").wait_for()
        page.get_by_label("報告").fill(text)
        page.get_by_role("button", name="報告を提出する").click()
        page.get_by_text("報告を受け付けました").wait_for()
    screenshot(page, "mentoring-trainee-report")
    assert TraineeApplication.objects.get().status == ApplicationStatus.REPORTED
