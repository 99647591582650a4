"""The member menu: each feature app registers its own entry (and badge) in AppConfig.ready().

accounts knows no feature app; an app that is not installed simply has no entry.

    menu.register(menu.Entry("referrals:home", "入退院支援", order=10,
                             badge="renkei.referrals.models.unread_count"))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.urls import NoReverseMatch, reverse
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from renkei.accounts.models import Membership


@dataclass(frozen=True)
class Entry:
    url_name: str
    label: str
    order: int = 100
    # Dotted path of `f(membership) -> int`: a count shown beside the entry (unread, due).
    badge: str | None = None
    # Dotted path of `f(membership) -> bool`: whether this member sees the entry at all.
    visible: str | None = None


_entries: dict[str, Entry] = {}


def register(entry: Entry) -> None:
    _entries[entry.url_name] = entry


def entries() -> list[Entry]:
    return sorted(_entries.values(), key=lambda e: (e.order, e.label))


def _call(path: str, membership: Membership) -> Any:
    func: Callable[[Membership], Any] = import_string(path)
    return func(membership)


def for_member(membership: Membership, path: str) -> list[dict[str, Any]]:
    items = []
    for entry in entries():
        if entry.visible and not _call(entry.visible, membership):
            continue
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            continue
        item: dict[str, Any] = {"url": url, "label": entry.label, "current": path.startswith(url)}
        if entry.badge:
            item["badge"] = _call(entry.badge, membership)
        items.append(item)
    return items
