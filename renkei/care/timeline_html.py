"""The care pages' repeated parts, rendered in Python (ADR 0057, as ADR 0053 did for search).

The timeline's 30 threads and its team list, the since-last-visit list (up to 200 posts) and the patient list
(200 rows for a doctor) were most of their pages' CPU in the template engine: a variable
lookup, a filter call and an autoescape per field, a `{% url %}` per row (session 8 in
docs/benchmarks.md). Here each row is one format string over values escaped once, the
patient URL is reversed once per page, and labels come from dicts built once per process.
The HTML is the templates' (tests/test_timeline_html pins it); the rest of each page stays
a template.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from functools import cache
from html import escape
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from renkei.care.models import CareLevel, CareTeamMember, Category, Patient, Post, TeamRole

CATEGORY_LABELS: dict[str, str] = {k: str(v) for k, v in Category.choices}
CARE_LEVEL_LABELS: dict[str, str] = {k: str(v) for k, v in CareLevel.choices}
ROLE_LABELS: dict[str, str] = {k: str(v) for k, v in TeamRole.choices}
_ZERO = uuid.UUID(int=0)
MISS = '<span class="tag miss">未読</span>'


def _e(value: Any) -> str:
    return escape(str(value))


def _when(moment: dt.datetime) -> str:
    """`|date:"Y-m-d H:i"`: in the current time zone, as the template showed it."""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _day(day: dt.date | None, empty: str = "") -> str:
    return day.strftime("%Y-%m-%d") if day else empty


def _or_dash(text: str) -> str:
    return _e(text) if text else "—"


def patient_url(code: uuid.UUID, _base: list[str] = []) -> str:  # noqa: B006 - a per-process cache
    """`Patient.get_absolute_url()` without a `reverse()` per row (200 on a doctor's list)."""
    if not _base:
        _base.append(reverse("care:patient", args=[_ZERO]))
    return _base[0].replace(str(_ZERO), str(code))


def patient_rows(rows: Iterable[tuple[Patient, int]]) -> SafeString:
    """The patient list's rows (care/home.html): name, kana, age, care level, unread badge and
    the 訪問記録 shortcut."""
    today = timezone.localdate()
    out = []
    for p, unread in rows:
        url = patient_url(p.code)
        name = _e(p.name)
        badge = f'<span class="badge" aria-label="未読{unread}件">{unread}</span>' if unread else ""
        out.append(
            f'<li class="with-action"><a class="row" href="{url}">\n'
            f'    <span><span class="name">{name}</span> <span class="meta">{_e(p.kana)}・'
            f"{p.age(today)}歳・{_e(CARE_LEVEL_LABELS.get(p.care_level, p.care_level))}</span></span>\n"
            f"    {badge}\n"
            f'  </a><a class="btn secondary small quick" href="{url}?new=visit#new-post"'
            f' aria-label="{name}さんの訪問記録を書く">訪問記録</a></li>\n'
        )
    return mark_safe("".join(out))  # noqa: S308 - every value was escaped above


def team_list(team: Iterable[CareTeamMember]) -> SafeString:
    """The patient page's 基本情報 チーム: role, member and organisation, one a line (30 on a
    big team)."""
    return mark_safe(  # noqa: S308 - every value is escaped here
        "<br>".join(
            f"{_e(ROLE_LABELS.get(r.team_role, r.team_role))}: {_e(r.membership.user)}"
            f"（{_e(r.membership.organization.name)}）"
            for r in team
        )
    )


def _author(post: Post) -> tuple[str, str]:
    """The author's name and organisation, escaped (both loaded with the post)."""
    author = post.author
    return _e(author.user), _e(author.organization.name)


def threads(posts: Iterable[Post], *, on_team: bool, post_url: str, csrf_input: str) -> SafeString:
    """The timeline's threads (care/_timeline.html): each post with its category, author,
    addressees, reply request, visit items, readers, replies and (for the team) a reply form.
    The posts carry what `actions.timeline.timeline` put on them (thread, reader_names,
    unread)."""
    url = _e(post_url)
    out = []
    for post in posts:
        who, org = _author(post)
        unread: bool = post.unread  # type: ignore[attr-defined]
        parts = [
            f'<article class="care-post{" unread" if unread else ""}">\n'
            f'  <div class="head"><span class="tag">'
            f"{_e(CATEGORY_LABELS.get(post.category, post.category))}</span>"
            f'<strong>{who}</strong><span class="meta">{org}・{_when(post.created_at)}</span>'
            f"{MISS if unread else ''}</div>\n"
        ]
        if post.mentioned_roles:
            roles = "".join(
                f"@{_e(ROLE_LABELS[r])} " for r in post.mentioned_roles if r in ROLE_LABELS
            )
            parts.append(f'  <p class="meta">宛先: {roles}</p>\n')
        if post.reply_due:
            parts.append(
                f'  <p><span class="tag miss">返信依頼</span> 期限 {_day(post.reply_due)}</p>\n'
            )
        parts.append(f'  <div class="body">{_e(post.body)}</div>\n')
        if post.category == Category.VISIT:
            plan = f"あり: {_e(post.plan_summary)}" if post.plan_changed else "なし"
            parts.append(
                '  <dl class="facts care-visit">\n'
                f"    <dt>次回の訪問予定日</dt><dd>{_day(post.next_visit, '—')}</dd>\n"
                f"    <dt>方針の変更</dt><dd>{plan}</dd>\n"
                f"    <dt>療養上の留意点</dt><dd>{_or_dash(post.care_points)}</dd>\n"
                f"    <dt>人生の最終段階に関する情報</dt><dd>{_or_dash(post.end_of_life)}</dd>\n"
                "  </dl>\n"
            )
        readers = post.reader_names  # type: ignore[attr-defined]
        parts.append(f'  <p class="meta">既読: {_e(readers) if readers else "なし"}</p>\n')
        thread: list[Post] = post.thread  # type: ignore[attr-defined]
        if thread:
            parts.append('  <div class="replies">')
            for r in thread:
                miss = f" {MISS}" if r.unread else ""  # type: ignore[attr-defined]
                parts.append(
                    f"\n    <div><strong>{_e(r.author.user)}</strong> "
                    f'<span class="meta">{_when(r.created_at)}</span>{miss}'
                    f'<div class="body">{_e(r.body)}</div></div>\n  '
                )
            parts.append("</div>\n")
        if on_team:
            parts.append(
                '  <details class="no-print"><summary>返信する</summary>\n'
                f'    <form method="post" action="{url}" class="care-form">{csrf_input}'
                f'<input type="hidden" name="parent" value="{post.code}">'
                '<input type="hidden" name="category" value="contact">\n'
                f'      <label for="reply-{post.pk}">返信</label><textarea id="reply-{post.pk}"'
                ' name="body" rows="2" maxlength="4000"></textarea>\n'
                '      <button class="btn small" type="submit">返信する</button></form>\n'
                "  </details>\n"
            )
        parts.append("</article>\n")
        out.append("".join(parts))
    return mark_safe("".join(out))  # noqa: S308 - every value was escaped above


def since_posts(posts: Sequence[Post]) -> SafeString:
    """The since-last-visit list (care/since.html): category, author, time, reply mark, body,
    a changed plan and the next visit."""
    out = []
    for post in posts:
        who, org = _author(post)
        reply = '<span class="meta">返信</span>' if post.parent_id else ""
        plan = (
            f'  <div class="care-visit">方針の変更: {_e(post.plan_summary)}</div>\n'
            if post.plan_changed
            else ""
        )
        visit = (
            f'  <div class="meta">次回の訪問予定: {_day(post.next_visit)}</div>\n'
            if post.next_visit
            else ""
        )
        out.append(
            '<article class="care-post">\n'
            f'  <div class="head"><strong>{_e(CATEGORY_LABELS.get(post.category, post.category))}'
            f"</strong><span>{who}（{org}）</span>"
            f'<span class="meta">{_when(post.created_at)}</span>{reply}</div>\n'
            f'  <div class="body">{_e(post.body)}</div>\n'
            f"{plan}{visit}</article>\n"
        )
    return mark_safe("".join(out))  # noqa: S308 - every value was escaped above


@cache
def _blank_post_form(quick_visit: bool) -> SafeString:
    from renkei.care.forms import PostForm

    form = PostForm(initial={"category": "visit"} if quick_visit else None)
    return mark_safe(  # noqa: S308 - the template's own output, escaped there
        render_to_string(
            "care/_post_form_fields.html", {"post_form": form, "quick_visit": quick_visit}
        )
    )


@receiver(setting_changed)
def _forget_post_form(*, setting: str, **kwargs: Any) -> None:
    # A test that swaps the templates or the form renderer must not see the memo of another.
    if setting in {"TEMPLATES", "FORM_RENDERER"}:
        _blank_post_form.cache_clear()


def blank_post_form(quick_visit: bool) -> SafeString:
    """The empty post form's fields (care/_post_form_fields.html), drawn once per process:
    eight fields through the template engine were ~1.6 ms of every timeline page, and an
    unbound form holds nothing of the request, the patient or the member. A form with the
    member's input and errors is drawn by the template each time."""
    if settings.DEBUG:  # a template edited under runserver shows at once
        return _blank_post_form.__wrapped__(quick_visit)
    return _blank_post_form(quick_visit)
