from __future__ import annotations

import datetime as dt

from django import template
from django.conf import settings
from django.utils.html import conditional_escape

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


@register.filter(is_safe=True)
def page_title(value: str) -> str:
    """「ページ名 | サイト名」, or the site name alone when the page names none.

    Used as `{% filter page_title %}{% block title %}{% endblock %}{% endfilter %}`: a template
    cannot test whether a block is empty (`{% if self.title %}` is Jinja, never true here)."""
    name = str(value).strip()  # rendered, so already escaped
    site = conditional_escape(settings.SITE_NAME)
    return f"{name} | {site}" if name else site
