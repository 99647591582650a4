"""/api/fhir/Task, shared by two apps: the placement network's Tasks (one per request to a
facility) and care's (reply requests and read receipts). Part of the URL configuration, the
one place allowed to import both (docs/architecture.md); neither app knows the other.
"""

from __future__ import annotations

import uuid

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_safe

from renkei.care import fhir as care_fhir
from renkei.referrals import fhir_views as referrals_fhir


@require_safe
def task_search(request: HttpRequest) -> HttpResponse:
    """`subject`/`patient` searches a patient's care Tasks; anything else (`focus`, none) the
    placement network's, as before."""
    # A system's token reads care's Tasks only (fhir:read, ADR 0044): care answers, and says
    # the subject is needed, rather than the placement network.
    token = getattr(request, "api_token", None) is not None
    if token or request.GET.get("subject") or request.GET.get("patient"):
        return care_fhir.task_search(request)
    return referrals_fhir.task_search(request)


@require_safe
def task_read(request: HttpRequest, id: str) -> HttpResponse:
    found = care_fhir.task_read_or_none(request, id)
    if found is not None:
        return found
    if getattr(request, "api_token", None) is not None:
        # Not care's: the placement network's Tasks are not a token's to read (ADR 0044).
        return care_fhir.outcome(404, "not-found", f"Task/{id[:40]} は見つかりません")
    try:
        code = uuid.UUID(id)
    except ValueError:
        code = uuid.UUID(int=0)  # no such Task: the placement network's rules say 401/404
    return referrals_fhir.task_read(request, code)


urlpatterns = [
    path("Task", task_search, name="fhir_task_search"),
    path("Task/<str:id>", task_read, name="fhir_task"),
]
