"""The member menu: each feature app registers its own entry (and badge) in AppConfig.ready().

accounts knows no feature app; an app that is not installed simply has no entry.

    menu.register(menu.Entry("referrals:home", "入退院支援", order=10,
                             badge="renkei.referrals.models.unread_requests"))

A badge may return a count, a QuerySet whose count it is, or an `SQLCount` (its own
`SELECT COUNT(*) …`). The menu is drawn on every member page, so all of them are counted in one
statement (ADR 0054): a badge that must read something first (care's patient list) still costs
one statement, not two. Building and compiling a QuerySet costs more CPU than the count itself
on a small database, so the badges read on every page are written as `SQLCount` (ADR 0060).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet
from django.urls import NoReverseMatch
from django.utils.module_loading import import_string

from renkei.accounts.templatetags.renkei_tags import constant_url
from renkei.lib import prepared

if TYPE_CHECKING:
    from renkei.accounts.models import Membership


@dataclass(frozen=True)
class Entry:
    url_name: str
    label: str
    order: int = 100
    # Dotted path of `f(membership) -> int | QuerySet`: a count shown beside the entry
    # (unread, due); a QuerySet is counted together with the other entries' (one statement).
    badge: str | None = None
    # Dotted path of `f(membership) -> bool`: whether this member sees the entry at all.
    visible: str | None = None


@dataclass(frozen=True)
class SQLCount:
    """A badge written out: `sql` is one `SELECT COUNT(*) …` returning one row and one
    column, with `%s` placeholders for `params` (never text from the request). It is run as a
    scalar subquery beside the other badges, so it costs no statement of its own."""

    sql: str
    params: tuple[Any, ...] = ()
    using: str = "default"


_entries: dict[str, Entry] = {}


def register(entry: Entry) -> None:
    _entries[entry.url_name] = entry


def entries() -> list[Entry]:
    return sorted(_entries.values(), key=lambda e: (e.order, e.label))


@functools.cache
def _function(path: str) -> Callable[[Membership], Any]:
    # The menu is drawn on every member page: its predicates and badges are imported once a
    # process, its links reversed once (ADR 0080), as the layout's constant links (ADR 0064).
    func: Callable[[Membership], Any] = import_string(path)
    return func


def _call(path: str, membership: Membership) -> Any:
    return _function(path)(membership)


def for_member(membership: Membership, path: str) -> list[dict[str, Any]]:
    items = []
    counted: list[tuple[dict[str, Any], QuerySet[Any] | SQLCount]] = []
    for entry in entries():
        if entry.visible and not _call(entry.visible, membership):
            continue
        try:
            url = constant_url(entry.url_name)
        except NoReverseMatch:
            continue
        item: dict[str, Any] = {"url": url, "label": entry.label, "current": path.startswith(url)}
        if entry.badge:
            badge = _call(entry.badge, membership)
            if isinstance(badge, QuerySet | SQLCount):
                counted.append((item, badge))
            else:
                item["badge"] = badge
        items.append(item)
    count_together(counted)
    return items


def count_together(counted: list[tuple[dict[str, Any], QuerySet[Any] | SQLCount]]) -> None:
    """Set each item's "badge" to its QuerySet's count: one statement per database,
    `SELECT (SELECT COUNT(*) FROM (…) b0), (SELECT COUNT(*) FROM (…) b1), …`, which is what
    `.count()` runs for each (rows of the QuerySet, distinct if it is); an `SQLCount` is
    its own `(SELECT COUNT(*) …)` column."""
    by_db: dict[str, list[tuple[dict[str, Any], str, tuple[Any, ...]]]] = {}
    for item, qs in counted:
        if isinstance(qs, SQLCount):
            by_db.setdefault(qs.using, []).append((item, qs.sql, qs.params))
            continue
        # A model QuerySet is narrowed to its pk (distinct rows of a model are distinct pks).
        # A `.values(x).distinct()` or a grouped (`.annotate(Count…)` after `.values`) one
        # keeps its own columns: narrowed to pk it would count distinct pks, not distinct x.
        grouped = getattr(qs, "_fields", None) is not None or qs.query.group_by is not None
        query = (qs.order_by() if grouped else qs.order_by().values("pk")).query
        try:
            sql, params = query.get_compiler(using=qs.db).as_sql()
        except EmptyResultSet:  # .none(), or a filter that can match nothing
            item["badge"] = 0
            continue
        count = f"SELECT COUNT(*) FROM ({sql}) b{len(by_db.get(qs.db, []))}"  # noqa: S608
        by_db.setdefault(qs.db, []).append((item, count, tuple(params)))
    for alias, rows in by_db.items():
        # The compiler's SQL or the badge's own, with its values as bound parameters;
        # nothing from the request.
        columns = ", ".join(f"({sql})" for _, sql, _ in rows)
        # Prepared (ADR 0080): the text is the same on every page of a member; planning it
        # cost ten times running it.
        with prepared.cursor(connections[alias]) as cursor:
            cursor.execute(f"SELECT {columns}", [p for _, _, params in rows for p in params])
            found = cursor.fetchone()
        for (item, _, _), n in zip(rows, found, strict=True):
            item["badge"] = int(n)
