"""The candidates page's rows, rendered in Python (ADR 0070; ADR 0057's treatment for 入退院支援).

The page repeats one block per candidate: up to 80 the MSW can ask (checkbox, reasons, what
is missing), ten outside the network a page (with the phone number), the ones already asked.
Through the template engine each field was a variable lookup, a filter and an autoescape, and
each row an `{% include %}` and a `{% url %}`: about a third of the page's CPU
(docs/benchmarks.md, session 10). Here each row is one format string over values escaped once,
the facility's URL is reversed once per page and the labels come from dicts built once per
process. The HTML is the template's, byte for byte (tests/test_candidates_html pins it); the
rest of the page stays a template.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Collection, Iterable
from decimal import ROUND_HALF_UP, Decimal
from html import escape
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.forms import Form
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from renkei.directory.search_html import KIND_HTML, VACANCY_HTML
from renkei.referrals.matching import Candidate

TENTH = Decimal("0.1")
_PLACEHOLDER = "00000000-0000-0000-0000-000000000000"
REQUESTED_TAG = ' <span class="tag">依頼済み</span>'
OUTSIDE_TAG = ' <span class="tag">ネットワーク未参加（電話等で確認してください）</span>'


def _detail_url() -> str:
    """The facility page's address with a placeholder for the code: one reverse() a page."""
    return reverse("directory:detail", args=[_PLACEHOLDER])


def _kind(kind: str) -> str:
    # get_kind_display() shows an unknown value as itself.
    return KIND_HTML.get(kind) or escape(kind)


def _vacancy(status: str) -> str:
    status_class, label = VACANCY_HTML.get(status) or (escape(status), escape(status))
    return f'<span class="vac vac-{status_class}">{label}</span>'


def _distance(km: float | None) -> str:
    if km is None:
        return ""
    # As the template's floatformat:1 rounds (half up, from the decimal digits).
    return f"｜約{Decimal(repr(km)).quantize(TENTH, ROUND_HALF_UP)}km"


def _tags(css: str, items: Iterable[str]) -> str:
    return "".join(f'<li class="{css}">{escape(i)}</li>' for i in items)


def requestable_rows(cands: Iterable[Candidate], selected: Collection[str]) -> SafeString:
    """The list of facilities a request can go to (referrals/_candidate.html for each)."""
    detail = _detail_url()
    out = []
    for cand in cands:
        f = cand.facility
        code = str(f.code)
        name = escape(f.name)
        if cand.can_request:
            checked = "checked" if code in selected else ""
            head = (
                f'    <label><input type="checkbox" name="facility" value="{escape(code)}"'
                f" {checked}> {name}</label>\n    "
            )
        else:
            head = f"    {name}"
        if cand.requested_status:
            tag = REQUESTED_TAG
        elif not cand.in_network:
            tag = OUTSIDE_TAG
        else:
            tag = ""
        missing = ""
        if cand.missing:
            missing = (
                '<ul class="tags" aria-label="満たしていない条件">'
                f"{_tags('tag miss', cand.missing)}</ul>"
            )
        out.append(
            '<li class="result">\n'
            "  <h3>\n"
            f"{head}\n"
            "  </h3>\n"
            f'  <div class="meta">{_kind(f.kind)}｜{escape(cand.municipality_name)}'
            f"{_distance(cand.distance_km)}｜"
            f'<a href="{escape(detail.replace(_PLACEHOLDER, code))}" target="_blank"'
            ' rel="noopener">施設情報</a></div>\n'
            f"  <div>{_vacancy(f.vacancy_status)}\n"
            f"    {tag}</div>\n"
            f"  {missing}\n"
            '  <ul class="tags" aria-label="候補になった理由">'
            f"{_tags('tag ok', cand.reasons)}{_tags('tag', cand.to_confirm)}</ul>\n"
            "</li>\n"
        )
    return mark_safe("".join(out))  # noqa: S308 - every value was escaped above


def requested_rows(cands: Iterable[Candidate]) -> SafeString:
    """The facilities this case was already sent to."""
    return mark_safe(  # noqa: S308 - every value is escaped here
        "".join(
            f"<li>{escape(c.facility.name)}（{_kind(c.facility.kind)}）"
            '<span class="tag">依頼済み</span></li>'
            for c in cands
        )
    )


def outside_rows(rows: Iterable[tuple[Candidate, str]]) -> SafeString:
    """A page of the facilities outside the network, each with its phone number."""
    detail = _detail_url()
    out = []
    for cand, phone in rows:
        f = cand.facility
        missing = f"｜不足: {'、'.join(escape(m) for m in cand.missing)}" if cand.missing else ""
        if phone:
            tel = escape(phone)
            call = f'電話 <a href="tel:{tel}">{tel}</a>'
        else:
            call = "電話番号の登録がありません"
        out.append(
            '\n  <li class="result">\n'
            f"    <h3>{escape(f.name)}</h3>\n"
            f'    <div class="meta">{_kind(f.kind)}｜{escape(cand.municipality_name)}'
            f"{_distance(cand.distance_km)}｜{_vacancy(f.vacancy_status)}{missing}</div>\n"
            f"    <div>{call}｜"
            f'<a href="{escape(detail.replace(_PLACEHOLDER, str(f.code)))}" target="_blank"'
            ' rel="noopener">施設情報</a></div>\n'
            "  </li>\n  "
        )
    return mark_safe("".join(out))  # noqa: S308 - every value was escaped above


# The send form, as an MSW first sees it (ADR 0075): its two widgets and the deadline's
# include were ~1.3 ms of the page's CPU. Unbound, the form holds nothing of the request but
# its single-use token and the default deadline (two days ahead at 17:00, the same all day), so
# the deadline's field is drawn once per default and the token's input once per process, with
# a placeholder for the token. A form sent back with the MSW's input and errors is drawn by
# the template each time.
_SLOT = "renkei-slot-0075"


@functools.lru_cache(maxsize=4)
def _deadline_field(form_class: type[Form], initial: dt.datetime) -> SafeString:
    form = form_class(initial={"deadline": initial})
    return mark_safe(  # noqa: S308 - the template's own output, escaped there
        render_to_string("components/field.html", {"field": form["deadline"]})
    )


@functools.cache
def _token_input(form_class: type[Form]) -> str:
    form = form_class()
    # After __init__, which gives an unbound form a token of its own.
    form.initial["form_token"] = _SLOT
    return str(form["form_token"])


def deadline_field(form: Form) -> SafeString:
    """components/field.html for the send form's deadline."""
    if form.is_bound or settings.DEBUG:  # DEBUG: a template edited under runserver shows at once
        return mark_safe(  # noqa: S308 - the template's own output, escaped there
            render_to_string("components/field.html", {"field": form["deadline"]})
        )
    return _deadline_field(type(form), form.initial["deadline"])


def token_input(form: Form) -> SafeString:
    """The send form's hidden single-use token, as {{ form.form_token }} draws it."""
    if form.is_bound or settings.DEBUG:
        return mark_safe(str(form["form_token"]))  # noqa: S308 - the widget's own output
    token = escape(str(form.initial["form_token"]))
    return mark_safe(_token_input(type(form)).replace(_SLOT, token))  # noqa: S308


@receiver(setting_changed)
def _forget_form(*, setting: str, **kwargs: Any) -> None:
    # A test that swaps the templates or the form renderer must not see the memo of another.
    if setting in {"TEMPLATES", "FORM_RENDERER"}:
        _deadline_field.cache_clear()
        _token_input.cache_clear()
