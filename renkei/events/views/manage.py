"""The organiser's screens: its events, their applicants, the day's attendance, the tallies."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from renkei.accounts.http import MemberRequest, member_required, recent_authentication_required
from renkei.accounts.models import AuditEntry
from renkei.accounts.named import require_named_reader
from renkei.events import actions, tallies
from renkei.events.actions import AttendanceInput, EventCancelInput
from renkei.events.forms import (
    AttachmentForm,
    EventForm,
    LecturerFormSet,
    cancel_and_tell,
    event_input,
    lecturer_rows,
)
from renkei.events.models import (
    Applicant,
    Event,
    EventAttachment,
    Occupation,
    normalize_kana,
    owner_of,
    owners,
)
from renkei.events.views.public import application_form_page
from renkei.lib.actions import ActionError
from renkei.lib.dates import fiscal_year_label, requested_fiscal_year
from renkei.lib.forms import show_error
from renkei.lib.ratelimit import by_user_or_ip, rate_limited


def _my_event(request: MemberRequest, code: uuid.UUID) -> Event:
    """An event of the member's organisation; any other is "not found" (no existence leak)."""
    return get_object_or_404(
        Event.objects.organised_by(request.organization).select_related(
            "organization", "municipality"
        ),
        code=code,
    )


def _applicants_event(request: MemberRequest, code: uuid.UUID) -> Event:
    """An event of the member's organisation whose applicants this member may read: the
    organisation's named-read roles only (403 for its other members, ADR 0043)."""
    event = _my_event(request, code)
    require_named_reader(request.membership)
    return event


def _owned_elsewhere(request: MemberRequest, event: Event, doing: str) -> HttpResponse | None:
    """A course's round takes its applicants, cancellations and attendance on the course's
    round page (its eligibility, enrolments and sessions): here nothing is done, and the
    organiser is sent there with the reason."""
    if (owner := owner_of(event)) is None:
        return None
    messages.error(request, actions.owned_refusal(owner, doing).message)
    return redirect(owner.manage_url)


def _applicant(
    request: MemberRequest, code: uuid.UUID, applicant_code: uuid.UUID
) -> tuple[Event, Applicant]:
    """One applicant of such an event; for a member outside the named-read roles the same
    404 as an unknown one."""
    event = _my_event(request, code)
    if not request.membership.reads_named_records:
        raise Http404
    person = get_object_or_404(
        Applicant.objects.select_related("application", "application__event"),
        event=event,
        code=applicant_code,
    )
    return event, person


@member_required
@require_GET
def manage(request: MemberRequest) -> HttpResponse:
    events = (
        Event.objects.organised_by(request.organization).with_counts().order_by("-starts_at", "-pk")
    )
    page = Paginator(events, 30).get_page(request.GET.get("page"))
    # A course's round is listed with its course's label and managed there.
    owned = owners([e.pk for e in page.object_list])
    rows = [(e, owned.get(e.pk)) for e in page.object_list]
    return render(
        request, "events/manage.html", {"page": page, "rows": rows, "now": timezone.now()}
    )


def _edit_page(
    request: MemberRequest,
    event: Event | None,
    form: EventForm,
    lecturers: Any,
    *,
    attachment_form: AttachmentForm | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "events/edit.html",
        {
            "event": event,
            "form": form,
            "lecturers": lecturers,
            "attachment_form": (attachment_form or AttachmentForm()) if event else None,
            "attachments": event.attachments.all() if event else [],
        },
        status=status,
    )


def _event_form_page(request: MemberRequest, event: Event | None) -> HttpResponse:
    if event is not None and (owner := owner_of(event)):
        messages.info(request, f"{owner.label}の申込受付は、ここで変更・公開します。")
        return redirect(owner.manage_url)
    pref = request.organization.prefecture_id
    instance = event or Event(organization=request.organization)
    if request.method != "POST":
        form = EventForm(instance=instance, prefecture_id=pref)
        lecturers = LecturerFormSet(prefix="l", initial=lecturer_rows(event))
        return _edit_page(request, event, form, lecturers)
    form = EventForm(request.POST, instance=instance, prefecture_id=pref)
    lecturers = LecturerFormSet(request.POST, prefix="l")
    data = event_input(form, lecturers)
    status = 400
    if data is not None:
        try:
            saved, promoted = actions.save_event(
                event, by=request.membership, data=data, request=request
            )
        except ActionError as e:
            show_error(form, e)
            status = e.status
        else:
            msg = "研修・イベントを保存しました。"
            if promoted:
                msg += f"定員の変更により、キャンセル待ちの{len(promoted)}名を参加確定にしました。"
            messages.success(request, msg)
            return redirect("events:manage_event", code=saved.code)
    return _edit_page(request, event, form, lecturers, status=status)


