"""The discharge side's screens: the hub, the case list, a case, its candidates and decisions."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from renkei.accounts.http import MemberRequest, member_required
from renkei.accounts.idempotency import new_form_token
from renkei.accounts.models import Membership
from renkei.directory.models import Facility
from renkei.lib.actions import ActionError
from renkei.lib.forms import input_from_form, show_error, submit
from renkei.lib.inputs import parse, parse_query
from renkei.referrals import access, actions, candidates_html
from renkei.referrals.forms import CaseForm, HandoverForm, SendForm, WithdrawCaseForm
from renkei.referrals.inputs import (
    CaseAssignInput,
    CaseInput,
    CaseListQuery,
    CaseUpdate,
    HandoverInput,
    SendRequestsInput,
    WithdrawCaseInput,
)
from renkei.referrals.matching import find_candidates
from renkei.referrals.models import (
    CaseEvent,
    CaseStatus,
    PlacementCase,
    PlacementRequest,
    RequestStatus,
)
from renkei.referrals.views.common import PER_PAGE, once, querystring

# Hub -------------------------------------------------------------------------


@member_required
@require_GET
def home(request: MemberRequest) -> HttpResponse:
    m = request.membership
    org_id = m.organization_id
    case_counts = PlacementCase.objects.of_hospital(m).aggregate(
        open=Count(
            "pk", filter=Q(status__in=[CaseStatus.SEARCHING, CaseStatus.REQUESTING]), distinct=True
        ),
        draft=Count("pk", filter=Q(status=CaseStatus.DRAFT), distinct=True),
        unread=Count("requests", filter=Q(requests__unread_by_hospital=True), distinct=True),
    )
    inbox_counts = PlacementRequest.objects.filter(organization_id=org_id).aggregate(
        open=Count("pk", filter=Q(status__in=RequestStatus.open())),
        unread=Count("pk", filter=Q(unread_by_facility=True)),
    )
    receives = Facility.objects.filter(organization_id=org_id).exists()
    return render(
        request,
        "referrals/home.html",
        {
            "case_counts": case_counts,
            "inbox_counts": inbox_counts,
            "receives": receives,
            "is_government": m.organization.is_government,
        },
    )


# Cases (discharge side) -------------------------------------------------------


@member_required
@require_GET
def case_list(request: MemberRequest) -> HttpResponse:
    m = request.membership
    try:
        query = parse_query(CaseListQuery, request.GET)
    except ActionError:
        query = CaseListQuery()
    qs = (
        PlacementCase.objects.of_hospital(m)
        .listed(request.user, scope=query.scope, status=query.status)
        .select_related("residence", "assignee")
        .annotate(
            n_requests=Count("requests"),
            n_positive=Count(
                "requests", filter=Q(requests__status__in=RequestStatus.confirmable())
            ),
            n_unread=Count("requests", filter=Q(requests__unread_by_hospital=True)),
        )
        .order_by("-created_at", "-id")
    )
    page = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    template = "referrals/case_list.html#rows" if request.htmx else "referrals/case_list.html"
    return render(
        request,
        template,
        {
            "page": page,
            "scope": query.scope,
            "status": query.status,
            "statuses": CaseStatus.choices,
            "querystring_base": querystring(request),
        },
    )


def _codes(form: CaseForm) -> dict[str, Any]:
    """The form's chosen rows as the codes the input takes (the form shows names, posts pks)."""
    data = form.cleaned_data
    return {
        "residence": data["residence"].code if data.get("residence") else "",
        "required_capabilities": [c.code for c in data.get("required_capabilities") or []],
        "desired_municipalities": [m.code for m in data.get("desired_municipalities") or []],
    }


