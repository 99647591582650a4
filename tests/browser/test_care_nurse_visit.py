"""A visiting nurse posts a visit note from the patient list on a phone (issue 13 §3, §6)."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.utils import timezone

from renkei.accounts.models import OrgKind, Role
from renkei.care.models import Post
from renkei.care.testing import add_to_team, make_consent, make_patient, make_post
from renkei.testing import make_member, make_org
from tests.browser.conftest import phone, screenshot, signed_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_nurse_posts_a_visit_note_from_the_list_at_390px(browser, live_server) -> None:  # type: ignore[no-untyped-def]
    clinic = make_org("えびな在宅クリニック", OrgKind.CLINIC, municipality_code="142158")
    station = make_org(
        "海老名訪問看護ステーション", OrgKind.VISITING_NURSE, municipality_code="142158"
    )
    doctor = make_member(clinic, Role.DOCTOR, username="dr_sato", display_name="佐藤 医師（仮名）")
    nurse = make_member(
        station, Role.VISITING_NURSE, username="ns_tanaka", display_name="田中 看護師（仮名）"
    )
    patients = []
    for name, kana in [
        ("連携 花子（仮名）", "れんけい はなこ"),
        ("見本 太郎（仮名）", "みほん たろう"),
    ]:
        p = make_patient(doctor, name=name, kana=kana)
        make_consent(p, by=doctor)
        add_to_team(p, nurse, by=doctor)
        make_post(p, doctor, body="往診しました。変わりありません。")
        patients.append(p)
    hanako = patients[0]

    context = phone(browser)
    signed_in(context, live_server, nurse)
    pg = context.new_page()
    pg.goto(f"{live_server.url}/care/")
    screenshot(pg, "care-nurse-list-390")

    started = time.monotonic()
    # 1 tap: the patient's 「訪問記録」 button opens the form on a visit note.
    pg.get_by_role("link", name=f"{hanako.name}さんの訪問記録を書く").click()
    assert pg.locator("#id_category").input_value() == "visit"
    # 2–3: what happened, the next visit (the 加算 items are already open).
    pg.fill("#id_body", "定期訪問。血圧132/78、SpO2 95%。食事は8割摂取。")
    next_visit = timezone.localdate() + dt.timedelta(days=3)
    pg.fill("#id_next_visit", next_visit.isoformat())
    pg.fill("#id_care_points", "水分1日1,000mLを目安に。")
    # 4: post.
    pg.get_by_role("button", name="投稿する").click()
    pg.wait_for_selector("text=投稿しました")
    elapsed = time.monotonic() - started
    assert elapsed < 30, f"{elapsed:.1f}s"

    post = Post.objects.filter(patient=hanako, author=nurse).get()
    assert post.category == "visit" and post.next_visit == next_visit
    assert "SpO2 95%" in post.body
    # Nothing overflows sideways at 390 px.
    assert pg.evaluate("document.documentElement.scrollWidth") <= 390
    pg.set_viewport_size({"width": 390, "height": 844})
    screenshot(pg, "care-nurse-visit-posted-390", full_page=False)
    context.close()


def test_published_partner_list_page(page, live_server) -> None:  # type: ignore[no-untyped-def]
    """The page a clinic links from its web site: organisations only, printable."""
    from renkei.care.models import PartnerList

    clinic = make_org("えびな在宅クリニック（仮名）", OrgKind.CLINIC, municipality_code="142158")
    clinic.phone = "046-200-1111"
    clinic.save()
    doctor = make_member(clinic, Role.DOCTOR, username="dr_sato", display_name="佐藤 医師（仮名）")
    p = make_patient(doctor)
    make_consent(p, by=doctor)
    partners = [
        ("海老名訪問看護ステーション（仮名）", OrgKind.VISITING_NURSE, Role.VISITING_NURSE),
        ("綾瀬訪問看護ステーション（仮名）", OrgKind.VISITING_NURSE, Role.VISITING_NURSE),
        ("海老名中央薬局（仮名）", OrgKind.PHARMACY, Role.PHARMACIST),
        ("えびな居宅介護支援事業所（仮名）", OrgKind.CARE_PROVIDER, Role.CARE_MANAGER),
        ("座間ヘルパーステーション（仮名）", OrgKind.CARE_PROVIDER, Role.CARE_WORKER),
    ]
    for i, (name, kind, role) in enumerate(partners):
        org = make_org(name, kind, municipality_code="142158")
        add_to_team(
            p, make_member(org, role, username=f"p{i}", display_name=f"連携先{i}"), by=doctor
        )
    PartnerList.objects.create(organization=clinic, published=True, updated_by=doctor)
    page.set_viewport_size({"width": 794, "height": 1123})
    page.goto(f"{live_server.url}/care/partners/{clinic.code}/")
    text = page.content()
    assert all(name in text for name, _, _ in partners) and p.name not in text
    screenshot(page, "care-partner-list-public")
