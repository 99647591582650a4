"""Indicators fed by the other new issues (issue 15 §4): 入院時情報提供 within N days of
admission (care's shared forms) and backup-bed use (oncall), matched against a hand count."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from renkei.accounts.models import Membership, OrgKind, Role
from renkei.care.actions import forms as fa
from renkei.care.models import FormKind, SharedForm, TeamRole
from renkei.care.testing import add_to_team, make_consent, make_patient
from renkei.oncall import beds
from renkei.oncall.models import BackupBedRegistration, BedOutcome, BedScheme
from renkei.oncall.testing import make_clinic
from renkei.pdca.compute import compute
from renkei.pdca.models import IndicatorValue
from renkei.regions.models import Municipality
from renkei.testing import make_member, make_org

JST = ZoneInfo("Asia/Tokyo")
EBINA, ATSUGI = "142158", "142123"


def at(y: int, m: int, d: int, h: int = 10, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=JST)


def figures(code: str, muni: str, fy: int) -> tuple[float, float | None, float | None]:
    v = IndicatorValue.objects.get(indicator__code=code, municipality__code=muni, fiscal_year=fy)
    return (v.numerator, v.denominator, v.value)


@pytest.fixture
def doctor(db: None) -> Membership:
    """A home-care doctor of a clinic in 厚木."""
    return make_member(make_clinic("厚木見本在宅クリニック"), Role.DOCTOR, username="dr-atsugi")


@pytest.fixture
def admission_forms(doctor: Membership) -> None:
    """A care manager's office in 海老名 sends 入院時情報提供書 for the clinic's patient."""
    office = make_org(
        "海老名見本ケアプランセンター", OrgKind.CARE_MANAGEMENT, municipality_code=EBINA
    )
    cm = make_member(office, Role.CARE_MANAGER, username="cm-ebina")
    patient = make_patient(doctor)
    make_consent(patient, by=doctor)
    add_to_team(patient, cm, by=doctor, team_role=TeamRole.CARE_MANAGER)
    for kind, admitted, first_sent in [
        (FormKind.ADMISSION, dt.date(2025, 3, 31), at(2025, 4, 1)),  # FY2024: not computed
        (FormKind.ADMISSION, dt.date(2025, 5, 1), at(2025, 5, 1, 23, 30)),  # the same day
        # Four days in Japan, three in UTC (2025-06-13 23:00 UTC): not within three days.
        (FormKind.ADMISSION, dt.date(2025, 6, 10), at(2025, 6, 14, 8, 0)),
        (FormKind.ADMISSION, dt.date(2025, 7, 1), at(2025, 7, 4, 17, 0)),  # three days
        (FormKind.ADMISSION, dt.date(2026, 3, 31), at(2026, 4, 2)),  # FY2025 by admission
        (FormKind.ADMISSION, dt.date(2025, 8, 1), None),  # a draft never sent
        (FormKind.DISCHARGE, dt.date(2025, 9, 1), at(2025, 9, 1)),  # another kind
        (FormKind.ADMISSION, dt.date(2026, 4, 1), at(2026, 4, 1, 9, 0)),  # FY2026, same day
    ]:
        form = fa.create_form(
            patient, by=cm, data=fa.NewFormInput(kind=kind, admission_date=admitted)
        )
        SharedForm.objects.filter(pk=form.pk).update(first_sent_at=first_sent, sent_at=first_sent)


@pytest.mark.django_db
def test_admission_information_within_three_days_matches_a_hand_count(
    admission_forms: None,
) -> None:
    compute([2025, 2026])
    # FY2025: four sent (5/1, 6/10, 7/1, 3/31); within three days 5/1, 7/1, 3/31; same day 5/1.
    assert figures("care.admission_info.within", EBINA, 2025) == (3.0, 4.0, 75.0)
    assert figures("care.admission_info.same_day", EBINA, 2025) == (1.0, 4.0, 25.0)
    assert figures("care.admission_info.within", EBINA, 2026) == (1.0, 1.0, 100.0)
    # The clinic's municipality sent none: no rate, not a zero rate.
    assert figures("care.admission_info.within", ATSUGI, 2025) == (0.0, 0.0, None)
    # The same count one form at a time, as care's model says it.
    sent = SharedForm.objects.admission_sent().filter(
        admission_date__range=(dt.date(2025, 4, 1), dt.date(2026, 3, 31))
    )
    assert sum(bool(f.sent_within()) for f in sent) == 3


@pytest.fixture
def bed_uses(doctor: Membership) -> BackupBedRegistration:
    """The 厚木 clinic's patient registered with a hospital in 海老名; uses over two years."""
    hospital = make_org("海老名見本後方支援病院", OrgKind.HOSPITAL, municipality_code=EBINA)
    msw = make_member(hospital, Role.MSW, username="msw-ebina")
    offer = beds.save_offer(
        by=msw,
        data=beds.OfferInput(
            scheme=BedScheme.SUPPORT_HOSPITAL, name="後方ベッド", phone="046-300-0001", beds=2
        ),
    )
    patient = make_patient(doctor)
    make_consent(patient, by=doctor)
    reg = beds.register_patient(
        patient, by=doctor, data=beds.RegisterInput(offer=offer.code, summary="心不全")
    )
    beds.decide_registration(reg, by=msw, data=beds.DecisionInput(accept=True))
    for admitted, outcome in [
        (dt.date(2025, 3, 31), BedOutcome.HOME),  # FY2024
        (dt.date(2025, 5, 1), BedOutcome.HOME),
        (dt.date(2025, 8, 1), BedOutcome.STAYING),
        (dt.date(2025, 10, 1), BedOutcome.DIED),
        (dt.date(2026, 3, 31), BedOutcome.HOME),
        (dt.date(2026, 4, 1), BedOutcome.TRANSFERRED),
    ]:
        beds.record_use(reg, by=msw, data=beds.BedUseInput(admitted_on=admitted, outcome=outcome))
    return reg


@pytest.mark.django_db
def test_backup_bed_uses_match_a_hand_count(bed_uses: BackupBedRegistration) -> None:
    compute([2025, 2026])
    # Counted in the 主治医's municipality (厚木), not the hospital's.
    assert figures("oncall.bed_uses", ATSUGI, 2025) == (4.0, None, 4.0)
    assert figures("oncall.bed_uses", EBINA, 2025) == (0.0, None, 0.0)
    # Home again: two of the three uses that ended (the one still in hospital is left out).
    assert figures("oncall.bed_uses.home", ATSUGI, 2025) == (2.0, 3.0, 66.67)
    assert figures("oncall.bed_uses", ATSUGI, 2026) == (1.0, None, 1.0)
    assert figures("oncall.bed_uses.home", ATSUGI, 2026) == (0.0, 1.0, 0.0)
    # The incremental run of one municipality counts a new use, and only there.
    atsugi = Municipality.objects.get(code=ATSUGI)
    msw = Membership.objects.get(user__username="msw-ebina")
    beds.record_use(
        bed_uses, by=msw, data=beds.BedUseInput(admitted_on=dt.date(2025, 12, 1), outcome="home")
    )
    before = IndicatorValue.objects.get(
        indicator__code="oncall.bed_uses", municipality__code=EBINA, fiscal_year=2025
    )
    compute([2025], municipality_id=atsugi.pk)
    assert figures("oncall.bed_uses.home", ATSUGI, 2025) == (3.0, 4.0, 75.0)
    after = IndicatorValue.objects.get(
        indicator__code="oncall.bed_uses", municipality__code=EBINA, fiscal_year=2025
    )
    assert after.pk == before.pk
