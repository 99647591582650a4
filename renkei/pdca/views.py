"""Survey and indicator screens: parse → authorise (access.py) → act (actions.py) → render."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from renkei.accounts.http import MemberRequest, member_required
from renkei.accounts.models import OrgKind
from renkei.lib import exports
from renkei.lib.actions import ActionError, NotFound
from renkei.lib.dates import fiscal_year, fiscal_year_label
from renkei.lib.forms import input_from_form, show_error
from renkei.pdca import actions, population, tables
from renkei.pdca.access import (
    own_response,
    sent_survey,
    visible_municipality,
    visible_response,
    visible_survey,
)
from renkei.pdca.catalogue import ensure_indicators
from renkei.pdca.forms import AnswerForm, PopulationForm, SurveyForm, ValueForm
from renkei.pdca.models import (
    ComputeRun,
    IndicatorValue,
    Response,
    Survey,
    own_municipality_id,
    readable_municipalities,
)
from renkei.referrals.metrics import bars


def _government_kind(request: MemberRequest) -> str:
    kind = request.membership.organization.kind
    if kind not in (OrgKind.MUNICIPALITY, OrgKind.PREFECTURE, OrgKind.OPERATOR):
        raise Http404
    return str(kind)


@member_required
@require_GET
def home(request: MemberRequest) -> HttpResponse:
    kind = _government_kind(request)
    m = request.membership
    surveys = Survey.objects.readable_by(m).select_related("area")
    mine = (
        Response.objects.answerable_by(m).select_related("survey").order_by("-survey__created_at")
    )
    muni_id = own_municipality_id(m)
    return render(
        request,
        "pdca/home.html",
        {
            "surveys": surveys,
            "responses": mine,
            "is_prefecture": kind == OrgKind.PREFECTURE,
            "imports_population": kind in (OrgKind.PREFECTURE, OrgKind.OPERATOR),
            "own_municipality": m.organization.municipality if muni_id else None,
            "runs": ComputeRun.objects.filter(organization=m.organization)[:5],
            "years": actions.default_years(),
        },
    )


@member_required
@require_http_methods(["GET", "POST"])
def survey_new(request: MemberRequest) -> HttpResponse:
    if _government_kind(request) != OrgKind.PREFECTURE:
        raise Http404
    org = request.membership.organization
    status = 200
    if request.method == "POST":
        form = SurveyForm(request.POST, prefecture_id=org.prefecture_id)
        data = None
        if form.is_valid():
            data = input_from_form(
                form, actions.SurveyInput, extra={"questions": form.questions() or None}
            )
        if data is not None:
            try:
                survey = actions.send_survey(by=request.membership, data=data, request=request)
            except ActionError as e:
                show_error(form, e)
                status = e.status
            else:
                messages.success(request, f"{survey.responses.count()}市町村に調査を送りました。")
                return redirect("pdca:survey", code=survey.code)
        else:
            status = 400
    else:
        form = SurveyForm(
            prefecture_id=org.prefecture_id,
            initial={
                "fiscal_year": fiscal_year(timezone.localdate()),
                "seed": [k for k, _n, _l in actions.SEED_QUESTIONS],
                "title": "病院・在宅医療・介護連携の取組状況・課題等について",
            },
        )
    return render(request, "pdca/survey_form.html", {"form": form}, status=status)


@member_required
@require_GET
def survey(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    s = visible_survey(request.membership, code)
    if s.organization_id != request.membership.organization_id:
        # A municipality sees its own answer, not its neighbours'.
        r = Response.objects.answerable_by(request.membership).filter(survey=s).first()
        if r is None:
            raise NotFound("調査が見つかりません")
        return redirect("pdca:response", code=r.code)
    table = tables.comparison(s)
    template = "pdca/survey_print.html" if request.GET.get("print") == "1" else "pdca/survey.html"
    return render(request, template, {"survey": s, "table": table})


@member_required
@require_GET
def survey_export(request: MemberRequest, code: uuid.UUID, fmt: str) -> HttpResponse:
    s = sent_survey(request.membership, code)
    table = tables.comparison(s)
    return exports.response(fmt, f"survey-{s.fiscal_year}", tables.comparison_sheet(table))


@member_required
@require_http_methods(["GET", "POST"])
def response(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    r = visible_response(request.membership, code)
    editable = own_municipality_id(request.membership) == r.municipality_id
    questions = list(r.survey.questions.all())
    status = 200
    if request.method == "POST":
        if not editable:
            raise Http404
        r = own_response(request.membership, code)
        form = AnswerForm(request.POST, questions=questions)
        submit = request.POST.get("action") == "submit"
        data = None
        if form.is_valid():
            data = input_from_form(
                form, actions.AnswerInput, extra={"answers": form.answers(), "submit": submit}
            )
        if data is not None:
            try:
                actions.save_answers(r, by=request.membership, data=data, request=request)
            except ActionError as e:
                show_error(form, e)
                status = e.status
            else:
                messages.success(request, "提出しました。" if submit else "下書きを保存しました。")
                return redirect("pdca:response", code=r.code)
        else:
            status = 400
    else:
        form = AnswerForm(
            questions=questions,
            initial={"version": r.version, **{f"a_{q.key}": r.answer(q.key) for q in questions}},
        )
    indicators = [
        t
        for t in tables.trends(r.municipality)
        if any(y.fiscal_year in (r.survey.fiscal_year, r.survey.fiscal_year - 1) for y in t.years)
    ]
    return render(
        request,
        "pdca/response.html",
        {
            "response": r,
            "survey": r.survey,
            "form": form,
            "editable": editable,
            "questions": questions,
            "answered": [(q, r.answer(q.key)) for q in questions],
            "submissions": [
                (sub, [(q, str(sub.answers.get(q.key, ""))) for q in questions])
                for sub in r.submissions.select_related("submitted_by")
            ],
            "indicators": indicators,
        },
        status=status,
    )


# ---- indicators ---------------------------------------------------------------------------------


@member_required
@require_GET
def dashboard(request: MemberRequest, code: str) -> HttpResponse:
    muni = visible_municipality(request.membership, code)
    items = tables.trends(muni)
    if request.GET.get("format") == "xlsx":
        return exports.response("xlsx", f"indicators-{muni.code}", tables.trends_sheet(muni, items))
    charts = [
        (t, bars([(y.label.split("（")[0], y.value) for y in t.years], width=170)) for t in items
    ]
    editable = own_municipality_id(request.membership) == muni.pk
    return render(
        request,
        "pdca/dashboard.html",
        {
            "municipality": muni,
            "charts": charts,
            "editable": editable,
            "value_form": ValueForm(initial={"fiscal_year": fiscal_year(timezone.localdate())})
            if editable
            else None,
        },
    )


@member_required
@require_POST
def value_enter(request: MemberRequest) -> HttpResponse:
    muni_id = own_municipality_id(request.membership)
    if muni_id is None:
        raise Http404
    ensure_indicators()
    form = ValueForm(request.POST)
    data = input_from_form(form, actions.ValueInput)
    code = request.membership.organization.municipality.code  # type: ignore[union-attr]
    if data is not None:
        try:
            actions.enter_value(by=request.membership, data=data, request=request)
        except ActionError as e:
            show_error(form, e)
        else:
            messages.success(request, "値を保存しました。")
            return redirect("pdca:dashboard", code=code)
    for field_errors in form.errors.values():
        for message in field_errors:
            messages.error(request, str(message))
    return redirect("pdca:dashboard", code=code)


@member_required
@require_GET
def compare(request: MemberRequest) -> HttpResponse:
    _government_kind(request)
    indicators = list(ensure_indicators().values())
    indicators.sort(key=lambda i: (i.sort_order, i.code))
    wanted = request.GET.get("indicator", "")
    indicator = next((i for i in indicators if i.code == wanted), indicators[0])
    years = list(
        IndicatorValue.objects.filter(indicator=indicator)
        .values_list("fiscal_year", flat=True)
        .distinct()
        .order_by("-fiscal_year")
    ) or [fiscal_year(timezone.localdate())]
    raw = request.GET.get("fiscal_year", "")
    fy = int(raw) if raw.isdigit() and len(raw) == 4 and int(raw) in years else years[0]
    munis = readable_municipalities(request.membership).selectable()
    table = tables.compare(indicator, fy, munis)
    fmt = request.GET.get("format", "")
    if fmt in exports.FORMATS:
        return exports.response(
            fmt, f"indicator-{indicator.code}-{fy}", tables.compare_sheet(table)
        )
    chart_rows = [(r.label, r.value) for a in table.areas for r in a.rows]
    return render(
        request,
        "pdca/compare.html",
        {
            "indicators": indicators,
            "indicator": indicator,
            "years": [(y, fiscal_year_label(y)) for y in years],
            "fiscal_year": fy,
            "table": table,
            "chart": bars(chart_rows),
        },
    )


@member_required
@require_POST
def compute_start(request: MemberRequest) -> HttpResponse:
    _government_kind(request)
    try:
        run = actions.start_compute(
            by=request.membership,
            data=actions.ComputeInput(fiscal_years=actions.default_years()),
            request=request,
        )
    except ActionError as e:
        messages.error(request, e.message)
        return redirect("pdca:home")
    return redirect("pdca:run", code=run.code)


@member_required
@require_GET
def run(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    found = ComputeRun.objects.filter(
        organization_id=request.membership.organization_id, code=code
    ).first()
    if found is None:
        raise NotFound("算出の記録が見つかりません")
    template = "pdca/_run.html" if request.htmx else "pdca/run.html"
    return render(request, template, {"run": found})


@member_required
@require_http_methods(["GET", "POST"])
def population_import(request: MemberRequest) -> HttpResponse:
    """The administrator's import of the 65+ population (prefecture: its municipalities)."""
    if _government_kind(request) == OrgKind.MUNICIPALITY:
        raise Http404
    form = PopulationForm(
        request.POST or None,
        request.FILES or None,
        initial={"fiscal_year": fiscal_year(timezone.localdate())},
    )
    report, status = None, 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                report = population.import_population(
                    upload.read(population.MAX_BYTES + 1),
                    upload.name or "",
                    fiscal_year=form.cleaned_data["fiscal_year"],
                    by=request.membership,
                    request=request,
                )
            except ActionError as e:
                show_error(form, e)
                status = e.status
            else:
                status = 200 if report.ok else 400
    context = {
        "form": form,
        "report": report,
        "is_operator": request.membership.organization.kind == OrgKind.OPERATOR,
    }
    return render(request, "pdca/population.html", context, status=status)
