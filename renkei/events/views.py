from __future__ import annotations

import io
import uuid
from typing import Any
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from renkei.accounts.models import AuditEntry
from renkei.events import actions, tallies
from renkei.events.forms import (
    ApplicantForm,
    ApplicationForm,
    AttachmentForm,
    BaseApplicantFormSet,
    EventForm,
    FeedbackForm,
    LecturerFormSet,
    applicant_formset_class,
    application_data,
    place_refusal,
)
from renkei.events.models import (
    Applicant,
    Application,
    Event,
    EventAttachment,
    EventKind,
    Feedback,
    Occupation,
    normalize_kana,
)
from renkei.lib.dates import fiscal_year, fiscal_year_label
from renkei.lib.http import (
    MemberRequest,
    RenkeiRequest,
    member_required,
    recent_authentication_required,
)
from renkei.lib.ratelimit import by_user_or_ip, rate_limited
from renkei.regions.models import Municipality, SecondaryArea

APPLICANT_PREFIX = "a"


def _qr_svg(uri: str) -> str:
    buf = io.BytesIO()
    qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2).save(buf)
    svg = buf.getvalue().decode("utf-8")
    # Inline in HTML: the XML declaration is not allowed there.
    return svg[svg.index("<svg") :]


def _is_organiser(request: RenkeiRequest, event: Event) -> bool:
    return request.organization is not None and request.organization.pk == event.organization_id


def _visible_event(request: RenkeiRequest, code: uuid.UUID) -> Event:
    """Published events for everyone; unpublished ones only for the organiser (preview)."""
    event = get_object_or_404(
        Event.objects.select_related("organization", "municipality"), code=code
    )
    if not event.published and not _is_organiser(request, event):
        raise Http404
    return event


def _private(response: HttpResponse) -> HttpResponse:
    """Pages reached through a personal link: never cached, never indexed."""
    response["Cache-Control"] = "no-store, private"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


# --- public pages ----------------------------------------------------------------------


@require_GET
def event_list(request: RenkeiRequest) -> HttpResponse:
    qs = (
        Event.objects.published()
        .upcoming()
        .select_related("organization", "municipality")
        .order_by("starts_at", "pk")
    )
    kind = request.GET.get("kind", "")
    if kind in EventKind.values:
        qs = qs.filter(kind=kind)
    muni_code = request.GET.get("municipality", "")
    if muni_code:
        qs = qs.filter(Q(municipality__code=muni_code) | Q(municipality__parent__code=muni_code))
    area = request.GET.get("area", "")
    if area.isdigit():
        area_obj = SecondaryArea.objects.filter(pk=int(area)).first()
        qs = (
            qs.filter(municipality__in=Municipality.objects.in_area(area_obj))
            if area_obj
            else qs.none()
        )
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    used = Event.objects.published().upcoming().values_list("municipality_id", flat=True)
    params = [(k, v) for k, v in request.GET.items() if k != "page" and v]
    return render(
        request,
        "events/list.html",
        {
            "page": page,
            "kinds": EventKind.choices,
            "kind": kind,
            "municipality": muni_code,
            "area": area,
            "municipalities": Municipality.objects.filter(pk__in=used).order_by("code"),
            "areas": SecondaryArea.objects.filter(
                Q(municipalities__pk__in=used) | Q(municipalities__wards__pk__in=used)
            ).distinct(),
            "querystring_base": urlencode(params) + ("&" if params else ""),
        },
    )


@require_GET
def event_detail(request: RenkeiRequest, code: uuid.UUID) -> HttpResponse:
    event = _visible_event(request, code)
    return render(
        request,
        "events/detail.html",
        {
            "event": event,
            "lecturers": event.lecturers.all(),
            "attachments": event.attachments.all(),
            "places_left": event.places_left(),
            "closed_reason": event.closed_reason(),
            "is_organiser": _is_organiser(request, event),
        },
    )


def _applicant_formset(data: QueryDict | None = None, **kwargs: Any) -> BaseApplicantFormSet:
    cls = kwargs.pop("cls", None) or applicant_formset_class()
    formset: BaseApplicantFormSet = cls(data, prefix=APPLICANT_PREFIX, **kwargs)
    return formset


