"""Courses, specialist dispatch: a nurse applies to round 2 on a phone; the organiser checks
attendance for day 2 and prints the certificates; a municipality requests a specialist."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from renkei.accounts.models import Membership, OrgKind, Role
from renkei.courses import actions, completion, dispatch
from renkei.courses.models import (
    Certificate,
    Course,
    CourseRound,
    DispatchRequest,
    Enrolment,
    SpecialistKind,
)
from renkei.courses.testing import course_application, make_course, nurse, two_day_round
from renkei.testing import DEMO_PASSWORD, make_member, make_org
from tests.browser.conftest import screenshot, second_factor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
# The first page of a live server compiles templates; on a busy machine that takes seconds.
SLOW = 30_000


def _prefecture_officer() -> Membership:
    pref = make_org("神奈川県 在宅医療・介護連携担当", OrgKind.PREFECTURE, prefecture_code="14")
    return make_member(
        pref, Role.PREFECTURAL_OFFICER, username="ken-kenshu", password=DEMO_PASSWORD
    )


def _sign_in(page: Any, live_server: Any, username: str, next_url: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/?next={next_url}")
    page.get_by_label("ログインID").fill(username)
    page.get_by_label("パスワード").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    second_factor(page)


def test_a_nurse_applies_to_round_two_on_a_phone(page: Any, live_server: Any) -> None:
    page.set_default_timeout(SLOW)
    officer = _prefecture_officer()
    course = make_course(officer, title="訪問看護導入研修")
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="研修コース（複数回・修了証あり）").click()
    page.get_by_role("link", name="訪問看護導入研修").click()
    page.get_by_role("link", name="第2回に申し込む").click()
    page.get_by_label("事業所名").fill("みなと訪問看護ステーション（仮名）")
    page.get_by_label("勤務先の種別").select_option("visiting_nurse")
    page.get_by_label("勤務先の市区町村コード（6桁、任意）").fill("142158")
    page.get_by_label("事業所連絡担当者").fill("看護 花子")
    page.get_by_label("事業所メールアドレス").fill("minato@example.jp")
    page.get_by_label("事業所電話番号").fill("046-000-0456")
    page.fill('input[name="a-0-name"]', "看護 花子")
    page.fill('input[name="a-0-kana"]', "かんご はなこ")
    page.fill('input[name="a-0-email"]', "hanako@example.jp")
    page.select_option('select[name="a-0-occupation"]', "nurse")
    page.fill('input[name="a-0-years_experience"]', "2")
    page.get_by_label("いただいた情報を研修の運営のため主催者が共有することに同意します").check()
    screenshot(page, "courses-apply-round2-phone")
    page.get_by_role("button", name="申し込む").click()
    page.get_by_text("申込を受け付けました").wait_for()
    page.get_by_role("heading", name="受講状況").wait_for()
    screenshot(page, "courses-progress-phone")
    enrolment = Enrolment.objects.select_related("round").get()
    assert enrolment.round.number == 2 and enrolment.years_experience == 2
    assert enrolment.round.course == course


def test_the_organiser_checks_day_two_and_prints_certificates(page: Any, live_server: Any) -> None:
    page.set_default_timeout(SLOW)
    officer = _prefecture_officer()
    first = timezone.localdate() - dt.timedelta(days=10)
    course = make_course(officer, rounds=[two_day_round(1, first)])
    rnd = course.rounds.get()
    app, _ = actions.apply(
        rnd,
        course_application([nurse(i) for i in range(3)]),
        notify=False,
        now=rnd.event.starts_at - dt.timedelta(days=20),
    )
    people = list(app.applicants.order_by("position"))
    day1, day2 = list(rnd.sessions.all())
    for p in people:
        completion.set_session_attendance(
            day1, completion.SessionAttendanceInput(applicant=p.code, attended=True), by=officer
        )

    _sign_in(page, live_server, "ken-kenshu", "/courses/manage/")
    page.get_by_role("link", name="第1回").click()
    page.get_by_role("link", name="2日目").click()
    page.get_by_role("heading", name="出席簿").wait_for()
    rows = page.locator(".att-row")
    for i in range(2):  # two of three come on day 2
        rows.nth(i).get_by_role("button", name="出席にする").click()
        page.locator(".att-row").nth(i).get_by_role("button", name="出席済み").wait_for()
    screenshot(page, "courses-attendance-day2")
    page.get_by_role("link", name="この日の出席簿を印刷（A4）").click()
    expect(page.get_by_role("heading", name="出席簿 2日目／全2日")).to_be_visible()
    expect(page.get_by_text("出席 2名／参加確定 3名")).to_be_visible()
    screenshot(page, "courses-attendance-day2-sheet")
    page.go_back()
    page.get_by_role("link", name="第1回").first.click()
    page.get_by_role("button", name="修了証を発行する").click()
    page.get_by_text("修了証を2件発行しました").wait_for()
    screenshot(page, "courses-round-completion")
    assert sorted(Certificate.objects.values_list("number", flat=True)) == [1, 2]
    page.get_by_role("link", name="修了証を印刷（A4）").click()
    page.get_by_role("heading", name="修了証").first.wait_for()
    assert page.locator("article.cert").count() == 2
    screenshot(page, "courses-certificates-a4")


def test_a_municipality_requests_a_specialist(page: Any, live_server: Any) -> None:
    page.set_default_timeout(SLOW)
    officer = _prefecture_officer()
    dispatch.add_specialist(
        dispatch.SpecialistInput(
            name="理学 療子（仮名）",
            kind=SpecialistKind.REHAB,
            affiliation="県央リハビリテーション病院（仮名）",
            email="ryoko@example.jp",
            areas=["142123"],
        ),
        by=officer,
    )
    city = make_org("厚木市 介護福祉課", OrgKind.MUNICIPALITY, municipality_code="142123")
    make_member(city, Role.MUNICIPAL_OFFICER, username="atsugi-kaigo", password=DEMO_PASSWORD)
    day = timezone.localdate() + dt.timedelta(days=14)

    _sign_in(page, live_server, "atsugi-kaigo", "/courses/dispatch/")
    page.get_by_role("link", name="専門職の派遣を依頼する").click()
    page.get_by_label("希望日").fill(day.isoformat())
    page.get_by_label("開始時刻").fill("14:00")
    page.get_by_label("終了時刻").fill("16:00")
    page.get_by_label("目的").select_option("care_meeting")
    page.get_by_label("希望する職種").select_option("rehab")
    page.get_by_label("場所").fill("厚木市役所 第3会議室")
    page.get_by_label("内容・参加予定者など").fill("自立支援型地域ケア会議の助言者（事例2件）")
    screenshot(page, "dispatch-request-form")
    page.get_by_role("button", name="依頼する").click()
    page.get_by_text("派遣を依頼しました").wait_for()
    screenshot(page, "dispatch-requested")
    req = DispatchRequest.objects.get()
    assert req.status == "requested" and req.municipality.code == "142123"

    page.context.clear_cookies()
    _sign_in(page, live_server, "ken-kenshu", req.get_absolute_url())
    page.get_by_label("派遣する専門職").select_option(
        label="理学 療子(仮名)（リハ職（PT・OT・ST））｜県央リハビリテーション病院(仮名)"
    )
    page.get_by_role("button", name="決定して連絡する").click()
    page.get_by_text("調整結果を記録し").wait_for()
    screenshot(page, "dispatch-confirmed")
    req.refresh_from_db()
    assert req.status == "confirmed" and req.specialist is not None


def test_an_organiser_sets_up_a_course_on_a_phone(page: Any, live_server: Any) -> None:
    """Course → round with its first day → a second day → publish, all on a phone; a round
    with no applicant is deleted after confirming."""
    page.set_default_timeout(SLOW)
    _prefecture_officer()
    first = timezone.localdate() + dt.timedelta(days=30)
    page.set_viewport_size(PHONE)
    _sign_in(page, live_server, "ken-kenshu", "/courses/manage/")
    page.get_by_role("link", name="新しい研修コース").click()
    page.get_by_label("研修名").fill("医療的ケア児等支援者養成研修")
    page.get_by_label("内容", exact=True).fill("2回開催、各回2日間。講義と演習。")
    page.get_by_label("看護職", exact=True).check()
    page.get_by_label("修了証番号の記号").fill("医ケア")
    page.get_by_label("公開する（回を1つ以上登録してから）").check()
    page.get_by_role("button", name="作成する").click()
    page.get_by_text("公開するには、回を1つ以上登録してください").first.wait_for()
    assert page.get_by_label("研修名").input_value() == "医療的ケア児等支援者養成研修"
    screenshot(page, "courses-setup-refused-phone")
    page.get_by_label("公開する（回を1つ以上登録してから）").uncheck()
    page.get_by_role("button", name="作成する").click()
    page.get_by_text("研修コースを作成しました").wait_for()

    page.get_by_role("link", name="回を追加").click()
    page.get_by_label("定員").fill("40")
    page.get_by_label("申込期限").fill(f"{(first - dt.timedelta(days=7)).isoformat()}T17:00")
    page.get_by_label("日付").fill(first.isoformat())
    page.get_by_label("開始時刻").fill("09:30")
    page.get_by_label("終了時刻").fill("16:30")
    page.get_by_label("会場").fill("県総合医療会館 2階 講堂")
    screenshot(page, "courses-setup-round-phone")
    page.get_by_role("button", name="追加する").click()
    page.get_by_text("回を追加しました").wait_for()
    page.get_by_role("link", name="日程を追加").click()
    page.get_by_label("日付").fill((first + dt.timedelta(days=1)).isoformat())
    page.get_by_label("開始時刻").fill("09:30")
    page.get_by_label("終了時刻").fill("16:30")
    page.get_by_label("形式").select_option("practicum")
    page.get_by_label("オンライン").check()
    page.get_by_role("button", name="追加する").click()
    page.get_by_text("日程を追加しました").wait_for()
    screenshot(page, "courses-setup-round-page-phone")
    rnd = CourseRound.objects.select_related("event").get()
    assert rnd.sessions.count() == 2 and rnd.event.capacity == 40

    page.get_by_role("link", name="医療的ケア児等支援者養成研修").first.click()
    page.get_by_role("link", name="設定を変更").click()
    page.get_by_label("公開する（回を1つ以上登録してから）").check()
    page.get_by_role("button", name="保存する").click()
    page.get_by_text("研修コースを保存しました").wait_for()
    screenshot(page, "courses-setup-course-page-phone")
    assert Course.objects.get().published

    page.get_by_role("link", name="第1回").click()
    page.get_by_role("link", name="回を削除").click()
    page.get_by_role("heading", name="削除しますか").wait_for()
    screenshot(page, "courses-setup-confirm-delete-phone")
    page.get_by_role("button", name="削除する").click()
    page.get_by_text("を削除しました").wait_for()
    assert not CourseRound.objects.exists()
