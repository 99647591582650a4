from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.forms import Form
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from renkei.lib.dates import fiscal_year
from renkei.lib.http import MemberRequest, RenkeiRequest, member_required
from renkei.lib.ratelimit import rate_limited
from renkei.mentoring import actions
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
    ORGANISER_KINDS,
    ApplicationStatus,
    Match,
    Mentor,
    TraineeApplication,
    TrainingProgram,
    suggestions,
)
from renkei.mentoring.summary import summary_csv, summary_xlsx, yearly_summary


def _errors_to_form(form: Form, e: ValidationError) -> None:
    if hasattr(e, "error_dict"):
        for name, msgs in e.message_dict.items():
            for msg in msgs:
                form.add_error(name if name in form.fields else None, msg)
    else:
        for msg in e.messages:
            form.add_error(None, msg)


def _program(request: MemberRequest, code: uuid.UUID) -> TrainingProgram:
    return get_object_or_404(
        TrainingProgram.objects.for_office(request.membership).select_related("organizer"),
        code=code,
    )


def _application(request: MemberRequest, code: uuid.UUID) -> TraineeApplication:
    return get_object_or_404(
        TraineeApplication.objects.for_office(request.membership).select_related(
            "program__organizer", "entered_by"
        ),
        code=code,
    )


def _match(request: MemberRequest, code: uuid.UUID) -> Match:
    return get_object_or_404(
        Match.objects.filter(
            application__program__organizer_id=request.membership.organization_id
        ).select_related(
            "application__program__organizer", "mentor", "decided_by", "honorarium_recorded_by"
        ),
        code=code,
    )


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
        "can_organise": request.organization.kind in ORGANISER_KINDS,
        "mentor_count": Mentor.objects.for_office(request.organization)
        .filter(is_active=True)
        .count(),
    }
    if current is not None:
        context["summary"] = yearly_summary(current)
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
    program = _program(request, code) if code else None
    if program is None and request.organization.kind not in ORGANISER_KINDS:
        raise Http404
    initial = (
        {
            "fiscal_year": program.fiscal_year,
            "name": program.name,
            "co_organizer": program.co_organizer,
            "planned_count": program.planned_count,
            "honorarium_amount": program.honorarium_amount,
            "is_open": program.is_open,
            "contact": program.contact,
        }
        if program
        else None
    )
    form = ProgramForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                saved = actions.save_program(
                    by=request.membership,
                    fields=form.cleaned_data,
                    program=program,
                    request=request,
                )
            except ValidationError as e:
                _errors_to_form(form, e)
                status = 400
            else:
                messages.success(request, "研修の設定を保存しました。")
                return redirect(saved)
        else:
            status = 400
    return render(
        request, "mentoring/program_form.html", {"form": form, "program": program}, status=status
    )


