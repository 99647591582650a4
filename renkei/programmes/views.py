"""Programme screens: 事業一覧, its lines, budgets, contractors and imports. Each view reads
(access.py), hands the form's typed input to the action (`lib.forms.submit`) and answers; the
meeting and issue screens are in meeting_views.py and issue_views.py."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import pydantic
from django import forms
from django.contrib import messages
from django.db.models import Count, Model
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from renkei.accounts.http import MemberRequest, member_required
from renkei.accounts.models import Organization
from renkei.courses.models import Course
from renkei.lib import exports
from renkei.lib.actions import ActionError, get_visible
from renkei.lib.dates import fiscal_year
from renkei.lib.forms import Submitted, refuse, submit
from renkei.programmes import access, actions, contracts, imports
from renkei.programmes.exports import table_sheets, table_view
from renkei.programmes.forms import (
    BudgetForm,
    ContractorForm,
    ImportForm,
    LineForm,
    MappingForm,
    ResultsForm,
    TableForm,
)
from renkei.programmes.models import (
    BudgetLine,
    ImportStatus,
    Issue,
    Meeting,
    MeetingBody,
    ProgrammeTable,
)

I = TypeVar("I", bound=pydantic.BaseModel)  # noqa: E741


def this_year() -> int:
    return fiscal_year(timezone.localdate())


def initial_of(obj: Model, model: type[pydantic.BaseModel], **extra: Any) -> dict[str, Any]:
    """A form's initial values from the record: the input's fields the record has, then
    `extra` for those the form shows differently (a code for a related record)."""
    return {n: getattr(obj, n) for n in model.model_fields if hasattr(obj, n)} | extra


def form_page(
    request: MemberRequest,
    form: forms.Form,
    model: type[I],
    act: Callable[[I], Any],
    *,
    template: str,
    context: dict[str, Any],
    done: str,
    then: Callable[[Any], Any] | None = None,
) -> HttpResponse:
    """A page with one form: on POST the action, then to the saved record (or `then(saved)`);
    a refusal shows the form again with its status and the user's input."""
    status = 200
    if request.method == "POST":
        sent = submit(form, model, act)
        if sent.result is not None:
            messages.success(request, done)
            return redirect(then(sent.result) if then else sent.result)
        status = sent.status
    return render(request, template, {"form": form, **context}, status=status)


def post_small(
    request: MemberRequest,
    form: forms.Form,
    model: type[I],
    act: Callable[[I], Any],
    done: str,
    extra: dict[str, Any] | None = None,
) -> Submitted[Any]:
    """One of a page's small forms: the action, then its outcome as messages (the view
    redirects back to the page)."""
    sent = submit(form, model, act, extra)
    if sent.done:
        messages.success(request, done)
    else:
        flash_errors(request, form)
    return sent


def flash_errors(request: MemberRequest, form: forms.Form) -> None:
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else str(error))


def confirm_page(
    request: MemberRequest,
    act: Callable[[], Any],
    done: Callable[[Any], str],
    *,
    template: str,
    context: dict[str, Any],
    then: Callable[[Any], Any],
) -> HttpResponse:
    """A page that says what will happen; its POST (no fields) runs the action."""
    status = 200
    if request.method == "POST":
        try:
            result = act()
        except ActionError as e:
            status = refuse(request, None, e)
        else:
            messages.success(request, done(result))
            return redirect(then(result))
    return render(request, template, context, status=status)


# ---------------------------------------------------------------------------------------------
# home


