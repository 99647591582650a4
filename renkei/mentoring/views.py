from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.db.models import Count
from django.forms import Form
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from renkei.accounts.http import MemberRequest, RenkeiRequest, member_required
from renkei.accounts.named import require_named_reader
from renkei.lib.actions import ActionError
from renkei.lib.dates import fiscal_year
from renkei.lib.forms import input_from_form, refuse, submit
from renkei.lib.inputs import parse_query
from renkei.lib.ratelimit import rate_limited
from renkei.mentoring import access, actions
from renkei.mentoring.forms import (
    ApplicationForm,
    CancelForm,
    HonorariumForm,
    MatchForm,
    MentorForm,
    ProgramForm,
    ReportForm,
    VisitDateForm,
    mentor_initial,
)
from renkei.mentoring.models import (
    ApplicationStatus,
    Match,
    Mentor,
    TraineeApplication,
    TrainingProgram,
    can_organise,
    suggestions,
)
from renkei.mentoring.summary import summary_response, yearly_summary


def _flash_errors(request: RenkeiRequest, form: Form) -> None:
    """A small form's errors as messages, for the redirect back to its page."""
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, str(error))


# Office ------------------------------------------------------------------------------


@member_required
@require_GET
def home(request: MemberRequest) -> HttpResponse:
    programs = list(TrainingProgram.objects.for_office(request.membership))
    fy = fiscal_year(timezone.localdate())
    # This fiscal year's programme, or else the latest one (reports and honoraria run on).
    current = next((p for p in programs if p.fiscal_year == fy), programs[0] if programs else None)
    context: dict[str, Any] = {
        "programs": programs,
        "current": current,
        "fy": fy,
        "can_organise": can_organise(request.organization),
        "mentor_count": Mentor.objects.for_office(request.organization)
        .filter(is_active=True)
        .count(),
    }
    if current is not None:
        context["summary"] = yearly_summary(current)
    # The trainees' names only for the organisation's named-read roles (ADR 0043).
    if current is not None and request.membership.reads_named_records:
        context["open_applications"] = list(
            TraineeApplication.objects.filter(program=current)
            .open()
            .prefetch_related("preferred_areas")
            .order_by("applied_at")
        )
        context["awaiting"] = list(
            Match.objects.filter(application__program=current)
            .exclude(application__status=ApplicationStatus.CANCELLED)
            .filter(honorarium_paid_at__isnull=True)
            .select_related("application", "mentor")
            .order_by("decided_at")
        )
    return render(request, "mentoring/home.html", context)


@member_required
@require_http_methods(["GET", "POST"])
def program_edit(request: MemberRequest, code: uuid.UUID | None = None) -> HttpResponse:
    program = access.office_program(request.membership, code) if code else None
    if program is None and not can_organise(request.organization):
        raise Http404
    initial = (
        {name: getattr(program, name) for name in actions.TrainingProgramInput.model_fields}
        if program
        else None
    )
    form = ProgramForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        sent = submit(
            form,
            actions.TrainingProgramInput,
            lambda data: actions.save_program(
                by=request.membership, data=data, program=program, request=request
            ),
        )
        if sent.result is not None:
            messages.success(request, "研修の設定を保存しました。")
            return redirect(sent.result)
        status = sent.status
    return render(
        request, "mentoring/program_form.html", {"form": form, "program": program}, status=status
    )