def _case_form_view(request: MemberRequest, case: PlacementCase | None) -> HttpResponse:
    draft = request.POST.get("action") == "draft"
    form = CaseForm(
        request.POST or None, instance=case, organization=request.organization, draft=draft
    )
    if request.method != "POST":
        return render(request, "referrals/case_form.html", {"form": form, "case": case})
    status = 400
    data: CaseInput | CaseUpdate | None = None
    if form.is_valid():
        if case is None:
            data = input_from_form(form, CaseInput, {**_codes(form), "draft": draft})
        else:
            data = input_from_form(form, CaseUpdate, {**_codes(form), "complete_draft": not draft})
    if data is not None:
        saved = data

        def work() -> str:
            if isinstance(saved, CaseInput):
                created = actions.create_case(by=request.membership, data=saved, request=request)
                if saved.draft:
                    messages.success(request, "下書きを保存しました。")
                    return created.get_absolute_url()
                messages.success(request, "案件を登録しました。受入れ候補を確認してください。")
                return reverse("referrals:candidates", args=[created.code])
            assert case is not None
            actions.update_case(case, by=request.membership, data=saved, request=request)
            messages.success(request, "案件を更新しました。")
            return case.get_absolute_url()

        try:
            scope = "case.edit" if case else "case.create"
            return redirect(once(request, form.cleaned_data.get("form_token") or "", scope, work))
        except ActionError as e:
            show_error(form, e)
            status = e.status
    return render(request, "referrals/case_form.html", {"form": form, "case": case}, status=status)


@member_required
@require_http_methods(["GET", "POST"])
def case_new(request: MemberRequest) -> HttpResponse:
    if request.organization.is_government:
        raise Http404
    return _case_form_view(request, None)


