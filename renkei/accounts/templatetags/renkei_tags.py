from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf, reverse
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


# `{% static %}` and `{% url %}` cost 13 and 22 µs a call (the manifest's name lookup with its
# URL joins; the resolver's candidate matching) and every page prints a dozen of each with the
# same arguments. The layout and the search page use these per-process memos instead
# (docs/benchmarks.md, session 10; ADR 0064). A URL depends only on the URLconf and the script
# prefix, which are part of the key; a static file's URL only on the storage, whose settings
# drop the memo when a test changes them. Each is kept as it is printed (escaped or not), so a
# page pays a dictionary lookup.


@functools.cache
def _asset(static_url: str, path: str) -> tuple[str, str]:
    url = static(path)
    return url, conditional_escape(url)


@functools.lru_cache(maxsize=512)  # bounded: the script prefix is part of the key
def _link(prefix: str, urlconf: Any, name: str, args: tuple[str, ...]) -> tuple[str, str]:
    url = reverse(name, urlconf=urlconf, args=args or None)
    return url, conditional_escape(url)


def constant_url(name: str, *args: str) -> str:
    """`reverse(name, args=args)` for constant arguments, from the same per-process memo as
    `{% link %}` (the member menu's entries, ADR 0080)."""
    return _link(get_script_prefix(), get_urlconf(), name, args)[0]


class _MemoNode(template.Node):
    def __init__(self, kind: str, args: tuple[str, ...]) -> None:
        self.kind = kind
        self.args = args

    def render(self, context: template.Context) -> str:
        if self.kind == "asset":
            raw, escaped = _asset(str(settings.STATIC_URL), self.args[0])
        else:
            raw, escaped = _link(get_script_prefix(), get_urlconf(), self.args[0], self.args[1:])
        return escaped if context.autoescape else raw


def _constant_args(parser: template.base.Parser, token: template.base.Token) -> tuple[str, ...]:
    bits = token.split_contents()
    args = tuple(bit[1:-1] for bit in bits[1:] if len(bit) >= 2 and bit[0] == bit[-1] in "'\"")
    if not args or len(args) != len(bits) - 1:
        raise template.TemplateSyntaxError(
            f"{bits[0]} takes quoted constants only: {token.contents}"
        )
    return args


@register.tag
def asset(parser: template.base.Parser, token: template.base.Token) -> _MemoNode:
    """`{% asset 'path' %}`: `{% static 'path' %}`, computed once per process."""
    args = _constant_args(parser, token)
    if len(args) != 1:
        raise template.TemplateSyntaxError("asset takes one path")
    return _MemoNode("asset", args)


@register.tag
def link(parser: template.base.Parser, token: template.base.Token) -> _MemoNode:
    """`{% link 'name' 'arg' … %}`: `{% url %}` for constant arguments, once per process."""
    return _MemoNode("link", _constant_args(parser, token))


@receiver(setting_changed)
def _forget_assets(*, setting: str, **kwargs: Any) -> None:
    # DEBUG too: the manifest storage prints unhashed names while it is on.
    if setting in {"STATIC_URL", "STATIC_ROOT", "STORAGES", "DEBUG"}:
        _asset.cache_clear()
    if setting == "ROOT_URLCONF":
        _link.cache_clear()