@member_required
@require_GET
def program_detail(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    program = access.office_program(request.membership, code)
    require_named_reader(request.membership)  # the list of applications names the trainees
    try:
        filters = parse_query(actions.ApplicationFilter, request.GET)
    except ActionError as e:
        return render(
            request,
            "mentoring/program.html",
            {"program": program, "error": e.message, "applications": []},
            status=e.status,
        )
    return render(
        request,
        "mentoring/program.html",
        {
            "program": program,
            "applications": list(TraineeApplication.objects.listed(program, filters.status)),
            "status": filters.status or "",
            "statuses": ApplicationStatus.choices,
            "apply_url": request.build_absolute_uri(
                program.get_absolute_url().rstrip("/") + "/apply/"
            ),
        },
    )


@member_required
@require_http_methods(["GET", "POST"])
def application_new(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    """The office enters a paper or FAX application (a name it must be able to read back)."""
    program = access.office_program(request.membership, code)
    require_named_reader(request.membership)
    return _apply(request, program, office=True)


@rate_limited("public_form", methods=["POST"])
@require_http_methods(["GET", "POST"])
def apply_public(request: RenkeiRequest, code: uuid.UUID) -> HttpResponse:
    """The trainee's own application form (no sign-in)."""
    return _apply(request, access.public_program(code), office=False)


def _apply(request: RenkeiRequest, program: TrainingProgram, *, office: bool) -> HttpResponse:
    if not office and not program.is_open:
        # No form to fill in; the action refuses a late submission all the same.
        return render(request, "mentoring/apply.html", {"program": program, "closed": True})
    form = ApplicationForm(request.POST or None, organizer=program.organizer)
    status = 200
    if request.method == "POST":
        sent = submit(
            form,
            actions.TraineeApplicationInput,
            lambda data: actions.apply(
                program, data=data, by=request.membership if office else None, request=request
            ),
        )
        a = sent.result
        if a is not None:
            if office:
                messages.success(request, "申込を登録しました。")
                return redirect(a)
            return render(request, "mentoring/apply_done.html", {"program": program, "a": a})
        status = sent.status
    return render(
        request,
        "mentoring/apply.html",
        {"program": program, "form": form, "office": office},
        status=status,
    )


@member_required
@require_GET
def application_detail(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    a = access.office_application(request.membership, code)
    areas = list(a.preferred_areas.all())
    context: dict[str, Any] = {"a": a, "areas": areas, "match": a.current_match()}
    if a.status == ApplicationStatus.APPLIED:
        a._prefetched_objects_cache = {"preferred_areas": areas}  # type: ignore[attr-defined]
        context["suggestions"] = suggestions(a)
        context["form"] = MatchForm()
        context["cancel_form"] = CancelForm()
    elif a.status in (ApplicationStatus.MATCHED, ApplicationStatus.SCHEDULED):
        context["cancel_form"] = CancelForm()
    return render(request, "mentoring/application.html", context)


@member_required
@require_POST
def application_match(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    a = access.office_application(request.membership, code)
    form = MatchForm(request.POST)
    data = input_from_form(form, actions.MentorDecisionInput)
    if data is None:
        _flash_errors(request, form)
        return redirect(a)
    try:
        match = actions.decide_match(a, by=request.membership, data=data, request=request)
    except ActionError as e:
        messages.error(request, e.message)
        return redirect(a)
    messages.success(request, "指導医を決定し、決定連絡票を指導医と受講者にメールで送りました。")
    return redirect(match)


@member_required
@require_POST
def application_cancel(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    a = access.office_application(request.membership, code)
    form = CancelForm(request.POST)
    data = input_from_form(form, actions.MentoringCancelInput)
    if data is None:
        _flash_errors(request, form)
        return redirect(a)
    try:
        actions.cancel_application(a, by=request.membership, data=data, request=request)
    except ActionError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, "申込を取り消しました。")
    return redirect(a)


@member_required
@require_http_methods(["GET", "POST"])
def match_detail(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    match = access.office_match(request.membership, code)
    program = match.application.program
    vform = VisitDateForm(initial={"visit_date": match.visit_date})
    hform = HonorariumForm(
        initial={"amount": program.honorarium_amount, "paid_at": timezone.localdate()}
    )
    status = 200
    if request.method == "POST":
        what = request.POST.get("action", "")
        m = request.membership
        try:
            if what == "visit":
                vform = VisitDateForm(request.POST)
                visit = input_from_form(vform, actions.VisitDateInput)
                if visit is not None:
                    actions.set_visit_date(match, data=visit, by=m, request=request)
                    messages.success(request, "研修日を登録しました。")
                    return redirect(match)
            elif what == "honorarium":
                hform = HonorariumForm(request.POST)
                pay = input_from_form(hform, actions.HonorariumInput)
                if pay is not None:
                    actions.record_honorarium(match, by=m, data=pay, request=request)
                    messages.success(request, "指導謝礼の支払いを記録しました。")
                    return redirect(match)
            elif what == "resend":
                actions.resend_decision_notices(match, by=m, request=request)
                messages.success(request, "決定連絡票を再送しました。")
                return redirect(match)
            else:
                raise ActionError("操作の指定が正しくありません")
            status = 400
        except ActionError as e:
            status = refuse(request, hform if what == "honorarium" else vform, e)
        match.refresh_from_db()
    return render(
        request,
        "mentoring/match.html",
        {
            "match": match,
            "a": match.application,
            "program": program,
            "vform": vform,
            "hform": hform,
            "mentor_link": request.build_absolute_uri(match.party_url(Match.Side.MENTOR)),
            "trainee_link": request.build_absolute_uri(match.party_url(Match.Side.TRAINEE)),
        },
        status=status,
    )


@member_required
@require_GET
def match_notice(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    return _notice(request, access.office_match(request.membership, code))


def _notice(request: RenkeiRequest, match: Match) -> HttpResponse:
    return render(
        request,
        "mentoring/notice.html",
        {
            "match": match,
            "a": match.application,
            "program": match.application.program,
            "mentor": match.mentor,
            "today": timezone.localdate(),
        },
    )


# Mentors ----------------------------------------------------------------------------------


@member_required
@require_GET
def mentor_list(request: MemberRequest) -> HttpResponse:
    fy = fiscal_year(timezone.localdate())
    mentors = list(
        Mentor.objects.for_office(request.organization)
        .prefetch_related("areas")
        .order_by("-is_active", "kana", "name")
    )
    loads = dict(
        Match.objects.filter(
            mentor__office=request.organization, application__program__fiscal_year=fy
        )
        .exclude(application__status=ApplicationStatus.CANCELLED)
        .values_list("mentor_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for m in mentors:
        m.load = loads.get(m.pk, 0)  # type: ignore[attr-defined]
    return render(request, "mentoring/mentors.html", {"mentors": mentors, "fy": fy})


@member_required
@require_http_methods(["GET", "POST"])
def mentor_edit(request: MemberRequest, code: uuid.UUID | None = None) -> HttpResponse:
    mentor = access.office_mentor(request.membership, code) if code else None
    if mentor is None and not can_organise(request.organization):
        raise Http404
    form = MentorForm(
        request.POST or None,
        office=request.organization,
        initial=mentor_initial(mentor) if mentor else {"is_active": True},
    )
    status = 200
    if request.method == "POST":
        sent = submit(
            form,
            actions.MentorInput,
            lambda data: actions.save_mentor(
                by=request.membership, data=data, mentor=mentor, request=request
            ),
        )
        if sent.done:
            messages.success(request, "指導医を保存しました。")
            return redirect("mentoring:mentors")
        status = sent.status
    return render(
        request, "mentoring/mentor_form.html", {"form": form, "mentor": mentor}, status=status
    )


# Summary ----------------------------------------------------------------------------------


@member_required
@require_GET
def summary(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    program = access.office_program(request.membership, code)
    return render(
        request, "mentoring/summary.html", {"program": program, "s": yearly_summary(program)}
    )


@member_required
@require_GET
def summary_export(request: MemberRequest, code: uuid.UUID, fmt: str) -> HttpResponse:
    if fmt not in ("csv", "xlsx"):
        raise Http404
    program = access.office_program(request.membership, code)
    s = yearly_summary(program)
    return summary_response(s, fmt, f"mentoring-{program.fiscal_year}")


# Mentor's and trainee's own pages (signed link, no sign-in) ----------------------------------


@require_http_methods(["GET", "POST"])
def party_page(request: RenkeiRequest, token: str) -> HttpResponse:
    p = access.party(token)
    match, side = p.match, p.side
    what = request.POST.get("action", "")
    rform = ReportForm(request.POST if what == "report" else None)
    vform = VisitDateForm(
        request.POST if what == "visit" else None, initial={"visit_date": match.visit_date}
    )
    status = 200
    if request.method == "POST":
        try:
            if what == "report":
                text = input_from_form(rform, actions.MentoringReportInput)
                if text is not None:
                    actions.file_report(match, side=side, data=text, request=request)
                    messages.success(
                        request, "報告を受け付けました。ご協力ありがとうございました。"
                    )
                    return redirect("mentoring:party", token=token)
            elif what == "visit":
                visit = input_from_form(vform, actions.VisitDateInput)
                if visit is not None:
                    actions.set_visit_date(match, data=visit, side=side, request=request)
                    messages.success(request, "研修日を登録しました。")
                    return redirect("mentoring:party", token=token)
            else:
                raise ActionError("操作の指定が正しくありません")
            status = 400
        except ActionError as e:
            status = refuse(request, rform if what == "report" else vform, e)
        match.refresh_from_db()
    a = match.application
    return render(
        request,
        "mentoring/party.html",
        {
            "match": match,
            "a": a,
            "side": side,
            "side_label": Match.Side(side).label,
            "program": a.program,
            "own_report": match.report_of(side),
            "own_report_at": match.report_at(side),
            "rform": rform,
            "vform": vform,
            "token": token,
            "can_report": a.status not in (ApplicationStatus.CANCELLED,)
            and match.report_at(side) is None,
        },
        status=status,
    )


@require_GET
def party_notice(request: RenkeiRequest, token: str) -> HttpResponse:
    return _notice(request, access.party(token).match)
