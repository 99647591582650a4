from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from renkei.accounts import menu


def _member_nav(request: HttpRequest, membership: Any) -> list[dict[str, Any]]:
    """The menu with its badges, once per request: a page that renders panels or partials
    with the request runs this processor again, and each badge is a query."""
    if membership is None:
        return []
    cached: list[dict[str, Any]] | None = getattr(request, "_renkei_member_nav", None)
    if cached is None:
        cached = menu.for_member(membership, request.path)
        request._renkei_member_nav = cached  # type: ignore[attr-defined]
    return cached


def renkei(request: HttpRequest) -> dict[str, Any]:
    membership = getattr(request, "membership", None)
    return {
        "SITE_NAME": settings.SITE_NAME,
        "TILE_URL": settings.TILE_URL,
        "TILE_ATTRIBUTION": settings.TILE_ATTRIBUTION,
        "membership": membership,
        "member_nav": _member_nav(request, membership),
    }