def _with_extra_row(
    request: RenkeiRequest, event: Event
) -> tuple[ApplicationForm, BaseApplicantFormSet]:
    """「申込者を追加」 without JavaScript: redisplay what was typed, plus one empty row."""
    data = request.POST
    try:
        total = min(int(data.get(f"{APPLICANT_PREFIX}-TOTAL_FORMS", "0")), actions.MAX_APPLICANTS)
    except ValueError:
        total = 0
    fields = list(ApplicantForm.base_fields)
    rows = [{f: data.get(f"{APPLICANT_PREFIX}-{i}-{f}", "") for f in fields} for i in range(total)]
    # Rows are redisplayed as initial values; the first stays required, one blank row is added.
    extra = min(len(rows) + 1, actions.MAX_APPLICANTS) - 1
    formset = _applicant_formset(
        None, initial=rows, cls=applicant_formset_class(extra=max(extra, 0))
    )
    initial: dict[str, Any] = {
        k: data.get(k, "") for k in ApplicationForm.base_fields if k != "agree"
    }
    initial["agree"] = bool(data.get("agree"))
    return ApplicationForm(initial=initial, event=event), formset


def _application_form_page(request: RenkeiRequest, event: Event, *, proxy: bool) -> HttpResponse:
    closed = "" if proxy else event.closed_reason()
    status = 200
    if request.method == "POST" and "add_row" in request.POST:
        form, formset = _with_extra_row(request, event)
    elif request.method == "POST":
        form = ApplicationForm(request.POST, event=event)
        formset = _applicant_formset(request.POST)
        if closed:
            form.add_error(None, closed)
            status = 409
        elif form.is_valid() and formset.is_valid():
            try:
                app, _created = actions.apply(
                    event,
                    application_data(form, formset),
                    source=Application.Source.FAX if proxy else Application.Source.WEB,
                    idempotency_key="web:" + form.cleaned_data["form_token"]
                    if form.cleaned_data["form_token"]
                    else "",
                    enforce_deadline=not proxy,
                    by=request.membership if proxy else None,
                    request=request,
                )
            except actions.Refused as e:
                place_refusal(e, form, formset)
                status = e.status
            else:
                if proxy:
                    messages.success(request, "FAX・郵送の申込を登録しました。")
                    return redirect("events:manage_event", code=event.code)
                messages.success(
                    request,
                    "申込を受け付けました。確認メールをお送りしました。このページのURLから申込内容の確認・取消ができます。",
                )
                return redirect(app.get_absolute_url())
        else:
            status = 400
    else:
        form = ApplicationForm(initial={"form_token": uuid.uuid4().hex}, event=event)
        formset = _applicant_formset()
    return render(
        request,
        "events/apply.html",
        {
            "event": event,
            "form": form,
            "formset": formset,
            "closed_reason": closed,
            "places_left": event.places_left(),
            "proxy": proxy,
            "max_applicants": actions.MAX_APPLICANTS,
        },
        status=status,
    )


@rate_limited("public_form", methods=["POST"])
@require_http_methods(["GET", "POST"])
def apply(request: RenkeiRequest, code: uuid.UUID) -> HttpResponse:
    event = _visible_event(request, code)
    return _application_form_page(request, event, proxy=False)


@require_GET
def applicant_row(request: RenkeiRequest, code: uuid.UUID) -> HttpResponse:
    """htmx: one more empty applicant row, with the formset's counter updated out of band."""
    event = _visible_event(request, code)
    try:
        index = int(request.GET.get("index", ""))
    except ValueError:
        return HttpResponse("行番号が正しくありません", status=400)
    if not 0 <= index < actions.MAX_APPLICANTS:
        return HttpResponse(f"1回の申込は{actions.MAX_APPLICANTS}名までです", status=400)
    row = ApplicantForm(prefix=f"{APPLICANT_PREFIX}-{index}", use_required_attribute=False)
    return render(
        request,
        "events/apply.html#applicant-row-oob",
        {
            "event": event,
            "row": row,
            "number": index + 1,
            "next_index": index + 1,
            "max_applicants": actions.MAX_APPLICANTS,
            "applicant_prefix": APPLICANT_PREFIX,
        },
    )


@require_GET
def flyer(request: RenkeiRequest, code: uuid.UUID) -> HttpResponse:
    event = _visible_event(request, code)
    apply_url = settings.SITE_URL.rstrip("/") + reverse("events:apply", args=[event.code])
    return render(
        request,
        "events/flyer.html",
        {
            "event": event,
            "lecturers": event.lecturers.all(),
            "apply_url": apply_url,
            "qr": _qr_svg(apply_url),
        },
    )


@require_GET
def fax_sheet(request: RenkeiRequest, code: uuid.UUID) -> HttpResponse:
    event = _visible_event(request, code)
    return render(
        request,
        "events/fax.html",
        {
            "event": event,
            "rows": range(1, 6),
            "apply_url": settings.SITE_URL.rstrip("/") + reverse("events:apply", args=[event.code]),
            "occupations": Occupation.choices,
            "question_occupations": Occupation.question_choices(),
        },
    )


