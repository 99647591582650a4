from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, cast
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from renkei.accounts.http import MemberRequest, member_required, recent_authentication_required
from renkei.desk import actions
from renkei.desk.access import (
    desk_topic,
    member_desk,
    reportable_desk,
    visible_consultation,
    visible_followup,
)
from renkei.desk.forms import (
    ConsultationForm,
    FollowUpForm,
    ListFilterForm,
    TopicForm,
    facilities_by_code,
)
from renkei.desk.models import Consultation, Desk, FollowUp
from renkei.desk.tally import bar_chart, tally_response, yearly_tally
from renkei.directory.search import FacilitySearch, SearchError
from renkei.lib import exports
from renkei.lib.actions import ActionError, StaleVersion
from renkei.lib.dates import fiscal_year, fiscal_year_label
from renkei.lib.forms import input_from_form, show_error, submit
from renkei.lib.inputs import parse, parse_query
from renkei.lib.ratelimit import by_user_or_ip, rate_limited
from renkei.lib.text import normalize_search

PER_PAGE = actions.PER_PAGE
EXPORT_LIMIT = 20_000
DUE_SOON_DAYS = 7


def _querystring(request: MemberRequest, drop: tuple[str, ...] = ("page",)) -> str:
    params = [
        (k, v) for k, values in request.GET.lists() if k not in drop for v in values if v != ""
    ]
    return urlencode(params) + ("&" if params else "")


# Home and dashboard ---------------------------------------------------------


@member_required
@require_GET
def home(request: MemberRequest) -> HttpResponse:
    desks = list(
        Desk.objects.reportable_by(request.membership)
        .select_related("organization")
        .order_by("name")
    )
    own = [d for d in desks if d.is_member(request.membership)]
    if len(desks) == 1 and own:
        return _dashboard(request, own[0])
    return render(request, "desk/home.html", {"desks": desks, "own": own})


@member_required
@require_GET
def dashboard(request: MemberRequest, desk: uuid.UUID) -> HttpResponse:
    return _dashboard(request, member_desk(request.membership, desk))


def _dashboard(request: MemberRequest, desk: Desk) -> HttpResponse:
    today = timezone.localdate()
    horizon = today + dt.timedelta(days=DUE_SOON_DAYS)
    followups = list(
        FollowUp.objects.for_desk(desk)
        .due_by(horizon)
        .select_related("consultation", "assignee")
        .order_by("due_date", "pk")[:100]
    )
    for f in followups:
        f.overdue = f.is_overdue(today)  # type: ignore[attr-defined]
    month_qs = Consultation.objects.filter(desk=desk).in_month(today.year, today.month)
    return render(
        request,
        "desk/dashboard.html",
        {
            "desk": desk,
            "followups": followups,
            "overdue_count": sum(1 for f in followups if f.is_overdue(today)),
            "month_count": month_qs.count(),
            "open_count": Consultation.objects.filter(desk=desk, status="open").count(),
            "unconfirmed_count": Consultation.objects.filter(
                desk=desk, confirmed_at__isnull=True
            ).count(),
            "today": today,
            "this_month": f"{today:%Y-%m}",
            "fy": fiscal_year(today),
        },
    )


# List and export --------------------------------------------------------------


@member_required
@require_GET
def consultation_list(request: MemberRequest, desk: uuid.UUID) -> HttpResponse:
    d = member_desk(request.membership, desk)
    form = ListFilterForm(request.GET, desk=d)
    try:
        filters = parse_query(actions.ConsultationFilter, request.GET)
        page = actions.list_consultations(
            d, by=request.membership, filters=filters, request=request
        )
    except ActionError as e:
        form.is_valid()
        show_error(form, e)
        return render(
            request,
            "desk/list.html",
            {"desk": d, "form": form, "page": None, "querystring_base": ""},
            status=e.status,
        )
    return render(
        request,
        "desk/list.html",
        {
            "desk": d,
            "form": form,
            "page": page,
            "rows": page.object_list,
            "querystring_base": _querystring(request),
            "export_query": _querystring(request, drop=("page",)),
        },
    )


