"""Specialist dispatch screens: a municipality's requests, the prefecture's desk and roster,
the specialist's report page (signed link) and the year's count."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from renkei.accounts.http import MemberRequest, RenkeiRequest, member_required
from renkei.accounts.models import OrgKind
from renkei.courses import dispatch
from renkei.courses.forms import (
    DispatchDecisionForm,
    DispatchReportForm,
    DispatchRequestForm,
    FeeForm,
    SpecialistForm,
)
from renkei.courses.models import DispatchRequest, Specialist
from renkei.lib.actions import ActionError, get_visible
from renkei.lib.dates import fiscal_year_label, requested_fiscal_year
from renkei.lib.forms import input_from_form, refuse, show_error
from renkei.lib.http import private_page

NOT_FOUND = "派遣の依頼が見つかりません"


def visible_request(request: MemberRequest, code: uuid.UUID) -> DispatchRequest:
    return get_visible(
        DispatchRequest.objects.visible_to(request.organization).select_related(
            "municipality", "specialist", "requester", "prefecture"
        ),
        NOT_FOUND,
        code=code,
    )


@member_required
@require_GET
def dispatch_list(request: MemberRequest) -> HttpResponse:
    org = request.organization
    fy = requested_fiscal_year(request.GET.get("fy", ""))
    reqs = (
        DispatchRequest.objects.visible_to(org)
        .in_fiscal_year(fy)
        .select_related("municipality", "specialist", "requester")
        .order_by("-date", "-pk")
    )
    return render(
        request,
        "courses/dispatch_list.html",
        {
            "requests": reqs[:300],
            "fy": fy,
            "fy_label": fiscal_year_label(fy),
            "counts": dispatch.yearly_counts(org, fy),
            "can_request": org.kind == OrgKind.MUNICIPALITY,
            "is_prefecture": org.kind == OrgKind.PREFECTURE,
        },
    )


@member_required
@require_http_methods(["GET", "POST"])
def dispatch_new(request: MemberRequest) -> HttpResponse:
    status = 200
    if request.method == "POST":
        form = DispatchRequestForm(request.POST)
        data = input_from_form(form, dispatch.DispatchRequestInput)
        if data is None:
            status = 400
        else:
            try:
                req = dispatch.request_dispatch(data, by=request.membership, request=request)
            except ActionError as e:
                show_error(form, e)
                status = e.status
            else:
                messages.success(
                    request, "派遣を依頼しました。県の調整結果はメールでお知らせします。"
                )
                return redirect(req.get_absolute_url())
    else:
        form = DispatchRequestForm()
    if request.organization.kind != OrgKind.MUNICIPALITY:
        form.add_error(None, "専門職の派遣は市区町村から依頼します。")
        status = max(status, 403)
    return render(request, "courses/dispatch_new.html", {"form": form}, status=status)


@member_required
@require_http_methods(["GET", "POST"])
def dispatch_detail(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    req = visible_request(request, code)
    is_prefecture = request.organization.pk == req.prefecture_id
    pool = dispatch.candidates(req) if is_prefecture and req.status == "requested" else []
    decision = DispatchDecisionForm(candidates=pool)
    fee = FeeForm(initial={"fee": req.fee})
    report = DispatchReportForm()
    status = 200
    if request.method == "POST":
        step = request.POST.get("step", "")
        try:
            if step == "decide":
                decision = DispatchDecisionForm(request.POST, candidates=pool)
                decided = input_from_form(decision, dispatch.DispatchDecisionInput)
                if decided is None:
                    status = 400
                else:
                    dispatch.decide(req, decided, by=request.membership, request=request)
                    messages.success(request, "調整結果を記録し、依頼元と専門職に連絡しました。")
                    return redirect(req.get_absolute_url())
            elif step == "fee":
                fee = FeeForm(request.POST)
                amount = input_from_form(fee, dispatch.FeeInput)
                if amount is None:
                    status = 400
                else:
                    dispatch.record_fee(req, amount, by=request.membership, request=request)
                    messages.success(request, "謝金を記録しました。")
                    return redirect(req.get_absolute_url())
            elif step == "report":
                report = DispatchReportForm(request.POST)
                filed = input_from_form(report, dispatch.DispatchReportInput)
                if filed is None:
                    status = 400
                else:
                    dispatch.file_report(req, filed, by=request.membership, request=request)
                    messages.success(request, "実施報告を登録しました。")
                    return redirect(req.get_absolute_url())
            elif step == "withdraw":
                dispatch.withdraw(req, by=request.membership, request=request)
                messages.success(request, "依頼を取り下げました。")
                return redirect(req.get_absolute_url())
            else:
                messages.error(request, "操作が正しくありません。")
                status = 400
        except ActionError as e:
            # Beside the field of the step's form, else at the top: a step's form may not be
            # on the page in this state (the fee's before the report), so its own error
            # would not be seen.
            target = {"decide": decision, "fee": fee, "report": report}.get(step)
            status = refuse(request, target, e)
    return render(
        request,
        "courses/dispatch_detail.html",
        {
            "req": req,
            "is_prefecture": is_prefecture,
            "is_requester": request.organization.pk == req.requester_id,
            "candidates": pool,
            "decision": decision,
            "fee": fee,
            "report": report,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def dispatch_report(request: RenkeiRequest, token: str) -> HttpResponse:
    """The specialist's page from the e-mailed link: the dispatch and its report form."""
    req = dispatch.by_token(token)
    form = DispatchReportForm()
    status = 200
    if request.method == "POST":
        form = DispatchReportForm(request.POST)
        data = input_from_form(form, dispatch.DispatchReportInput)
        if data is None:
            status = 400
        else:
            try:
                dispatch.file_report(req, data, request=request)
            except ActionError as e:
                show_error(form, e)
                status = e.status
            else:
                messages.success(request, "実施報告を受け付けました。ありがとうございました。")
                return redirect(req.get_report_url())
    return private_page(
        render(request, "courses/dispatch_report.html", {"req": req, "form": form}, status=status)
    )


@member_required
@require_http_methods(["GET", "POST"])
def specialists(request: MemberRequest) -> HttpResponse:
    """The prefecture's roster; anyone else is refused (403: the page is the prefecture's)."""
    if request.organization.kind != OrgKind.PREFECTURE:
        raise PermissionDenied("派遣専門職の名簿は都道府県の担当者だけが見られます。")
    form = SpecialistForm()
    status = 200
    if request.method == "POST":
        form = SpecialistForm(request.POST)
        data = input_from_form(form, dispatch.SpecialistInput)
        if data is None:
            status = 400
        else:
            try:
                dispatch.add_specialist(data, by=request.membership, request=request)
            except ActionError as e:
                show_error(form, e)
                status = e.status
            else:
                messages.success(request, "名簿に追加しました。")
                return redirect("courses:specialists")
    roster = (
        Specialist.objects.organised_by(request.organization)
        .prefetch_related("areas")
        .order_by("kind", "name")
    )
    return render(
        request,
        "courses/specialists.html",
        {"roster": roster, "form": form},
        status=status,
    )


@member_required
@require_POST
def specialist_toggle(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    s = get_visible(
        Specialist.objects.organised_by(request.organization), "専門職が見つかりません", code=code
    )
    s.active = not s.active
    s.save(update_fields=["active"])
    return redirect("courses:specialists")
