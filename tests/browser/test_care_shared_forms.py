"""A care manager fills in and sends a 入院時情報提供書; the hospital reads it and the care
manager sees the receipt; the form prints on A4 like the paper (issue 13 §4 and §7)."""

from __future__ import annotations

import re

import pytest

from renkei.accounts.models import OrgKind, Role
from renkei.care.actions import emergency as em
from renkei.care.models import SharedForm, TeamRole
from renkei.care.testing import add_to_team, make_consent, make_patient
from renkei.testing import make_member, make_org
from tests.browser.conftest import screenshot, signed_in

pytestmark = pytest.mark.django_db(transaction=True)


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


def test_care_manager_sends_admission_info_and_the_hospital_reads_it(page, live_server) -> None:  # type: ignore[no-untyped-def]
    clinic = make_org("えびな在宅クリニック", OrgKind.CLINIC, municipality_code="142158")
    clinic.phone = "046-200-1111"
    clinic.save()
    office = make_org(
        "海老名ケアプランセンター", OrgKind.CARE_MANAGEMENT, municipality_code="142158"
    )
    office.phone = "046-200-3333"
    office.save()
    hospital = make_org("厚木中央病院", OrgKind.HOSPITAL, municipality_code="142123")
    doctor = make_member(clinic, Role.DOCTOR, username="dr_sato", display_name="佐藤 医師（仮名）")
    cm = make_member(
        office, Role.CARE_MANAGER, username="cm_suzuki", display_name="鈴木 ケアマネ（仮名）"
    )
    msw = make_member(hospital, Role.MSW, username="msw_kato", display_name="加藤 MSW（仮名）")
    p = make_patient(doctor, name="連携 花子（仮名）")
    make_consent(p, by=doctor)
    add_to_team(p, cm, by=doctor, team_role=TeamRole.CARE_MANAGER)
    add_to_team(p, msw, by=doctor, team_role=TeamRole.HOSPITAL_LIAISON)
    em.save_sheet(
        p,
        by=doctor,
        data=em.SheetInput.model_validate(
            {
                "medicines": "フロセミド 20mg 朝1錠\nアムロジピン 5mg 朝1錠",
                "diagnoses": "慢性心不全",
            }
        ),
    )

    # The care manager drafts the form from the record, on a desktop.
    signed_in(page.context, live_server, cm)
    page.goto(f"{live_server.url}/care/p/{p.code}/forms/")
    page.select_option("#id_kind", "admission")
    page.fill("#id_admission_date", "2026-12-01")
    page.click("button:has-text('下書きを作る')")
    page.wait_for_url(re.compile(r"/edit/$"))
    assert page.input_value("#id_patient_name") == "連携 花子（仮名）"
    assert page.input_value("#id_hospital_name") == "厚木中央病院"
    assert "フロセミド" in page.input_value("#id_medicines")
    page.fill("#id_hospital_staff", "地域連携室 ご担当者様")
    page.check("input[name=housing][value=戸建て]")
    page.check("input[name=household][value=高齢者世帯]")
    page.fill("#id_main_carer", "連携 太郎（夫・84歳）")
    page.check("input[name=carer_capacity][value=介護力は見込めない]")
    page.fill(
        "#id_services",
        "訪問介護 週3回（入浴・買い物）\n通所介護 週2回\n福祉用具貸与（特殊寝台・車いす）",
    )
    page.fill("#id_home_requirements", "退院前に自宅の段差解消と、夫の介護負担の軽減が必要です。")
    page.check("input[name=conference][value=退院前カンファレンスへの参加]")
    page.check("input[name=adl_move][value=一部介助]")
    page.check("input[name=procedures][value=酸素療法]")
    screenshot(page, "care-form-admission-edit")
    page.click("button:has-text('保存する')")
    page.wait_for_url(re.compile(r"/forms/[0-9a-f-]+/$"))
    assert "第2版" in page.content()
    page.select_option("#id_recipient", label="厚木中央病院")
    page.click("button:has-text('送付する')")
    page.wait_for_selector("#receipt:has-text('送付済み')")
    sf = SharedForm.objects.get(patient=p)
    assert sf.sent_version == 2 and sf.read_at is None

    # The hospital's 連携室 finds it in its inbox and opens it.
    other = page.context.browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="ja-JP", timezone_id="Asia/Tokyo"
    )
    try:
        hp = other.new_page()
        signed_in(other, live_server, msw)
        hp.goto(f"{live_server.url}/care/forms/")
        hp.click("a:has-text('入院時情報提供書')")
        hp.wait_for_selector("#receipt:has-text('受領済み')")
        assert "☑戸建て" in hp.content() and "☑酸素療法" in hp.content()
        screenshot(hp, "care-form-admission-received")
    finally:
        other.close()

    # The care manager sees the receipt.
    page.reload()
    receipt = page.inner_text("#receipt")
    assert "受領済み" in receipt and "加藤 MSW（仮名）" in receipt
    screenshot(page, "care-form-admission-receipt", full_page=False)

    # Printed like the paper form: A4, the 様式例 spreads over two pages at most.
    page.goto(f"{live_server.url}/care/p/{p.code}/forms/{sf.code}/print/")
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
    assert 1 <= _pages(pdf) <= 2, f"printed on {_pages(pdf)} pages"
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    screenshot(page, "care-form-admission-a4")
