"""効果検証: the government's dashboard of the network's figures, and its surveys."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from renkei.accounts.http import MemberRequest, member_required
from renkei.accounts.models import AuditEntry
from renkei.lib import exports
from renkei.lib.actions import ActionError, Conflict
from renkei.lib.forms import input_from_form, show_error, submit
from renkei.referrals import metrics, surveys
from renkei.referrals.forms import SurveyForm, SurveyResponseForm
from renkei.referrals.models import Survey, SurveyResponse
from renkei.referrals.surveys import PlacementSurveyInput, SurveyAnswerInput
from renkei.regions.models import SecondaryArea

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
    status = 200
    if request.method == "POST":
        sent = submit(
            form,
            PlacementSurveyInput,
            lambda data: surveys.create_survey(by=request.membership, data=data, request=request),
        )
        if sent.done:
            messages.success(request, "アンケートを作成しました。")
            return redirect("referrals:survey_list")
        status = sent.status
    return render(request, "referrals/survey_form.html", {"form": form}, status=status)


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
        status = 400
        data = input_from_form(form, SurveyAnswerInput)
        if data is not None or not survey.is_open():
            try:
                if data is None:
                    raise Conflict(surveys.CLOSED)
                surveys.answer_survey(survey, by=request.membership, data=data, request=request)
                messages.success(request, "ご回答ありがとうございました。")
                return redirect("referrals:survey_list")
            except ActionError as e:
                show_error(form, e)
                status = e.status
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
