from __future__ import annotations

import datetime as dt

from django import template
from django.utils.safestring import SafeString

from renkei.directory import search_html

register = template.Library()


@register.filter
def freshness(confirmed_at: dt.datetime | None) -> SafeString:
    """The vacancy's freshness as the search's result rows show it (search_html.freshness)."""
    return search_html.freshness(confirmed_at)