@require_GET
def attachment(request: RenkeiRequest, code: uuid.UUID, pk: int) -> FileResponse:
    event = _visible_event(request, code)
    att = get_object_or_404(EventAttachment, event=event, pk=pk)
    name = att.file.name or ""
    ext = name.rsplit(".", 1)[-1] if "." in name else ""
    return FileResponse(
        att.file.open("rb"),
        content_type=att.content_type,
        filename=f"{att.title}.{ext}" if ext else att.title,
    )


def _application_by_token(token: str) -> Application:
    value = Application.token_value(token)
    if value is None:
        raise Http404
    return get_object_or_404(
        Application.objects.select_related("event", "event__organization"), cancel_token=value
    )


@require_http_methods(["GET", "POST"])
def application(request: RenkeiRequest, token: str) -> HttpResponse:
    """The applicant's own page, reached only through the e-mailed link."""
    app = _application_by_token(token)
    if request.method == "POST":
        which = request.POST.get("applicant", "")
        try:
            cancelled, _promoted = actions.cancel(
                app,
                applicant_codes=None if which == "all" else [which],
                request=request,
            )
        except actions.Refused as e:
            messages.error(request, e.message)
        else:
            names = "、".join(a.name for a in cancelled)
            messages.success(request, f"{names} さんの申込を取り消しました。")
        return redirect(app.get_absolute_url())
    applicants = list(app.applicants.order_by("position"))
    waiting_positions = list(app.event.applicants.waitlisted().values_list("position", flat=True))
    for a in applicants:
        a.waitlist_rank = (  # type: ignore[attr-defined]
            waiting_positions.index(a.position) + 1 if a.position in waiting_positions else None
        )
    response = render(
        request,
        "events/application.html",
        {
            "app": app,
            "event": app.event,
            "applicants": applicants,
            "can_cancel": not app.event.has_started()
            and any(a.status != Applicant.Status.CANCELLED for a in applicants),
        },
    )
    return _private(response)


@require_http_methods(["GET", "POST"])
def feedback(request: RenkeiRequest, token: str) -> HttpResponse:
    code = Applicant.code_from_feedback_token(token)
    if code is None:
        raise Http404
    applicant = get_object_or_404(Applicant.objects.select_related("event"), code=code)
    answered = Feedback.objects.filter(applicant=applicant).exists()
    form = FeedbackForm(request.POST or None)
    status = 200
    if request.method == "POST" and not answered:
        if form.is_valid():
            try:
                actions.submit_feedback(
                    applicant,
                    satisfaction=form.cleaned_data["satisfaction"],
                    usefulness=form.cleaned_data["usefulness"],
                    comment=form.cleaned_data["comment"],
                )
            except actions.Refused as e:
                form.add_error(None, e.message)
                status = e.status
            else:
                answered = True
        else:
            status = 400
    return _private(
        render(
            request,
            "events/feedback.html",
            {"applicant": applicant, "event": applicant.event, "form": form, "answered": answered},
            status=status,
        )
    )


# --- organiser screens -----------------------------------------------------------------


def _my_event(request: MemberRequest, code: uuid.UUID) -> Event:
    """An event of the member's organisation; any other is "not found" (no existence leak)."""
    return get_object_or_404(
        Event.objects.organised_by(request.organization).select_related(
            "organization", "municipality"
        ),
        code=code,
    )


@member_required
@require_GET
def manage(request: MemberRequest) -> HttpResponse:
    events = (
        Event.objects.organised_by(request.organization)
        .annotate(
            n_confirmed=Count("applicants", filter=Q(applicants__status="confirmed")),
            n_waitlisted=Count("applicants", filter=Q(applicants__status="waitlisted")),
            n_attended=Count(
                "applicants",
                filter=Q(applicants__attended=True) & ~Q(applicants__status="cancelled"),
            ),
        )
        .order_by("-starts_at", "-pk")
    )
    page = Paginator(events, 30).get_page(request.GET.get("page"))
    return render(request, "events/manage.html", {"page": page, "now": timezone.now()})