@member_required
@require_GET
def home(request: MemberRequest) -> HttpResponse:
    m = request.membership
    tables = (
        ProgrammeTable.objects.visible_to(m)
        .select_related("owner")
        .annotate(n=access.line_count(m))
    )
    bodies = MeetingBody.objects.visible_to(m).select_related("owner", "parent")
    issues = (
        Issue.objects.visible_to(m)
        .select_related("owner")
        .annotate(n=Count("countermeasures"))[:50]
    )
    upcoming = (
        Meeting.objects.visible_to(m)
        .filter(held_on__gte=timezone.localdate())
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
    initial = initial_of(table, actions.TableInput) if table else {"fiscal_year": this_year()}
    return form_page(
        request,
        TableForm(request.POST or None, initial=initial, around=this_year()),
        actions.TableInput,
        lambda d: actions.save_table(by=request.membership, data=d, table=table, request=request),
        template="programmes/table_form.html",
        context={"table": table},
        done="事業一覧を保存しました。",
    )


def _view(request: MemberRequest, code: uuid.UUID) -> dict[str, Any]:
    m = request.membership
    table = access.visible_table(m, code)
    return table_view(table, access.shown_lines(m, table).order_by("sort_order", "pk")).context()


@member_required
@require_GET
def table_detail(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    ctx = _view(request, code)
    table: ProgrammeTable = ctx["table"]
    ctx["can_edit"] = access.can_edit(request.membership, table.owner_id)
    ctx["next_exists"] = ProgrammeTable.objects.filter(
        owner_id=table.owner_id, fiscal_year=table.fiscal_year + 1
    ).exists()
    ctx["contracted"] = set(
        access.lines_for(request.membership, mode="results")
        .filter(table=table)
        .values_list("pk", flat=True)
    )
    return render(request, "programmes/table.html", ctx)


@member_required
@require_GET
def table_print(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    return render(request, "programmes/table_print.html", _view(request, code))


@member_required
@require_GET
def table_export(request: MemberRequest, code: uuid.UUID, fmt: str) -> HttpResponse:
    m = request.membership
    table = access.visible_table(m, code)
    view = table_view(table, access.shown_lines(m, table).order_by("sort_order", "pk"))
    return exports.response(fmt, f"programmes-{table.fiscal_year}", *table_sheets(view))


@member_required
@require_http_methods(["GET", "POST"])
def table_rollover(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    """Confirm first: the page says what is copied and what starts empty."""
    table = access.visible_table(request.membership, code, edit=True)
    return confirm_page(
        request,
        lambda: actions.roll_over(table, by=request.membership, request=request),
        lambda new: f"{new.era_year}の事業一覧を作りました。実績の欄を見直してください。",
        template="programmes/rollover.html",
        context={"table": table, "lines": table.lines.count(), "next_year": table.next_era_year},
        then=lambda new: new,
    )


def _course_choices(request: MemberRequest) -> list[tuple[str, str]]:
    qs = Course.objects.visible_to(request.organization).select_related("organization")
    return [(str(c.code), f"{c.title}（{c.organization.name}）") for c in qs[:300]]


def org_choices(request: MemberRequest) -> list[tuple[str, str]]:
    org = request.organization
    qs = Organization.objects.filter(is_active=True)
    if org.prefecture_id:
        qs = qs.filter(prefecture_id=org.prefecture_id)
    return [(str(o.code), o.name) for o in qs.order_by("kind", "name")[:500]]


@member_required
@require_http_methods(["GET", "POST"])
def line_edit(
    request: MemberRequest, table_code: uuid.UUID | None = None, code: uuid.UUID | None = None
) -> HttpResponse:
    m = request.membership
    line = access.visible_line(m, code, mode="edit") if code else None
    if line is not None:
        table = line.table
    elif table_code is not None:
        table = access.visible_table(m, table_code, edit=True)
    else:
        raise Http404
    owner = access.can_edit(m, table.owner_id)
    initial = None
    if line is not None:
        initial = initial_of(
            line, actions.LineInput, courses=[str(c.code) for c in line.courses.all()]
        )
    form = LineForm(
        request.POST or None, initial=initial, courses=_course_choices(request) if owner else None
    )
    return form_page(
        request,
        form,
        actions.LineInput,
        lambda d: actions.save_line(table, by=m, data=d, line=line, request=request),
        template="programmes/line_form.html",
        context={
            "line": line,
            "table": table,
            "owner": owner,
            "budgets": list(line.budget_lines.select_related("source")) if line else [],
            "budget_form": BudgetForm(),
            "contracts": list(line.contracts.select_related("organization")) if line else [],
            "contractor_form": ContractorForm(orgs=org_choices(request)) if owner else None,
        },
        done="事業を保存しました。",
        then=lambda saved: saved.get_absolute_url(),
    )


@member_required
@require_http_methods(["GET", "POST"])
def line_results(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    """The 実績 of one line: what a contractor working on it enters (the owner may too)."""
    line = access.visible_line(request.membership, code, mode="results")
    return form_page(
        request,
        ResultsForm(request.POST or None, initial=initial_of(line, contracts.ResultsInput)),
        contracts.ResultsInput,
        lambda d: contracts.enter_results(line, by=request.membership, data=d, request=request),
        template="programmes/line_results.html",
        context={"line": line, "table": line.table},
        done="実績を保存しました。",
        then=lambda saved: saved.table,
    )


@member_required
@require_POST
def line_delete(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    line = access.visible_line(request.membership, code, mode="own")
    table = line.table
    actions.remove_line(line, by=request.membership, request=request)
    messages.success(request, "事業を削除しました。")
    return redirect(table)


@member_required
@require_POST
def budget_add(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    line = access.visible_line(request.membership, code, mode="own")
    post_small(
        request,
        BudgetForm(request.POST),
        actions.BudgetInput,
        lambda d: actions.add_budget(line, by=request.membership, data=d, request=request),
        "予算を追加しました。",
    )
    return redirect(line.get_absolute_url())


@member_required
@require_POST
def budget_delete(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    budget = get_visible(
        BudgetLine.objects.filter(
            line__in=access.lines_for(request.membership, mode="own")
        ).select_related("line__table"),
        "予算が見つかりません",
        code=code,
    )
    line = budget.line
    actions.remove_budget(budget, by=request.membership, request=request)
    messages.success(request, "予算を削除しました。")
    return redirect(line.get_absolute_url())


@member_required
@require_POST
def contractor_add(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    line = access.visible_line(request.membership, code, mode="own")
    post_small(
        request,
        ContractorForm(request.POST, orgs=org_choices(request)),
        contracts.ContractorInput,
        lambda d: contracts.add_contractor(line, by=request.membership, data=d, request=request),
        "受託者を設定しました。",
    )
    return redirect(line.get_absolute_url())


@member_required
@require_POST
def contractor_remove(request: MemberRequest, code: uuid.UUID, org: uuid.UUID) -> HttpResponse:
    contract = access.visible_contract(request.membership, code, org)
    contracts.remove_contractor(contract, by=request.membership, request=request)
    messages.success(request, "受託者を外しました。")
    return redirect(contract.line.get_absolute_url())


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
        initial={"fiscal_year": this_year()},
        around=this_year(),
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
                status = refuse(request, form, e)
            else:
                return redirect(imp)
    return render(request, "programmes/import_new.html", {"form": form}, status=status)


@member_required
@require_http_methods(["GET", "POST"])
def import_detail(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    imp = access.visible_import(request.membership, code)
    guessed = imp.mapping.get("columns", imp.mapping)
    initial: dict[str, Any] = {
        "fiscal_year": imp.fiscal_year,
        "title": str(imp.mapping.get("title", "")) or imp.filename.rsplit(".", 1)[0][:120],
    } | {f"col_{t}": str(i) for t, i in guessed.items() if t in imports.TARGETS}
    form = MappingForm(request.POST or None, initial=initial, header=imp.header, around=this_year())
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            sent = submit(
                form,
                imports.MappingInput,
                lambda d: imports.apply_mapping(
                    imp, by=request.membership, data=d, request=request
                ),
                {"columns": form.columns()},
            )
            if sent.done:
                return redirect(imp.get_absolute_url())
            status = sent.status
    return render(
        request,
        "programmes/import.html",
        {
            "imp": imp,
            "form": form,
            "report": [r for r in imp.report if "line" in r],
            "statuses": ImportStatus,
        },
        status=status,
    )
