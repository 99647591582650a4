"""Programme screens: parse → authorise (access.py) → act (actions.py) → render."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Count, Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from renkei.accounts.http import MemberRequest, RenkeiRequest, member_required
from renkei.accounts.models import Organization
from renkei.lib import exports
from renkei.lib.actions import ActionError, get_visible
from renkei.lib.dates import fiscal_year
from renkei.lib.forms import input_from_form, show_error
from renkei.programmes import access, actions, imports
from renkei.programmes.exports import table_lines, table_sheets
from renkei.programmes.forms import (
    AttendanceForm,
    BodyForm,
    BudgetForm,
    DecisionForm,
    ImportForm,
    IssueForm,
    LineForm,
    MappingForm,
    MaterialForm,
    MeasureForm,
    MeetingForm,
    MemberForm,
    ProgressForm,
    ScheduleForm,
    TableForm,
)
from renkei.programmes.models import (
    BudgetLine,
    Countermeasure,
    Decision,
    ImportStatus,
    Issue,
    Meeting,
    MeetingBody,
    ProgrammeLine,
    ProgrammeTable,
    totals_by_item,
    totals_by_source,
)


def _this_year() -> int:
    return fiscal_year(timezone.localdate())


def _refuse(request: RenkeiRequest, form: forms.Form | None, e: ActionError) -> int:
    if form is not None and e.field and e.field in form.fields:
        show_error(form, e)
    else:
        messages.error(request, e.message)
    return e.status


def _act(
    request: MemberRequest,
    form: forms.Form,
    model: Any,
    act: Callable[[Any], Any],
    extra: dict[str, Any] | None = None,
) -> tuple[Any, int]:
    """Form → typed input → action; (result, 200) or (None, status) with the errors on the form."""
    data = input_from_form(form, model, extra)
    if data is None:
        return None, 400
    try:
        return act(data), 200
    except ActionError as e:
        return None, _refuse(request, form, e)


def _must_own(request: MemberRequest, owner_id: int) -> None:
    if not access.can_edit(request.membership, owner_id):
        raise Http404


# ---------------------------------------------------------------------------------------------
# home


@member_required
@require_GET
def home(request: MemberRequest) -> HttpResponse:
    m = request.membership
    tables = ProgrammeTable.objects.visible_to(m).select_related("owner").annotate(n=Count("lines"))
    bodies = MeetingBody.objects.visible_to(m).select_related("owner", "parent")
    issues = (
        Issue.objects.visible_to(m)
        .select_related("owner")
        .annotate(n=Count("countermeasures"))[:50]
    )
    today = timezone.localdate()
    upcoming = (
        Meeting.objects.visible_to(m)
        .filter(held_on__gte=today)
        .select_related("body")
        .order_by("held_on")[:10]
    )
    return render(
        request,
        "programmes/home.html",
        {
            "tables": tables,
            "bodies": bodies,
            "issues": issues,
            "upcoming": upcoming,
            "owner_kind": access.sees_programmes(m),
        },
    )


# ---------------------------------------------------------------------------------------------
# 事業一覧


@member_required
@require_http_methods(["GET", "POST"])
def table_edit(request: MemberRequest, code: uuid.UUID | None = None) -> HttpResponse:
    table = access.visible_table(request.membership, code, edit=True) if code else None
    if table is None and not access.sees_programmes(request.membership):
        raise Http404
    initial: dict[str, Any] = {"fiscal_year": _this_year()}
    if table is not None:
        initial = {
            n: getattr(table, n)
            for n in ("fiscal_year", "title", "results_as_of", "note", "version")
        }
    form = TableForm(request.POST or None, initial=initial, around=_this_year())
    status = 200
    if request.method == "POST":
        saved, status = _act(
            request,
            form,
            actions.TableInput,
            lambda d: actions.save_table(
                by=request.membership, data=d, table=table, request=request
            ),
        )
        if saved is not None:
            messages.success(request, "事業一覧を保存しました。")
            return redirect(saved)
    return render(
        request, "programmes/table_form.html", {"form": form, "table": table}, status=status
    )


def _table_context(table: ProgrammeTable) -> dict[str, Any]:
    lines = table_lines(table)
    sections: list[tuple[str, list[ProgrammeLine]]] = []
    for ln in lines:
        if not sections or sections[-1][0] != ln.section:
            sections.append((ln.section, []))
        sections[-1][1].append(ln)
    by_source = totals_by_source(table)
    return {
        "table": table,
        "lines": lines,
        "sections": sections,
        "by_source": by_source,
        "source_total": sum(t for _, t in by_source),
        "by_item": totals_by_item(lines),
    }


@member_required
@require_GET
def table_detail(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    table = access.visible_table(request.membership, code)
    ctx = _table_context(table)
    ctx["can_edit"] = access.can_edit(request.membership, table.owner_id)
    ctx["next_exists"] = ProgrammeTable.objects.filter(
        owner_id=table.owner_id, fiscal_year=table.fiscal_year + 1
    ).exists()
    return render(request, "programmes/table.html", ctx)


@member_required
@require_GET
def table_print(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    table = access.visible_table(request.membership, code)
    return render(request, "programmes/table_print.html", _table_context(table))


@member_required
@require_GET
def table_export(request: MemberRequest, code: uuid.UUID, fmt: str) -> HttpResponse:
    table = access.visible_table(request.membership, code)
    sheets = table_sheets(table, table_lines(table))
    return exports.response(fmt, f"programmes-{table.fiscal_year}", *sheets)


@member_required
@require_http_methods(["GET", "POST"])
def table_rollover(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    """Confirm first: the page says what is copied and what starts empty."""
    table = access.visible_table(request.membership, code, edit=True)
    status = 200
    if request.method == "POST":
        try:
            new = actions.roll_over(table, by=request.membership, request=request)
        except ActionError as e:
            messages.error(request, e.message)
            status = e.status
        else:
            messages.success(
                request, f"{new.era_year}の事業一覧を作りました。実績の欄を見直してください。"
            )
            return redirect(new)
    return render(
        request,
        "programmes/rollover.html",
        {"table": table, "lines": table.lines.count(), "next_year": table.next_era_year},
        status=status,
    )


@member_required
@require_http_methods(["GET", "POST"])
def line_edit(
    request: MemberRequest, table_code: uuid.UUID | None = None, code: uuid.UUID | None = None
) -> HttpResponse:
    line = access.visible_line(request.membership, code, edit=True) if code else None
    if line is not None:
        table = line.table
    elif table_code is not None:
        table = access.visible_table(request.membership, table_code, edit=True)
    else:
        raise Http404
    initial: dict[str, Any] | None = None
    if line is not None:
        names = ("section", "name", "is_new", "items", "scenes", "content", "results", "plan")
        initial = {n: getattr(line, n) for n in names}
        initial |= {
            "effect": line.effect,
            "contractor_name": line.contractor_name,
            "sort_order": line.sort_order,
            "version": line.version,
        }
    form = LineForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        saved, status = _act(
            request,
            form,
            actions.LineInput,
            lambda d: actions.save_line(
                table, by=request.membership, data=d, line=line, request=request
            ),
        )
        if saved is not None:
            messages.success(request, "事業を保存しました。")
            return redirect(saved.get_absolute_url())
    budgets = list(line.budget_lines.select_related("source")) if line else []
    return render(
        request,
        "programmes/line_form.html",
        {
            "form": form,
            "line": line,
            "table": table,
            "budgets": budgets,
            "budget_form": BudgetForm(),
        },
        status=status,
    )


@member_required
@require_POST
def line_delete(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    line = access.visible_line(request.membership, code, edit=True)
    table = line.table
    actions.remove_line(line, by=request.membership, request=request)
    messages.success(request, "事業を削除しました。")
    return redirect(table)


@member_required
@require_POST
def budget_add(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    line = access.visible_line(request.membership, code, edit=True)
    form = BudgetForm(request.POST)
    _, status = _act(
        request,
        form,
        actions.BudgetInput,
        lambda d: actions.add_budget(line, by=request.membership, data=d, request=request),
    )
    if status == 200:
        messages.success(request, "予算を追加しました。")
        return redirect(line.get_absolute_url())
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, str(error))
    return redirect(line.get_absolute_url())


@member_required
@require_POST
def budget_delete(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    budget = get_visible(
        BudgetLine.objects.filter(
            line__table__in=ProgrammeTable.objects.editable_by(request.membership)
        ).select_related("line__table"),
        "予算が見つかりません",
        code=code,
    )
    line = budget.line
    actions.remove_budget(budget, by=request.membership, request=request)
    messages.success(request, "予算を削除しました。")
    return redirect(line.get_absolute_url())


# ---------------------------------------------------------------------------------------------
# 取込み


@member_required
@require_http_methods(["GET", "POST"])
def import_new(request: MemberRequest) -> HttpResponse:
    if not access.sees_programmes(request.membership):
        raise Http404
    form = ImportForm(
        request.POST or None,
        request.FILES or None,
        initial={"fiscal_year": _this_year()},
        around=_this_year(),
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                imp = imports.start_import(
                    by=request.membership,
                    fiscal_year=form.cleaned_data["fiscal_year"],
                    upload=form.cleaned_data["file"],
                    request=request,
                )
            except ActionError as e:
                status = _refuse(request, form, e)
            else:
                return redirect(imp)
    return render(request, "programmes/import_new.html", {"form": form}, status=status)


@member_required
@require_http_methods(["GET", "POST"])
def import_detail(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    imp = access.visible_import(request.membership, code)
    initial: dict[str, Any] = {
        "fiscal_year": imp.fiscal_year,
        "title": str(imp.mapping.get("title", "")) or imp.filename.rsplit(".", 1)[0][:120],
    }
    guessed = imp.mapping.get("columns", imp.mapping)
    initial |= {f"col_{t}": str(i) for t, i in guessed.items() if t in imports.TARGETS}
    form = MappingForm(
        request.POST or None, initial=initial, header=imp.header, around=_this_year()
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            extra = {"columns": form.columns()}
            _, status = _act(
                request,
                form,
                imports.MappingInput,
                lambda d: imports.apply_mapping(
                    imp, by=request.membership, data=d, request=request
                ),
                extra,
            )
            if status == 200:
                return redirect(imp.get_absolute_url())
    report = [r for r in imp.report if "line" in r]
    return render(
        request,
        "programmes/import.html",
        {"imp": imp, "form": form, "report": report, "statuses": ImportStatus},
        status=status,
    )


# ---------------------------------------------------------------------------------------------
# 会議体と会議


def _parents(request: MemberRequest, body: MeetingBody | None) -> list[tuple[str, str]]:
    qs = MeetingBody.objects.editable_by(request.membership)
    if body is not None:
        qs = qs.exclude(pk=body.pk)
    return [(str(b.code), str(b)) for b in qs]


@member_required
@require_http_methods(["GET", "POST"])
def body_edit(request: MemberRequest, code: uuid.UUID | None = None) -> HttpResponse:
    body = access.visible_body(request.membership, code, edit=True) if code else None
    if body is None and not access.sees_programmes(request.membership):
        raise Http404
    initial: dict[str, Any] | None = None
    if body is not None:
        names = (
            "name",
            "kind",
            "team",
            "items",
            "purpose",
            "meetings_per_year",
            "is_active",
            "version",
        )
        initial = {n: getattr(body, n) for n in names}
        initial["parent"] = str(body.parent.code) if body.parent else ""
    form = BodyForm(request.POST or None, initial=initial, parents=_parents(request, body))
    status = 200
    if request.method == "POST":
        saved, status = _act(
            request,
            form,
            actions.BodyInput,
            lambda d: actions.save_body(by=request.membership, data=d, body=body, request=request),
        )
        if saved is not None:
            messages.success(request, "会議体を保存しました。")
            return redirect(saved)
    return render(request, "programmes/body_form.html", {"form": form, "body": body}, status=status)


def _org_choices(request: MemberRequest) -> list[tuple[str, str]]:
    org = request.organization
    qs = Organization.objects.filter(is_active=True)
    if org.prefecture_id:
        qs = qs.filter(prefecture_id=org.prefecture_id)
    return [(str(o.code), o.name) for o in qs.order_by("kind", "name")[:500]]


@member_required
@require_GET
def body_detail(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    body = access.visible_body(request.membership, code)
    can_edit = access.can_edit(request.membership, body.owner_id)
    year = _year_param(request)
    meetings = list(body.meetings.filter(fiscal_year=year).annotate(n_materials=Count("materials")))
    return render(
        request,
        "programmes/body.html",
        {
            "body": body,
            "can_edit": can_edit,
            "members": body.members.filter(is_active=True).select_related("organization"),
            "meetings": meetings,
            "children": body.children.all(),
            "year": year,
            "years": sorted(
                set(body.meetings.values_list("fiscal_year", flat=True)) | {_this_year()},
                reverse=True,
            ),
            "member_form": MemberForm(orgs=_org_choices(request)) if can_edit else None,
            "schedule_form": ScheduleForm(initial={"fiscal_year": year}, around=_this_year())
            if can_edit
            else None,
        },
    )


def _year_param(request: RenkeiRequest) -> int:
    value = request.GET.get("year", "")
    if value.isdigit() and 2000 <= int(value) <= 2100:
        return int(value)
    return _this_year()


@member_required
@require_POST
def member_add(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    body = access.visible_body(request.membership, code, edit=True)
    form = MemberForm(request.POST, orgs=_org_choices(request))
    _, status = _act(
        request,
        form,
        actions.BodyMemberInput,
        lambda d: actions.add_member(body, by=request.membership, data=d, request=request),
    )
    _flash(request, form, status, "構成員を追加しました。")
    return redirect(body)


def _flash(request: MemberRequest, form: forms.Form, status: int, ok: str) -> None:
    if status == 200:
        messages.success(request, ok)
        return
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else str(error))


@member_required
@require_POST
def member_remove(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    member = access.visible_member(request.membership, code)
    actions.remove_member(member, by=request.membership, request=request)
    messages.success(request, "構成員を外しました。")
    return redirect(member.body)


@member_required
@require_POST
def schedule(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    body = access.visible_body(request.membership, code, edit=True)
    form = ScheduleForm(request.POST, around=_this_year())
    _, status = _act(
        request,
        form,
        actions.ScheduleInput,
        lambda d: actions.plan_year(body, by=request.membership, data=d, request=request),
    )
    _flash(request, form, status, "年間の開催予定を作りました。")
    year = form.cleaned_data.get("fiscal_year") if form.is_valid() else None
    return redirect(f"{body.get_absolute_url()}?year={year or _this_year()}")


@member_required
@require_http_methods(["GET", "POST"])
def meeting_edit(
    request: MemberRequest, body_code: uuid.UUID | None = None, code: uuid.UUID | None = None
) -> HttpResponse:
    meeting = access.visible_meeting(request.membership, code, edit=True) if code else None
    if meeting is not None:
        body = meeting.body
    elif body_code is not None:
        body = access.visible_body(request.membership, body_code, edit=True)
    else:
        raise Http404
    initial: dict[str, Any] = {
        "fiscal_year": _this_year(),
        "number": body.meetings.filter(fiscal_year=_this_year()).count() + 1,
    }
    if meeting is not None:
        names = (
            "fiscal_year",
            "number",
            "held_on",
            "starts_at",
            "place",
            "status",
            "agenda",
            "minutes",
            "version",
        )
        initial = {n: getattr(meeting, n) for n in names}
    form = MeetingForm(request.POST or None, initial=initial, around=_this_year())
    status = 200
    if request.method == "POST":
        saved, status = _act(
            request,
            form,
            actions.MeetingInput,
            lambda d: actions.save_meeting(
                body, by=request.membership, data=d, meeting=meeting, request=request
            ),
        )
        if saved is not None:
            messages.success(request, "会議を保存しました。")
            return redirect(saved)
    return render(
        request,
        "programmes/meeting_form.html",
        {"form": form, "meeting": meeting, "body": body},
        status=status,
    )


@member_required
@require_GET
def meeting_detail(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    meeting = access.visible_meeting(request.membership, code)
    can_edit = access.can_edit(request.membership, meeting.body.owner_id)
    members = list(meeting.body.members.filter(is_active=True).select_related("organization"))
    current = {a.member_id: a for a in meeting.attendance.all()}
    return render(
        request,
        "programmes/meeting.html",
        {
            "meeting": meeting,
            "body": meeting.body,
            "can_edit": can_edit,
            "attendance": [(mm, current.get(mm.pk)) for mm in members],
            "attendance_form": AttendanceForm(members=members, current=current)
            if can_edit
            else None,
            "decisions": meeting.decisions.all(),
            "materials": meeting.materials.all(),
            "issues": meeting.issues.all(),
            "decision_form": DecisionForm() if can_edit else None,
            "material_form": MaterialForm() if can_edit else None,
        },
    )


@member_required
@require_POST
def attendance(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    meeting = access.visible_meeting(request.membership, code, edit=True)
    members = list(meeting.body.members.filter(is_active=True))
    form = AttendanceForm(request.POST, members=members, current={})
    if form.is_valid():
        _, status = _act(
            request,
            form,
            actions.MeetingAttendanceInput,
            lambda d: actions.record_attendance(
                meeting, by=request.membership, data=d, request=request
            ),
            {"rows": form.rows()},
        )
    else:
        status = 400
    _flash(request, form, status, "出欠を記録しました。")
    return redirect(meeting)


@member_required
@require_POST
def decision_add(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    meeting = access.visible_meeting(request.membership, code, edit=True)
    form = DecisionForm(request.POST)
    _, status = _act(
        request,
        form,
        actions.MeetingDecisionInput,
        lambda d: actions.add_decision(meeting, by=request.membership, data=d, request=request),
    )
    _flash(request, form, status, "決定事項を記録しました。")
    return redirect(meeting)


@member_required
@require_POST
def material_add(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    meeting = access.visible_meeting(request.membership, code, edit=True)
    form = MaterialForm(request.POST, request.FILES)
    status = 400
    if form.is_valid():
        try:
            actions.add_material(
                meeting,
                by=request.membership,
                title=form.cleaned_data["title"],
                upload=form.cleaned_data["file"],
                request=request,
            )
            status = 200
        except ActionError as e:
            status = _refuse(request, form, e)
    _flash(request, form, status, "資料を追加しました。")
    return redirect(meeting)


@member_required
@require_GET
def material_download(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    material = access.visible_material(request.membership, code)
    try:
        with material.file.open("rb") as handle:
            content = handle.read()
    except FileNotFoundError:
        raise Http404 from None
    # Materials are at most 10 MB (MATERIAL_MAX_BYTES): read whole, sent as a download.
    response = HttpResponse(content, content_type=material.content_type)
    response["Content-Disposition"] = content_disposition_header(True, material.filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@member_required
@require_POST
def material_delete(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    material = access.visible_material(request.membership, code, edit=True)
    meeting = material.meeting
    actions.remove_material(material, by=request.membership, request=request)
    messages.success(request, "資料を削除しました。")
    return redirect(meeting)


@member_required
@require_http_methods(["GET", "POST"])
def meeting_notice(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    """Confirm first: the page names who will be told."""
    meeting = access.visible_meeting(request.membership, code, edit=True)
    members = list(meeting.body.members.filter(is_active=True).select_related("organization"))
    status = 200
    if request.method == "POST":
        try:
            sent = actions.send_notice(meeting, by=request.membership, request=request)
        except ActionError as e:
            messages.error(request, e.message)
            status = e.status
        else:
            messages.success(request, f"開催通知を{sent}通送りました。")
            return redirect(meeting)
    return render(
        request,
        "programmes/notice_confirm.html",
        {"meeting": meeting, "members": [(mm, mm.notice_address()) for mm in members]},
        status=status,
    )


# ---------------------------------------------------------------------------------------------
# 課題と対応策


def _meeting_choices(request: MemberRequest) -> list[tuple[str, str]]:
    qs = Meeting.objects.editable_by(request.membership).select_related("body").order_by("-held_on")
    return [(str(mt.code), f"{mt} （{mt.held_on_label}）") for mt in qs[:200]]


@member_required
@require_http_methods(["GET", "POST"])
def issue_edit(request: MemberRequest, code: uuid.UUID | None = None) -> HttpResponse:
    issue = access.visible_issue(request.membership, code, edit=True) if code else None
    if issue is None and not access.sees_programmes(request.membership):
        raise Http404
    initial: dict[str, Any] = {"raised_on": timezone.localdate(), "source": "desk"}
    if request.GET.get("meeting"):
        initial |= {"meeting": request.GET["meeting"][:40], "source": "meeting"}
    if issue is not None:
        names = (
            "title",
            "description",
            "scenes",
            "items",
            "source",
            "raised_on",
            "status",
            "version",
        )
        initial = {n: getattr(issue, n) for n in names}
        initial["meeting"] = str(issue.meeting.code) if issue.meeting else ""
    form = IssueForm(request.POST or None, initial=initial, meetings=_meeting_choices(request))
    status = 200
    if request.method == "POST":
        saved, status = _act(
            request,
            form,
            actions.IssueInput,
            lambda d: actions.save_issue(
                by=request.membership, data=d, issue=issue, request=request
            ),
        )
        if saved is not None:
            messages.success(request, "課題を保存しました。")
            return redirect(saved)
    return render(
        request, "programmes/issue_form.html", {"form": form, "issue": issue}, status=status
    )


def _issues_for_trace(qs: Any) -> list[Issue]:
    return list(
        qs.select_related("owner", "meeting__body").prefetch_related(
            Prefetch(
                "countermeasures",
                Countermeasure.objects.select_related("decision__meeting__body").prefetch_related(
                    "notes",
                    "indicators",
                    Prefetch(
                        "programme_lines",
                        ProgrammeLine.objects.select_related("table").prefetch_related(
                            "budget_lines__source"
                        ),
                    ),
                ),
            )
        )
    )


@member_required
@require_GET
def issue_detail(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    issue = access.visible_issue(request.membership, code)
    (issue,) = _issues_for_trace(Issue.objects.filter(pk=issue.pk))
    _attach_indicator_values([issue])
    can_edit = access.can_edit(request.membership, issue.owner_id)
    return render(
        request,
        "programmes/issue.html",
        {
            "issue": issue,
            "can_edit": can_edit,
            "today": timezone.localdate(),
            "progress_form": ProgressForm(initial={"written_on": timezone.localdate()}),
        },
    )


@member_required
@require_GET
def trace_print(request: MemberRequest, code: uuid.UUID | None = None) -> HttpResponse:
    """決定 → 予算 → 実績, one A4 page per issue (one issue, or all the visible ones)."""
    if code is not None:
        issue = access.visible_issue(request.membership, code)
        issues = _issues_for_trace(Issue.objects.filter(pk=issue.pk))
    else:
        issues = _issues_for_trace(
            Issue.objects.visible_to(request.membership).order_by("raised_on", "pk")[:200]
        )
    _attach_indicator_values(issues)
    return render(request, "programmes/trace_print.html", {"issues": issues})


def _attach_indicator_values(issues: list[Issue]) -> None:
    """Each countermeasure's indicators with the owner municipality's values by year: the
    result end of the trace, read from the pdca app's values."""
    from renkei.pdca.models import IndicatorValue

    wanted = {
        (i.pk, issue.owner.municipality_id)
        for issue in issues
        if issue.owner.municipality_id
        for m in issue.countermeasures.all()
        for i in m.indicators.all()
    }
    values: dict[tuple[int, int], list[IndicatorValue]] = {}
    if wanted:
        rows = IndicatorValue.objects.filter(
            indicator_id__in={i for i, _ in wanted},
            municipality_id__in={mu for _, mu in wanted},
        ).order_by("fiscal_year")
        for v in rows:
            values.setdefault((v.indicator_id, v.municipality_id), []).append(v)
    for issue in issues:
        for m in issue.countermeasures.all():
            m.indicator_rows = [  # type: ignore[attr-defined]
                (i, values.get((i.pk, issue.owner.municipality_id or 0), [])[-3:])
                for i in m.indicators.all()
            ]


