"""month_chains (the bulk chain the benchmark measures) answers as cover_chain does, moment by
moment: absences, a mid-month change of agreement, the hospital rota, a backup bed, a patient
with no agreement."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from renkei.accounts.models import Membership, Organization
from renkei.care.testing import make_consent, make_patient
from renkei.oncall import beds, cover
from renkei.oncall.models import BedScheme, Rota, RotaKind
from renkei.oncall.testing import HOSPITAL_RULES, make_rota, publish
from renkei.oncall.tests.test_beds import make_hospital

JST = ZoneInfo("Asia/Tokyo")


def _cover(
    doctor: Membership, secondary: Organization, start: dt.date, phone: str
) -> cover.CoverInput:
    return cover.CoverInput(
        primary_doctor="医師A",
        primary_phone=phone,
        night_arrangement="院長携帯",
        night_phone="090-1000-0001",
        secondary=secondary.code,
        secondary_doctor="医師B",
        secondary_phone="046-100-0002",
        municipality="142123",
        valid_from=start,
    )


@pytest.mark.django_db
def test_month_chains_match_cover_chain_at_every_moment(
    rota: Rota,
    organiser: Membership,
    clinics: list[Organization],
    doctor_a: Membership,
    doctor_b: Membership,
) -> None:
    hospitals = [make_hospital(f"当番病院{i}", f"msw-m{i}") for i in range(3)]
    hospital_rota = make_rota(
        organiser,
        [h[0] for h in hospitals],
        name="県央 病院当番",
        kind=RotaKind.HOSPITAL,
        rules=HOSPITAL_RULES,
    )
    publish(rota, organiser, "2026-11")
    publish(hospital_rota, organiser, "2026-11")
    p1 = make_patient(doctor_a)
    make_consent(p1, by=doctor_a)
    cover.save_cover(
        p1, by=doctor_a, data=_cover(doctor_a, clinics[1], dt.date(2026, 10, 1), "046-100-0001")
    )
    # A new agreement from the 15th.
    cover.save_cover(
        p1, by=doctor_a, data=_cover(doctor_a, clinics[2], dt.date(2026, 11, 15), "046-100-0009")
    )
    reg = beds.register_patient(
        p1, by=doctor_a, data=beds.RegisterInput(offer=hospitals[0][2].code, summary="心不全")
    )
    beds.decide_registration(reg, by=hospitals[0][1], data=beds.DecisionInput(accept=True))
    p2 = make_patient(
        doctor_a, name="連携 二郎", kana="れんけい じろう", insured_number="1400000002"
    )
    make_consent(p2, by=doctor_a)
    assert BedScheme.SUPPORT_HOSPITAL
    # Absences: clinic A for a night, Dr B for two days.
    cover.record_absence(
        by=doctor_a,
        data=cover.AbsenceInput(
            starts_at=dt.datetime(2026, 11, 10, 18, 0, tzinfo=JST),
            ends_at=dt.datetime(2026, 11, 11, 9, 0, tzinfo=JST),
        ),
    )
    cover.record_absence(
        by=doctor_b,
        data=cover.AbsenceInput(
            doctor="医師B",
            starts_at=dt.datetime(2026, 11, 10, 12, 0, tzinfo=JST),
            ends_at=dt.datetime(2026, 11, 12, 12, 30, tzinfo=JST),
        ),
    )
    chains = cover.month_chains([p1.pk, p2.pk], dt.date(2026, 11, 1))
    periods = chains[p1.pk]
    assert periods[0].start == dt.datetime(2026, 11, 1, tzinfo=JST)
    assert periods[-1].end == dt.datetime(2026, 12, 1, tzinfo=JST)
    assert all(a.end == b.start for a, b in zip(periods, periods[1:], strict=False))
    moments = [
        dt.datetime(2026, 11, 1, tzinfo=JST) + dt.timedelta(minutes=30 * i)
        for i in range(0, 48 * 30, 7)
    ]
    moments += [
        dt.datetime(2026, 11, 10, 17, 59, tzinfo=JST),
        dt.datetime(2026, 11, 10, 18, 0, tzinfo=JST),
        dt.datetime(2026, 11, 11, 8, 59, tzinfo=JST),
        dt.datetime(2026, 11, 11, 9, 0, tzinfo=JST),
        dt.datetime(2026, 11, 14, 23, 59, tzinfo=JST),
        dt.datetime(2026, 11, 15, 0, 0, tzinfo=JST),
    ]
    for moment in moments:
        expected = cover.cover_chain(p1, moment)
        got = next(p.steps for p in periods if p.start <= moment < p.end)
        assert list(got) == expected, moment
    assert any(s.role == "当番病院" for p in periods for s in p.steps)
    assert any(s.skipped for p in periods for s in p.steps)
    # No agreement: no lines (and no bed registered).
    assert [p.steps for p in chains[p2.pk]] == [()]