def _event_form_page(request: MemberRequest, event: Event | None) -> HttpResponse:
    instance = event or Event(organization=request.organization)
    pref = request.organization.prefecture_id
    if request.method == "POST":
        form = EventForm(request.POST, instance=instance, prefecture_id=pref)
        lecturers = LecturerFormSet(request.POST, prefix="l")
        if form.is_valid() and lecturers.is_valid():
            obj = form.save(commit=False)
            try:
                saved, promoted = actions.save_event(
                    obj, by=request.membership, lecturers=lecturers.lecturers(), request=request
                )
            except actions.Refused as e:
                form.add_error(None, e.message)
            else:
                msg = "研修・イベントを保存しました。"
                if promoted:
                    msg += (
                        f"定員の変更により、キャンセル待ちの{len(promoted)}名を参加確定にしました。"
                    )
                messages.success(request, msg)
                return redirect("events:manage_event", code=saved.code)
        status = 400
    else:
        form = EventForm(instance=instance, prefecture_id=pref)
        lecturers = LecturerFormSet(
            prefix="l",
            initial=[
                {"name": x.name, "affiliation": x.affiliation, "title": x.title, "topic": x.topic}
                for x in (event.lecturers.all() if event else [])
            ],
        )
        status = 200
    return render(
        request,
        "events/edit.html",
        {
            "event": event,
            "form": form,
            "lecturers": lecturers,
            "attachment_form": AttachmentForm() if event else None,
            "attachments": event.attachments.all() if event else [],
        },
        status=status,
    )


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
    return render(
        request,
        "events/edit.html",
        {
            "event": event,
            "form": EventForm(instance=event, prefecture_id=request.organization.prefecture_id),
            "lecturers": LecturerFormSet(
                prefix="l",
                initial=[
                    {
                        "name": x.name,
                        "affiliation": x.affiliation,
                        "title": x.title,
                        "topic": x.topic,
                    }
                    for x in event.lecturers.all()
                ],
            ),
            "attachment_form": form,
            "attachments": event.attachments.all(),
        },
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
    event = _my_event(request, code)
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
            "places_left": event.places_left(),
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
    event = _my_event(request, code)
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
            timezone.localtime(a.application.created_at).strftime("%Y-%m-%d %H:%M"),
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
@require_POST
def organiser_cancel(
    request: MemberRequest, code: uuid.UUID, applicant_code: uuid.UUID
) -> HttpResponse:
    event = _my_event(request, code)
    applicant = get_object_or_404(
        Applicant.objects.select_related("application"), event=event, code=applicant_code
    )
    try:
        _, promoted = actions.cancel(
            applicant.application,
            applicant_codes=[str(applicant.code)],
            by=request.membership,
            request=request,
        )
    except actions.Refused as e:
        messages.error(request, e.message)
    else:
        msg = f"{applicant.name} さんの申込を取り消しました。"
        if promoted:
            msg += "キャンセル待ちから繰り上げ: " + "、".join(a.name for a in promoted)
        messages.success(request, msg)
    return redirect("events:manage_event", code=event.code)


@member_required
@require_http_methods(["GET", "POST"])
def proxy_apply(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    """The organiser types in an application that came by FAX or post."""
    return _application_form_page(request, _my_event(request, code), proxy=True)


def _attendance_rows(event: Event, q: str) -> list[Applicant]:
    qs = event.applicants.exclude(status=Applicant.Status.CANCELLED).select_related("application")
    if q:
        kana = normalize_kana(q)
        qs = qs.filter(Q(kana__contains=kana) | Q(name__contains=q))
    return list(qs.order_by("kana", "position"))


@member_required
@require_GET
def attendance(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    event = _my_event(request, code)
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
    event = _my_event(request, code)
    applicant = get_object_or_404(
        Applicant.objects.select_related("application"), event=event, code=applicant_code
    )
    attended = request.POST.get("attended") == "1"
    try:
        actions.set_attendance(applicant, attended, by=request.membership, request=request)
    except actions.Refused as e:
        if request.htmx:
            return HttpResponse(e.message, status=e.status)
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
            {"event": event, "a": applicant, "attended_count": attended_count},
        )
    return redirect("events:attendance", code=event.code)


@member_required
@require_http_methods(["GET", "POST"])
def feedback_manage(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    event = _my_event(request, code)
    if request.method == "POST":
        try:
            n = actions.request_feedback(event, by=request.membership, request=request)
        except actions.Refused as e:
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


def _fy_param(request: MemberRequest) -> int:
    value = request.GET.get("fy", "")
    if value.isdigit() and 2000 <= int(value) <= 2100:
        return int(value)
    return fiscal_year(timezone.localdate())


@member_required
@require_GET
def year_tally(request: MemberRequest) -> HttpResponse:
    fy = _fy_param(request)
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
    fy = _fy_param(request)
    header, rows = tallies.year_table(tallies.year_tally(request.organization, fy))
    return tallies.table_response(
        header, rows, fmt=fmt, filename=f"events-fy{fy}-by-occupation", sheet=f"{fy}年度 職種別"
    )