EXPORT_COLUMNS = [
    "受付日時",
    "相談方法",
    "相談者",
    "相談者の所属・氏名",
    "相談内容の分類",
    "事業項目",
    "場面",
    "相談対象者の氏名",
    "ふりがな",
    "年齢",
    "居住地",
    "同意",
    "同意の確認日",
    "相談内容",
    "対応内容",
    "紹介した資源",
    "状態",
    "入力者",
    "確定者",
    "確定日時",
    "記録ID",
]


def export_row(c: Consultation) -> list[Any]:
    return [
        c.received_at,
        c.get_channel_display(),
        c.get_asker_type_display(),
        c.asker_detail,
        "、".join(t.name for t in c.topics.all()),
        c.get_programme_item_display(),
        c.get_scene_display(),
        c.subject_name,
        c.subject_kana,
        c.subject_age if c.subject_age is not None else "",
        c.subject_municipality.name if c.subject_municipality else "",
        c.get_consent_display(),
        c.consent_date,
        c.summary,
        c.actions_taken,
        "、".join(f.name for f in c.referred_facilities.all()),
        c.get_status_display(),
        str(c.entered_by),
        str(c.confirmed_by) if c.confirmed_by else "",
        c.confirmed_at,
        str(c.code),
    ]


@member_required
@recent_authentication_required  # the consultations of a whole period, names included (R07)
@rate_limited("export", key=by_user_or_ip)
@require_GET
def export(request: MemberRequest, desk: uuid.UUID, fmt: str) -> HttpResponse:
    if fmt not in ("csv", "xlsx"):
        raise Http404
    d = member_desk(request.membership, desk)
    try:
        filters = parse_query(actions.ConsultationFilter, request.GET)
        selected = actions.filtered(d, filters, by=request.membership)
    except ActionError as e:
        return HttpResponse(e.message, status=e.status, content_type="text/plain; charset=utf-8")
    rows = list(
        selected.select_related(
            "subject_municipality", "entered_by", "confirmed_by"
        ).prefetch_related("topics", "referred_facilities")[:EXPORT_LIMIT]
    )
    actions.audit_read(
        request,
        by=request.membership,
        consultations=rows,
        action="desk.consultations_exported",
        desk=d,
        extra={"format": fmt, "query": request.GET.urlencode()},
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    table = [export_row(c) for c in rows]
    sheet = exports.Sheet("相談記録", EXPORT_COLUMNS, table)
    return exports.response(fmt, f"desk-consultations-{stamp}", sheet)


# Entry and edit ------------------------------------------------------------------


@member_required
@require_http_methods(["GET", "POST"])
def consultation_new(request: MemberRequest, desk: uuid.UUID) -> HttpResponse:
    d = member_desk(request.membership, desk)
    can_confirm = d.can_confirm(request.membership)
    form = ConsultationForm(request.POST or None, desk=d, can_confirm=can_confirm)
    status = 200
    if request.method == "POST":
        sent = submit(
            form,
            actions.NewConsultationInput,
            lambda data: actions.create_consultation(
                d, by=request.membership, data=data, request=request
            ),
        )
        if sent.result is not None:
            messages.success(request, "相談記録を登録しました。")
            return redirect(sent.result)
        status = sent.status
    return render(
        request,
        "desk/form.html",
        {"desk": d, "form": form, "selected": form.selected_facilities(), "c": None},
        status=status,
    )


@member_required
@require_http_methods(["GET", "POST"])
def consultation_edit(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    c = visible_consultation(request.membership, code)
    form = ConsultationForm(request.POST or None, desk=c.desk, instance=c)
    status = 200
    current: Consultation | None = None
    if request.method == "POST":
        data = input_from_form(form, actions.ConsultationEditInput)
        status = 400
        if data is not None:
            try:
                actions.update_consultation(c, by=request.membership, data=data, request=request)
            except StaleVersion as e:
                # Keep what was typed but rebase it on the newer version, so that saving
                # again after reviewing the other change succeeds instead of looping on 409.
                current = cast(Consultation, e.current)
                rebased = request.POST.copy()
                rebased["version"] = str(current.version)
                form = ConsultationForm(rebased, desk=c.desk, instance=current)
                form.is_valid()
                show_error(form, e)
                status = e.status
            except ActionError as e:
                show_error(form, e)
                status = e.status
            else:
                messages.success(request, "相談記録を更新しました。")
                return redirect(c)
    else:
        actions.view_consultation(c, by=request.membership, request=request)
    return render(
        request,
        "desk/form.html",
        {
            "desk": c.desk,
            "form": form,
            "selected": form.selected_facilities(),
            "c": c,
            "current": current,
        },
        status=status,
    )


@member_required
@require_GET
def consultation_detail(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    c = visible_consultation(request.membership, code)
    return _detail(request, c, FollowUpForm(desk=c.desk))


def _detail(
    request: MemberRequest, c: Consultation, fform: FollowUpForm, status: int = 200
) -> HttpResponse:
    actions.view_consultation(c, by=request.membership, request=request)
    today = timezone.localdate()
    followups = list(c.followups.select_related("assignee", "done_by"))
    for f in followups:
        f.overdue = f.is_overdue(today)  # type: ignore[attr-defined]
    return render(
        request,
        "desk/detail.html",
        {
            "c": c,
            "desk": c.desk,
            "received_day": timezone.localtime(c.received_at).date(),
            "topics": list(c.topics.all()),
            "facilities": list(c.referred_facilities.select_related("municipality")),
            "followups": followups,
            "versions": list(c.versions.select_related("created_by")),
            "fform": fform,
            "can_confirm": c.desk.can_confirm(request.membership) and not c.is_confirmed,
        },
        status=status,
    )


@member_required
@require_GET
def version_detail(request: MemberRequest, code: uuid.UUID, number: int) -> HttpResponse:
    c = visible_consultation(request.membership, code)
    v = actions.view_version(c, number, by=request.membership, request=request)
    labels = {
        f.name: str(f.verbose_name)
        for f in Consultation._meta.get_fields()
        if hasattr(f, "verbose_name")
    }
    return render(
        request,
        "desk/version.html",
        {
            "c": c,
            "desk": c.desk,
            "v": v,
            "rows": [(labels.get(k, k), val) for k, val in v.data.items()],
            "changes": [
                (labels.get(k, k), ch.get("before"), ch.get("after")) for k, ch in v.changes.items()
            ],
        },
    )


@member_required
@require_POST
def consultation_confirm(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    c = visible_consultation(request.membership, code)
    try:
        data = parse(actions.ConfirmInput, {"version": request.POST.get("version") or None})
        actions.confirm_consultation(c, by=request.membership, data=data, request=request)
    except ActionError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, "相談記録を確定しました。以後の修正は版として記録されます。")
    return redirect(c)


# Follow-ups ---------------------------------------------------------------------


@member_required
@require_POST
def followup_add(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    c = visible_consultation(request.membership, code)
    form = FollowUpForm(request.POST, desk=c.desk)
    sent = submit(
        form,
        actions.FollowUpInput,
        lambda data: actions.add_followup(c, by=request.membership, data=data, request=request),
    )
    if not sent.done:
        return _detail(request, c, form, status=sent.status)
    messages.success(request, "フォローアップを追加しました。")
    return redirect(c)


@member_required
@require_POST
def followup_done(request: MemberRequest, pk: int) -> HttpResponse:
    f = visible_followup(request.membership, pk)
    try:
        actions.complete_followup(f, by=request.membership, request=request)
    except ActionError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, "フォローアップを完了にしました。")
    nxt = request.POST.get("next", "")
    if nxt == "dashboard":
        return redirect("desk:dashboard", desk=f.consultation.desk.code)
    return redirect(f.consultation)


# Resource picker -------------------------------------------------------------------


@member_required
@require_GET
def resource_picker(request: MemberRequest) -> HttpResponse:
    """htmx: directory search by name for the consultation form; picked ones stay checked."""
    picked = list(facilities_by_code(request.GET.getlist("referred_facilities")))
    picked_codes = {f.code for f in picked}
    q = (request.GET.get("rq") or "").strip()[:100]
    results: list[Any] = []
    error = ""
    if normalize_search(q):
        try:
            search = FacilitySearch(q=q, per_page=10)
            search.validate()
            found, _ = search.results()
            results = [f for f in found if f.code not in picked_codes]
        except SearchError as e:
            error = str(e)
    return render(
        request,
        "desk/_resource_picker.html",
        {"selected": picked, "results": results, "rq": q, "error": error},
    )


# Topics --------------------------------------------------------------------------------


@member_required
@require_http_methods(["GET", "POST"])
def topics(request: MemberRequest, desk: uuid.UUID) -> HttpResponse:
    d = member_desk(request.membership, desk)
    form = TopicForm(request.POST or None)
    status = 200
    if request.method == "POST":
        retire = request.POST.get("retire")
        data = None if retire is not None else input_from_form(form, actions.TopicInput)
        status = 400
        try:
            if retire is not None:
                topic = desk_topic(d, parse(actions.RetireTopicInput, {"topic": retire}).topic)
                actions.retire_topic(topic, by=request.membership, request=request)
                messages.success(request, f"「{topic.name}」を使用停止にしました。")
                return redirect("desk:topics", desk=d.code)
            if data is not None:
                actions.add_topic(d, by=request.membership, data=data, request=request)
                messages.success(request, "分類を追加しました。")
                return redirect("desk:topics", desk=d.code)
        except ActionError as e:
            show_error(form, e)
            status = e.status
    return render(
        request,
        "desk/topics.html",
        {"desk": d, "form": form, "topics": list(d.topics().select_related("desk"))},
        status=status,
    )


# Tallies and report ------------------------------------------------------------------


def _tally_error(request: MemberRequest, d: Desk, e: ActionError) -> HttpResponse:
    return render(request, "desk/tally.html", {"desk": d, "error": e.message}, status=e.status)


@member_required
@require_GET
def tally(request: MemberRequest, desk: uuid.UUID) -> HttpResponse:
    d = reportable_desk(request.membership, desk)
    try:
        query = parse_query(actions.MonthTallyQuery, request.GET)
    except ActionError as e:
        return _tally_error(request, d, e)
    month = actions.month_of(query.month) if query.month else None
    fy = fiscal_year(dt.date(*month, 1)) if month else actions.tally_year(query)
    t = yearly_tally(d, fy)
    context: dict[str, Any] = {
        "desk": d,
        "t": t,
        "fy": fy,
        "fy_prev": fy - 1,
        "fy_next": fy + 1,
        "is_member": d.is_member(request.membership),
    }
    if month is not None:
        i = t.month_index(*month)
        context.update(
            month=month,
            month_label=f"{month[0]}年{month[1]}月",
            month_total=t.cases[i],
            charts=[bar_chart(tb.label, tb.column(i)) for tb in t.tables],
            month_tables=[(tb.label, tb.column(i)) for tb in t.tables],
        )
    else:
        context.update(
            charts=[
                bar_chart("月別の相談件数", list(zip(t.month_labels(), t.cases, strict=True))),
                *[bar_chart(tb.label, tb.totals()) for tb in t.tables],
            ]
        )
    return render(request, "desk/tally.html", context)


@member_required
@require_GET
def tally_export(request: MemberRequest, desk: uuid.UUID, fmt: str) -> HttpResponse:
    if fmt not in ("csv", "xlsx"):
        raise Http404
    d = reportable_desk(request.membership, desk)
    try:
        fy = actions.tally_year(parse_query(actions.TallyQuery, request.GET))
    except ActionError as e:
        return HttpResponse(e.message, status=e.status, content_type="text/plain; charset=utf-8")
    t = yearly_tally(d, fy)
    from renkei.accounts.models import AuditEntry

    AuditEntry.record(
        "desk.tally_exported", request=request, target=d, detail={"fy": fy, "format": fmt}
    )
    return tally_response(t, fmt, f"desk-tally-{fy}")


@member_required
@require_GET
def report(request: MemberRequest, desk: uuid.UUID) -> HttpResponse:
    """Printable yearly report: totals, tables by month and bar charts, A4 portrait."""
    d = reportable_desk(request.membership, desk)
    try:
        fy = actions.tally_year(parse_query(actions.TallyQuery, request.GET))
    except ActionError as e:
        return _tally_error(request, d, e)
    t = yearly_tally(d, fy)
    return render(
        request,
        "desk/report.html",
        {
            "desk": d,
            "t": t,
            "fy_label": fiscal_year_label(fy),
            "month_chart": bar_chart(
                "月別の相談件数", list(zip(t.month_labels(), t.cases, strict=True))
            ),
            "sections": [(tb, bar_chart(tb.label, tb.totals())) for tb in t.tables],
            "now": timezone.localtime(),
            "municipalities": list(d.municipalities.order_by("code")),
        },
    )
