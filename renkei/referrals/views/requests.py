"""The receiving side's screens (the inbox, a request, its answer and thread) and 受入れ病院を探す."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from renkei.accounts.http import MemberRequest, member_required
from renkei.lib.actions import ActionError
from renkei.lib.forms import input_from_form, show_error
from renkei.lib.inputs import parse
from renkei.referrals import access, actions, hospitals
from renkei.referrals.forms import AdmissionSearchForm, AnswerForm, HandoverForm, MessageForm
from renkei.referrals.inputs import (
    ADMISSION_SORTS,
    AdmissionQuery,
    InboxQuery,
    MessageInput,
    RequestAnswerInput,
)
from renkei.referrals.models import CaseEvent, PlacementRequest, RequestStatus
from renkei.referrals.views.common import PER_PAGE, once, querystring


@member_required
@require_GET
def inbox(request: MemberRequest) -> HttpResponse:
    show = "all" if request.GET.get("show") == "all" else "open"
    qs = (
        PlacementRequest.objects.received_by(request.membership)
        .listed(show=InboxQuery(show=show).show)
        .select_related("case", "case__residence", "case__hospital", "facility")
        .order_by("-unread_by_facility", "-sent_at", "-id")
    )
    page = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "referrals/inbox.html",
        {"page": page, "show": show, "querystring_base": querystring(request)},
    )


def _request_context(request: MemberRequest, req: PlacementRequest, **extra: Any) -> dict[str, Any]:
    is_hospital = req.case.hospital_id == request.membership.organization_id
    case = req.case
    return {
        "req": req,
        "case": case,
        "is_hospital": is_hospital,
        "is_receiver": req.organization_id == request.membership.organization_id,
        "capabilities": list(case.required_capabilities.all()),
        "desired": list(case.desired_municipalities.all()),
        "thread": list(req.messages.select_related("organization", "author")),
        "events": list(
            CaseEvent.objects.filter(request=req).select_related("actor", "organization")
        ),
        "handovers": list(
            case.handovers.filter(organization_id__in=[case.hospital_id, req.organization_id])
        )
        if req.status == RequestStatus.CONFIRMED
        else [],
        "answer_form": extra.pop("answer_form", None) or AnswerForm(),
        "message_form": extra.pop("message_form", None) or MessageForm(),
        "handover_form": HandoverForm(),
        **extra,
    }


@member_required
@require_GET
def request_detail(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    req = access.visible_request(request.membership, code)
    actions.view_request(req, by=request.membership, request=request)
    return render(request, "referrals/request_detail.html", _request_context(request, req))


@member_required
@require_POST
def request_answer(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    req = access.received_request(request.membership, code)
    form = AnswerForm(request.POST)
    status = 400
    data = None
    if form.is_valid():
        data = input_from_form(
            form, RequestAnswerInput, {"interview_dates": form.interview_dates()}
        )
    if data is not None:
        answer = data

        def work() -> str:
            actions.answer_request(req, by=request.membership, data=answer, request=request)
            messages.success(request, "回答を送信しました。")
            return req.get_absolute_url()

        try:
            return redirect(once(request, form.cleaned_data["form_token"], "request.answer", work))
        except ActionError as e:
            show_error(form, e)
            status = e.status
    return render(
        request,
        "referrals/request_detail.html",
        _request_context(request, req, answer_form=form),
        status=status,
    )


@member_required
@require_POST
def request_message(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    req = access.visible_request(request.membership, code)
    form = MessageForm(request.POST)
    status = 400
    data = input_from_form(form, MessageInput)
    if data is not None:
        body = data

        def work() -> str:
            actions.post_message(req, by=request.membership, data=body, request=request)
            return req.get_absolute_url() + "#thread"

        try:
            url = once(request, form.cleaned_data["form_token"], "request.message", work)
            if not request.htmx:
                return redirect(url)
            form = MessageForm()
            status = 200
        except ActionError as e:
            form.add_error("body", e.message)
            status = e.status
    template = (
        "referrals/request_detail.html#thread" if request.htmx else "referrals/request_detail.html"
    )
    return render(
        request, template, _request_context(request, req, message_form=form), status=status
    )


@member_required
@require_POST
def request_withdraw(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    req = access.sent_request(request.membership, code)
    try:
        actions.withdraw_request(req, by=request.membership, request=request)
        messages.success(request, f"{req.facility}への依頼を取り下げました。")
    except ActionError as e:
        messages.error(request, e.message)
    return redirect(req.case)


# The other direction: hospitals for an admission -----------------------------


@member_required
@require_GET
def admission(request: MemberRequest) -> HttpResponse:
    form = AdmissionSearchForm(request.GET or None, organization=request.organization)
    hits = None
    origin = ""
    status = 200
    active: list[str] = []
    order = ADMISSION_SORTS["backup"]
    if form.is_bound:
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            muni = data.get("municipality") or request.organization.municipality
            origin = muni.name if muni else ""
            try:
                query = parse(
                    AdmissionQuery,
                    {
                        "municipality": muni.code if muni else "",
                        "ward_kind": data.get("ward_kinds") or [],
                        "capability": [c.code for c in data.get("capabilities") or []],
                        "vacant_only": bool(data.get("vacant_only")),
                        "backup_only": bool(data.get("backup_only")),
                        "radius_km": float(data.get("radius_km") or 20),
                        "sort": data.get("sort") or "backup",
                    },
                )
                hits = hospitals.search_hospitals(by=request.membership, data=query)
                status = 200
                active = _active_filters(form, origin, query)
                order = ADMISSION_SORTS[query.sort]
            except ActionError as e:
                show_error(form, e)
    return render(
        request,
        "referrals/admission.html",
        {"form": form, "hits": hits, "origin": origin, "active": active, "order": order},
        status=status,
    )


def _active_filters(form: AdmissionSearchForm, origin: str, query: AdmissionQuery) -> list[str]:
    """The conditions in force, in words, so they stay visible above the results."""
    data = form.cleaned_data
    out = [f"{origin or '所属組織の所在地'}から{query.radius_km:g}km以内"]
    kinds = dict(form.fields["ward_kinds"].choices)  # type: ignore[attr-defined]
    out += [str(kinds.get(k, k)) for k in query.ward_kind]
    if query.vacant_only:
        out.append("空床のある病棟のみ")
    if query.backup_only:
        out.append("在宅療養後方支援病院のみ")
    out += [f"処置: {c.name}" for c in data.get("capabilities") or []]
    return out