def _measure_choices(request: MemberRequest) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    decisions = (
        Decision.objects.filter(meeting__in=Meeting.objects.editable_by(request.membership))
        .select_related("meeting__body")
        .order_by("-meeting__held_on", "number")[:300]
    )
    lines = (
        access.lines_of(request.membership)
        .select_related("table")
        .order_by("-table__fiscal_year", "sort_order")[:500]
    )
    return (
        [(str(d.code), f"{d.meeting} 決定{d.number}: {d.text[:40]}") for d in decisions],
        [(str(ln.code), f"{ln.table.era_year} {ln.name}") for ln in lines],
    )


@member_required
@require_http_methods(["GET", "POST"])
def measure_edit(
    request: MemberRequest, issue_code: uuid.UUID | None = None, code: uuid.UUID | None = None
) -> HttpResponse:
    measure = access.visible_measure(request.membership, code, edit=True) if code else None
    if measure is not None:
        issue = measure.issue
    elif issue_code is not None:
        issue = access.visible_issue(request.membership, issue_code, edit=True)
    else:
        raise Http404
    initial: dict[str, Any] | None = None
    if measure is not None:
        names = ("title", "description", "responsible_name", "due_on", "status", "version")
        initial = {n: getattr(measure, n) for n in names}
        initial["decision"] = str(measure.decision.code) if measure.decision else ""
        initial["programme_lines"] = [str(ln.code) for ln in measure.programme_lines.all()]
        initial["indicators"] = [i.code for i in measure.indicators.all()]
    decisions, lines = _measure_choices(request)
    from renkei.pdca.models import Indicator

    form = MeasureForm(
        request.POST or None,
        initial=initial,
        decisions=decisions,
        lines=lines,
        indicators=[(i.code, f"{i.name}（{i.unit}）") for i in Indicator.objects.all()],
    )
    status = 200
    if request.method == "POST":
        saved, status = _act(
            request,
            form,
            actions.CountermeasureInput,
            lambda d: actions.save_countermeasure(
                issue, by=request.membership, data=d, measure=measure, request=request
            ),
        )
        if saved is not None:
            messages.success(request, "対応策を保存しました。")
            return redirect(issue)
    return render(
        request,
        "programmes/measure_form.html",
        {"form": form, "measure": measure, "issue": issue},
        status=status,
    )


@member_required
@require_POST
def progress_add(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    measure = access.visible_measure(request.membership, code, edit=True)
    form = ProgressForm(request.POST)
    extra = {"status": form.data.get("status") or None}
    _, status = _act(
        request,
        form,
        actions.ProgressInput,
        lambda d: actions.note_progress(measure, by=request.membership, data=d, request=request),
        extra,
    )
    _flash(request, form, status, "進捗を記録しました。")
    return redirect(measure.issue)
