"""The public pages: the list, an event, applying, and the pages reached by an e-mailed link."""

from __future__ import annotations

import io
import uuid
from typing import Any
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from renkei.accounts.http import RenkeiRequest
from renkei.events import actions
from renkei.events.actions import (
    EventCancelInput,
    EventFeedbackInput,
    ResidentApplicationInput,
)
from renkei.events.forms import (
    ApplicantForm,
    ApplicationForm,
    BaseApplicantFormSet,
    FeedbackForm,
    ResidentForm,
    applicant_formset_class,
    application_input,
    submit_application,
)
from renkei.events.models import (
    Applicant,
    Application,
    Event,
    EventAttachment,
    EventKind,
    Feedback,
    Need,
    Occupation,
)
from renkei.events.search import EventFilter, public_events
from renkei.lib.actions import ActionError
from renkei.lib.forms import input_from_form, submit
from renkei.lib.http import private_page
from renkei.lib.inputs import parse
from renkei.lib.mail import site_url
from renkei.lib.ratelimit import rate_limited
from renkei.regions.models import Municipality, SecondaryArea

APPLICANT_PREFIX = "a"


def _qr_svg(uri: str) -> str:
    buf = io.BytesIO()
    qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2).save(buf)
    svg = buf.getvalue().decode("utf-8")
    # Inline in HTML: the XML declaration is not allowed there.
    return svg[svg.index("<svg") :]


def is_organiser(request: RenkeiRequest, event: Event) -> bool:
    return request.organization is not None and request.organization.pk == event.organization_id


def _visible_event(request: RenkeiRequest, code: uuid.UUID) -> Event:
    """Published events for everyone; unpublished ones only for the organiser (preview)."""
    return get_object_or_404(
        Event.objects.visible_to(request.organization).select_related(
            "organization", "municipality"
        ),
        code=code,
    )


# --- the list and an event ------------------------------------------------------------------


@require_GET
def event_list(request: RenkeiRequest) -> HttpResponse:
    asked = {k: v for k, v in request.GET.items() if v and k in EventFilter.model_fields}
    status, refusal = 200, ""
    try:
        qs = public_events(parse(EventFilter, asked))
    except ActionError as e:
        # The same filters and the same refusal as the API; the page stays usable.
        status, refusal, qs = 400, e.message, Event.objects.none()
    page = Paginator(qs.select_related("organization", "municipality"), 20).get_page(
        request.GET.get("page")
    )
    used = Event.objects.published().upcoming().values_list("municipality_id", flat=True)
    params = [(k, v) for k, v in request.GET.items() if k != "page" and v]
    return render(
        request,
        "events/list.html",
        {
            "page": page,
            "refusal": refusal,
            "kinds": EventKind.choices,
            "kind": asked.get("kind", ""),
            "municipality": asked.get("municipality", ""),
            "area": asked.get("area", ""),
            "municipalities": Municipality.objects.filter(pk__in=used).order_by("code"),
            "areas": SecondaryArea.objects.filter(
                Q(municipalities__pk__in=used) | Q(municipalities__wards__pk__in=used)
            ).distinct(),
            "querystring_base": urlencode(params) + ("&" if params else ""),
        },
        status=status,
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
            "is_organiser": is_organiser(request, event),
        },
    )


# --- applying ----------------------------------------------------------------------------------


def _applicant_formset(data: QueryDict | None = None, **kwargs: Any) -> BaseApplicantFormSet:
    cls = kwargs.pop("cls", None) or applicant_formset_class()
    formset: BaseApplicantFormSet = cls(data, prefix=APPLICANT_PREFIX, **kwargs)
    return formset


def _with_extra_row(request: RenkeiRequest) -> tuple[ApplicationForm, BaseApplicantFormSet]:
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
    return ApplicationForm(initial=initial), formset


def _submitted(
    request: RenkeiRequest, event: Event
) -> tuple[ApplicationForm | ResidentForm, BaseApplicantFormSet | None, Any]:
    """The form posted, and its typed input (None when the form has errors)."""
    if event.kind == EventKind.PUBLIC_LECTURE:
        resident = ResidentForm(request.POST)
        return resident, None, input_from_form(resident, ResidentApplicationInput)
    form = ApplicationForm(request.POST)
    formset = _applicant_formset(request.POST)
    return form, formset, application_input(form, formset)


