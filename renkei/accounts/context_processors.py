from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def renkei(request: HttpRequest) -> dict[str, Any]:
    return {
        "SITE_NAME": settings.SITE_NAME,
        "TILE_URL": settings.TILE_URL,
        "TILE_ATTRIBUTION": settings.TILE_ATTRIBUTION,
        "membership": getattr(request, "membership", None),
    }
