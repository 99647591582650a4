"""The emergency sheet and the ambulance view show the cover chain (issue 14 §2/§3): 主治医,
its night line, the 副主治医, the region's duty doctor and the registered backup bed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from renkei.accounts.models import OrgKind, Role
from renkei.care.actions import emergency as em
from renkei.care.testing import make_consent, make_patient
from renkei.oncall import beds, cover
from renkei.oncall.models import BedScheme, DayType
from renkei.oncall.testing import make_clinic, make_organiser, make_rota, publish
from renkei.testing import make_member, make_org
from tests.browser.conftest import screenshot, signed_in

pytestmark = pytest.mark.django_db(transaction=True)

# Round the clock, so the duty line is there whenever the test runs; and two clinics on the rota,
# because a clinic never takes two shifts that touch (calendar.assign): with one, every other
# day of the month was a gap and the test failed on those days.
ALL_DAY = [(t, "終日", "00:00", "00:00") for t in DayType.values]


def test_emergency_sheet_and_ambulance_view_show_the_chain(page, live_server) -> None:  # type: ignore[no-untyped-def]
    clinics = [make_clinic(f"テスト在宅クリニック{c}（仮名）") for c in "ABCD"]
    organiser = make_organiser(username="ishikai-b")
    rota = make_rota(organiser, clinics[2:], rules=ALL_DAY, phones=["046-200-0333", "046-200-0333"])
    today = timezone.localdate()
    publish(rota, organiser, f"{today:%Y-%m}")
    doctor = make_member(clinics[0], Role.DOCTOR, username="dr-chain", display_name="医師A（仮名）")
    p = make_patient(doctor, name="連携 花子（仮名）")
    make_consent(p, by=doctor)
    cover.save_cover(
        p,
        by=doctor,
        data=cover.CoverInput(
            primary_doctor="医師A（仮名）",
            primary_phone="046-100-0001",
            night_arrangement="院長携帯に転送",
            night_phone="090-1000-0001",
            secondary=clinics[1].code,
            secondary_doctor="医師B（仮名）",
            secondary_phone="046-100-0002",
            municipality="142123",
            valid_from=today - dt.timedelta(days=1),
        ),
    )
    hospital = make_org("県央後方支援病院（仮名）", OrgKind.HOSPITAL, municipality_code="142123")
    msw = make_member(hospital, Role.MSW, username="msw-chain")
    offer = beds.save_offer(
        by=msw,
        data=beds.OfferInput(
            scheme=BedScheme.SUPPORT_HOSPITAL, name="後方ベッド", phone="046-300-0100"
        ),
    )
    reg = beds.register_patient(
        p, by=doctor, data=beds.RegisterInput(offer=offer.code, summary="心不全。入院希望。")
    )
    beds.decide_registration(reg, by=msw, data=beds.DecisionInput(accept=True))

    signed_in(page.context, live_server, doctor)
    page.goto(f"{live_server.url}/care/p/{p.code}/emergency/print/")
    text = page.inner_text("body")
    for expected in (
        "046-100-0001",
        "090-1000-0001",
        "046-100-0002",
        "046-200-0333",
        "046-300-0100",
    ):
        assert expected in text, expected
    assert "後方支援病院" in text and "担当医（）" not in text  # every line names its clinic
    # In the chain's order: 主治医 before the 副主治医 before the duty doctor before the bed.
    order = [
        text.index(n) for n in ("046-100-0001", "046-100-0002", "046-200-0333", "046-300-0100")
    ]
    assert order == sorted(order)
    page.set_viewport_size({"width": 794, "height": 1123})
    screenshot(page, "oncall-emergency-sheet-chain-a4")

    # The ambulance crew's view of the same patient, on a phone.
    token = em.issue_ambulance_code(p, by=doctor)
    crew = page.context.browser.new_context(viewport={"width": 390, "height": 844}, locale="ja-JP")
    crew_page = crew.new_page()
    crew_page.goto(f"{live_server.url}/care/e/{token}/")
    crew_text = crew_page.inner_text("body")
    assert "046-100-0002" in crew_text and "046-300-0100" in crew_text
    screenshot(crew_page, "oncall-ambulance-chain-390")
    crew.close()
