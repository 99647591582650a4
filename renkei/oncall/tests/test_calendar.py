"""Japan's calendar and the fair distribution of a month's shifts."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from renkei.oncall.calendar import assign, day_type, holiday_name, plan_month
from renkei.oncall.models import DayType, Rota, Rotation


def test_holidays_substitute_days_and_year_end_are_recognised() -> None:
    """勤労感謝の日 on a Monday is a holiday; 振替休日 too; 12/29–1/3 is 年末年始."""
    assert day_type(dt.date(2026, 11, 23)) == DayType.HOLIDAY
    assert holiday_name(dt.date(2026, 11, 23)) == "勤労感謝の日"
    assert day_type(dt.date(2026, 5, 6)) == DayType.HOLIDAY  # 振替休日
    assert day_type(dt.date(2026, 11, 24)) == DayType.WEEKDAY
    assert day_type(dt.date(2026, 11, 28)) == DayType.SATURDAY
    assert day_type(dt.date(2026, 12, 30)) == DayType.YEAR_END
    assert day_type(dt.date(2027, 1, 2)) == DayType.YEAR_END


@pytest.mark.django_db
def test_a_holiday_inside_the_weekday_rule_becomes_a_holiday_shift(rota: Rota) -> None:
    """Monday 2026-11-23 takes the holiday rules (日中 and 夜間), not the weekday night."""
    planned = plan_month(dt.date(2026, 11, 1), list(rota.rules.all()))
    on_23 = [p for p in planned if p.day == dt.date(2026, 11, 23)]
    assert [(p.rule.label, p.day_type, p.holiday_name) for p in on_23] == [
        ("日中", DayType.HOLIDAY, "勤労感謝の日"),
        ("夜間", DayType.HOLIDAY, "勤労感謝の日"),
    ]
    on_24 = [p for p in planned if p.day == dt.date(2026, 11, 24)]
    assert [(p.rule.label, p.day_type) for p in on_24] == [("夜間", DayType.WEEKDAY)]
    # 30 nights, and a day shift on the 5 Sundays, 文化の日 (Tue 3) and 勤労感謝の日.
    assert len(planned) == 30 + 7


@pytest.mark.django_db
def test_year_end_uses_holiday_rules_when_the_rota_has_none_of_its_own(rota: Rota) -> None:
    planned = plan_month(dt.date(2026, 12, 1), list(rota.rules.all()))
    on_31 = [p for p in planned if p.day == dt.date(2026, 12, 31)]
    assert [(p.rule.label, p.day_type, p.holiday_name) for p in on_31] == [
        ("日中", DayType.YEAR_END, "年末年始"),
        ("夜間", DayType.YEAR_END, "年末年始"),
    ]


@pytest.mark.django_db
def test_a_night_ends_the_next_morning_in_japan_time(rota: Rota) -> None:
    planned = plan_month(dt.date(2026, 11, 1), list(rota.rules.all()))
    night = next(p for p in planned if p.day == dt.date(2026, 11, 24))
    assert night.starts_at.isoformat() == "2026-11-24T18:00:00+09:00"
    assert night.ends_at.isoformat() == "2026-11-25T09:00:00+09:00"


@pytest.mark.django_db
def test_shifts_are_shared_fairly_and_heavy_days_too(rota: Rota) -> None:
    planned = plan_month(dt.date(2026, 11, 1), list(rota.rules.all()))
    who = assign(planned, [1, 2, 3, 4], [])
    assert None not in who
    totals = Counter(who)
    assert max(totals.values()) - min(totals.values()) <= 1
    heavy = Counter(m for p, m in zip(planned, who, strict=True) if p.day_type != DayType.WEEKDAY)
    assert max(heavy.values()) - min(heavy.values()) <= 1


@pytest.mark.django_db
def test_unavailable_days_and_touching_shifts_are_avoided(rota: Rota) -> None:
    planned = plan_month(dt.date(2026, 11, 1), list(rota.rules.all()))
    off = [(1, dt.date(2026, 11, d)) for d in range(1, 16)]
    who = assign(planned, [1, 2, 3], off)
    for p, m in zip(planned, who, strict=True):
        assert not (m == 1 and p.day.day <= 15)
    # Nobody works two shifts back to back (a holiday's day shift, then its night).
    pairs = list(zip(planned, who, strict=True))
    for (a, ma), (b, mb) in zip(pairs, pairs[1:], strict=False):
        if a.ends_at == b.starts_at:
            assert ma != mb


@pytest.mark.django_db
def test_nobody_available_leaves_a_gap(rota: Rota) -> None:
    planned = plan_month(dt.date(2026, 11, 1), list(rota.rules.all()))
    off = [(1, p.day) for p in planned]
    who = assign(planned, [1], off)
    assert set(who) == {None}


@pytest.mark.django_db
def test_weekly_rotation_keeps_one_member_for_a_week(rota: Rota) -> None:
    planned = plan_month(dt.date(2026, 11, 1), list(rota.rules.all()))
    who = assign(planned, [1, 2, 3], [], rotation=Rotation.WEEKLY)
    weeks: dict[tuple[int, int], set[int | None]] = {}
    for p, m in zip(planned, who, strict=True):
        weeks.setdefault(p.day.isocalendar()[:2], set()).add(m)
    assert all(len(members) == 1 for members in weeks.values())


@pytest.mark.django_db
def test_the_rotation_continues_from_last_month(rota: Rota) -> None:
    planned = plan_month(dt.date(2026, 11, 1), list(rota.rules.all()))
    assert assign(planned, [1, 2, 3, 4], [])[0] == 1
    assert assign(planned, [1, 2, 3, 4], [], start_after=2)[0] == 3
