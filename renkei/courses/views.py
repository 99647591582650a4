"""Course screens: the public course page and its application form, the employer's view of
its staff, and the organiser's rounds, attendance per session, certificates and tallies."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from renkei.accounts.http import MemberRequest, RenkeiRequest, member_required
from renkei.accounts.models import AuditEntry
from renkei.courses import access, actions, completion, tally
from renkei.courses.forms import CourseApplicantForm, CourseApplicationForm
from renkei.courses.models import (
    Certificate,
    Course,
    CourseRound,
    CourseSession,
    Enrolment,
    SessionAttendance,
    completers,
    participants,
    progress_rows,
)
from renkei.events.actions import EventCancelInput
from renkei.events.forms import (
    applicant_formset_class,
    application_input,
    cancel_and_tell,
    submit_application,
)
from renkei.events.models import Applicant
from renkei.lib import exports
from renkei.lib.actions import ActionError
from renkei.lib.dates import fiscal_year_label, requested_fiscal_year
from renkei.lib.forms import refuse
from renkei.lib.http import private_page
from renkei.lib.ratelimit import rate_limited

APPLICANT_PREFIX = "a"
# An employer sends several staff at once: five rows to start with.
FORM_ROWS = 5


# --- public --------------------------------------------------------------------------------


@require_GET
def course_list(request: RenkeiRequest) -> HttpResponse:
    courses = (
        Course.objects.published()
        .select_related("organization")
        .prefetch_related("rounds__event", "rounds__sessions")
        .order_by("-created_at", "pk")[:100]
    )
    return render(request, "courses/list.html", {"courses": courses})


@require_GET
def course_detail(request: RenkeiRequest, code: uuid.UUID) -> HttpResponse:
    course = access.public_course(request.organization, code)
    rounds = list(course.rounds.for_display())
    now = timezone.now()
    return render(
        request,
        "courses/detail.html",
        {
            "course": course,
            "rounds": [(r, r.event.places_left(), r.closed_reason(now)) for r in rounds],
            "is_organiser": request.organization is not None
            and request.organization.pk == course.organization_id,
        },
    )


def _application_page(request: RenkeiRequest, rnd: CourseRound, *, proxy: bool) -> HttpResponse:
    """The round's 申込書: by an employer on the public page, or typed in by the organiser
    from one that came by FAX, post or phone (proxy). Both feed the same input to the same
    action, so eligibility and the round's places and waiting list are the same."""
    if proxy:
        started = rnd.event.has_started()
        closed = "この回は既に始まりました。申込は登録できません。" if started else ""
    else:
        closed = rnd.closed_reason()
    formset_class = applicant_formset_class(extra=FORM_ROWS - 1, form=CourseApplicantForm)
    status = 200
    if request.method == "POST":
        form = CourseApplicationForm(request.POST)
        formset = formset_class(request.POST, prefix=APPLICANT_PREFIX)
        data = application_input(form, formset, actions.CourseApplicationInput)
        app, status = submit_application(
            form,
            data,
            closed,
            lambda valid, key: actions.apply(
                rnd,
                valid,
                by=request.membership,
                request=request,
                idempotency_key=key,
                proxy=proxy,
            )[0],
        )
        if app is not None and proxy:
            messages.success(request, "FAX・郵送・電話の申込を登録しました。")
            return redirect("courses:manage_round", code=rnd.course.code, number=rnd.number)
        if app is not None:
            messages.success(
                request,
                "申込を受け付けました。確認メールをお送りしました。受講状況はこのページで確認できます。",
            )
            return redirect("courses:progress", token=app.signed_token)
    else:
        form = CourseApplicationForm(initial={"form_token": uuid.uuid4().hex})
        formset = formset_class(prefix=APPLICANT_PREFIX)
    return render(
        request,
        "courses/apply.html",
        {
            "round": rnd,
            "course": rnd.course,
            "form": form,
            "formset": formset,
            "closed_reason": closed,
            "places_left": rnd.event.places_left(),
            "proxy": proxy,
        },
        status=status,
    )


@rate_limited("public_form", methods=["POST"])
@require_http_methods(["GET", "POST"])
def apply(request: RenkeiRequest, code: uuid.UUID, number: int) -> HttpResponse:
    return _application_page(
        request, access.public_round(request.organization, code, number), proxy=False
    )


@require_GET
def progress(request: RenkeiRequest, token: str) -> HttpResponse:
    """The employer's page for its application (the e-mailed link): each staff member's
    place, days attended and completion. Cancelling is events' page for the same link."""
    app, rnd = access.application_by_token(token)
    people = list(app.applicants.with_waitlist_rank().order_by("position"))
    return private_page(
        render(
            request,
            "courses/progress.html",
            {
                "app": app,
                "round": rnd,
                "course": rnd.course,
                "sessions": list(rnd.sessions.all()),
                "rows": progress_rows(rnd, people),
                "required": rnd.required_sessions(),
            },
        )
    )


