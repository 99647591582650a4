"""Events endpoints of /api/v1/: the public list and applications, and the organiser's tools.

The handlers take the actions' typed inputs as their bodies and call the same actions as the
HTML views; refusals are answered by renkei.api's handler as {"detail", "field"}. Output is
read from model instances through `renkei.events.schemas`.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Header, Query, Router, Status
from ninja.security import SessionAuth

from renkei.accounts.http import api_membership as _membership
from renkei.accounts.models import AuditEntry, Membership
from renkei.accounts.named import require_named_reader
from renkei.events import actions, tallies
from renkei.events.actions import (
    AttendanceInput,
    EventApplicationInput,
    EventCancelInput,
    EventInput,
    EventPatch,
    ResidentApplicationInput,
)
from renkei.events.models import Applicant, Application, Event, EventQuerySet
from renkei.events.schemas import (
    ApplicationOut,
    Cancelled,
    CancelOut,
    EventOut,
    EventPage,
    FeedbackOut,
    ManagedApplicantOut,
    ManagedEventOut,
    Page,
    SentOut,
    TallyOut,
    YearTallyOut,
)
from renkei.events.search import EventFilter, public_events
from renkei.lib import ratelimit
from renkei.lib.actions import NotFound
from renkei.lib.api import ErrorOut, errors
from renkei.lib.dates import fiscal_year
from renkei.lib.inputs import merge

router = Router(tags=["events"])
session_auth = SessionAuth()

EVENT_NOT_FOUND = "研修・イベントが見つかりません"


class EventListQuery(EventFilter):
    page: int = Field(1, ge=1, le=10_000)
    per_page: int = Field(20, ge=1, le=100)


def _one(qs: QuerySet[Event], code: uuid.UUID) -> Event:
    event = qs.filter(code=code).first()
    if event is None:
        raise NotFound(EVENT_NOT_FOUND)
    return event


def _visible_events(request: HttpRequest) -> EventQuerySet:
    membership: Membership | None = getattr(request, "membership", None)
    return Event.objects.visible_to(membership.organization if membership else None)


def _public_event(request: HttpRequest, code: uuid.UUID) -> Event:
    return _one(_visible_events(request).for_display().with_counts(), code)


# --- public ---------------------------------------------------------------------------


@router.get(
    "/",
    response={200: EventPage, 400: ErrorOut},
    auth=None,
    summary="公開中の今後の研修・イベント",
)
def list_events(request: HttpRequest, filters: Query[EventListQuery]) -> Page:
    """Upcoming published events, soonest first; filter by kind, municipality code or 二次医療圏."""
    qs = public_events(filters)
    start = (filters.page - 1) * filters.per_page
    items = qs.for_display().with_counts()[start : start + filters.per_page]
    return Page(qs.count(), filters.page, filters.per_page, list(items))


@router.get(
    "/{code}",
    response={200: EventOut, 404: ErrorOut, 400: ErrorOut},
    auth=None,
    summary="研修・イベントの詳細",
)
def get_event(request: HttpRequest, code: uuid.UUID) -> Event:
    return _public_event(request, code)


KEY: Any = Header(  # type: ignore[type-arg]
    None,
    alias="Idempotency-Key",
    max_length=100,
    description="再送しても二重に申し込まれないためのキー。同じキーの再送は最初の申込を200で返す",
)
APPLY: Any = {
    "response": {
        200: ApplicationOut,
        201: ApplicationOut,
        400: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        429: ErrorOut,
    },
    "auth": None,
}


def _apply(
    request: HttpRequest,
    code: uuid.UUID,
    data: EventApplicationInput | ResidentApplicationInput,
    idempotency_key: str | None,
) -> Status[Application]:
    ratelimit.check(request, "public_form")
    # Only which event: apply reads it again under its row lock. The page's relations and
    # counts (a count over all its applicants) were two fifths of an application's CPU.
    event = _one(_visible_events(request), code)
    app, created = actions.apply(
        event,
        data,
        source=Application.Source.API,
        idempotency_key=idempotency_key or "",
        request=request,
    )
    return Status(201 if created else 200, app)


Key = str | None


@router.post("/{code}/applications", **APPLY, summary="参加を申し込む（従事者向けの研修）")
def apply(
    request: HttpRequest, code: uuid.UUID, payload: EventApplicationInput, key: Key = KEY
) -> Status[Application]:
    """Public: capacity counts applicants; those beyond the places left are waitlisted in
    the order given. A duplicate e-mail for the event, a past deadline or a malformed
    e-mail is refused and nothing is saved. A public lecture takes /resident-applications."""
    return _apply(request, code, payload, key)


@router.post("/{code}/resident-applications", **APPLY, summary="参加を申し込む（市民向けの講座）")
def apply_resident(
    request: HttpRequest, code: uuid.UUID, payload: ResidentApplicationInput, key: Key = KEY
) -> Status[Application]:
    """Public: a resident and those who come with them each take a place (party_size);
    the needs (wheelchair, sign language …) reach the organiser."""
    return _apply(request, code, payload, key)


def _by_token(token: str) -> Application:
    value = Application.token_value(token)
    app = (
        Application.objects.select_related("event").filter(cancel_token=value).first()
        if value
        else None
    )
    if app is None:
        raise NotFound("申込が見つかりません。メールのリンクをご確認ください")
    return app


@router.get(
    "/applications/{token}",
    response={200: ApplicationOut, 404: ErrorOut, 400: ErrorOut},
    auth=None,
    summary="自分の申込を確認する（メールのトークン）",
)
def get_application(request: HttpRequest, token: str) -> Application:
    return _by_token(token)


def _cancelled(cancelled: list[Applicant], application_id: int) -> Cancelled:
    app = Application.objects.select_related("event").get(pk=application_id)
    return Cancelled([a.code for a in cancelled], app)


@router.post(
    "/applications/{token}/cancel",
    response={200: CancelOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=None,
    summary="申込を取り消す（1名ずつ、またはすべて）",
)
def cancel_application(request: HttpRequest, token: str, payload: EventCancelInput) -> Cancelled:
    """Places freed are given to the waiting list in order, who are told by e-mail."""
    app = _by_token(token)
    cancelled, _ = actions.cancel(app, payload, request=request)
    return _cancelled(cancelled, app.pk)


# --- organiser ------------------------------------------------------------------------


def _answers(ok: Any, *, status: int = 200, conflict: bool = False) -> dict[int, Any]:
    """The organiser's answer and refusals: bad input, no session, no membership (or the CSRF
    check), not theirs; 409 where the state can refuse."""
    return {status: ok, **errors(400, 401, 403, 404, *((409,) if conflict else ()))}


def _my_event(request: HttpRequest, code: uuid.UUID) -> tuple[Event, Membership]:
    membership = _membership(request)
    qs = Event.objects.organised_by(membership.organization).for_display()
    return _one(qs, code), membership


def _managed(event: Event) -> Event:
    """The event again with its counts, as the organiser's answers show it."""
    return Event.objects.for_display().with_counts().get(pk=event.pk)