def application_form_page(request: RenkeiRequest, event: Event, *, proxy: bool) -> HttpResponse:
    """The application form of seed 002 (or a resident's, for a public lecture); by the
    public, or by the organiser typing in one that came by FAX or post (proxy)."""
    closed = "" if proxy else event.closed_reason()
    resident = event.kind == EventKind.PUBLIC_LECTURE
    status = 200
    formset: BaseApplicantFormSet | None = None
    form: ApplicationForm | ResidentForm
    if request.method == "POST" and "add_row" in request.POST and not resident:
        form, formset = _with_extra_row(request)
    elif request.method == "POST":
        form, formset, data = _submitted(request, event)
        app, status = submit_application(
            form,
            data,
            closed,
            lambda valid, key: actions.apply(
                event,
                valid,
                source=Application.Source.FAX if proxy else Application.Source.WEB,
                idempotency_key=key,
                enforce_deadline=not proxy,
                by=request.membership if proxy else None,
                request=request,
            )[0],
        )
        if app is not None:
            if proxy:
                messages.success(request, "FAX・郵送の申込を登録しました。")
                return redirect("events:manage_event", code=event.code)
            messages.success(
                request,
                "申込を受け付けました。確認メールをお送りしました。このページのURLから申込内容の確認・取消ができます。",
            )
            return redirect(app.get_absolute_url())
    elif resident:
        form = ResidentForm(initial={"form_token": uuid.uuid4().hex})
    else:
        form = ApplicationForm(initial={"form_token": uuid.uuid4().hex})
        formset = _applicant_formset()
    return render(
        request,
        "events/apply_resident.html" if resident else "events/apply.html",
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
    return application_form_page(request, event, proxy=False)


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


# --- printed matter and files ------------------------------------------------------------------


@require_GET
def flyer(request: RenkeiRequest, code: uuid.UUID) -> HttpResponse:
    event = _visible_event(request, code)
    apply_url = site_url(reverse("events:apply", args=[event.code]))
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
            "apply_url": site_url(reverse("events:apply", args=[event.code])),
            "resident": event.kind == EventKind.PUBLIC_LECTURE,
            "needs": Need.choices,
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


# --- the pages an e-mailed link opens ---------------------------------------------------------


def _application_by_token(token: str) -> Application:
    value = Application.token_value(token)
    if value is None:
        raise Http404
    return get_object_or_404(
        Application.objects.select_related("event", "event__organization"), cancel_token=value
    )


def _cancel_input(which: str) -> EventCancelInput:
    """「all」 or one applicant's code, as the page's buttons send it."""
    return parse(EventCancelInput, {} if which == "all" else {"applicants": [which]})


def _cancel_and_say(request: RenkeiRequest, app: Application, which: str) -> None:
    try:
        cancelled, _promoted = actions.cancel(app, _cancel_input(which), request=request)
    except ActionError as e:
        messages.error(request, e.message)
    else:
        names = "、".join(a.name for a in cancelled)
        messages.success(request, f"{names} さんの申込を取り消しました。")


def _plan_or_say(request: RenkeiRequest, app: Application, which: str) -> actions.CancelPlan | None:
    try:
        return actions.plan_cancel(app, _cancel_input(which))
    except ActionError as e:
        messages.error(request, e.message)
        return None


@require_http_methods(["GET", "POST"])
def application(request: RenkeiRequest, token: str) -> HttpResponse:
    """The applicant's own page, reached only through the e-mailed link.

    Its cancel buttons open this page again with ?cancel=, which says what will happen (who
    is told, how many move up from the waiting list) before the POST that does it: a
    confirmation that works without JavaScript.
    """
    app = _application_by_token(token)
    if request.method == "POST":
        _cancel_and_say(request, app, request.POST.get("applicant", ""))
        return redirect(app.get_absolute_url())
    which = request.GET.get("cancel", "")
    plan = _plan_or_say(request, app, which) if which else None
    if which and plan is None:
        return redirect(app.get_absolute_url())
    applicants = list(app.applicants.with_waitlist_rank().order_by("position"))
    response = render(
        request,
        "events/application.html",
        {
            "app": app,
            "event": app.event,
            "applicants": applicants,
            "plan": plan,
            "which": which,
            "can_cancel": not app.event.has_started()
            and any(a.status != Applicant.Status.CANCELLED for a in applicants),
        },
    )
    return private_page(response)


@require_http_methods(["GET", "POST"])
def applicant(request: RenkeiRequest, token: str) -> HttpResponse:
    """A co-applicant's own page (their personal link): their place only, and its cancellation
    with the same confirmation step."""
    code = Applicant.code_from_token(token, Applicant.PERSONAL)
    if code is None:
        raise Http404
    person = get_object_or_404(
        Applicant.objects.select_related("application", "event").with_waitlist_rank(), code=code
    )
    app = person.application
    here = person.get_personal_url()
    which = str(person.code)
    if request.method == "POST":
        _cancel_and_say(request, app, which)
        return redirect(here)
    plan = _plan_or_say(request, app, which) if "cancel" in request.GET else None
    if "cancel" in request.GET and plan is None:
        return redirect(here)
    return private_page(
        render(
            request,
            "events/applicant.html",
            {
                "a": person,
                "event": person.event,
                "plan": plan,
                "can_cancel": not person.event.has_started()
                and person.status != Applicant.Status.CANCELLED,
            },
        )
    )


@require_http_methods(["GET", "POST"])
def feedback(request: RenkeiRequest, token: str) -> HttpResponse:
    code = Applicant.code_from_token(token, Applicant.FEEDBACK)
    if code is None:
        raise Http404
    person = get_object_or_404(Applicant.objects.select_related("event"), code=code)
    answered = Feedback.objects.filter(applicant=person).exists()
    form = FeedbackForm(request.POST or None)
    status = 200
    if request.method == "POST" and not answered:
        sent = submit(form, EventFeedbackInput, lambda data: actions.submit_feedback(person, data))
        answered, status = sent.done, sent.status
    return private_page(
        render(
            request,
            "events/feedback.html",
            {"applicant": person, "event": person.event, "form": form, "answered": answered},
            status=status,
        )
    )
