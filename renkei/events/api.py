"""Events endpoints of /api/v1/: the public list and applications, and the organiser's tools.

The handlers call the same actions as the HTML views. Errors are {"detail": "..."}.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from ninja import Field, Header, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.security import SessionAuth
from pydantic import field_validator

from renkei.accounts.models import AuditEntry, Membership
from renkei.events import actions, tallies
from renkei.events.models import (
    Applicant,
    Application,
    Event,
    EventKind,
    Occupation,
    ProgrammeItem,
    Scene,
)
from renkei.lib import ratelimit
from renkei.lib.dates import fiscal_year
from renkei.lib.http import api_membership as _membership
from renkei.regions.models import Municipality

router = Router(tags=["events"])
session_auth = SessionAuth()


class ErrorOut(Schema):
    detail: str


class LecturerOut(Schema):
    name: str
    affiliation: str
    title: str
    topic: str


class AttachmentOut(Schema):
    title: str
    url: str
    size: int
    content_type: str


class EventOut(Schema):
    code: uuid.UUID
    title: str
    subtitle: str
    kind: str
    kind_label: str
    organiser: str
    co_organiser: str
    programme_item: str
    scene: str
    target_occupations: list[str]
    target_area: str
    municipality_code: str | None
    municipality: str | None
    starts_at: dt.datetime
    ends_at: dt.datetime | None
    date_label: str = Field(description="和暦の開催日 例: 令和7年10月24日(金)")
    reception_time: str | None = Field(description="受付開始 HH:MM")
    venue_name: str
    venue_address: str
    online: bool
    capacity: int | None
    capacity_note: str
    places_left: int | None
    apply_until: dt.datetime | None
    is_open: bool
    closed_reason: str
    description: str
    how_to_apply: str
    contact: str
    fax: str
    lecturers: list[LecturerOut]
    attachments: list[AttachmentOut]
    url: str
    apply_url: str
    flyer_url: str
    published: bool


class EventPage(Schema):
    count: int
    page: int
    per_page: int
    items: list[EventOut]


class ApplicantIn(Schema):
    name: str = Field(..., min_length=1, max_length=60, description="氏名")
    kana: str = Field(..., min_length=1, max_length=80, description="ふりがな（ひらがな）")
    email: str = Field("", max_length=254, description="空欄なら事業所のアドレスに連絡（同上）")
    occupation: Occupation
    occupation_other: str = Field("", max_length=60)


class ApplicationIn(Schema):
    office_name: str = Field("", max_length=120, description="事業所名")
    contact_name: str = Field(..., max_length=60, description="事業所連絡担当者")
    contact_email: str = Field(..., max_length=254, description="事業所メールアドレス")
    contact_phone: str = Field("", max_length=30, description="事業所電話番号")
    question_to: Occupation | None = Field(None, description="聞いてみたい職種")
    question_to_other: str = Field("", max_length=60)
    question: str = Field("", max_length=2000, description="聞いてみたい内容")
    applicants: list[ApplicantIn] = Field(..., min_length=1, max_length=actions.MAX_APPLICANTS)
    agree: bool = Field(..., description="情報を主催者が共有することへの同意（trueが必須）")


class ApplicantOut(Schema):
    code: uuid.UUID
    name: str
    kana: str
    occupation: str
    occupation_label: str
    status: str
    status_label: str
    waitlist_rank: int | None


class ApplicationOut(Schema):
    code: uuid.UUID
    event: uuid.UUID
    event_title: str
    status: str
    office_name: str
    contact_name: str
    contact_email: str
    created_at: dt.datetime
    applicants: list[ApplicantOut]
    token: str = Field(description="申込内容の確認・取消に使う署名付きトークン")
    url: str


class CancelIn(Schema):
    applicants: list[uuid.UUID] | None = Field(
        None, description="取り消す申込者のcode。省略するとすべて取り消す"
    )


class CancelOut(Schema):
    cancelled: list[uuid.UUID]
    application: ApplicationOut


def _abs(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _no_nul(values: Any) -> None:
    # PostgreSQL text cannot hold NUL; refuse it here rather than fail in the database.
    if actions.has_nul(values):
        raise HttpError(400, "使用できない文字（NUL）が含まれています")


def event_out(e: Event) -> dict[str, Any]:
    return {
        "code": e.code,
        "title": e.title,
        "subtitle": e.subtitle,
        "kind": e.kind,
        "kind_label": e.get_kind_display(),
        "organiser": e.organiser_name,
        "co_organiser": e.co_organiser,
        "programme_item": e.programme_item,
        "scene": e.scene,
        "target_occupations": list(e.target_occupations or []),
        "target_area": e.target_area,
        "municipality_code": e.municipality.code if e.municipality else None,
        "municipality": e.municipality.name if e.municipality else None,
        "starts_at": e.starts_at,
        "ends_at": e.ends_at,
        "date_label": e.date_label,
        "reception_time": e.reception_time.strftime("%H:%M") if e.reception_time else None,
        "venue_name": e.venue_name,
        "venue_address": e.venue_address,
        "online": bool(e.online_url),
        "capacity": e.capacity,
        "capacity_note": e.capacity_note,
        "places_left": e.places_left(),
        "apply_until": e.apply_until,
        "is_open": e.is_open(),
        "closed_reason": e.closed_reason(),
        "description": e.description,
        "how_to_apply": e.how_to_apply,
        "contact": e.contact,
        "fax": e.fax,
        "lecturers": [
            {"name": x.name, "affiliation": x.affiliation, "title": x.title, "topic": x.topic}
            for x in e.lecturers.all()
        ],
        "attachments": [
            {
                "title": a.title,
                "url": _abs(a.get_absolute_url()),
                "size": a.size,
                "content_type": a.content_type,
            }
            for a in e.attachments.all()
        ],
        "url": _abs(e.get_absolute_url()),
        "apply_url": _abs(reverse("events:apply", args=[e.code])),
        "flyer_url": _abs(reverse("events:flyer", args=[e.code])),
        "published": e.published,
    }


def application_out(app: Application) -> dict[str, Any]:
    waiting = list(app.event.applicants.waitlisted().values_list("position", flat=True))
    return {
        "code": app.code,
        "event": app.event.code,
        "event_title": app.event.title,
        "status": app.status,
        "office_name": app.office_name,
        "contact_name": app.contact_name,
        "contact_email": app.contact_email,
        "created_at": app.created_at,
        "applicants": [
            {
                "code": a.code,
                "name": a.name,
                "kana": a.kana,
                "occupation": a.occupation,
                "occupation_label": a.occupation_label,
                "status": a.status,
                "status_label": a.get_status_display(),
                "waitlist_rank": waiting.index(a.position) + 1 if a.position in waiting else None,
            }
            for a in app.applicants.order_by("position")
        ],
        "token": app.signed_token,
        "url": _abs(app.get_absolute_url()),
    }


def _public_event(request: HttpRequest, code: uuid.UUID) -> Event:
    event = (
        Event.objects.select_related("organization", "municipality")
        .prefetch_related("lecturers", "attachments")
        .filter(code=code)
        .first()
    )
    membership: Membership | None = getattr(request, "membership", None)
    if event is None or not (
        event.published
        or (membership is not None and membership.organization_id == event.organization_id)
    ):
        raise HttpError(404, "研修・イベントが見つかりません")
    return event


# --- public ---------------------------------------------------------------------------


@router.get(
    "/",
    response={200: EventPage, 400: ErrorOut},
    auth=None,
    summary="公開中の今後の研修・イベント",
)
def list_events(
    request: HttpRequest,
    kind: str = "",
    municipality: str = "",
    page: int = Query(1, ge=1, le=10_000),  # type: ignore[type-arg]
    per_page: int = Query(20, ge=1, le=100),  # type: ignore[type-arg]
) -> Status[Any]:
    """Upcoming published events, soonest first; filter by kind and municipality code."""
    qs = Event.objects.published().upcoming()
    if kind:
        if kind not in EventKind.values:
            return Status(400, {"detail": f"種類の値が正しくありません: {kind}"})
        qs = qs.filter(kind=kind)
    if municipality:
        qs = qs.filter(
            Q(municipality__code=municipality) | Q(municipality__parent__code=municipality)
        )
    total = qs.count()
    items = (
        qs.select_related("organization", "municipality")
        .prefetch_related("lecturers", "attachments")
        .order_by("starts_at", "pk")[(page - 1) * per_page : page * per_page]
    )
    return Status(
        200,
        {
            "count": total,
            "page": page,
            "per_page": per_page,
            "items": [event_out(e) for e in items],
        },
    )


@router.get(
    "/{code}",
    response={200: EventOut, 404: ErrorOut, 400: ErrorOut},
    auth=None,
    summary="研修・イベントの詳細",
)
def get_event(request: HttpRequest, code: uuid.UUID) -> Status[Any]:
    return Status(200, event_out(_public_event(request, code)))


@router.post(
    "/{code}/applications",
    response={
        200: ApplicationOut,
        201: ApplicationOut,
        400: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        429: ErrorOut,
    },
    auth=None,
    summary="参加を申し込む",
)
def apply(
    request: HttpRequest,
    code: uuid.UUID,
    payload: ApplicationIn,
    idempotency_key: str | None = Header(  # type: ignore[type-arg]
        None,
        alias="Idempotency-Key",
        max_length=100,
        description="再送しても二重に申し込まれないためのキー。同じキーの再送は最初の申込を200で返す",
    ),
) -> Status[Any]:
    """Public: capacity counts applicants; those beyond the places left are waitlisted in
    the order given. A duplicate e-mail for the event, a past deadline or a malformed
    e-mail is refused and nothing is saved."""
    ratelimit.check(request, "public_form")
    _no_nul(payload.dict())
    if not payload.agree:
        return Status(400, {"detail": "情報の共有に同意（agree: true）のうえお申し込みください"})
    event = _public_event(request, code)
    data = actions.ApplicationData(
        office_name=payload.office_name,
        contact_name=payload.contact_name,
        contact_email=payload.contact_email,
        contact_phone=payload.contact_phone,
        question_to=payload.question_to or "",
        question_to_other=payload.question_to_other,
        question=payload.question,
        applicants=[
            actions.ApplicantData(
                name=a.name,
                kana=a.kana,
                email=a.email,
                occupation=a.occupation,
                occupation_other=a.occupation_other,
            )
            for a in payload.applicants
        ],
    )
    try:
        app, created = actions.apply(
            event,
            data,
            source=Application.Source.API,
            idempotency_key=idempotency_key or "",
            request=request,
        )
    except actions.Refused as e:
        return Status(e.status, {"detail": e.message})
    return Status((201 if created else 200), application_out(app))


def _by_token(token: str) -> Application:
    value = Application.token_value(token)
    app = (
        Application.objects.select_related("event").filter(cancel_token=value).first()
        if value
        else None
    )
    if app is None:
        raise HttpError(404, "申込が見つかりません。メールのリンクをご確認ください")
    return app


@router.get(
    "/applications/{token}",
    response={200: ApplicationOut, 404: ErrorOut, 400: ErrorOut},
    auth=None,
    summary="自分の申込を確認する（メールのトークン）",
)
def get_application(request: HttpRequest, token: str) -> Status[Any]:
    return Status(200, application_out(_by_token(token)))


@router.post(
    "/applications/{token}/cancel",
    response={200: CancelOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=None,
    summary="申込を取り消す（1名ずつ、またはすべて）",
)
def cancel_application(request: HttpRequest, token: str, payload: CancelIn) -> Status[Any]:
    """Places freed are given to the waiting list in order, who are told by e-mail."""
    app = _by_token(token)
    try:
        cancelled, _ = actions.cancel(
            app,
            applicant_codes=None if payload.applicants is None else payload.applicants,
            request=request,
        )
    except actions.Refused as e:
        return Status(e.status, {"detail": e.message})
    app.refresh_from_db()
    return Status(
        200, {"cancelled": [a.code for a in cancelled], "application": application_out(app)}
    )


# --- organiser ------------------------------------------------------------------------


class LecturerIn(Schema):
    name: str = Field(..., min_length=1, max_length=60)
    affiliation: str = Field("", max_length=120)
    title: str = Field("", max_length=120)
    topic: str = Field("", max_length=200)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    # Near year 1 or 9999 the conversion to UTC for storage overflows (a 500, found by fuzzing).
    if value is not None and not 2000 <= value.year <= 2100:
        raise ValueError("日時は2000年〜2100年の範囲で入力してください")
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


class EventIn(Schema):
    title: str = Field(..., min_length=1, max_length=200)
    subtitle: str = Field("", max_length=200)
    kind: EventKind = EventKind.INTERPROFESSIONAL
    programme_item: ProgrammeItem = ProgrammeItem.KA
    scene: Scene | None = None
    organiser_label: str = Field("", max_length=120)
    co_organiser: str = Field("", max_length=200)
    target_occupations: list[Occupation] = Field(default_factory=list)
    target_area: str = Field("", max_length=200)
    municipality_code: str | None = Field(None, max_length=6)
    starts_at: dt.datetime = Field(description="タイムゾーンなしは日本時間")
    ends_at: dt.datetime | None = None
    reception_time: dt.time | None = None
    venue_name: str = Field("", max_length=200)
    venue_address: str = Field("", max_length=200)
    online_url: str = Field("", max_length=200)
    capacity: int | None = Field(None, ge=1, le=100_000)
    capacity_note: str = Field("", max_length=40)
    apply_until: dt.datetime | None = None
    description: str = Field("", max_length=5000)
    how_to_apply: str = Field("", max_length=2000)
    contact: str = Field("", max_length=1000)
    fax: str = Field("", max_length=20)
    published: bool = False
    lecturers: list[LecturerIn] = Field(default_factory=list, max_length=20)

    @field_validator("starts_at", "ends_at", "apply_until")
    @classmethod
    def _make_aware(cls, v: dt.datetime | None) -> dt.datetime | None:
        return _aware(v)

    @field_validator("reception_time")
    @classmethod
    def _local_time(cls, v: dt.time | None) -> dt.time | None:
        # A wall-clock time at the venue: an offset, if sent, is ignored.
        return v.replace(tzinfo=None) if v is not None else None


class EventPatch(Schema):
    """Only the fields sent are changed; lecturers, when sent, replace the list."""

    title: str | None = Field(None, min_length=1, max_length=200)
    subtitle: str | None = Field(None, max_length=200)
    kind: EventKind | None = None
    programme_item: ProgrammeItem | None = None
    scene: Scene | None = None
    organiser_label: str | None = Field(None, max_length=120)
    co_organiser: str | None = Field(None, max_length=200)
    target_occupations: list[Occupation] | None = None
    target_area: str | None = Field(None, max_length=200)
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    reception_time: dt.time | None = None
    venue_name: str | None = Field(None, max_length=200)
    venue_address: str | None = Field(None, max_length=200)
    online_url: str | None = Field(None, max_length=200)
    capacity: int | None = Field(None, ge=1, le=100_000)
    capacity_note: str | None = Field(None, max_length=40)
    apply_until: dt.datetime | None = None
    description: str | None = Field(None, max_length=5000)
    how_to_apply: str | None = Field(None, max_length=2000)
    contact: str | None = Field(None, max_length=1000)
    fax: str | None = Field(None, max_length=20)
    published: bool | None = None
    lecturers: list[LecturerIn] | None = Field(None, max_length=20)

    @field_validator("starts_at", "ends_at", "apply_until")
    @classmethod
    def _make_aware(cls, v: dt.datetime | None) -> dt.datetime | None:
        return _aware(v)

    @field_validator("reception_time")
    @classmethod
    def _local_time(cls, v: dt.time | None) -> dt.time | None:
        # A wall-clock time at the venue: an offset, if sent, is ignored.
        return v.replace(tzinfo=None) if v is not None else None


class ManagedEventOut(EventOut):
    confirmed: int
    waitlisted: int
    attended: int


class ManagedApplicantOut(Schema):
    code: uuid.UUID
    position: int
    status: str
    name: str
    kana: str
    email: str
    occupation: str
    occupation_label: str
    attended: bool
    office_name: str
    contact_name: str
    contact_email: str
    contact_phone: str
    source: str
    applied_at: dt.datetime


class AttendanceIn(Schema):
    attended: bool


class CountsOut(Schema):
    occupation: str
    label: str
    applied: int
    confirmed: int
    waitlisted: int
    attended: int


class TallyOut(Schema):
    rows: list[CountsOut]
    total: CountsOut


class YearEventOut(Schema):
    code: uuid.UUID
    title: str
    starts_at: dt.datetime
    tally: TallyOut


class YearTallyOut(Schema):
    fiscal_year: int
    label: str = Field(description="例: 令和7年度（2025年度）")
    events: list[YearEventOut]
    total: TallyOut


class SentOut(Schema):
    sent: int


class FeedbackOut(Schema):
    count: int
    asked: int
    satisfaction_avg: float | None
    usefulness_avg: float | None
    satisfaction_dist: list[int]
    usefulness_dist: list[int]
    comments: list[str]


def _my_event(request: HttpRequest, code: uuid.UUID) -> tuple[Event, Membership]:
    membership = _membership(request)
    event = (
        Event.objects.organised_by(membership.organization)
        .select_related("organization", "municipality")
        .filter(code=code)
        .first()
    )
    if event is None:
        raise HttpError(404, "研修・イベントが見つかりません")
    return event, membership


def _managed_out(e: Event) -> dict[str, Any]:
    counts = e.applicants.exclude(status=Applicant.Status.CANCELLED)
    return {
        **event_out(e),
        "confirmed": counts.filter(status=Applicant.Status.CONFIRMED).count(),
        "waitlisted": counts.filter(status=Applicant.Status.WAITLISTED).count(),
        "attended": counts.filter(attended=True).count(),
    }


def _tally_out(t: tallies.OccupationTally) -> dict[str, Any]:
    labels = dict(Occupation.choices)
    return {
        "rows": [
            {"occupation": occ, "label": labels[occ], **vars(c)}
            for occ, c in t.by_occupation.items()
        ],
        "total": {"occupation": "", "label": "合計", **vars(t.total)},
    }


def _model_field(name: str) -> models.Field[Any, Any]:
    field = Event._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field


def _validation_detail(e: ValidationError) -> str:
    if hasattr(e, "message_dict"):
        return " ".join(m for msgs in e.message_dict.values() for m in msgs)
    return " ".join(e.messages)


def _save(
    request: HttpRequest,
    event: Event,
    membership: Membership,
    fields: dict[str, Any],
    lecturers: list[dict[str, Any]] | None,
) -> Status[Any]:
    _no_nul(fields)
    _no_nul(lecturers)
    code = fields.pop("municipality_code", None)
    if code is not None:
        muni = Municipality.objects.filter(code=code).first()
        if muni is None:
            return Status(400, {"detail": f"市区町村コードが見つかりません: {code}"})
        event.municipality = muni
    for name, value in fields.items():
        field = _model_field(name)
        if name == "target_occupations":
            value = [str(o) for o in value or []]
        elif value is None and not field.null:
            # An explicit null on a text field means "clear it"; required fields cannot be.
            if not field.blank:
                return Status(400, {"detail": f"{field.verbose_name}は空にできません"})
            value = ""
        elif isinstance(value, str):
            value = value.strip()
        setattr(event, name, value)
    try:
        saved, _ = actions.save_event(
            event,
            by=membership,
            lecturers=None
            if lecturers is None
            else [actions.LecturerData(**lec) for lec in lecturers],
            request=request,
        )
    except ValidationError as e:
        return Status(400, {"detail": _validation_detail(e)})
    except actions.Refused as e:
        return Status(e.status, {"detail": e.message})
    return Status(200, _managed_out(saved))


@router.get(
    "/manage/events",
    response={200: list[ManagedEventOut], 403: ErrorOut, 401: ErrorOut, 400: ErrorOut},
    auth=session_auth,
    summary="自組織が主催する研修・イベント",
)
def managed_events(request: HttpRequest) -> Status[Any]:
    membership = _membership(request)
    events = (
        Event.objects.organised_by(membership.organization)
        .select_related("organization", "municipality")
        .prefetch_related("lecturers", "attachments")
        .order_by("-starts_at", "-pk")[:500]
    )
    return Status(200, [_managed_out(e) for e in events])


@router.post(
    "/manage/events",
    response={201: ManagedEventOut, 400: ErrorOut, 403: ErrorOut, 401: ErrorOut},
    auth=session_auth,
    summary="研修・イベントを作成する",
)
def create_event(request: HttpRequest, payload: EventIn) -> Status[Any]:
    membership = _membership(request)
    fields = payload.dict()
    lecturers = fields.pop("lecturers")
    result = _save(request, Event(), membership, fields, lecturers)
    if result.status_code == 200:
        result.status_code = 201
    return result


@router.patch(
    "/manage/events/{code}",
    response={200: ManagedEventOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 401: ErrorOut},
    auth=session_auth,
    summary="研修・イベントを更新する",
)
def update_event(request: HttpRequest, code: uuid.UUID, payload: EventPatch) -> Status[Any]:
    """Raising the capacity promotes the waiting list in order (with e-mails)."""
    event, membership = _my_event(request, code)
    fields = payload.dict(exclude_unset=True)
    lecturers = fields.pop("lecturers", None)
    for required in ("title", "kind", "programme_item", "starts_at", "published"):
        if required in fields and fields[required] is None:
            label = _model_field(required).verbose_name
            return Status(400, {"detail": f"{label}は空にできません"})
    return _save(request, event, membership, fields, lecturers)


@router.get(
    "/manage/events/{code}/applicants",
    response={
        200: list[ManagedApplicantOut],
        403: ErrorOut,
        404: ErrorOut,
        401: ErrorOut,
        400: ErrorOut,
    },
    auth=session_auth,
    summary="申込者一覧（閲覧は監査ログに記録）",
)
def managed_applicants(request: HttpRequest, code: uuid.UUID) -> Status[Any]:
    event, membership = _my_event(request, code)
    rows = list(event.applicants.select_related("application").order_by("position"))
    AuditEntry.record(
        "events.applicants_viewed",
        request=request,
        membership=membership,
        target=event,
        detail={"rows": len(rows), "via": "api"},
    )
    return Status(200, [_applicant_out(a) for a in rows])


def _my_applicant(event: Event, applicant: uuid.UUID) -> Applicant:
    found = (
        Applicant.objects.select_related("application", "event")
        .filter(event=event, code=applicant)
        .first()
    )
    if found is None:
        raise HttpError(404, "申込者が見つかりません")
    return found


@router.post(
    "/manage/events/{code}/applicants/{applicant}/attendance",
    response={
        200: ManagedApplicantOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        401: ErrorOut,
        400: ErrorOut,
    },
    auth=session_auth,
    summary="出席を記録する・取り消す",
)
def mark_attendance(
    request: HttpRequest, code: uuid.UUID, applicant: uuid.UUID, payload: AttendanceIn
) -> Status[Any]:
    event, membership = _my_event(request, code)
    a = _my_applicant(event, applicant)
    try:
        actions.set_attendance(a, payload.attended, by=membership, request=request)
    except actions.Refused as e:
        return Status(e.status, {"detail": e.message})
    return Status(200, _applicant_out(a))


@router.post(
    "/manage/events/{code}/applicants/{applicant}/cancel",
    response={
        200: CancelOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        401: ErrorOut,
        400: ErrorOut,
    },
    auth=session_auth,
    summary="主催者が申込者を取り消す（電話連絡など）",
)
def organiser_cancel(request: HttpRequest, code: uuid.UUID, applicant: uuid.UUID) -> Status[Any]:
    event, membership = _my_event(request, code)
    a = _my_applicant(event, applicant)
    try:
        cancelled, _ = actions.cancel(
            a.application, applicant_codes=[str(a.code)], by=membership, request=request
        )
    except actions.Refused as e:
        return Status(e.status, {"detail": e.message})
    app = Application.objects.select_related("event").get(pk=a.application_id)
    return Status(
        200, {"cancelled": [x.code for x in cancelled], "application": application_out(app)}
    )


@router.get(
    "/manage/events/{code}/tally",
    response={200: TallyOut, 403: ErrorOut, 404: ErrorOut, 401: ErrorOut, 400: ErrorOut},
    auth=session_auth,
    summary="職種別の申込・出席",
)
def event_tally(request: HttpRequest, code: uuid.UUID) -> Status[Any]:
    event, _ = _my_event(request, code)
    return Status(200, _tally_out(tallies.event_tally(event)))


@router.post(
    "/manage/events/{code}/feedback-requests",
    response={
        200: SentOut,
        400: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        401: ErrorOut,
    },
    auth=session_auth,
    summary="出席者にアンケートをメールで依頼する（未依頼の方のみ）",
)
def feedback_requests(request: HttpRequest, code: uuid.UUID) -> Status[Any]:
    event, membership = _my_event(request, code)
    try:
        sent = actions.request_feedback(event, by=membership, request=request)
    except actions.Refused as e:
        return Status(e.status, {"detail": e.message})
    return Status(200, {"sent": sent})


@router.get(
    "/manage/events/{code}/feedback",
    response={200: FeedbackOut, 403: ErrorOut, 404: ErrorOut, 401: ErrorOut, 400: ErrorOut},
    auth=session_auth,
    summary="アンケートの集計",
)
def feedback_summary(request: HttpRequest, code: uuid.UUID) -> Status[Any]:
    event, _ = _my_event(request, code)
    s = tallies.feedback_summary(event)
    return Status(
        200,
        {
            "count": s.count,
            "asked": s.asked,
            "satisfaction_avg": s.satisfaction_avg,
            "usefulness_avg": s.usefulness_avg,
            "satisfaction_dist": s.satisfaction_dist,
            "usefulness_dist": s.usefulness_dist,
            "comments": [f.comment for f in s.comments],
        },
    )


@router.get(
    "/manage/tally",
    response={200: YearTallyOut, 403: ErrorOut, 401: ErrorOut, 400: ErrorOut},
    auth=session_auth,
    summary="年度別・職種別の参加状況（自組織の全イベント）",
)
def year_tally(
    request: HttpRequest,
    fy: int | None = Query(None, ge=2000, le=2100),  # type: ignore[type-arg]
) -> Status[Any]:
    """fy is the fiscal year's Western start year (2025 = 令和7年度); default: the current one."""
    membership = _membership(request)
    y = tallies.year_tally(membership.organization, fy or fiscal_year(timezone.localdate()))
    return Status(
        200,
        {
            "fiscal_year": y.fy,
            "label": y.label,
            "events": [
                {"code": e.code, "title": e.title, "starts_at": e.starts_at, "tally": _tally_out(t)}
                for e, t in y.events
            ],
            "total": _tally_out(y.total),
        },
    )


def _applicant_out(a: Applicant) -> dict[str, Any]:
    """One applicant as the organiser's API shows it (the list and the attendance answer)."""
    return {
        "code": a.code,
        "position": a.position,
        "status": a.status,
        "name": a.name,
        "kana": a.kana,
        "email": a.email,
        "occupation": a.occupation,
        "occupation_label": a.occupation_label,
        "attended": a.attended,
        "office_name": a.application.office_name,
        "contact_name": a.application.contact_name,
        "contact_email": a.application.contact_email,
        "contact_phone": a.application.contact_phone,
        "source": a.application.source,
        "applied_at": a.application.created_at,
    }
