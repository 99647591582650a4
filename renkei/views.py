from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from renkei.events.models import Event


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    # Residents reach the public lectures from here (issue 9 §5), signed in or not.
    upcoming = Event.objects.published().upcoming().order_by("starts_at", "pk")[:3]
    return render(request, "home.html", {"upcoming_events": upcoming})


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
