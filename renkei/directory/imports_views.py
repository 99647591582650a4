"""The open-data upload page for municipal staff, its progress bar and its per-row report.

Only members of government organisations (市区町村・都道府県・運営事務局) see these pages;
everyone else gets a 404, as if the pages did not exist. An organisation sees its own runs,
the 運営事務局 all of them (including those of the management command).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from renkei.accounts.http import MemberRequest, member_required
from renkei.accounts.models import Organization, OrgKind
from renkei.directory.imports import (
    FORMAT_CHOICES,
    FORMAT_LABELS,
    NOTE,
    REJECTED,
    start_import,
)
from renkei.directory.models import ImportRun
from renkei.lib import exports
from renkei.lib.forms import DatePicker

MAX_UPLOAD_MB = 300
REPORTS_PER_PAGE = 100


class ImportForm(forms.Form):
    file = forms.FileField(
        label="ファイル（CSV、または CSV を1つ含む ZIP）",
        help_text="厚生労働省のサイトからダウンロードしたファイルを、そのまま指定してください。",
    )
    format = forms.ChoiceField(
        label="形式",
        choices=FORMAT_CHOICES,
        initial="auto",
        help_text="通常は「自動判別」のままで構いません。",
    )
    source_date = forms.DateField(
        label="データの時点（任意）",
        required=False,
        widget=DatePicker(),
        help_text="例: 2026-06-30。空欄の場合はファイル名の日付（…_20260601.csv）を使います。",
    )

    def clean_file(self) -> UploadedFile[bytes]:
        f: UploadedFile[bytes] = self.cleaned_data["file"]
        if not (f.name or "").lower().endswith((".csv", ".zip", ".txt")):
            raise ValidationError(
                "CSV ファイル（.csv）または ZIP ファイル（.zip）を指定してください。"
            )
        if (f.size or 0) > MAX_UPLOAD_MB * 1024 * 1024:
            raise ValidationError(f"ファイルが大きすぎます（上限 {MAX_UPLOAD_MB}MB）。")
        return f


def _require_government(request: MemberRequest) -> None:
    if not request.organization.is_government:
        raise Http404


def _visible_runs(org: Organization) -> QuerySet[ImportRun]:
    runs = ImportRun.objects.select_related("started_by", "organization")
    return runs if org.kind == OrgKind.OPERATOR else runs.filter(organization=org)


def _scope_label(org: Organization) -> str:
    if org.kind == OrgKind.OPERATOR:
        return "運営事務局として、全国の行を取り込みます。"
    area = org.municipality if org.kind == OrgKind.MUNICIPALITY else org.prefecture
    return f"{area or org}の施設・事業所の行だけを取り込みます（ほかの地域の行は対象外として数えます）。"


def _label(run: ImportRun) -> ImportRun:
    run.format_label = FORMAT_LABELS.get(run.format, "自動判別")  # type: ignore[attr-defined]
    return run


@member_required
@require_http_methods(["GET", "POST"])
def imports(request: MemberRequest) -> HttpResponse:
    _require_government(request)
    form = ImportForm(request.POST, request.FILES) if request.method == "POST" else ImportForm()
    status = 200
    if request.method == "POST":
        if form.is_valid():
            run = start_import(
                form.cleaned_data["file"],
                membership=request.membership,
                fmt=form.cleaned_data["format"],
                source_date=form.cleaned_data["source_date"],
                request=request,
            )
            return redirect("directory:import_detail", code=run.code)
        status = 400
    page = Paginator(_visible_runs(request.organization), 20).get_page(request.GET.get("page"))
    for run in page.object_list:
        _label(run)
    return render(
        request,
        "directory/imports.html",
        {
            "form": form,
            "page": page,
            "scope_label": _scope_label(request.organization),
            "can_import_areas": request.organization.kind in (OrgKind.OPERATOR, OrgKind.PREFECTURE),
        },
        status=status,
    )


@member_required
@require_GET
def import_detail(request: MemberRequest, code: str) -> HttpResponse:
    """The run's progress (polled by htmx every second until it finishes), then its report."""
    _require_government(request)
    run = _label(get_object_or_404(_visible_runs(request.organization), code=code))
    reports: list[dict[str, Any]] = run.errors if isinstance(run.errors, list) else []
    if request.GET.get("download") == "errors":
        return _reports_csv(run, reports)
    page = Paginator(reports, REPORTS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "run": run,
        "page": page,
        "querystring_base": "",
        "notes": sum(1 for r in reports if r.get("level") == NOTE),
    }
    template = (
        "directory/import_detail.html#status" if request.htmx else "directory/import_detail.html"
    )
    return render(request, template, context)


def _reports_csv(run: ImportRun, reports: list[dict[str, Any]]) -> HttpResponse:
    # The reasons quote the imported file's cells, which anyone could have written.
    rows = [
        [
            r.get("line", ""),
            "不採用" if r.get("level", REJECTED) == REJECTED else "注意",
            r.get("key", ""),
            r.get("reason", ""),
        ]
        for r in reports
    ]
    header = ["行", "区分", "事業所番号・ID", "内容"]
    return exports.response(
        "csv", f"import-{run.code}-report", exports.Sheet("取込結果", header, rows)
    )