@router.get(
    "/manage/events",
    response=_answers(list[ManagedEventOut]),
    auth=session_auth,
    summary="自組織が主催する研修・イベント",
)
def managed_events(request: HttpRequest) -> list[Event]:
    membership = _membership(request)
    return list(
        Event.objects.organised_by(membership.organization)
        .for_display()
        .with_counts()
        .order_by("-starts_at", "-pk")[:500]
    )


@router.post(
    "/manage/events",
    response=_answers(ManagedEventOut, status=201),
    auth=session_auth,
    summary="研修・イベントを作成する",
)
def create_event(request: HttpRequest, payload: EventInput) -> Status[Event]:
    membership = _membership(request)
    saved, _ = actions.save_event(None, by=membership, data=payload, request=request)
    return Status(201, _managed(saved))


@router.patch(
    "/manage/events/{code}",
    response=_answers(ManagedEventOut, conflict=True),
    auth=session_auth,
    summary="研修・イベントを更新する（送った項目だけ）",
)
def update_event(request: HttpRequest, code: uuid.UUID, payload: EventPatch) -> Event:
    """Raising the capacity promotes the waiting list in order (with e-mails). null clears an
    optional field; lecturers, when sent, replace the list. An event that belongs to another
    record (a course's round) is refused with 409: it is changed and published there."""
    event, membership = _my_event(request, code)
    data = merge(EventInput, EventInput.values_of(event), payload)
    saved, _ = actions.save_event(event, by=membership, data=data, request=request)
    return _managed(saved)


