from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.module_loading import import_string

# Member navigation: (url name, label). Entries whose URL does not resolve are skipped,
# so an app appears in the menu as soon as it defines the named route.
MEMBER_NAV = [
    ("referrals:home", "入退院支援"),
    ("desk:home", "相談窓口"),
    ("events:manage", "研修・イベント"),
    ("mentoring:home", "同行研修"),
]


# Unread counts shown beside a menu entry: url name -> function(membership) -> int.
NAV_BADGES = {"referrals:home": "renkei.referrals.models.unread_count"}


def _nav(request: HttpRequest) -> list[dict[str, Any]]:
    items = []
    membership = getattr(request, "membership", None)
    for name, label in MEMBER_NAV:
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        item: dict[str, Any] = {"url": url, "label": label, "current": request.path.startswith(url)}
        if name in NAV_BADGES and membership is not None:
            item["badge"] = import_string(NAV_BADGES[name])(membership)
        items.append(item)
    return items


def renkei(request: HttpRequest) -> dict[str, Any]:
    membership = getattr(request, "membership", None)
    return {
        "SITE_NAME": settings.SITE_NAME,
        "TILE_URL": settings.TILE_URL,
        "TILE_ATTRIBUTION": settings.TILE_ATTRIBUTION,
        "membership": membership,
        "member_nav": _nav(request) if membership is not None else [],
    }
