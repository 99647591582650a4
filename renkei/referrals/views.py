"""Screens of the placement network: the MSW's cases and the facility's inbox."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from renkei.accounts.models import AuditEntry, Membership
from renkei.directory.models import Facility
from renkei.lib import exports
from renkei.lib.http import MemberRequest, member_required
from renkei.referrals import actions, metrics
from renkei.referrals.forms import (
    AdmissionSearchForm,
    AnswerForm,
    CaseForm,
    HandoverForm,
    MessageForm,
    SendForm,
    SurveyForm,
    SurveyResponseForm,
    WithdrawCaseForm,
)
from renkei.referrals.idempotency import KeyReused, new_form_token, run_once, valid_key
from renkei.referrals.matching import find_candidates, find_hospitals
from renkei.referrals.models import (
    CaseEvent,
    CaseStatus,
    PlacementCase,
    PlacementRequest,
    RequestStatus,
    Survey,
    SurveyResponse,
)
from renkei.regions.models import SecondaryArea

PER_PAGE = 20


class TokenError(Exception):
    pass


def _once(request: MemberRequest, token: str, scope: str, work: Callable[[], str]) -> str:
    """Run `work` (which returns the URL to go to) once per form token; replays get the same URL."""
    if not valid_key(token or ""):
        raise TokenError(
            "フォームの有効期限が切れました。画面を開き直してから、もう一度送信してください。"
        )
    try:
        _, body, replayed = run_once(
            request.user, f"form:{token}", scope, lambda: (302, {"redirect": work()})
        )
    except KeyReused as e:
        raise TokenError(str(e)) from e
    if replayed:
        messages.info(request, "この内容はすでに送信済みです（二重送信は処理しませんでした）。")
    return str(body["redirect"])


def _hospital_case(request: MemberRequest, code: uuid.UUID) -> PlacementCase:
    return get_object_or_404(
        PlacementCase.objects.of_hospital(request.membership).select_related(
            "residence", "assignee", "created_by", "placed_facility"
        ),
        code=code,
    )


def _visible_request(request: MemberRequest, code: uuid.UUID) -> PlacementRequest:
    return get_object_or_404(
        PlacementRequest.objects.visible_to(request.membership).select_related(
            "case",
            "case__residence",
            "case__hospital",
            "facility",
            "facility__municipality",
            "answered_by",
        ),
        code=code,
    )


def _querystring(request: MemberRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    encoded = params.urlencode()
    return encoded + "&" if encoded else ""


# Hub -------------------------------------------------------------------------


@member_required
@require_GET
def home(request: MemberRequest) -> HttpResponse:
    m = request.membership
    org_id = m.organization_id
    case_counts = PlacementCase.objects.of_hospital(m).aggregate(
        open=Count("pk", filter=Q(status__in=[CaseStatus.SEARCHING, CaseStatus.REQUESTING])),
        draft=Count("pk", filter=Q(status=CaseStatus.DRAFT)),
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
    scope = request.GET.get("scope", "team")
    status = request.GET.get("status", "")
    qs = PlacementCase.objects.of_hospital(m).select_related("residence", "assignee")
    if scope == "mine":
        qs = qs.filter(Q(assignee=request.user) | Q(created_by=request.user, assignee__isnull=True))
    if status in CaseStatus.values:
        qs = qs.filter(status=status)
    elif status == "open":
        qs = qs.open()
    qs = qs.annotate(
        n_requests=Count("requests"),
        n_positive=Count("requests", filter=Q(requests__status__in=RequestStatus.confirmable())),
        n_unread=Count("requests", filter=Q(requests__unread_by_hospital=True)),
    ).order_by("-created_at", "-id")
    page = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    template = "referrals/case_list.html#rows" if request.htmx else "referrals/case_list.html"
    return render(
        request,
        template,
        {
            "page": page,
            "scope": scope,
            "status": status,
            "statuses": CaseStatus.choices,
            "querystring_base": _querystring(request),
        },
    )


def _save_case(
    request: MemberRequest, form: CaseForm, case: PlacementCase | None, draft: bool
) -> str:
    data = form.cleaned_data
    if case is None:
        created = actions.create_case(
            by=request.membership,
            fields=form.case_fields(),
            capabilities=data["required_capabilities"],
            desired_municipalities=data["desired_municipalities"],
            draft=draft,
            request=request,
        )
        if draft:
            messages.success(request, "下書きを保存しました。")
            return created.get_absolute_url()
        messages.success(request, "案件を登録しました。受入れ候補を確認してください。")
        return reverse("referrals:candidates", args=[created.code])
    actions.update_case(
        case,
        by=request.membership,
        fields=form.case_fields(),
        capabilities=data["required_capabilities"],
        desired_municipalities=data["desired_municipalities"],
        register=not draft,
        expected_version=data.get("version"),
        request=request,
    )
    messages.success(request, "案件を更新しました。")
    return case.get_absolute_url()


def _case_form_view(request: MemberRequest, case: PlacementCase | None) -> HttpResponse:
    draft = request.POST.get("action") == "draft"
    form = CaseForm(
        request.POST or None,
        instance=case,
        organization=request.organization,
        draft=draft,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                url = _once(
                    request,
                    form.cleaned_data.get("form_token") or "",
                    "case.edit" if case else "case.create",
                    lambda: _save_case(request, form, case, draft),
                )
                return redirect(url)
            except (actions.ActionError, TokenError) as e:
                form.add_error(None, str(e))
                status = getattr(e, "status", 400)
        else:
            status = 400
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
    case = _hospital_case(request, code)
    if not case.is_open:
        messages.error(request, "決定・取下げ済みの案件は変更できません。")
        return redirect(case)
    return _case_form_view(request, case)


@member_required
@require_GET
def case_detail(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    m = request.membership
    case = get_object_or_404(
        PlacementCase.objects.visible_to(m).select_related(
            "residence", "assignee", "created_by", "placed_facility", "hospital"
        ),
        code=code,
    )
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
    actions.mark_seen_by_hospital(case, by=m)
    AuditEntry.record("referrals.case_viewed", request=request, target=case)
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
            "withdraw_form": WithdrawCaseForm(),
            "colleagues": colleagues,
            "can_confirm": case.status in (CaseStatus.SEARCHING, CaseStatus.REQUESTING),
            "confirm_token": new_form_token(),
        },
    )


@member_required
@require_http_methods(["GET", "POST"])
def candidates(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    case = _hospital_case(request, code)
    form = SendForm(request.POST or None)
    status = 200
    selected = request.POST.getlist("facility")
    if request.method == "POST":
        if form.is_valid():
            codes = []
            for raw in selected:
                try:
                    codes.append(uuid.UUID(raw))
                except ValueError:
                    continue
            facilities = list(Facility.objects.filter(code__in=codes))

            def work() -> str:
                sent = actions.send_requests(
                    case,
                    by=request.membership,
                    facilities=facilities,
                    deadline=form.cleaned_data["deadline"],
                    request=request,
                )
                messages.success(request, f"{len(sent)}施設に受入れ依頼を送信しました。")
                return case.get_absolute_url()

            try:
                return redirect(_once(request, form.cleaned_data["form_token"], "case.send", work))
            except (actions.ActionError, TokenError) as e:
                form.add_error(None, str(e))
                status = getattr(e, "status", 400)
        else:
            status = 400
    result = find_candidates(case) if case.is_open else None
    return render(
        request,
        "referrals/candidates.html",
        {
            "case": case,
            "result": result,
            "form": form,
            "selected": set(selected),
            "capabilities": list(case.required_capabilities.all()),
        },
        status=status,
    )


@member_required
@require_POST
def confirm(request: MemberRequest, code: uuid.UUID, request_code: uuid.UUID) -> HttpResponse:
    case = _hospital_case(request, code)
    req = get_object_or_404(
        PlacementRequest.objects.select_related("facility"), case=case, code=request_code
    )

    def work() -> str:
        actions.confirm_placement(case, req, by=request.membership, request=request)
        messages.success(
            request,
            f"{req.facility.name}に決定しました。他の依頼先には取下げを通知しました。",
        )
        return case.get_absolute_url()

    try:
        return redirect(_once(request, request.POST.get("form_token", ""), "case.confirm", work))
    except (actions.ActionError, TokenError) as e:
        messages.error(request, str(e))
        return redirect(case)


@member_required
@require_POST
def case_withdraw(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    case = _hospital_case(request, code)
    form = WithdrawCaseForm(request.POST)
    if not form.is_valid():
        messages.error(request, "取下げの理由を選んでください。")
        return redirect(case)
    try:
        actions.withdraw_case(
            case, by=request.membership, reason=form.cleaned_data["reason"], request=request
        )
        messages.success(request, "案件を取り下げました。依頼先には通知しました。")
    except actions.ActionError as e:
        messages.error(request, str(e))
    return redirect(case)


@member_required
@require_POST
def case_assign(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    case = _hospital_case(request, code)
    member = (
        Membership.objects.filter(
            pk=request.POST.get("membership") or 0, organization_id=case.hospital_id, is_active=True
        )
        .select_related("user")
        .first()
    )
    target = member.user if member is not None else request.user
    try:
        actions.assign_case(case, by=request.membership, to=target, request=request)
        messages.success(request, f"担当者を{target}にしました。")
    except actions.ActionError as e:
        messages.error(request, str(e))
    return redirect(case)


@member_required
@require_POST
def handover(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    case = get_object_or_404(PlacementCase.objects.visible_to(request.membership), code=code)
    form = HandoverForm(request.POST)
    back = request.POST.get("next") or ""
    target = back if back.startswith("/referrals/") else case.get_absolute_url()
    if not form.is_valid():
        messages.error(request, "書類の種類・方法・日付を確認してください。")
        return redirect(target)

    def work() -> str:
        actions.record_handover(
            case,
            by=request.membership,
            kind=form.cleaned_data["kind"],
            method=form.cleaned_data["method"],
            exchanged_on=form.cleaned_data["exchanged_on"],
            request=request,
        )
        messages.success(request, "書類の受け渡しを記録しました。")
        return target

    try:
        return redirect(_once(request, form.cleaned_data["form_token"], "case.handover", work))
    except (actions.ActionError, TokenError) as e:
        messages.error(request, str(e))
        return redirect(target)


@member_required
@require_POST
def request_withdraw(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    req = get_object_or_404(
        PlacementRequest.objects.filter(case__hospital_id=request.membership.organization_id),
        code=code,
    )
    try:
        actions.withdraw_request(req, by=request.membership, request=request)
        messages.success(request, f"{req.facility}への依頼を取り下げました。")
    except actions.ActionError as e:
        messages.error(request, str(e))
    return redirect(req.case)


# Requests (receiving side) ----------------------------------------------------


@member_required
@require_GET
def inbox(request: MemberRequest) -> HttpResponse:
    show = request.GET.get("show", "open")
    qs = (
        PlacementRequest.objects.received_by(request.membership)
        .select_related("case", "case__residence", "case__hospital", "facility")
        .order_by("-unread_by_facility", "-sent_at", "-id")
    )
    if show == "open":
        qs = qs.filter(status__in=RequestStatus.open())
    page = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "referrals/inbox.html",
        {"page": page, "show": show, "querystring_base": _querystring(request)},
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
    req = _visible_request(request, code)
    actions.mark_read(req, by=request.membership)
    AuditEntry.record("referrals.request_viewed", request=request, target=req)
    if req.case.hospital_id == request.membership.organization_id and req.unread_by_hospital:
        PlacementRequest.objects.filter(pk=req.pk).update(unread_by_hospital=False)
    return render(request, "referrals/request_detail.html", _request_context(request, req))


@member_required
@require_POST
def request_answer(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    req = _visible_request(request, code)
    if req.organization_id != request.membership.organization_id:
        raise Http404
    form = AnswerForm(request.POST)
    status = 400
    if form.is_valid():
        data = form.cleaned_data

        def work() -> str:
            actions.answer_request(
                req,
                by=request.membership,
                answer=data["answer"],
                decline_reason=data.get("decline_reason") or "",
                conditions=data.get("conditions") or "",
                interview_dates=form.interview_dates(),
                note=data.get("note") or "",
                request=request,
            )
            messages.success(request, "回答を送信しました。")
            return req.get_absolute_url()

        try:
            return redirect(_once(request, data["form_token"], "request.answer", work))
        except (actions.ActionError, TokenError) as e:
            form.add_error(None, str(e))
            status = getattr(e, "status", 400)
    return render(
        request,
        "referrals/request_detail.html",
        _request_context(request, req, answer_form=form),
        status=status,
    )


@member_required
@require_POST
def request_message(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    req = _visible_request(request, code)
    form = MessageForm(request.POST)
    status = 400
    if form.is_valid():

        def work() -> str:
            actions.post_message(
                req, by=request.membership, body=form.cleaned_data["body"], request=request
            )
            return req.get_absolute_url() + "#thread"

        try:
            url = _once(request, form.cleaned_data["form_token"], "request.message", work)
            if not request.htmx:
                return redirect(url)
            form = MessageForm()
            status = 200
        except (actions.ActionError, TokenError) as e:
            form.add_error("body", str(e))
            status = getattr(e, "status", 400)
    template = (
        "referrals/request_detail.html#thread" if request.htmx else "referrals/request_detail.html"
    )
    return render(
        request, template, _request_context(request, req, message_form=form), status=status
    )


# The other direction: hospitals for an admission -----------------------------


@member_required
@require_GET
def admission(request: MemberRequest) -> HttpResponse:
    form = AdmissionSearchForm(request.GET or None, organization=request.organization)
    hits = None
    point = None
    origin = ""
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        muni = data.get("municipality") or request.organization.municipality
        if muni is not None:
            point = muni.point()
            origin = muni.name
        hits = find_hospitals(
            point=point,
            municipality=muni,
            ward_kinds=data.get("ward_kinds") or [],
            capability_codes=[c.code for c in data.get("capabilities") or []],
            vacant_only=bool(data.get("vacant_only")),
            backup_only=bool(data.get("backup_only")),
            radius_km=float(data.get("radius_km") or 20),
        )
    return render(
        request,
        "referrals/admission.html",
        {"form": form, "hits": hits, "origin": origin},
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


# 効果検証 -----------------------------------------------------------------------


def _government(request: MemberRequest) -> None:
    if not request.organization.is_government:
        raise Http404


def _dashboard_for(request: MemberRequest) -> tuple[metrics.Dashboard, dict[str, Any]]:
    import datetime as dt

    area = None
    area_raw = request.GET.get("area", "")
    if area_raw.isdigit():
        area = SecondaryArea.objects.filter(pk=int(area_raw)).first()
    since = until = None
    errors = []
    for name in ("since", "until"):
        raw = request.GET.get(name, "")
        if raw:
            try:
                value = dt.date.fromisoformat(raw)
            except ValueError:
                errors.append(f"日付の形式が正しくありません（{raw}）")
                continue
            if name == "since":
                since = value
            else:
                until = value
    board = metrics.build(
        metrics.cases_for(request.organization), area=area, since=since, until=until
    )
    return board, {"area": area, "since": since, "until": until, "errors": errors}


@member_required
@require_GET
def dashboard(request: MemberRequest) -> HttpResponse:
    _government(request)
    board, filters = _dashboard_for(request)
    pref = request.organization.prefecture_id
    areas = (
        SecondaryArea.objects.filter(prefecture_id=pref) if pref else SecondaryArea.objects.all()
    )
    return render(
        request,
        "referrals/dashboard.html",
        {
            "board": board,
            "filters": filters,
            "areas": areas,
            "querystring": request.GET.urlencode(),
            "chart_days": metrics.bars([(r.label, r.days_median) for r in board.by_area]),
            "chart_months": metrics.bars([(r.label, r.cases) for r in board.by_month]),
            "chart_kinds": metrics.bars([(k[0], k[4]) for k in board.by_kind]),
            "chart_declines": metrics.bars(board.decline_reasons),
        },
    )


@member_required
@require_GET
def dashboard_export(request: MemberRequest, fmt: str) -> HttpResponse:
    _government(request)
    if fmt not in ("csv", "xlsx"):
        raise Http404
    board, _ = _dashboard_for(request)
    rows = board.csv_rows()
    AuditEntry.record(
        "referrals.dashboard_exported",
        request=request,
        detail={"format": fmt, "query": request.GET.urlencode()},
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    main = exports.Sheet("効果検証", rows=rows, freeze="C2")
    kinds = exports.Sheet(
        "施設種別",
        ["施設種別", "依頼数", "回答数", "受入可", "受入可の割合（%）"],
        [list(k) for k in board.by_kind],
    )
    declines = exports.Sheet(
        "受入不可の理由", ["受入不可の理由", "件数"], [list(d) for d in board.decline_reasons]
    )
    failed = exports.Sheet(
        "不成立の案件",
        ["登録月", "二次医療圏", "取下げの理由", "依頼数", "受入不可の内訳"],
        [
            [f["month"], f["area"], f["reason"], f["requests"], f["declines"]]
            for f in board.failed_cases
        ],
    )
    return exports.response(
        fmt,
        f"renkei-referrals-{stamp}",
        main,
        kinds,
        declines,
        failed,
        csv_sheets=[main, kinds, declines],
    )


# Surveys ------------------------------------------------------------------------


@member_required
@require_GET
def survey_list(request: MemberRequest) -> HttpResponse:
    org = request.organization
    surveys = Survey.objects.select_related("owner").annotate(n=Count("responses"))
    answered = set(
        SurveyResponse.objects.filter(organization=org).values_list("survey_id", flat=True)
    )
    return render(
        request,
        "referrals/survey_list.html",
        {
            "surveys": surveys,
            "answered": answered,
            "is_government": org.is_government,
            "today": timezone.localdate(),
        },
    )


@member_required
@require_http_methods(["GET", "POST"])
def survey_new(request: MemberRequest) -> HttpResponse:
    _government(request)
    form = SurveyForm(
        request.POST or None,
        initial={
            "title": "入退院支援ネットワークの効果検証アンケート",
            "opens_on": timezone.localdate(),
        },
    )
    if request.method == "POST" and form.is_valid():
        actions.create_survey(by=request.membership, fields=form.cleaned_data, request=request)
        messages.success(request, "アンケートを作成しました。")
        return redirect("referrals:survey_list")
    return render(
        request,
        "referrals/survey_form.html",
        {"form": form},
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


@member_required
@require_http_methods(["GET", "POST"])
def survey_answer(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    survey = get_object_or_404(Survey, code=code)
    org = request.organization
    if org.is_government:
        return redirect("referrals:survey_tally", code=survey.code)
    existing = SurveyResponse.objects.filter(survey=survey, organization=org).first()
    form = SurveyResponseForm(request.POST or None, instance=existing)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                actions.answer_survey(
                    survey, by=request.membership, fields=form.cleaned_data, request=request
                )
            except actions.SurveyClosed as e:
                form.add_error(None, str(e))
                status = 409
            else:
                messages.success(request, "ご回答ありがとうございました。")
                return redirect("referrals:survey_list")
        else:
            status = 400 if survey.is_open() else 409
            if not survey.is_open():
                form.add_error(None, "このアンケートは受付期間外です。")
    return render(
        request,
        "referrals/survey_answer.html",
        {"form": form, "survey": survey, "existing": existing},
        status=status,
    )


@member_required
@require_GET
def survey_tally(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    _government(request)
    survey = get_object_or_404(Survey, code=code, owner=request.organization)
    t = metrics.tally(survey)
    return render(
        request,
        "referrals/survey_tally.html",
        {
            "survey": survey,
            "tally": t,
            "chart": metrics.bars([(f"{s}", n) for s, n in t.satisfaction_counts], width=240),
        },
    )
