"""The 二次医療圏 upload page (renkei.directory.areas): prefecture staff for their prefecture,
the 運営事務局 for any. Everyone else gets a 404, as for the open-data upload page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_http_methods

from renkei.accounts.http import MemberRequest, member_required
from renkei.directory import areas
from renkei.lib.actions import ActionError
from renkei.regions.models import Prefecture


class AreaFileForm(forms.Form):
    file = forms.FileField(
        label="CSV ファイル",
        help_text="見出し行: 都道府県,二次医療圏,市区町村コード,市区町村名（UTF-8 または Shift_JIS）",
    )


def _scope(request: MemberRequest) -> set[int] | None:
    try:
        return areas.allowed_prefectures(request.membership)
    except ActionError:
        raise Http404 from None


@member_required
@require_http_methods(["GET", "POST"])
def area_import(request: MemberRequest) -> HttpResponse:
    scope = _scope(request)
    prefectures = Prefecture.objects.annotate(
        n_areas=Count("areas", distinct=True),
        n_unassigned=Count(
            "municipalities",
            filter=Q(
                municipalities__secondary_area__isnull=True,
                municipalities__is_designated_city=False,
            ),
            distinct=True,
        ),
    ).order_by("code")
    if scope is not None:
        prefectures = prefectures.filter(pk__in=scope)
    download = request.GET.get("download", "")
    if download:
        pref = get_object_or_404(prefectures, code=download)
        response = HttpResponse(areas.export_csv(pref), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="areas-{pref.code}.csv"'
        return response
    form = AreaFileForm(request.POST, request.FILES) if request.method == "POST" else AreaFileForm()
    context: dict[str, Any] = {"form": form, "all_prefectures": scope is None}
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                context["result"] = areas.import_areas(
                    form.cleaned_data["file"].read(), by=request.membership, request=request
                )
                form = AreaFileForm()
                context["form"] = form
            except ActionError as e:
                context["problems"] = getattr(e, "problems", [])
                form.add_error("file", e.message)
                status = e.status
        else:
            status = 400
    context["prefectures"] = prefectures
    return render(request, "directory/area_import.html", context, status=status)
