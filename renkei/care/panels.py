"""Panels other apps add to the patient page, without care importing them (ADR 0036).

An app that depends on care registers a function in its AppConfig.ready; the patient page calls
each with the request and the (already visible, already audited) patient and shows the HTML it
returns. A panel that fails is left out rather than taking the patient page down.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest
from django.utils.safestring import SafeString

from renkei.care.models import Patient

Panel = Callable[[HttpRequest, Patient], str]
PANELS: list[Panel] = []
log = logging.getLogger(__name__)


def register(panel: Panel) -> None:
    if panel not in PANELS:
        PANELS.append(panel)


def render_panels(request: HttpRequest, patient: Patient) -> list[SafeString]:
    out = []
    for panel in PANELS:
        try:
            html = panel(request, patient)
        except Exception:  # a broken panel must not hide the patient's record
            log.exception("patient panel %s failed", getattr(panel, "__name__", panel))
            continue
        if html:
            out.append(SafeString(html))
    return out