@member_required
@require_http_methods(["GET", "POST"])
def case_edit(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    case = access.own_case(request.membership, code)
    if not case.is_open:
        messages.error(request, "決定・取下げ済みの案件は変更できません。")
        return redirect(case)
    return _case_form_view(request, case)


@member_required
@require_GET
def case_detail(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    m = request.membership
    case = access.visible_case(m, code)
    if case.hospital_id != m.organization_id:
        # A facility sees the case only through its own request.
        own = (
            PlacementRequest.objects.filter(case=case, organization_id=m.organization_id)
            .order_by("pk")
            .first()
        )
        if own is None:
            raise Http404
        return redirect(own)
    actions.view_case(case, by=m, request=request)
    requests_ = list(
        case.requests.select_related("facility", "facility__municipality").annotate(
            n_messages=Count("messages")
        )
    )
    colleagues = Membership.objects.filter(
        organization_id=case.hospital_id, is_active=True
    ).select_related("user")
    return render(
        request,
        "referrals/case_detail.html",
        {
            "case": case,
            "requests": requests_,
            "events": CaseEvent.objects.visible_to(m, case).select_related("actor", "organization"),
            "capabilities": list(case.required_capabilities.all()),
            "desired": list(case.desired_municipalities.all()),
            "handovers": list(case.handovers.select_related("organization")),
            "handover_form": HandoverForm(),
            "colleagues": colleagues,
            "can_confirm": case.status in (CaseStatus.SEARCHING, CaseStatus.REQUESTING),
        },
    )


@member_required
@require_http_methods(["GET", "POST"])
def candidates(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    found = access.own_case_to_match(request.membership, code)
    case = found.case
    form = SendForm(request.POST or None)
    status = 200
    selected = request.POST.getlist("facility")
    if request.method == "POST":
        status = 400
        data = input_from_form(form, SendRequestsInput, {"facilities": selected})
        if data is not None:

            def work() -> str:
                sent = actions.send_requests(
                    case, by=request.membership, data=data, request=request
                )
                messages.success(request, f"{len(sent)}施設に受入れ依頼を送信しました。")
                return case.get_absolute_url()

            try:
                return redirect(once(request, form.cleaned_data["form_token"], "case.send", work))
            except ActionError as e:
                show_error(form, e)
                status = e.status
    return render(
        request,
        "referrals/candidates.html",
        {
            "case": case,
            "form": form,
            "token_html": candidates_html.token_input(form),
            "deadline_html": candidates_html.deadline_field(form),
            "selected": set(selected),
            "capabilities": found.capabilities,
            **(
                _candidate_groups(request, found, set(selected))
                if case.is_open
                else {"result": None}
            ),
        },
        status=status,
    )


OUTSIDE_PER_PAGE = 10


def _candidate_groups(
    request: MemberRequest, found: access.CaseToMatch, selected: set[str]
) -> dict[str, Any]:
    """The candidates as the MSW works through them: those a request can go to first, then
    those already asked, then the directory's other facilities (to phone), ten at a time.
    Their rows are drawn in Python (candidates_html, ADR 0070)."""
    result = find_candidates(found.case, criteria=found.criteria())
    everyone = result.all()
    outside = [c for c in everyone if not c.in_network]
    page = Paginator(outside, OUTSIDE_PER_PAGE).get_page(request.GET.get("outside"))
    requestable = [c for c in everyone if c.can_request]
    requested = [c for c in everyone if c.requested_status]
    return {
        "result": result,
        "requestable": requestable,
        "requestable_html": candidates_html.requestable_rows(requestable, selected),
        "requested": requested,
        "requested_html": candidates_html.requested_rows(requested),
        "outside": page,
        "outside_html": candidates_html.outside_rows(
            # The candidate query reads the phone numbers with the rest (ADR 0070).
            (c, c.facility.phone)
            for c in page
        ),
    }


@member_required
@require_http_methods(["GET", "POST"])
def confirm(request: MemberRequest, code: uuid.UUID, request_code: uuid.UUID) -> HttpResponse:
    """この施設に決定: a page saying which facilities will be told, then the decision."""
    case = access.own_case(request.membership, code)
    req = access.request_of_case(case, request_code)
    if request.method == "POST":

        def work() -> str:
            actions.confirm_placement(case, req, by=request.membership, request=request)
            messages.success(
                request,
                f"{req.facility.name}に決定しました。他の依頼先には取下げを通知しました。",
            )
            return case.get_absolute_url()

        try:
            token = request.POST.get("form_token", "")
            return redirect(once(request, token, "case.confirm", work))
        except ActionError as e:
            messages.error(request, e.message)
            return redirect(case)
    return render(
        request,
        "referrals/confirm_placement.html",
        {
            "case": case,
            "req": req,
            "told": actions.notified_by_withdrawal(case, exclude_pk=req.pk),
            "confirmable": case.is_open and req.status in RequestStatus.confirmable(),
            "form_token": new_form_token(),
        },
    )


@member_required
@require_http_methods(["GET", "POST"])
def case_withdraw(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    """取下げ: a page saying which facilities will be told, then the withdrawal."""
    case = access.own_case(request.membership, code)
    form = WithdrawCaseForm(request.POST or None)
    status = 200
    if request.method == "POST":
        sent = submit(
            form,
            WithdrawCaseInput,
            lambda data: actions.withdraw_case(
                case, by=request.membership, data=data, request=request
            ),
        )
        if sent.done:
            messages.success(request, "案件を取り下げました。依頼先には通知しました。")
            return redirect(case)
        status = sent.status
    return render(
        request,
        "referrals/case_withdraw.html",
        {"case": case, "form": form, "told": actions.notified_by_withdrawal(case)},
        status=status,
    )


@member_required
@require_POST
def case_assign(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    case = access.own_case(request.membership, code)
    try:
        data = parse(CaseAssignInput, {"username": request.POST.get("username") or None})
        actions.assign_case(case, by=request.membership, data=data, request=request)
        case.refresh_from_db(fields=["assignee"])
        messages.success(request, f"担当者を{case.assignee}にしました。")
    except ActionError as e:
        messages.error(request, e.message)
    return redirect(case)


@member_required
@require_POST
def handover(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    case = access.visible_case(request.membership, code)
    form = HandoverForm(request.POST)
    back = request.POST.get("next") or ""
    target = back if back.startswith("/referrals/") else case.get_absolute_url()
    data = input_from_form(form, HandoverInput)
    if data is None:
        messages.error(request, "書類の種類・方法・日付を確認してください。")
        return redirect(target)

    def work() -> str:
        actions.record_handover(case, by=request.membership, data=data, request=request)
        messages.success(request, "書類の受け渡しを記録しました。")
        return target

    try:
        return redirect(once(request, form.cleaned_data["form_token"], "case.handover", work))
    except ActionError as e:
        messages.error(request, e.message)
        return redirect(target)
