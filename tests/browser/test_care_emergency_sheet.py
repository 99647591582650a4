"""The emergency information sheet prints on ONE A4 page for the fridge (issue 13 §5)."""

from __future__ import annotations

import re

import pytest

from renkei.accounts.models import OrgKind, Role
from renkei.care.actions import emergency as em
from renkei.care.testing import add_to_team, make_consent, make_patient
from renkei.testing import make_member, make_org
from tests.browser.conftest import screenshot, signed_in

pytestmark = pytest.mark.django_db(transaction=True)

LONG_SHEET = {
    "diagnoses": "慢性心不全（2019年〜、NYHA III）\n2型糖尿病（インスリン使用）\n脳梗塞後遺症（2021年、右半身まひ）\n慢性腎臓病 ステージ3",
    "medicines": "フロセミド 20mg 朝1錠\nスピロノラクトン 25mg 朝1錠\nインスリン グラルギン 8単位 就寝前\nクロピドグレル 75mg 朝1錠（抗血小板薬：出血に注意）\nアムロジピン 5mg 朝1錠",
    "allergies": "ペニシリン系抗菌薬（全身の発疹、2015年）\nヨード造影剤（じんましん）",
    "family_doctor": "えびな在宅クリニック 佐藤医師 046-200-1111（24時間対応）",
    "resuscitation": "no_cpr",
    "resuscitation_confirmed_on": "2026-11-01",
    "notes": "右耳が遠い（左側から話しかけてください）。在宅酸素 2L/分。猫が1匹います。",
}


def test_sheet_prints_on_one_a4_page(page, live_server) -> None:  # type: ignore[no-untyped-def]
    clinic = make_org("えびな在宅クリニック", OrgKind.CLINIC, municipality_code="142158")
    clinic.phone = "046-200-1111"
    clinic.save()
    station = make_org(
        "海老名訪問看護ステーション", OrgKind.VISITING_NURSE, municipality_code="142158"
    )
    station.phone = "046-200-2222"
    station.save()
    doctor = make_member(clinic, Role.DOCTOR, username="dr_sato", display_name="佐藤 医師（仮名）")
    nurse = make_member(
        station, Role.VISITING_NURSE, username="ns_tanaka", display_name="田中 看護師（仮名）"
    )
    p = make_patient(
        doctor,
        name="連携 花子（仮名）",
        emergency_contacts="長男 連携 一郎 090-0000-0001\n長女 連携 桜 090-0000-0002",
    )
    make_consent(p, by=doctor)
    add_to_team(p, nurse, by=doctor)
    em.save_sheet(p, by=doctor, data=em.SheetInput.model_validate(LONG_SHEET))

    signed_in(page.context, live_server, doctor)
    page.goto(f"{live_server.url}/care/p/{p.code}/emergency/print/")
    assert page.locator("svg").count() >= 1
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    assert pages == 1, f"the sheet printed on {pages} pages"
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    screenshot(page, "care-emergency-sheet-a4")
    page.emulate_media(media="screen")

    # The crew scans the QR code: the URL is in the code only, so open it through the action.
    token = em.issue_ambulance_code(p, by=doctor)
    crew = page.context.browser.new_context(viewport={"width": 390, "height": 844}, locale="ja-JP")
    crew_page = crew.new_page()
    crew_page.goto(f"{live_server.url}/care/e/{token}/")
    assert "心肺蘇生・挿管は望まない" in crew_page.content()
    screenshot(crew_page, "care-emergency-ambulance-390")
    crew.close()
