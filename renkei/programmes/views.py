from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from renkei.programmes.models import Issue, MeetingBody, ProgrammeTable


@login_required
def home(request: HttpRequest) -> HttpResponse:
    m = getattr(request, "membership", None)
    return render(
        request,
        "programmes/home.html",
        {
            "tables": ProgrammeTable.objects.visible_to(m).select_related("owner"),
            "bodies": MeetingBody.objects.visible_to(m).select_related("owner"),
            "issues": Issue.objects.visible_to(m).select_related("owner")[:50],
        },
    )