@member_required
@require_GET
def staff(request: MemberRequest) -> HttpResponse:
    """Every course round the member's organisation applied its staff to from its account."""
    enrolments = (
        Enrolment.objects.filter(employer=request.organization)
        .select_related("round__course", "round__event", "applicant")
        .order_by("-round__event__starts_at", "applicant__position")
    )
    by_round: dict[int, tuple[CourseRound, list[Applicant]]] = {}
    for e in enrolments[:500]:
        by_round.setdefault(e.round_id, (e.round, []))[1].append(e.applicant)
    blocks = [(rnd, progress_rows(rnd, people)) for rnd, people in by_round.values()]
    return render(request, "courses/staff.html", {"blocks": blocks})


# --- organiser ---------------------------------------------------------------------------------


@member_required
@require_GET
def manage(request: MemberRequest) -> HttpResponse:
    courses = (
        Course.objects.organised_by(request.organization)
        .prefetch_related("rounds__event", "rounds__sessions")
        .order_by("-created_at", "pk")
    )
    fy = requested_fiscal_year(request.GET.get("fy", ""))
    return render(
        request,
        "courses/manage.html",
        {
            "courses": courses[:200],
            "fy": fy,
            "fy_label": fiscal_year_label(fy),
            "figures": tally.yearly(request.organization, fy),
        },
    )


