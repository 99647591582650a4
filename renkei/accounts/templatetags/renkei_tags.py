from __future__ import annotations

import datetime as dt

from django import template

from renkei.lib.dates import ago_ja, fiscal_year_label, wareki_date

register = template.Library()


@register.filter
def ago(value: dt.datetime | None) -> str:
    return ago_ja(value)


@register.filter
def wareki(value: dt.date | None) -> str:
    return wareki_date(value) if value else ""


@register.filter
def fiscal_label(value: int) -> str:
    return fiscal_year_label(int(value))


@register.filter
def yen(value: int | None) -> str:
    return f"{value:,}円" if value is not None else ""
