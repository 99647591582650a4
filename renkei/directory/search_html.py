"""The HTML search page's repeated parts, rendered in Python (ADR 0053).

The filter form's option lists (20 kinds, 23 capabilities, 47 prefectures, a prefecture's
municipalities) and the 20 result rows were three quarters of the page's CPU time in the
template engine: about 1,460 variable lookups a page (docs/benchmarks.md, sessions 7 and 8).
Here an option list is escaped once per process and each request only marks its chosen
options; a result row is one format string over values escaped once.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from html import escape
from typing import Any

from django.core.paginator import Page
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from renkei.directory.models import (
    FacilityKind,
    VacancyStatus,
    Vocabulary,
    vacancy_is_stale,
    vocabulary,
)
from renkei.lib.dates import ago_ja

KIND_LABELS: dict[str, str] = {k: str(v) for k, v in FacilityKind.choices}
VACANCY_LABELS: dict[str, str] = {k: str(v) for k, v in VacancyStatus.choices}
# Escaped once for the rows: a kind's label; a vacancy status's class name and label.
KIND_HTML: dict[str, str] = {k: escape(v) for k, v in KIND_LABELS.items()}
VACANCY_HTML: dict[str, tuple[str, str]] = {
    k: (escape(k), escape(v)) for k, v in VACANCY_LABELS.items()
}


@dataclass(frozen=True)
class OptionList:
    """A checkbox list or a select's options: for each option its value and its HTML before
    and after the place of the mark (` checked`, ` selected`), escaped when built."""

    options: tuple[tuple[str, str, str], ...]
    mark: str

    @classmethod
    def checkboxes(cls, name: str, choices: Iterable[tuple[Any, Any]]) -> OptionList:
        head = f'<li><label><input class="autosubmit" type="checkbox" name="{escape(name)}" value="'
        return cls(
            tuple(
                (str(value), f'{head}{escape(str(value))}"', f"> {escape(str(label))}</label></li>")
                for value, label in choices
            ),
            " checked",
        )

    @classmethod
    def select(cls, choices: Iterable[tuple[Any, Any]]) -> OptionList:
        return cls(
            tuple(
                (
                    str(value),
                    f'<option value="{escape(str(value))}"',
                    f">{escape(str(label))}</option>",
                )
                for value, label in choices
            ),
            " selected",
        )

    def render(self, chosen: Collection[str] = ()) -> SafeString:
        mark = self.mark
        return mark_safe(  # noqa: S308 - every piece was escaped when the list was built
            "".join(
                f"{head}{mark}{tail}" if value in chosen else f"{head}{tail}"
                for value, head, tail in self.options
            )
        )


def freshness(confirmed_at: dt.datetime | None, now: dt.datetime | None = None) -> SafeString:
    """When the vacancy was confirmed and whether that is old: the search's rows, the
    facility's page and the curator's list (directory/_freshness.html) say it alike."""
    return mark_safe(_freshness_html(confirmed_at, now or timezone.now()))  # noqa: S308 - escaped there


def _freshness_html(confirmed_at: dt.datetime | None, now: dt.datetime) -> str:
    if confirmed_at is None:
        return '<span class="stale">空き状況は未登録です</span>'
    when = escape(ago_ja(confirmed_at, now))
    if vacancy_is_stale(confirmed_at, now):
        return f'<span class="stale">{when}に更新（情報が古い可能性があります）</span>'
    return f'<span class="fresh">{when}に更新</span>'


# The Facility columns a result row shows (FacilitySearch.rows(): one statement, no instances).
ROW_COLUMNS = ("code", "kind", "name", "address", "vacancy_status", "vacancy_confirmed_at")
TENTH = Decimal("0.1")


def _tag_item(code: str, name: str) -> tuple[str, str]:
    """A capability's tag in a row: (not asked for, asked for)."""
    return (f'<li class="tag">{escape(name)}</li>', f'<li class="tag ok">{escape(name)}</li>')


# The rows' capability tags, escaped once per vocabulary (it is kept per process for
# VOCABULARY_SECONDS): a page has about 130 of them.
_tags_of: tuple[Vocabulary | None, dict[str, tuple[str, str]]] = (None, {})