@router.get(
    "/manage/events/{code}/applicants",
    response=_answers(list[ManagedApplicantOut]),
    auth=session_auth,
    summary="申込者一覧（閲覧は監査ログに記録）",
)
def managed_applicants(request: HttpRequest, code: uuid.UUID) -> list[Applicant]:
    event, membership = _my_event(request, code)
    require_named_reader(membership)  # 403 outside the organisation's named-read roles
    rows = list(event.applicants.select_related("application").order_by("position"))
    AuditEntry.record(
        "events.applicants_viewed",
        request=request,
        membership=membership,
        target=event,
        detail={"rows": len(rows), "via": "api"},
    )
    return rows


def _my_applicant(event: Event, membership: Membership, applicant: uuid.UUID) -> Applicant:
    """One applicant of the event; outside the named-read roles, the 404 of an unknown one."""
    found = (
        Applicant.objects.select_related("application", "event")
        .filter(event=event, code=applicant)
        .first()
    )
    if found is None or not membership.reads_named_records:
        raise NotFound("申込者が見つかりません")
    return found


@router.post(
    "/manage/events/{code}/applicants/{applicant}/attendance",
    response=_answers(ManagedApplicantOut, conflict=True),
    auth=session_auth,
    summary="出席を記録する・取り消す",
)
def mark_attendance(
    request: HttpRequest, code: uuid.UUID, applicant: uuid.UUID, payload: AttendanceInput
) -> Applicant:
    """A course's round is refused with 409: its attendance is per session, on the course
    (/courses/manage/courses/{code}/rounds/{number}/sessions/{session}/attendance)."""
    event, membership = _my_event(request, code)
    person = _my_applicant(event, membership, applicant)
    actions.refuse_if_owned(event, "出席の記録（日程ごと）")
    return actions.set_attendance(person, payload, by=membership, request=request)


@router.post(
    "/manage/events/{code}/applicants/{applicant}/cancel",
    response=_answers(CancelOut, conflict=True),
    auth=session_auth,
    summary="主催者が申込者を取り消す（電話連絡など）",
)
def organiser_cancel(request: HttpRequest, code: uuid.UUID, applicant: uuid.UUID) -> Cancelled:
    """A course's round is refused with 409: its applications are cancelled on the course
    (/courses/manage/courses/{code}/rounds/{number}/applicants/{applicant}/cancel)."""
    event, membership = _my_event(request, code)
    a = _my_applicant(event, membership, applicant)
    actions.refuse_if_owned(event, "申込の取消")
    cancelled, _ = actions.cancel(
        a.application, EventCancelInput(applicants=[a.code]), by=membership, request=request
    )
    return _cancelled(cancelled, a.application_id)


@router.get(
    "/manage/events/{code}/tally",
    response=_answers(TallyOut),
    auth=session_auth,
    summary="職種別の申込・出席",
)
def event_tally(request: HttpRequest, code: uuid.UUID) -> TallyOut:
    event, _ = _my_event(request, code)
    return TallyOut.of(tallies.event_tally(event))


@router.post(
    "/manage/events/{code}/feedback-requests",
    response=_answers(SentOut, conflict=True),
    auth=session_auth,
    summary="出席者にアンケートをメールで依頼する（未依頼の方のみ）",
)
def feedback_requests(request: HttpRequest, code: uuid.UUID) -> SentOut:
    event, membership = _my_event(request, code)
    return SentOut(sent=actions.request_feedback(event, by=membership, request=request))


@router.get(
    "/manage/events/{code}/feedback",
    response=_answers(FeedbackOut),
    auth=session_auth,
    summary="アンケートの集計",
)
def feedback_summary(request: HttpRequest, code: uuid.UUID) -> tallies.FeedbackSummary:
    event, _ = _my_event(request, code)
    return tallies.feedback_summary(event)


@router.get(
    "/manage/tally",
    response=_answers(YearTallyOut),
    auth=session_auth,
    summary="年度別・職種別の参加状況（自組織の全イベント）",
)
def year_tally(
    request: HttpRequest,
    fy: int | None = Query(None, ge=2000, le=2100),  # type: ignore[type-arg]
) -> YearTallyOut:
    """fy is the fiscal year's Western start year (2025 = 令和7年度); default: the current one."""
    membership = _membership(request)
    y = tallies.year_tally(membership.organization, fy or fiscal_year(timezone.localdate()))
    return YearTallyOut.of(y)
