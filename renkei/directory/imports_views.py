from __future__ import annotations

from django.http import Http404, HttpResponse

from renkei.lib.http import MemberRequest, member_required


@member_required
def imports(request: MemberRequest) -> HttpResponse:
    raise Http404  # replaced by the importer work


@member_required
def import_detail(request: MemberRequest, code: str) -> HttpResponse:
    raise Http404
