"""Public materials: the library a resident reaches from the home page, each document's page
(printable, its versions listed), downloads counted; and the publisher's screens."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from renkei.accounts.http import MemberRequest, RenkeiRequest, member_required
from renkei.courses import materials
from renkei.courses.forms import MaterialForm, VersionForm
from renkei.courses.models import Audience, Material, MaterialKind, MaterialVersion
from renkei.lib.actions import ActionError, NotFound, get_visible
from renkei.lib.dates import fiscal_year, fiscal_year_label
from renkei.lib.forms import input_from_form, show_error

NOT_FOUND = "資料が見つかりません"


def _public(code: uuid.UUID) -> Material:
    return get_visible(
        Material.objects.published()
        .select_related("organization", "municipality")
        .prefetch_related("versions"),
        NOT_FOUND,
        code=code,
    )


@require_GET
def material_list(request: RenkeiRequest) -> HttpResponse:
    qs = Material.objects.published().select_related("organization", "municipality")
    audience = request.GET.get("audience", "")
    kind = request.GET.get("kind", "")
    q = request.GET.get("q", "").strip()[:60]
    if audience in Audience.values:
        qs = qs.filter(audience__in=[audience, Audience.BOTH])
    if kind in MaterialKind.values:
        qs = qs.filter(kind=kind)
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(description__icontains=q))
    page = Paginator(qs.prefetch_related("versions").order_by("-created_at", "pk"), 30).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "courses/materials.html",
        {
            "page": page,
            "audiences": Audience.choices,
            "kinds": MaterialKind.choices,
            "audience": audience,
            "kind": kind,
            "q": q,
        },
    )


@require_GET
def material_detail(request: RenkeiRequest, code: uuid.UUID) -> HttpResponse:
    m = _public(code)
    return render(
        request,
        "courses/material.html",
        {"m": m, "current": m.current(), "versions": list(m.versions.all())},
    )


def _serve(m: Material, v: MaterialVersion) -> FileResponse:
    materials.count_download(m)
    name = v.file.name or ""
    ext = name.rsplit(".", 1)[-1] if "." in name else ""
    return FileResponse(
        v.file.open("rb"),
        content_type=v.content_type,
        filename=f"{m.title}_{v.published_on:%Y%m%d}.{ext}" if ext else m.title,
    )


@require_GET
def material_download(request: RenkeiRequest, code: uuid.UUID) -> FileResponse:
    m = _public(code)
    v = m.current()
    if v is None:
        raise NotFound(NOT_FOUND)
    return _serve(m, v)


@require_GET
def material_version(request: RenkeiRequest, code: uuid.UUID, pk: int) -> FileResponse:
    m = _public(code)
    v = get_visible(m.versions.all(), "この版は見つかりません", pk=pk)
    return _serve(m, v)


def _fy(request: RenkeiRequest) -> int:
    value = request.GET.get("fy", "")
    if value.isdigit() and 2000 <= int(value) <= 2100:
        return int(value)
    return fiscal_year(timezone.localdate())


@member_required
@require_http_methods(["GET", "POST"])
def manage(request: MemberRequest) -> HttpResponse:
    form, version = MaterialForm(), VersionForm()
    status = 200
    if request.method == "POST":
        form, version = MaterialForm(request.POST), VersionForm(request.POST, request.FILES)
        data = input_from_form(form, materials.MaterialInput)
        v = input_from_form(version, materials.VersionInput)
        if data is None or v is None:
            status = 400
        else:
            try:
                m = materials.publish(
                    data, v, version.cleaned_data["file"], by=request.membership, request=request
                )
            except ActionError as e:
                show_error(version if e.field == "file" else form, e)
                status = e.status
            else:
                messages.success(request, "資料を登録しました。")
                return redirect("materials:manage_detail", code=m.code)
    fy = _fy(request)
    own = (
        Material.objects.organised_by(request.organization)
        .prefetch_related("versions")
        .order_by("-created_at")
    )
    return render(
        request,
        "courses/materials_manage.html",
        {
            "materials": own[:200],
            "form": form,
            "version": version,
            "fy": fy,
            "fy_label": fiscal_year_label(fy),
            "months": materials.monthly_downloads(request.organization, fy),
        },
        status=status,
    )


@member_required
@require_http_methods(["GET", "POST"])
def manage_detail(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    m = get_visible(
        Material.objects.organised_by(request.organization).prefetch_related("versions"),
        NOT_FOUND,
        code=code,
    )
    version = VersionForm()
    status = 200
    if request.method == "POST":
        version = VersionForm(request.POST, request.FILES)
        v = input_from_form(version, materials.VersionInput)
        if v is None:
            status = 400
        else:
            try:
                materials.add_version(
                    m, v, version.cleaned_data["file"], by=request.membership, request=request
                )
            except ActionError as e:
                show_error(version, e)
                status = e.status
            else:
                messages.success(request, "新しい版を登録しました。前の版も引き続き公開されます。")
                return redirect("materials:manage_detail", code=m.code)
    return render(
        request,
        "courses/material_manage.html",
        {
            "m": m,
            "versions": list(m.versions.all()),
            "version": version,
            "downloads": m.downloads.order_by("-month")[:24],
        },
        status=status,
    )
