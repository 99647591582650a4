"""Issues (課題) and countermeasures (対応策), and the trace decision → money → result that
prints one page per issue. Same shape as views.py: read (access.py), submit, answer."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from renkei.accounts.http import MemberRequest, member_required
from renkei.pdca.models import Indicator, IndicatorValue
from renkei.programmes import access, actions
from renkei.programmes.forms import IssueForm, MeasureForm, ProgressForm
from renkei.programmes.models import Countermeasure, Decision, Issue, Meeting, ProgrammeLine
from renkei.programmes.views import form_page, initial_of, post_small


def _meeting_choices(request: MemberRequest) -> list[tuple[str, str]]:
    qs = Meeting.objects.editable_by(request.membership).select_related("body").order_by("-held_on")
    return [(str(mt.code), f"{mt} （{mt.held_on_label}）") for mt in qs[:200]]


@member_required
@require_http_methods(["GET", "POST"])
def issue_edit(request: MemberRequest, code: uuid.UUID | None = None) -> HttpResponse:
    issue = access.visible_issue(request.membership, code, edit=True) if code else None
    if issue is None and not access.sees_programmes(request.membership):
        raise Http404
    if issue is not None:
        meeting = str(issue.meeting.code) if issue.meeting else ""
        initial = initial_of(issue, actions.IssueInput, meeting=meeting)
    else:
        initial = {"raised_on": timezone.localdate(), "source": "desk"}
        if request.GET.get("meeting"):
            initial |= {"meeting": request.GET["meeting"][:40], "source": "meeting"}
    return form_page(
        request,
        IssueForm(request.POST or None, initial=initial, meetings=_meeting_choices(request)),
        actions.IssueInput,
        lambda d: actions.save_issue(by=request.membership, data=d, issue=issue, request=request),
        template="programmes/issue_form.html",
        context={"issue": issue},
        done="課題を保存しました。",
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
        access.lines_for(request.membership, mode="own")
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
    initial = None
    if measure is not None:
        initial = initial_of(
            measure,
            actions.CountermeasureInput,
            decision=str(measure.decision.code) if measure.decision else "",
            programme_lines=[str(ln.code) for ln in measure.programme_lines.all()],
            indicators=[i.code for i in measure.indicators.all()],
        )
    decisions, lines = _measure_choices(request)
    form = MeasureForm(
        request.POST or None,
        initial=initial,
        decisions=decisions,
        lines=lines,
        indicators=[(i.code, f"{i.name}（{i.unit}）") for i in Indicator.objects.all()],
    )
    return form_page(
        request,
        form,
        actions.CountermeasureInput,
        lambda d: actions.save_countermeasure(
            issue, by=request.membership, data=d, measure=measure, request=request
        ),
        template="programmes/measure_form.html",
        context={"measure": measure, "issue": issue},
        done="対応策を保存しました。",
        then=lambda _: issue,
    )


@member_required
@require_POST
def progress_add(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    measure = access.visible_measure(request.membership, code, edit=True)
    form = ProgressForm(request.POST)
    post_small(
        request,
        form,
        actions.ProgressInput,
        lambda d: actions.note_progress(measure, by=request.membership, data=d, request=request),
        "進捗を記録しました。",
        {"status": form.data.get("status") or None},
    )
    return redirect(measure.issue)
