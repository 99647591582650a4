"""The care demo: who sees which synthetic patient, as the logins table says."""

from __future__ import annotations

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from renkei.accounts.models import Membership
from renkei.care.models import Consent, Patient, Post, SharedForm
from renkei.demo.authenticators import totp_key
from renkei.demo.care import CARE_LOGINS, seed_care
from renkei.demo.seed import seed_demo

pytestmark = pytest.mark.django_db


def visible_names(username: str) -> set[str]:
    m = Membership.objects.get(user__username=username)
    return {p.name for p in Patient.objects.on_team_of(m)}


def test_the_care_demo_matches_the_logins_table() -> None:
    seed_demo(facilities=20)
    seed_care()  # idempotent
    assert Patient.objects.count() == 3
    assert {c.scope for c in Consent.objects.all()} == {"all", "organizations", "people"}
    assert Post.objects.count() >= 5
    hanako, ichiro, tome = "見本 花子（仮名）", "試験 一郎（仮名）", "例示 トメ（仮名）"
    assert visible_names("care-doctor") == {hanako, ichiro, tome}
    assert visible_names("care-nurse") == {hanako, ichiro}
    assert visible_names("care-cm") == {hanako, tome}
    assert visible_names("care-pharmacist") == {hanako}
    assert visible_names("care-msw") == set()
    # A 連絡票 sent from the care manager to the doctor, and an 入院時情報提供書 draft.
    sent = SharedForm.objects.get(kind="doctor_cm")
    assert (
        sent.sent_at is not None
        and sent.recipient == Membership.objects.get(user__username="care-doctor").organization
    )
    assert SharedForm.objects.get(kind="admission").sent_at is None
    for username, *_ in CARE_LOGINS:
        device = TOTPDevice.objects.get(user__username=username)
        assert device.key == totp_key(username)
        assert device.verify_token(totp(bytes.fromhex(device.key)))


def test_the_demo_has_cover_pairs_on_the_care_patients() -> None:
    from renkei.demo.oncall import seed_cover
    from renkei.oncall.cover import cover_chain
    from renkei.oncall.models import CoverAgreement

    seed_demo(facilities=20)
    seed_care()
    assert seed_cover() == 2
    assert CoverAgreement.objects.count() == 2
    assert seed_cover() == 0  # idempotent
    roles = [s.role for s in cover_chain(CoverAgreement.objects.first().patient)]  # type: ignore[union-attr]
    assert roles[:3] == ["主治医", "主治医の夜間体制", "副主治医"]


def test_the_demo_has_a_backup_bed_and_an_open_cover_search() -> None:
    from renkei.demo.oncall import seed_beds, seed_cover, seed_oncall
    from renkei.oncall.cover import cover_chain
    from renkei.oncall.models import (
        BackupBedRegistration,
        CoverSearch,
        CoverVolunteer,
        RegistrationStatus,
    )

    seed_demo(facilities=20)
    seed_care()
    seed_oncall()
    seed_cover()
    assert seed_beds() == 3  # the offer, 見本 花子's accepted bed, the search with a volunteer
    assert seed_beds() == 0  # idempotent
    reg = BackupBedRegistration.objects.get()
    assert reg.status == RegistrationStatus.ACCEPTED
    assert reg.uses.count() == 1  # shown on the hospital's 利用状況
    assert cover_chain(reg.patient)[-1].role == "後方支援病院（登録済み）"
    search = CoverSearch.objects.get()
    assert search.status == "open" and search.recipients.exists()
    assert CoverVolunteer.objects.get().organization.name == "あおば在宅クリニック（仮名）"


def test_the_demo_rotas_are_published_for_two_months_with_a_holiday_inside() -> None:
    """Issue 14 §4: a 医師会 night rota for one 二次医療圏 and a hospital rota, this month and
    next, published; two months always hold a 祝日 (or 年末年始), drawn as a holiday shift."""
    from renkei.demo.oncall import HOSPITAL_ROTA, NIGHT_ROTA, seed_oncall
    from renkei.oncall.models import DayType, MonthStatus, Rota

    seed_demo(facilities=20)
    seed_oncall()
    for name in (NIGHT_ROTA, HOSPITAL_ROTA):
        rota = Rota.objects.get(name=name)
        assert rota.area is not None and rota.area.name == "県央"
        assert [m.status for m in rota.months.order_by("month")] == [MonthStatus.PUBLISHED] * 2
    night = Rota.objects.get(name=NIGHT_ROTA)
    assert night.shifts.filter(day_type=DayType.HOLIDAY).exclude(holiday_name="").exists()