def _tag_items() -> dict[str, tuple[str, str]]:
    global _tags_of
    current = vocabulary()
    cached_for, items = _tags_of
    if cached_for is not current:
        items = {c.code: _tag_item(c.code, c.name) for c in current.ordered}
        _tags_of = (current, items)
    return items


_PLACEHOLDER = "00000000-0000-0000-0000-000000000000"


@functools.lru_cache(maxsize=64)  # bounded: the script prefix is part of the key
def _detail_pattern(prefix: str, urlconf: Any) -> str:
    """A facility's address with _PLACEHOLDER for its code. reverse() matched the resolver's
    candidates on every page (~40 µs, docs/benchmarks.md session 13); the address depends
    only on the prefix and the URLconf, as {% link %}'s memo (ADR 0064)."""
    return reverse("directory:detail", urlconf=urlconf, args=[_PLACEHOLDER])


def result_rows(rows: Sequence[dict[str, Any]], chosen_capabilities: Collection[str]) -> SafeString:
    """The search's result list items for FacilitySearch.rows(ROW_COLUMNS)."""
    if not rows:
        return mark_safe("")
    now = timezone.now()
    # A facility's address is the pattern with its code in it.
    placeholder = _PLACEHOLDER
    detail = _detail_pattern(get_script_prefix(), get_urlconf())
    tag_items = _tag_items()
    out = []
    for r in rows:
        distance = ""
        if r["distance_km"] is not None:
            # As the template's floatformat:1 rounds (half up, from the decimal digits).
            km = Decimal(repr(r["distance_km"])).quantize(TENTH, ROUND_HALF_UP)
            distance = f"｜約{km}km"
        tags = ""
        if r["capability_codes"]:
            tags = (
                '<ul class="tags" aria-label="対応できる処置">'
                + "".join(
                    (tag_items.get(code) or _tag_item(code, code))[code in chosen_capabilities]
                    for code in r["capability_codes"]
                )
                + "</ul>"
            )
        status = r["vacancy_status"]
        status_class, status_label = VACANCY_HTML.get(status) or (escape(status), escape(status))
        kind = r["kind"]
        out.append(
            '<li class="result">'
            f'<h3><a href="{escape(detail.replace(placeholder, str(r["code"])))}">{escape(r["name"])}</a></h3>'
            f'<div class="meta">{KIND_HTML.get(kind) or escape(kind)}｜'
            f"{escape(r['municipality_name'])}｜{escape(r['address'])}{distance}</div>"
            f'<div><span class="vac vac-{status_class}">{status_label}</span> '
            f"{_freshness_html(r['vacancy_confirmed_at'], now)}</div>"
            f"{tags}</li>"
        )
    return mark_safe("".join(out))  # noqa: S308 - every value escaped above


def pager(page: Page[Any] | None, querystring_base: str) -> SafeString:
    """components/pager.html for the search page, which the other pages include: that include
    cost ~100 µs a page (the loader, a context push and eight lookups through the page and its
    paginator; ADR 0079). test_search_html compares the two, so they cannot drift apart."""
    if page is None or page.paginator.num_pages <= 1:
        return mark_safe("\n")  # the template file's last line, as the include printed it
    qs = conditional_escape(querystring_base)
    prev = (
        f'<a class="btn secondary small" href="?{qs}page={page.previous_page_number()}"'
        ' rel="prev">前へ</a>'
        if page.has_previous()
        else ""
    )
    next_ = (
        f'<a class="btn secondary small" href="?{qs}page={page.next_page_number()}"'
        ' rel="next">次へ</a>'
        if page.has_next()
        else ""
    )
    return mark_safe(  # noqa: S308 - the query string escaped above, the rest numbers
        '\n<nav class="pager" aria-label="ページ送り">\n'
        f"  {prev}\n"
        f"  <span>{page.number} / {page.paginator.num_pages} ページ"
        f"（全{page.paginator.count}件）</span>\n"
        f"  {next_}\n"
        "</nav>\n\n"
    )


@receiver(setting_changed)
def _urlconf_changed(*, setting: str, **kwargs: Any) -> None:
    # The default URLconf is the key's None: a test that swaps it must not get the old address.
    if setting == "ROOT_URLCONF":
        _detail_pattern.cache_clear()