@member_required
@require_http_methods(["GET", "POST"])
def event_create(request: MemberRequest) -> HttpResponse:
    return _event_form_page(request, None)


@member_required
@require_http_methods(["GET", "POST"])
def event_edit(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    return _event_form_page(request, _my_event(request, code))


@member_required
@require_POST
def attachment_add(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    event = _my_event(request, code)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        actions.add_attachment(
            event,
            title=form.cleaned_data["title"] or form.cleaned_data["file"].name,
            upload=form.cleaned_data["file"],
            by=request.membership,
            request=request,
        )
        messages.success(request, "添付ファイルを追加しました。")
        return redirect("events:edit", code=event.code)
    return _edit_page(
        request,
        event,
        EventForm(instance=event, prefecture_id=request.organization.prefecture_id),
        LecturerFormSet(prefix="l", initial=lecturer_rows(event)),
        attachment_form=form,
        status=400,
    )


@member_required
@require_POST
def attachment_remove(request: MemberRequest, code: uuid.UUID, pk: int) -> HttpResponse:
    event = _my_event(request, code)
    att = get_object_or_404(EventAttachment, event=event, pk=pk)
    actions.remove_attachment(att, by=request.membership, request=request)
    messages.success(request, "添付ファイルを削除しました。")
    return redirect("events:edit", code=event.code)


def _applicants(event: Event) -> list[Applicant]:
    return list(event.applicants.select_related("application").order_by("position"))


@member_required
@require_GET
def manage_event(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    """Applicant list of one event: personal data, so every read is audited."""
    event = _applicants_event(request, code)
    applicants = _applicants(event)
    AuditEntry.record(
        "events.applicants_viewed", request=request, target=event, detail={"rows": len(applicants)}
    )
    return render(
        request,
        "events/manage_event.html",
        {
            "event": event,
            "applicants": applicants,
            "tally": tallies.event_tally(event),
            "needs": tallies.needs_of(event),
            "places_left": event.places_left(),
            "owner": owner_of(event),
            "lecturers": event.lecturers.all(),
            "questions": event.applications.active().exclude(question="").order_by("created_at"),
        },
    )


APPLICANT_COLUMNS = [
    "受付番号",
    "状態",
    "氏名",
    "ふりがな",
    "職種",
    "メールアドレス",
    "事業所名",
    "事業所連絡担当者",
    "事業所メールアドレス",
    "事業所電話番号",
    "受付方法",
    "申込日時",
    "出席",
]


@member_required
@recent_authentication_required  # names and contacts of every applicant (R07)
@rate_limited("export", key=by_user_or_ip)
@require_GET
def applicants_export(request: MemberRequest, code: uuid.UUID, fmt: str) -> HttpResponse:
    if fmt not in ("csv", "xlsx"):
        raise Http404
    event = _applicants_event(request, code)
    applicants = _applicants(event)
    rows = [
        [
            a.position,
            a.get_status_display(),
            a.name,
            a.kana,
            a.occupation_label,
            a.email,
            a.application.office_name,
            a.application.contact_name,
            a.application.contact_email,
            a.application.contact_phone,
            a.application.get_source_display(),
            a.application.created_at,
            "出席" if a.attended else "",
        ]
        for a in applicants
    ]
    AuditEntry.record(
        "events.applicants_exported",
        request=request,
        target=event,
        detail={"format": fmt, "rows": len(rows)},
    )
    return tallies.table_response(
        APPLICANT_COLUMNS,
        rows,
        fmt=fmt,
        filename=f"applicants-{timezone.localdate(event.starts_at):%Y%m%d}",
        sheet="申込者一覧",
    )


@member_required
@require_GET
def event_tally_export(request: MemberRequest, code: uuid.UUID, fmt: str) -> HttpResponse:
    if fmt not in ("csv", "xlsx"):
        raise Http404
    event = _my_event(request, code)
    t = tallies.event_tally(event)
    rows: list[list[Any]] = [
        [label, c.applied, c.confirmed, c.waitlisted, c.attended] for label, c in t.rows()
    ]
    rows.append(["合計", t.total.applied, t.total.confirmed, t.total.waitlisted, t.total.attended])
    return tallies.table_response(
        ["職種", "申込", "参加確定", "キャンセル待ち", "出席"],
        rows,
        fmt=fmt,
        filename=f"tally-{timezone.localdate(event.starts_at):%Y%m%d}",
        sheet="職種別",
    )


@member_required
@require_http_methods(["GET", "POST"])
def organiser_cancel(
    request: MemberRequest, code: uuid.UUID, applicant_code: uuid.UUID
) -> HttpResponse:
    """GET: what cancelling this applicant would do (who is told, who moves up); POST: do it."""
    event, person = _applicant(request, code, applicant_code)
    if refused := _owned_elsewhere(request, event, "申込の取消"):
        return refused
    data = EventCancelInput(applicants=[person.code])
    if request.method == "GET":
        try:
            plan = actions.plan_cancel(person.application, data)
        except ActionError as e:
            messages.error(request, e.message)
            return redirect("events:manage_event", code=event.code)
        return render(
            request, "events/cancel_confirm.html", {"event": event, "a": person, "plan": plan}
        )
    cancel_and_tell(
        request,
        person,
        lambda: actions.cancel(person.application, data, by=request.membership, request=request),
    )
    return redirect("events:manage_event", code=event.code)


@member_required
@require_http_methods(["GET", "POST"])
def proxy_apply(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    """The organiser types in an application that came by FAX or post."""
    event = _applicants_event(request, code)
    if refused := _owned_elsewhere(request, event, "申込の代理入力"):
        return refused
    return application_form_page(request, event, proxy=True)


def _attendance_rows(event: Event, q: str) -> list[Applicant]:
    qs = event.applicants.exclude(status=Applicant.Status.CANCELLED).select_related("application")
    if q:
        kana = normalize_kana(q)
        qs = qs.filter(Q(kana__contains=kana) | Q(name__contains=q))
    return list(qs.order_by("kana", "position"))


@member_required
@require_GET
def attendance(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    event = _applicants_event(request, code)
    if refused := _owned_elsewhere(request, event, "出席の記録（日程ごと）"):
        return refused
    q = request.GET.get("q", "").strip()[:40]
    rows = _attendance_rows(event, q)
    AuditEntry.record(
        "events.attendance_viewed", request=request, target=event, detail={"rows": len(rows)}
    )
    template = "events/attendance.html#rows" if request.htmx else "events/attendance.html"
    counts = event.applicants.exclude(status=Applicant.Status.CANCELLED).aggregate(
        confirmed=Count("id", filter=Q(status=Applicant.Status.CONFIRMED)),
        attended=Count("id", filter=Q(attended=True)),
    )
    return render(request, template, {"event": event, "rows": rows, "q": q, "counts": counts})


@member_required
@require_POST
def attendance_toggle(
    request: MemberRequest, code: uuid.UUID, applicant_code: uuid.UUID
) -> HttpResponse:
    event, person = _applicant(request, code, applicant_code)
    if refused := _owned_elsewhere(request, event, "出席の記録（日程ごと）"):
        return refused
    data = AttendanceInput(attended=request.POST.get("attended") == "1")
    try:
        actions.set_attendance(person, data, by=request.membership, request=request)
    except ActionError as e:
        if request.htmx:
            # Plain text: htmx-errors.js shows it beside the row instead of swapping it in.
            return HttpResponse(
                e.message, status=e.status, content_type="text/plain; charset=utf-8"
            )
        messages.error(request, e.message)
    if request.htmx:
        attended_count = (
            event.applicants.exclude(status=Applicant.Status.CANCELLED)
            .filter(attended=True)
            .count()
        )
        return render(
            request,
            "events/attendance.html#toggled",
            {"event": event, "a": person, "attended_count": attended_count},
        )
    return redirect("events:attendance", code=event.code)


@member_required
@require_http_methods(["GET", "POST"])
def feedback_manage(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    event = _my_event(request, code)
    if request.method == "POST":
        try:
            n = actions.request_feedback(event, by=request.membership, request=request)
        except ActionError as e:
            messages.error(request, e.message)
        else:
            messages.success(
                request,
                f"アンケートのお願いを{n}名に送信しました。"
                if n
                else "未送信の出席者はいません（全員に送信済みです）。",
            )
        return redirect("events:feedback_manage", code=event.code)
    return render(
        request,
        "events/feedback_manage.html",
        {
            "event": event,
            "summary": tallies.feedback_summary(event),
            "attended": event.applicants.filter(attended=True).count(),
            "started": event.has_started(),
        },
    )


@member_required
@require_GET
def year_tally(request: MemberRequest) -> HttpResponse:
    fy = requested_fiscal_year(request.GET.get("fy", ""))
    years = tallies.fiscal_years_of(request.organization)
    if fy not in years:
        years = sorted({*years, fy}, reverse=True)
    return render(
        request,
        "events/year_tally.html",
        {
            "y": tallies.year_tally(request.organization, fy),
            "years": [(y, fiscal_year_label(y)) for y in years],
            "occupations": Occupation.choices,
        },
    )


@member_required
@require_GET
def year_tally_export(request: MemberRequest, fmt: str) -> HttpResponse:
    if fmt not in ("csv", "xlsx"):
        raise Http404
    fy = requested_fiscal_year(request.GET.get("fy", ""))
    header, rows = tallies.year_table(tallies.year_tally(request.organization, fy))
    return tallies.table_response(
        header, rows, fmt=fmt, filename=f"events-fy{fy}-by-occupation", sheet=f"{fy}年度 職種別"
    )
