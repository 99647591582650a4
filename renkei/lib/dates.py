"""和暦 and fiscal years. Dates are stored Gregorian; these helpers only render."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

_ERAS = [
    (dt.date(2019, 5, 1), "令和"),
    (dt.date(1989, 1, 8), "平成"),
    (dt.date(1926, 12, 25), "昭和"),
]


def wareki_year(year: int, month: int = 12, day: int = 31) -> str:
    """Era name and year of a date: 2019-05-01 -> 令和元年, 2025 -> 令和7年."""
    day_ = dt.date(year, month, day)
    for start, name in _ERAS:
        if day_ >= start:
            n = year - start.year + 1
            return f"{name}{'元' if n == 1 else n}年"
    return f"{year}年"


def fiscal_year(day: dt.date) -> int:
    """Japanese fiscal year (April-March) that contains the date, as its Western start year."""
    return day.year if day.month >= 4 else day.year - 1


def requested_fiscal_year(value: str) -> int:
    """The fiscal year a page's `?fy=` asks for (2000–2100), else the current one."""
    if value.isdigit() and 2000 <= int(value) <= 2100:
        return int(value)
    return fiscal_year(timezone.localdate())


def fiscal_year_label(fy: int) -> str:
    """令和7年度（2025年度）.

    A fiscal year takes the era in force at the end of its first calendar year: April 2019
    was still 平成, but the government names April 2019 – March 2020 令和元年度 (seed 000),
    while 1988 – 1989 stayed 昭和63年度 (平成 began in January 1989)."""
    era = wareki_year(fy, 12, 31)
    return f"{era[:-1]}年度（{fy}年度）"


def fiscal_year_range(fy: int) -> tuple[dt.date, dt.date]:
    return dt.date(fy, 4, 1), dt.date(fy + 1, 3, 31)


def wareki_date(day: dt.date) -> str:
    return f"{wareki_year(day.year, day.month, day.day)}{day.month}月{day.day}日"


def ago_ja(when: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """Freshness in words: たった今, 5分前, 3時間前, 3日前, 2か月前."""
    if when is None:
        return "未確認"
    now = now or timezone.now()
    seconds = max(0, int((now - when).total_seconds()))
    if seconds < 60:
        return "たった今"
    if seconds < 3600:
        return f"{seconds // 60}分前"
    if seconds < 86400:
        return f"{seconds // 3600}時間前"
    days = seconds // 86400
    if days < 60:
        return f"{days}日前"
    if days < 730:
        return f"{days // 30}か月前"
    return f"{days // 365}年前"