@member_required
@require_GET
def manage_course(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    course = access.own_course(request.membership, code)
    rounds = list(course.rounds.for_display())
    return render(
        request,
        "courses/manage_course.html",
        {
            "course": course,
            "rounds": [(r, r.event.places_left(), completers(r).count()) for r in rounds],
        },
    )


@member_required
@require_GET
def manage_round(request: MemberRequest, code: uuid.UUID, number: int) -> HttpResponse:
    rnd = access.own_round(request.membership, code, number)
    people = list(participants(rnd))
    waiting = list(
        Applicant.objects.filter(event_id=rnd.event_id, status=Applicant.Status.WAITLISTED)
        .select_related("application")
        .order_by("position")
    )
    AuditEntry.record(
        "courses.round_viewed", request=request, target=rnd, detail={"rows": len(people)}
    )
    sessions = list(rnd.sessions.all())
    present = _present_per_session(rnd)
    return render(
        request,
        "courses/manage_round.html",
        {
            "round": rnd,
            "course": rnd.course,
            "sessions": sessions,
            "days": [(s, present.get(s.pk, 0)) for s in sessions],
            "rows": progress_rows(rnd, people),
            "waiting": waiting,
            "required": rnd.required_sessions(),
            "certificates": Certificate.objects.filter(round=rnd).select_related(
                "applicant", "course"
            ),
        },
    )


def _present_per_session(rnd: CourseRound) -> dict[int, int]:
    """How many confirmed participants came to each session of the round (one query)."""
    return dict(
        SessionAttendance.objects.filter(
            session__round=rnd, applicant__status=Applicant.Status.CONFIRMED
        )
        .values("session_id")
        .annotate(n=Count("pk"))
        .values_list("session_id", "n")
    )


@member_required
@require_http_methods(["GET", "POST"])
def proxy_apply(request: MemberRequest, code: uuid.UUID, number: int) -> HttpResponse:
    """The organiser types in a 申込書 that came by FAX, post or phone."""
    rnd = access.own_round(request.membership, code, number)
    return _application_page(request, rnd, proxy=True)


@member_required
@require_http_methods(["GET", "POST"])
def organiser_cancel(
    request: MemberRequest, code: uuid.UUID, number: int, applicant: uuid.UUID
) -> HttpResponse:
    """GET: what cancelling this applicant would do (who is told, who in this round moves
    up), with the button; POST: do it. Nothing is cancelled without the confirmation."""
    rnd = access.own_round(request.membership, code, number)
    person = access.round_applicant(rnd, applicant)
    data = EventCancelInput(applicants=[person.code])
    back = redirect("courses:manage_round", code=code, number=number)
    if request.method == "GET":
        try:
            plan = actions.plan_cancel(rnd, person.application, data)
        except ActionError as e:
            messages.error(request, e.message)
            return back
        return render(
            request,
            "courses/cancel_confirm.html",
            {"round": rnd, "course": rnd.course, "a": person, "plan": plan},
        )
    cancel_and_tell(
        request,
        person,
        lambda: actions.cancel(
            rnd, person.application, data, by=request.membership, request=request
        ),
    )
    return back


@member_required
@require_http_methods(["GET", "POST"])
def session_attendance(
    request: MemberRequest, code: uuid.UUID, number: int, session: uuid.UUID
) -> HttpResponse:
    """The day's 出席簿: one button per confirmed participant."""
    rnd = access.own_round(request.membership, code, number)
    day = access.own_session(rnd, session)
    status = 200
    if request.method == "POST":
        try:
            data = completion.SessionAttendanceInput(
                applicant=request.POST.get("applicant", ""),
                attended=request.POST.get("attended") == "1",
            )
        except ValueError:
            messages.error(request, "申込者が正しく指定されていません。")
            status = 400
        else:
            try:
                completion.set_session_attendance(day, data, by=request.membership, request=request)
            except ActionError as e:
                status = refuse(request, None, e)
            else:
                return redirect("courses:session", code=code, number=number, session=session)
    return render(
        request,
        "courses/session.html",
        _day_sheet(rnd, day) | {"not_yet": timezone.localdate() < day.date},
        status=status,
    )


def _day_sheet(rnd: CourseRound, day: CourseSession) -> dict[str, Any]:
    """One session's 出席簿: the round's confirmed participants, each with this day's mark."""
    sessions = list(rnd.sessions.all())
    came = set(day.attendance.values_list("applicant_id", flat=True))
    rows = [(p, p.pk in came) for p in participants(rnd)]
    return {
        "round": rnd,
        "course": rnd.course,
        "day": day,
        "day_number": next(i for i, s in enumerate(sessions, start=1) if s.pk == day.pk),
        "days": len(sessions),
        "rows": rows,
        "present": sum(1 for _, c in rows if c),
    }


@member_required
@require_GET
def session_sheet(
    request: MemberRequest, code: uuid.UUID, number: int, session: uuid.UUID
) -> HttpResponse:
    """The day's 出席簿 on A4, one line per participant with a column to sign: names on paper,
    so each print is audited."""
    rnd = access.own_round(request.membership, code, number)
    day = access.own_session(rnd, session)
    sheet = _day_sheet(rnd, day)
    AuditEntry.record(
        "courses.session_sheet_printed",
        request=request,
        target=rnd,
        detail={"session": str(day.code), "rows": len(sheet["rows"])},
    )
    return private_page(render(request, "courses/session_sheet.html", sheet))


@member_required
@require_POST
def certificates_issue(request: MemberRequest, code: uuid.UUID, number: int) -> HttpResponse:
    rnd = access.own_round(request.membership, code, number)
    try:
        issued = completion.issue_certificates(rnd, by=request.membership, request=request)
    except ActionError as e:
        messages.error(request, e.message)
    else:
        messages.success(
            request,
            f"修了証を{len(issued)}件発行しました。"
            if issued
            else "新たに修了した方はいません（発行済みです）。",
        )
    return redirect("courses:manage_round", code=code, number=number)


@member_required
@require_GET
def certificates_print(request: MemberRequest, code: uuid.UUID, number: int) -> HttpResponse:
    """A4, one certificate a page."""
    rnd = access.own_round(request.membership, code, number)
    certs = Certificate.objects.filter(round=rnd, revoked_at__isnull=True).select_related(
        "applicant", "course__organization", "round"
    )
    return render(request, "courses/certificates.html", {"round": rnd, "certificates": certs})


@member_required
@require_GET
def completers_export(
    request: MemberRequest, code: uuid.UUID, number: int, fmt: str
) -> HttpResponse:
    if fmt not in exports.FORMATS:
        raise Http404
    rnd = access.own_round(request.membership, code, number)
    certs = {
        c.applicant_id: c.number_label
        for c in Certificate.objects.filter(round=rnd, revoked_at__isnull=True).select_related(
            "course"
        )
    }
    rows = [
        [
            p.name,
            p.kana,
            p.occupation_label,
            p.application.office_name,
            p.enrolment.get_employer_kind_display() if hasattr(p, "enrolment") else "",
            getattr(p, "n_attended", 0),
            certs.get(p.pk, ""),
        ]
        for p in completers(rnd)
    ]
    AuditEntry.record(
        "courses.completers_exported", request=request, target=rnd, detail={"rows": len(rows)}
    )
    sheet = exports.Sheet(
        title=f"第{rnd.number}回 修了者",
        header=["氏名", "ふりがな", "職種", "事業所", "勤務先の種別", "出席日数", "修了証番号"],
        rows=rows,
        widths=[16, 20, 14, 30, 24, 10, 28],
    )
    return exports.response(fmt, f"course-{rnd.course.code}-round{rnd.number}-completers", sheet)


@member_required
@require_GET
def year_tally(request: MemberRequest) -> HttpResponse:
    fy = requested_fiscal_year(request.GET.get("fy", ""))
    b = tally.breakdown(request.organization, fy)
    return render(
        request,
        "courses/tally.html",
        {"b": b, "fy": fy, "fy_label": fiscal_year_label(fy), "sheets": tally.breakdown_sheets(b)},
    )


@member_required
@require_GET
def year_tally_export(request: MemberRequest, fmt: str) -> HttpResponse:
    if fmt not in exports.FORMATS:
        raise Http404
    fy = requested_fiscal_year(request.GET.get("fy", ""))
    sheets = [
        exports.Sheet(title=title, header=header, rows=rows)
        for title, header, rows in tally.breakdown_sheets(tally.breakdown(request.organization, fy))
    ]
    return exports.response(fmt, f"courses-fy{fy}", *sheets)
