from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from renkei.accounts import menu


def renkei(request: HttpRequest) -> dict[str, Any]:
    membership = getattr(request, "membership", None)
    return {
        "SITE_NAME": settings.SITE_NAME,
        "TILE_URL": settings.TILE_URL,
        "TILE_ATTRIBUTION": settings.TILE_ATTRIBUTION,
        "membership": membership,
        "member_nav": menu.for_member(membership, request.path) if membership is not None else [],
    }
