"""Japan's calendar for rotas, and the fair assignment of a month's shifts.

Pure functions: what kind of day a date is, which shifts a month has under a rota's rules, and
who takes each. The actions write the result; tests drive these directly.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import holidays

from renkei.oncall.models import DayType, Rotation, ShiftRule

YEAR_END = {(12, 29), (12, 30), (12, 31), (1, 1), (1, 2), (1, 3)}


@lru_cache(maxsize=32)
def _holidays(year: int) -> dict[dt.date, str]:
    return dict(holidays.country_holidays("JP", years=year, language="ja").items())


def holiday_name(day: dt.date) -> str:
    """The public holiday's Japanese name (振替休日 and 国民の休日 included), or ''."""
    return _holidays(day.year).get(day, "")


def day_type(day: dt.date) -> DayType:
    """年末年始 first (12/29–1/3, as 医師会 rotas count it), then Sundays and holidays, Saturdays."""
    if (day.month, day.day) in YEAR_END:
        return DayType.YEAR_END
    if day.weekday() == 6 or holiday_name(day):
        return DayType.HOLIDAY
    if day.weekday() == 5:
        return DayType.SATURDAY
    return DayType.WEEKDAY


def month_days(month: dt.date) -> list[dt.date]:
    first = month.replace(day=1)
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    return [first + dt.timedelta(days=i) for i in range((nxt - first).days)]


@dataclass(frozen=True)
class PlannedShift:
    day: dt.date
    day_type: DayType
    holiday_name: str
    rule: ShiftRule
    starts_at: dt.datetime
    ends_at: dt.datetime


def plan_month(month: dt.date, rules: Sequence[ShiftRule]) -> list[PlannedShift]:
    """Every shift of the month. A holiday on a weekday takes the holiday rules, not the
    weekday's; 年末年始 takes its own rules, or the holiday rules where the rota has none."""
    by_type: dict[str, list[ShiftRule]] = {}
    for r in rules:
        by_type.setdefault(r.day_type, []).append(r)
    planned = []
    for day in month_days(month):
        kind = day_type(day)
        todays = by_type.get(kind) or (
            by_type.get(DayType.HOLIDAY, []) if kind == DayType.YEAR_END else []
        )
        for rule in sorted(todays, key=lambda r: r.start):
            start, end = rule.span(day)
            name = holiday_name(day) or ("年末年始" if kind == DayType.YEAR_END else "")
            planned.append(PlannedShift(day, kind, name, rule, start, end))
    return sorted(planned, key=lambda p: p.starts_at)


@dataclass
class Fairness:
    """Counts that make the distribution fair: shifts in all, and heavy (holiday) shifts apart,
    so nobody takes every Sunday while the totals look even."""

    total: Counter[int] = field(default_factory=Counter)
    heavy: Counter[int] = field(default_factory=Counter)

    def key(self, member: int, heavy: bool, order: dict[int, int]) -> tuple[int, int, int]:
        first = self.heavy[member] if heavy else self.total[member]
        return (first, self.total[member], order[member])

    def take(self, member: int, heavy: bool) -> None:
        self.total[member] += 1
        if heavy:
            self.heavy[member] += 1


def assign(
    planned: Sequence[PlannedShift],
    members: Sequence[int],
    unavailable: Iterable[tuple[int, dt.date]],
    *,
    rotation: str = Rotation.DAILY,
    start_after: int | None = None,
) -> list[int | None]:
    """Who takes each planned shift (None: nobody can — a gap the organiser fills by hand).

    Members are ids in the rota's order; `start_after` is last month's final member, so the
    rotation continues instead of restarting at the top each month. A member never takes a
    day they marked unavailable, nor two shifts that touch (a night, then the next day)."""
    if not members:
        return [None] * len(planned)
    off = set(unavailable)
    n = len(members)
    shift = (members.index(start_after) + 1) if start_after in members else 0
    order = {m: (i - shift) % n for i, m in enumerate(members)}
    fair = Fairness()
    result: list[int | None] = []
    ends: dict[int, dt.datetime] = {}
    week_owner: dict[tuple[int, int], int] = {}

    def free(m: int, p: PlannedShift) -> bool:
        return (m, p.day) not in off and ends.get(
            m, dt.datetime.min.replace(tzinfo=p.starts_at.tzinfo)
        ) < p.starts_at

    for p in planned:
        heavy = p.day_type != DayType.WEEKDAY
        chosen: int | None = None
        if rotation == Rotation.WEEKLY:
            week = p.day.isocalendar()[:2]
            owner = week_owner.get(week)
            if owner is not None and (owner, p.day) not in off:
                chosen = owner
        if chosen is None:
            candidates = [m for m in members if free(m, p)]
            if candidates:
                chosen = min(candidates, key=lambda m: fair.key(m, heavy, order))
                if rotation == Rotation.WEEKLY:
                    week_owner.setdefault(p.day.isocalendar()[:2], chosen)
        if chosen is not None:
            fair.take(chosen, heavy)
            ends[chosen] = p.ends_at
        result.append(chosen)
    return result
