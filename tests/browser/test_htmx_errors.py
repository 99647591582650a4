"""Refusals and failures of htmx forms are visible (issue 9 §2).

htmx swaps only 2xx answers by default: a refused vacancy update or question showed nothing
and looked saved. static/js/htmx-errors.js swaps the server's refusal (the form again, with
its Japanese message) and shows a message beside the form for a 5xx or a lost connection.
Each htmx form kind with bad input, on a phone (390 px) and a desktop.

Screenshots go to docs/screenshots/ with RENKEI_SCREENSHOTS=1.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from renkei.accounts.models import OrgKind, Role
from renkei.directory.models import Facility, VacancyStatus
from renkei.events.models import Applicant
from renkei.referrals.models import RequestMessage
from renkei.testing import DEMO_PASSWORD, make_facility, make_member, make_org
from tests.browser.conftest import screenshot, second_factor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
NETWORK = "通信できませんでした"
SERVER = "サーバーでエラーが発生しました"


def login(pg, live_server, username: str, next_url: str) -> None:  # type: ignore[no-untyped-def]
    # The machine running the suite may be busy: a slow page is not what is tested here.
    pg.set_default_timeout(30_000)
    pg.context.clear_cookies()
    pg.goto(f"{live_server.url}/accounts/login/?next={next_url}")
    pg.get_by_label("ログインID").fill(username)
    pg.get_by_label("パスワード").fill(DEMO_PASSWORD)
    pg.get_by_role("button", name="ログイン").click()
    second_factor(pg)
    pg.wait_for_url(re.compile(re.escape(next_url.split("?")[0])))


def _facility_staff() -> Facility:
    org = make_org("社会福祉法人 湘風会（仮名）", OrgKind.CARE_PROVIDER, municipality_code="142051")
    make_member(org, Role.COUNSELOR, username="tokuyo-staff", display_name="相談員 デモ")
    return make_facility(
        "特別養護老人ホーム 若葉の里（仮名）",
        organization=org,
        vacancy=VacancyStatus.AVAILABLE,
        vacancy_count=2,
        confirmed_days_ago=3,
    )


@pytest.mark.parametrize("size", SIZES)
def test_vacancy_refusal_failure_and_lost_connection(page, live_server, size: str) -> None:  # type: ignore[no-untyped-def]
    facility = _facility_staff()
    page.set_viewport_size(SIZES[size])
    login(page, live_server, "tokuyo-staff", f"/directory/{facility.code}/edit/")
    form = page.locator("#vacancy-form")

    # 満床 with 3 beds: the server's message appears in the form, nothing is saved.
    form.get_by_label("満床・受付停止").check()
    form.get_by_label("空き数（床・人）").fill("3")
    form.get_by_role("button", name="空き状況を更新").click()
    message = "満床の場合は空き数を0にするか空欄にしてください"
    # Beside the field (and again, linked, in the form's error summary).
    beside = page.locator("#vacancy-form").get_by_text(message, exact=True)
    beside.wait_for()
    expect(beside).to_be_visible()
    screenshot(page, f"htmx-error-vacancy-{size}", full_page=False)
    facility.refresh_from_db()
    assert (facility.vacancy_status, facility.vacancy_count) == (VacancyStatus.AVAILABLE, 2)

    # A 5xx: a visible Japanese message beside the form.
    page.route(re.compile(r".*/vacancy/$"), lambda route: route.fulfill(status=500, body="boom"))
    form = page.locator("#vacancy-form")
    form.get_by_label("空き数（床・人）").fill("0")
    form.get_by_role("button", name="空き状況を更新").click()
    alert = page.locator(".htmx-error[role=alert]")
    alert.wait_for()
    assert SERVER in alert.inner_text()
    screenshot(page, f"htmx-error-server-{size}", full_page=False)

    # The connection lost: another visible message, in place of the first.
    page.unroute(re.compile(r".*/vacancy/$"))
    page.route(re.compile(r".*/vacancy/$"), lambda route: route.abort("internetdisconnected"))
    page.locator("#vacancy-form").get_by_role("button", name="空き状況を更新").click()
    page.get_by_text(NETWORK).wait_for()
    assert page.locator(".htmx-error").count() == 1
    screenshot(page, f"htmx-error-network-{size}", full_page=False)
    facility.refresh_from_db()
    assert facility.vacancy_status == VacancyStatus.AVAILABLE


@pytest.mark.parametrize("size", SIZES)
def test_question_with_a_phone_number_is_refused_visibly(page, live_server, size: str) -> None:  # type: ignore[no-untyped-def]
    from renkei.directory.models import FacilityKind
    from renkei.referrals.testing import make_case, make_hospital, make_receiver, send

    msw = make_hospital("湘南さくら総合病院（仮名）", username="msw")
    facility, _ = make_receiver(
        "特養なぎさ苑（仮名）",
        FacilityKind.TOKUYO,
        username="nagisa",
        vacancy=VacancyStatus.AVAILABLE,
        confirmed_days_ago=1,
    )
    case = make_case(msw)
    request = send(case, msw, [facility])[0]
    page.set_viewport_size(SIZES[size])
    login(page, live_server, "nagisa", f"/referrals/requests/{request.code}/")
    thread = page.locator("#thread")
    thread.get_by_label("質問・回答").fill("ご家族の連絡先は 090-1234-5678 でよいですか")
    thread.get_by_role("button", name="送信").click()
    page.locator("#thread .errorlist, #thread [role=alert]").first.wait_for()
    text = page.locator("#thread").inner_text()
    assert "電話番号" in text
    screenshot(page, f"htmx-error-question-{size}", full_page=False)
    assert not RequestMessage.objects.exists()


@pytest.mark.parametrize("size", SIZES)
def test_attendance_refusal_is_shown_beside_the_row(page, live_server, size: str) -> None:  # type: ignore[no-untyped-def]
    from renkei.events.testing import make_application, make_event

    org = make_org("研修主催（テスト）", OrgKind.COORDINATION_CENTER, municipality_code="142158")
    make_member(org, Role.COUNSELOR, username="organiser")
    event = make_event(org)
    applicant = make_application(event, 1).applicants.get()
    page.set_viewport_size(SIZES[size])
    login(page, live_server, "organiser", f"/events/manage/{event.code}/attendance/")
    # Cancelled by the applicant while the list was open: the server refuses the toggle.
    Applicant.objects.filter(pk=applicant.pk).update(status=Applicant.Status.CANCELLED)
    row = page.locator(f"#att-{applicant.code}")
    row.get_by_role("button", name="出席にする").click()
    alert = page.locator(".htmx-error[role=alert]")
    alert.wait_for()
    assert "取消済みの申込者は出席にできません" in alert.inner_text()
    expect(page.locator(f"#att-{applicant.code}")).to_be_visible()
    screenshot(page, f"htmx-error-attendance-{size}", full_page=False)
    assert not Applicant.objects.get(pk=applicant.pk).attended