@member_required
@require_GET
def program_detail(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    program = _program(request, code)
    status = request.GET.get("status", "")
    apps = program.applications.select_related("match__mentor").prefetch_related("preferred_areas")
    if status:
        if status not in ApplicationStatus.values:
            return render(
                request,
                "mentoring/program.html",
                {"program": program, "error": "状況の指定が正しくありません", "applications": []},
                status=400,
            )
        apps = apps.filter(status=status)
    return render(
        request,
        "mentoring/program.html",
        {
            "program": program,
            "applications": list(apps.order_by("-applied_at")),
            "status": status,
            "statuses": ApplicationStatus.choices,
            "apply_url": request.build_absolute_uri(
                program.get_absolute_url().rstrip("/") + "/apply/"
            ),
        },
    )


@member_required
@require_http_methods(["GET", "POST"])
def application_new(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    """The office enters a paper or FAX application."""
    program = _program(request, code)
    return _apply(request, program, office=True)


@rate_limited("public_form", methods=["POST"])
@require_http_methods(["GET", "POST"])
def apply_public(request: RenkeiRequest, code: uuid.UUID) -> HttpResponse:
    """The trainee's own application form (no sign-in)."""
    program = get_object_or_404(TrainingProgram.objects.select_related("organizer"), code=code)
    return _apply(request, program, office=False)


def _apply(request: RenkeiRequest, program: TrainingProgram, *, office: bool) -> HttpResponse:
    form = ApplicationForm(request.POST or None, organizer=program.organizer)
    status = 200
    if not office and not program.is_open:
        return render(
            request, "mentoring/apply.html", {"program": program, "closed": True}, status=200
        )
    if request.method == "POST":
        if form.is_valid():
            try:
                a = actions.apply(
                    program,
                    fields=form.model_fields(),
                    areas=form.cleaned_data["preferred_areas"],
                    by=request.membership if office else None,
                    request=request,
                )
            except (ValidationError, actions.MentoringError, ValueError) as e:
                if isinstance(e, ValidationError):
                    _errors_to_form(form, e)
                else:
                    form.add_error(None, str(e))
                status = 400
            else:
                if office:
                    messages.success(request, "申込を登録しました。")
                    return redirect(a)
                return render(request, "mentoring/apply_done.html", {"program": program, "a": a})
        else:
            status = 400
    return render(
        request,
        "mentoring/apply.html",
        {"program": program, "form": form, "office": office},
        status=status,
    )


@member_required
@require_GET
def application_detail(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    a = _application(request, code)
    areas = list(a.preferred_areas.all())
    context: dict[str, Any] = {"a": a, "areas": areas, "match": a.current_match()}
    if a.status == ApplicationStatus.APPLIED:
        a._prefetched_objects_cache = {"preferred_areas": areas}  # type: ignore[attr-defined]
        context["suggestions"] = suggestions(a)
        context["form"] = MatchForm(office=a.program.organizer)
        context["cancel_form"] = CancelForm()
    elif a.status in (ApplicationStatus.MATCHED, ApplicationStatus.SCHEDULED):
        context["cancel_form"] = CancelForm()
    return render(request, "mentoring/application.html", context)


@member_required
@require_POST
def application_match(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    a = _application(request, code)
    form = MatchForm(request.POST, office=a.program.organizer)
    if form.is_valid():
        try:
            match = actions.decide_match(
                a, form.cleaned_data["mentor"], by=request.membership, request=request
            )
        except (actions.MentoringError, ValueError) as e:
            messages.error(request, str(e))
        else:
            messages.success(
                request, "指導医を決定し、決定連絡票を指導医と受講者にメールで送りました。"
            )
            return redirect(match)
    else:
        for errs in form.errors.values():
            for err in errs:
                messages.error(request, str(err))
    return redirect(a)


@member_required
@require_POST
def application_cancel(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    a = _application(request, code)
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            actions.cancel_application(
                a, by=request.membership, reason=form.cleaned_data["reason"], request=request
            )
        except (actions.MentoringError, ValidationError) as e:
            messages.error(request, " ".join(getattr(e, "messages", [str(e)])))
        else:
            messages.success(request, "申込を取り消しました。")
    else:
        messages.error(request, "取消の理由を入力してください")
    return redirect(a)


@member_required
@require_http_methods(["GET", "POST"])
def match_detail(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    match = _match(request, code)
    program = match.application.program
    vform = VisitDateForm(initial={"visit_date": match.visit_date})
    hform = HonorariumForm(
        initial={"amount": program.honorarium_amount, "paid_at": timezone.localdate()}
    )
    status = 200
    if request.method == "POST":
        what = request.POST.get("action", "")
        try:
            if what == "visit":
                vform = VisitDateForm(request.POST)
                if not vform.is_valid():
                    raise ValidationError("研修日を正しく入力してください")
                actions.set_visit_date(
                    match, vform.cleaned_data["visit_date"], by=request.membership, request=request
                )
                messages.success(request, "研修日を登録しました。")
            elif what == "honorarium":
                hform = HonorariumForm(request.POST)
                if not hform.is_valid():
                    raise ValidationError("謝礼の支払額と支払日を正しく入力してください")
                actions.record_honorarium(
                    match,
                    by=request.membership,
                    amount=hform.cleaned_data["amount"],
                    paid_at=hform.cleaned_data["paid_at"],
                    request=request,
                )
                messages.success(request, "指導謝礼の支払いを記録しました。")
            elif what == "resend":
                actions.send_decision_notices(match.pk)
                messages.success(request, "決定連絡票を再送しました。")
            else:
                raise ValidationError("操作の指定が正しくありません")
        except (ValidationError, actions.MentoringError, PermissionDenied) as e:
            for msg in getattr(e, "messages", [str(e)]):
                messages.error(request, msg)
            status = 400
        else:
            return redirect(match)
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
    match = _match(request, code)
    return _notice(request, match)


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
    mentor = (
        get_object_or_404(Mentor.objects.for_office(request.organization), code=code)
        if code
        else None
    )
    if mentor is None and request.organization.kind not in ORGANISER_KINDS:
        raise Http404
    form = MentorForm(
        request.POST or None,
        office=request.organization,
        initial=mentor_initial(mentor) if mentor else {"is_active": True},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                actions.save_mentor(
                    by=request.membership,
                    fields=form.model_fields(),
                    areas=form.cleaned_data["areas"],
                    mentor=mentor,
                    request=request,
                )
            except ValidationError as e:
                _errors_to_form(form, e)
                status = 400
            else:
                messages.success(request, "指導医を保存しました。")
                return redirect("mentoring:mentors")
        else:
            status = 400
    return render(
        request, "mentoring/mentor_form.html", {"form": form, "mentor": mentor}, status=status
    )


# Summary ----------------------------------------------------------------------------------


@member_required
@require_GET
def summary(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    program = _program(request, code)
    return render(
        request, "mentoring/summary.html", {"program": program, "s": yearly_summary(program)}
    )


@member_required
@require_GET
def summary_export(request: MemberRequest, code: uuid.UUID, fmt: str) -> HttpResponse:
    if fmt not in ("csv", "xlsx"):
        raise Http404
    program = _program(request, code)
    s = yearly_summary(program)
    name = f"mentoring-{program.fiscal_year}.{fmt}"
    if fmt == "csv":
        response = HttpResponse(summary_csv(s), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            summary_xlsx(s),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# Mentor's and trainee's own pages (signed link, no sign-in) ----------------------------------


def _party(token: str) -> tuple[Match, str]:
    found = Match.from_token(token)
    if found is None:
        raise Http404
    return found


@require_http_methods(["GET", "POST"])
def party(request: RenkeiRequest, token: str) -> HttpResponse:
    match, side = _party(token)
    a = match.application
    rform = ReportForm(request.POST if request.POST.get("action") == "report" else None)
    vform = VisitDateForm(
        request.POST if request.POST.get("action") == "visit" else None,
        initial={"visit_date": match.visit_date},
    )
    status = 200
    if request.method == "POST":
        try:
            if request.POST.get("action") == "report":
                if not rform.is_valid():
                    raise ValidationError("報告の内容を入力してください（4000文字以内）")
                actions.file_report(match, side, rform.cleaned_data["text"], request=request)
                messages.success(request, "報告を受け付けました。ご協力ありがとうございました。")
            elif request.POST.get("action") == "visit":
                if not vform.is_valid():
                    raise ValidationError("研修日を正しく入力してください")
                actions.set_visit_date(
                    match, vform.cleaned_data["visit_date"], side=side, request=request
                )
                messages.success(request, "研修日を登録しました。")
            else:
                raise ValidationError("操作の指定が正しくありません")
        except (ValidationError, actions.MentoringError) as e:
            for msg in getattr(e, "messages", [str(e)]):
                messages.error(request, msg)
            status = 400
        else:
            return redirect("mentoring:party", token=token)
        match.refresh_from_db()
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
    match, _ = _party(token)
    return _notice(request, match)
