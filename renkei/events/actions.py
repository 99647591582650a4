"""Event workflows: applying, cancelling, the waiting list, attendance and the survey.

Capacity rule: places are counted per applicant, in the order applicants arrive. An
application with more applicants than places left gets places for the first ones as
listed on the form and puts the rest on the waiting list; the waiting list is promoted
in the same order when someone cancels or the organiser raises the capacity.

Every change to the places of an event runs with the event row locked
(select_for_update on PostgreSQL; on SQLite the IMMEDIATE transaction mode serialises
writers), so concurrent applications can never overfill it.

Each action takes one typed input (below, next to it) that the HTML form and the API body
both produce; refusals are `renkei.lib.actions` errors; e-mail is enqueued with the data
(`renkei.events.emails`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone
from pydantic import AfterValidator, Field, WithJsonSchema, field_validator
from pydantic_core import InitErrorDetails, PydanticCustomError
from pydantic_core import ValidationError as PydanticValidationError

from renkei.accounts.models import AuditEntry, Membership
from renkei.events import emails
from renkei.events.models import (
    ATTACHMENT_MAX_BYTES,
    ATTACHMENT_TYPES,
    Applicant,
    Application,
    Event,
    EventAttachment,
    EventKind,
    Feedback,
    Lecturer,
    Need,
    Occupation,
    ProgrammeItem,
    QuestionTo,
    Scene,
    normalize_email,
    normalize_kana,
    normalize_phone,
    validate_hiragana,
    validate_phone,
)
from renkei.lib.actions import ActionError, Conflict, NotFound, full_clean, on_commit
from renkei.lib.inputs import Input, japanese_message, partial
from renkei.lib.text import nfkc
from renkei.regions.models import Municipality

MAX_APPLICANTS = 20
# A resident comes with family or neighbours; a larger group calls the organiser.
MAX_PARTY = 10

# --- field rules shared by the inputs ---------------------------------------------------------


def _clipped(limit: int) -> AfterValidator:
    # NFKC can lengthen a string (「㈱」 → 「(株)」): clip to the column's width after it.
    return AfterValidator(lambda v: nfkc(v)[:limit])


def _kana(value: str) -> str:
    kana = normalize_kana(value)
    try:
        validate_hiragana(kana)
    except ValidationError as e:
        raise ValueError(e.messages[0]) from e
    return kana[:80]


def _email(value: str) -> str:
    email = normalize_email(value)
    try:
        validate_email(email)
    except ValidationError as e:
        raise ValueError("メールアドレスの形式が正しくありません（例: info@example.jp）") from e
    return email


def _email_or_blank(value: str) -> str:
    return _email(value) if normalize_email(value) else ""


def _phone_or_blank(value: str) -> str:
    phone = normalize_phone(value)
    if phone:
        try:
            validate_phone(phone)
        except ValidationError as e:
            raise ValueError(e.messages[0]) from e
    return phone


def _consent(value: bool) -> bool:
    if not value:
        raise ValueError("情報の共有に同意（agree: true）のうえお申し込みください")
    return value


def _distinct(values: list[Any]) -> list[Any]:
    if len(set(values)) != len(values):
        raise ValueError("同じ値が2回指定されています")
    return values


Name = Annotated[str, Field(min_length=1, max_length=60), _clipped(60)]
Kana = Annotated[
    str,
    Field(min_length=1, max_length=80, description="ふりがな（ひらがな。カタカナも可）"),
    AfterValidator(_kana),
]
Email = Annotated[
    str,
    Field(min_length=1, max_length=254, json_schema_extra={"format": "email"}),
    AfterValidator(_email),
]
Phone = Annotated[str, AfterValidator(_phone_or_blank)]
Consent = Annotated[
    bool,
    Field(
        description="情報を主催者が共有することへの同意（true のみ）",
        json_schema_extra={"const": True},
    ),
    AfterValidator(_consent),
]


class EventApplicantInput(Input):
    """One person on a 申込書."""

    name: Name = Field(description="氏名")
    kana: Kana
    email: Annotated[str, AfterValidator(_email_or_blank)] = Field(
        "", max_length=254, description="空欄または「同上」なら事業所のアドレスに連絡"
    )
    occupation: Occupation = Field(description="職種")
    occupation_other: Annotated[str, _clipped(60)] = Field("", max_length=60)


def _rows_named(value: Any, handler: Callable[[Any], Any]) -> Any:
    """Each row's refusal says which applicant it is about, as the paper form numbers them."""
    try:
        return handler(value)
    except PydanticValidationError as e:
        named: list[InitErrorDetails] = []
        for err in e.errors():
            loc = tuple(err["loc"])
            message = japanese_message(err)
            if loc and isinstance(loc[0], int):
                message = f"申込者{loc[0] + 1}: {message}"
            named.append(
                InitErrorDetails(
                    type=PydanticCustomError("value_error", "{error}", {"error": message}),
                    loc=loc,
                    input=err.get("input"),
                )
            )
        raise PydanticValidationError.from_exception_data(e.title, named) from e


class EventApplicationInput(Input):
    """Seed 002's 申込書: a 事業所 with its contact person, its applicants and a question.

    For trainings of professionals; a public lecture takes `ResidentApplicationInput`.
    """

    office_name: Annotated[str, _clipped(120)] = Field(
        ..., min_length=1, max_length=120, description="事業所名"
    )
    contact_name: Name = Field(description="事業所連絡担当者")
    contact_email: Email = Field(description="事業所メールアドレス（確認・取消のリンクを送ります）")
    contact_phone: Phone = Field(..., min_length=1, max_length=30, description="事業所電話番号")
    question_to: QuestionTo | None = Field(None, description="聞いてみたい職種")
    question_to_other: Annotated[str, _clipped(60)] = Field("", max_length=60)
    question: str = Field("", max_length=2000, description="聞いてみたい内容")
    applicants: list[EventApplicantInput] = Field(
        ...,
        min_length=1,
        max_length=MAX_APPLICANTS,
        description="申込者（記入順に席を割り当てます）",
    )
    agree: Consent

    @field_validator("applicants", mode="wrap")
    @classmethod
    def _name_rows(cls, value: Any, handler: Any) -> Any:
        return _rows_named(value, handler)

    @field_validator("applicants")
    @classmethod
    def _one_address_once(cls, rows: list[EventApplicantInput]) -> list[EventApplicantInput]:
        seen: set[str] = set()
        for row in rows:
            key = row.email.lower()
            if key and key in seen:
                raise ValueError(
                    f"同じメールアドレス（{key}）が申込者に2回入力されています。"
                    "1名ずつ別のアドレスを入力するか、空欄（同上）にしてください。"
                )
            seen.add(key)
        return rows


class ResidentApplicationInput(Input):
    """A resident's application to a public lecture (市民向け): who, how to reach them, how
    many come, and what they need to take part."""

    name: Name = Field(description="お名前（代表者）")
    kana: Kana
    email: Email = Field(description="メールアドレス（確認・取消のリンクを送ります）")
    phone: Phone = Field("", max_length=30, description="電話番号（任意）")
    party_size: int = Field(1, ge=1, le=MAX_PARTY, description="参加人数（ご本人を含む）")
    needs: Annotated[list[Need], AfterValidator(_distinct)] = Field(
        default_factory=list,
        max_length=len(Need.values),
        description="参加にあたって必要な配慮",
        json_schema_extra={"uniqueItems": True},
    )
    needs_note: Annotated[str, _clipped(200)] = Field(
        "", max_length=200, description="配慮についての補足（自由記入）"
    )
    question: str = Field("", max_length=2000, description="講師に聞いてみたいこと")
    agree: Consent


AnyApplication = EventApplicationInput | ResidentApplicationInput


@dataclass(frozen=True)
class _Sheet:
    """What an application writes, whichever form it came from."""

    office_name: str
    contact_name: str
    contact_email: str
    contact_phone: str
    people: list[EventApplicantInput]
    question_to: str = ""
    question_to_other: str = ""
    question: str = ""
    needs: list[str] = field(default_factory=list)
    needs_note: str = ""


def _sheet(event: Event, data: AnyApplication) -> _Sheet:
    public = event.kind == EventKind.PUBLIC_LECTURE
    if isinstance(data, ResidentApplicationInput):
        if not public:
            raise ActionError(
                "この研修は医療・介護の従事者向けです。事業所からの申込書で申し込んでください。"
            )
        # The representative and those who come with them each take a place, so capacity,
        # the waiting list and attendance work as for any applicant (ADR 0009).
        me = EventApplicantInput.model_construct(
            name=data.name, kana=data.kana, email=data.email, occupation=Occupation.CITIZEN
        )
        party = [
            EventApplicantInput.model_construct(
                name=f"{data.name}さんの同行者{i}"[:60],
                kana=data.kana,
                email="",
                occupation=Occupation.CITIZEN,
            )
            for i in range(1, data.party_size)
        ]
        return _Sheet(
            office_name="",
            contact_name=data.name,
            contact_email=data.email,
            contact_phone=data.phone,
            people=[me, *party],
            question=data.question,
            needs=[str(n) for n in data.needs],
            needs_note=data.needs_note,
        )
    if public:
        raise ActionError(
            "市民向けの講座です。お名前・連絡先・参加人数の申込フォームから申し込んでください。"
        )
    return _Sheet(
        office_name=data.office_name,
        contact_name=data.contact_name,
        contact_email=data.contact_email,
        contact_phone=data.contact_phone,
        people=list(data.applicants),
        question_to=data.question_to or "",
        question_to_other=data.question_to_other,
        question=data.question,
    )


def fingerprint(data: AnyApplication) -> str:
    """Stable hash of what was submitted: a retried request must carry the same body."""
    return hashlib.sha256(data.model_dump_json().encode("utf-8")).hexdigest()


def _duplicates(event: Event, sheet: _Sheet) -> str | None:
    keys = [a.email.lower() for a in sheet.people if a.email]
    taken = set(
        Applicant.objects.active()
        .filter(event=event, email_key__in=keys)
        .values_list("email_key", flat=True)
    )
    if taken:
        return (
            f"{'、'.join(sorted(taken))} は、このイベントに既に申し込まれています。"
            "申込内容の確認・取消は、申込受付メールのリンクから行えます。"
        )
    # Applicants without their own address are recognised by name within the same 事業所.
    nameless = {(a.name, a.kana) for a in sheet.people if not a.email}
    if nameless:
        same_office = Applicant.objects.active().filter(
            event=event,
            application__contact_email__iexact=sheet.contact_email,
            email_key="",
        )
        for name, kana in same_office.values_list("name", "kana"):
            if (name, kana) in nameless:
                return f"{name} さんは、この事業所から既に申し込まれています。"
    return None


def apply(
    event: Event,
    data: AnyApplication,
    *,
    source: str = Application.Source.WEB,
    idempotency_key: str = "",
    enforce_deadline: bool = True,
    by: Membership | None = None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
    notify: bool = True,
) -> tuple[Application, bool]:
    """Register an application; returns it and whether it was created now.

    Nothing is written unless every applicant is accepted (confirmed or waitlisted).
    notify=False is for loading demo data: no confirmation e-mail.
    """
    sheet = _sheet(event, data)
    try:
        return _apply_locked(
            event,
            sheet,
            fingerprint=fingerprint(data),
            source=source,
            idempotency_key=idempotency_key.strip()[:100],
            enforce_deadline=enforce_deadline,
            by=by,
            request=request,
            now=now or timezone.now(),
            notify=notify,
        )
    except IntegrityError as e:
        # Only reachable if the duplicate check was bypassed; the constraint still holds.
        raise Conflict("このメールアドレスは、このイベントに既に申し込まれています。") from e


@transaction.atomic
def _apply_locked(
    event: Event,
    sheet: _Sheet,
    *,
    fingerprint: str,
    source: str,
    idempotency_key: str,
    enforce_deadline: bool,
    by: Membership | None,
    request: HttpRequest | None,
    now: dt.datetime,
    notify: bool,
) -> tuple[Application, bool]:
    event = Event.objects.select_for_update().get(pk=event.pk)
    if idempotency_key:
        existing = Application.objects.filter(event=event, idempotency_key=idempotency_key).first()
        if existing is not None:
            if existing.request_hash != fingerprint:
                raise Conflict(
                    "この申込フォームは既に送信されています。続けて申し込む場合は、申込ページを開き直してください。"
                    if source == Application.Source.WEB
                    else "同じIdempotency-Keyで異なる内容の申込が送信されました。"
                )
            return existing, False
    if enforce_deadline:
        reason = event.closed_reason(now)
        if reason:
            raise Conflict(reason)
    elif event.has_started(now):
        raise Conflict("開催後は申込を登録できません。")
    duplicate = _duplicates(event, sheet)
    if duplicate:
        raise Conflict(duplicate, field="applicants")

    app = Application.objects.create(
        event=event,
        office_name=sheet.office_name,
        contact_name=sheet.contact_name,
        contact_email=sheet.contact_email,
        contact_phone=sheet.contact_phone,
        question_to=sheet.question_to,
        question_to_other=sheet.question_to_other,
        question=sheet.question,
        needs=sheet.needs,
        needs_note=sheet.needs_note,
        source=source,
        idempotency_key=idempotency_key,
        request_hash=fingerprint,
    )
    confirmed = event.applicants.confirmed().count()
    position = (event.applicants.aggregate(m=Max("position"))["m"] or 0) + 1
    counts = {Applicant.Status.CONFIRMED: 0, Applicant.Status.WAITLISTED: 0}
    for a in sheet.people:
        has_place = event.capacity is None or confirmed < event.capacity
        status = Applicant.Status.CONFIRMED if has_place else Applicant.Status.WAITLISTED
        confirmed += has_place
        counts[status] += 1
        Applicant.objects.create(
            application=app,
            event=event,
            name=a.name,
            kana=a.kana,
            email=a.email,
            occupation=a.occupation,
            occupation_other=a.occupation_other,
            status=status,
            position=position,
        )
        position += 1
    AuditEntry.record(
        "events.applied",
        request=request,
        actor=by.user if by else None,
        membership=by,
        target=app,
        actor_label="" if by else "申込者",
        detail={
            "event": str(event.code),
            "source": source,
            "confirmed": counts[Applicant.Status.CONFIRMED],
            "waitlisted": counts[Applicant.Status.WAITLISTED],
        },
    )
    if notify:
        emails.confirmation(app)
    return app, True


# --- cancelling and the waiting list ---------------------------------------------------------


def next_in_line(event: Event, *, leaving: Sequence[Applicant] = ()) -> list[Applicant]:
    """Who takes the places that are free once `leaving` have gone: the longest waiting first.

    The one rule of promotion, read by the cancellation's confirmation page (what would
    happen) and applied by `fill_places` (what happens), so the two cannot disagree.
    """
    gone = [a.pk for a in leaving]
    waiting = event.applicants.waitlisted().exclude(pk__in=gone).select_related("application")
    if event.capacity is None:
        return list(waiting)
    free = event.capacity - event.applicants.confirmed().exclude(pk__in=gone).count()
    return list(waiting[:free]) if free > 0 else []


def fill_places(event: Event, now: dt.datetime | None = None) -> list[Applicant]:
    """Promote waitlisted applicants, oldest first, into free places. Needs the event locked."""
    promoted = next_in_line(event)
    now = now or timezone.now()
    for a in promoted:
        a.status = Applicant.Status.CONFIRMED
        a.promoted_at = now
        a.save(update_fields=["status", "promoted_at"])
    emails.promotion(event, promoted)
    return promoted


class EventCancelInput(Input):
    """Which applicants of one application to cancel."""

    applicants: list[uuid.UUID] | None = Field(
        None,
        min_length=1,
        max_length=MAX_APPLICANTS,
        description="取り消す申込者のcode。省略するとすべて取り消す",
    )


@dataclass(frozen=True)
class CancelPlan:
    """What a cancellation would do: shown on the confirmation page, done by `cancel`."""

    application: Application
    cancelled: list[Applicant]
    promoted: list[Applicant]

    @property
    def told(self) -> str:
        """Who receives the notice of the cancellation."""
        return self.application.contact_email


def plan_cancel(
    application: Application, data: EventCancelInput, *, now: dt.datetime | None = None
) -> CancelPlan:
    """Who would be cancelled and who would move up; refuses what `cancel` would refuse."""
    event = application.event
    if event.has_started(now or timezone.now()):
        raise Conflict("開催日時を過ぎたため、取消はできません。主催者にご連絡ください。")
    qs = application.applicants.active().order_by("position")
    if data.applicants is not None:
        codes = set(data.applicants)
        qs = qs.filter(code__in=codes)
        if qs.count() != len(codes):
            raise NotFound("取り消す申込者が見つからないか、既に取り消されています。")
    cancelled = list(qs)
    if not cancelled:
        raise Conflict("この申込は既に取り消されています。")
    return CancelPlan(application, cancelled, next_in_line(event, leaving=cancelled))


@transaction.atomic
def cancel(
    application: Application,
    data: EventCancelInput | None = None,
    *,
    by: Membership | None = None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> tuple[list[Applicant], list[Applicant]]:
    """Cancel some applicants of an application (all when no codes are given).

    Returns (cancelled, promoted). Places freed go to the waiting list in order. The
    application's contact is told; those promoted are told too.
    """
    now = now or timezone.now()
    application.event = Event.objects.select_for_update().get(pk=application.event_id)
    plan = plan_cancel(application, data or EventCancelInput(), now=now)
    for a in plan.cancelled:
        a.status = Applicant.Status.CANCELLED
        a.cancelled_at = now
        a.save(update_fields=["status", "cancelled_at"])
    if not application.applicants.active().exists():
        application.status = Application.Status.CANCELLED
        application.cancelled_at = now
        application.save(update_fields=["status", "cancelled_at"])
    promoted = fill_places(application.event, now)
    AuditEntry.record(
        "events.cancelled",
        request=request,
        actor=by.user if by else None,
        membership=by,
        target=application,
        actor_label="" if by else "申込者",
        detail={"cancelled": len(plan.cancelled), "promoted": len(promoted)},
    )
    emails.cancellation(application, plan.cancelled)
    return plan.cancelled, promoted


# --- the organiser's events -------------------------------------------------------------------


def _in_calendar(value: dt.datetime) -> dt.datetime:
    # Near year 1 or 9999 the conversion to UTC for storage overflows (a 500, found by fuzzing).
    if not 2000 <= value.year <= 2100:
        raise ValueError("日時は2000年〜2100年の範囲で入力してください")
    return timezone.make_aware(value) if timezone.is_naive(value) else value


# The pattern puts the range into the schema, for generated clients and schemathesis.
When = Annotated[
    dt.datetime,
    AfterValidator(_in_calendar),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "pattern": r"^(20[0-9]{2}|2100)-",
            "description": "2000年〜2100年。タイムゾーンなしは日本時間",
        }
    ),
]
# A wall-clock time at the venue: an offset, if sent, is ignored.
WallTime = Annotated[dt.time, AfterValidator(lambda v: v.replace(tzinfo=None))]


class LecturerInput(Input):
    name: str = Field(..., min_length=1, max_length=60, title="講師の氏名")
    affiliation: str = Field("", max_length=120)
    title: str = Field("", max_length=120)
    topic: str = Field("", max_length=200)


class EventInput(Input):
    """An event as its organiser writes it: the edit screen's form and the API's body.

    Cross-field rules (the end after the start, the deadline before it, a venue or an online
    URL) are the model's (`Event.clean`), checked by the action for both doors.
    """

    title: str = Field(..., min_length=1, max_length=200, title="タイトル")
    subtitle: str = Field("", max_length=200)
    kind: EventKind = Field(EventKind.INTERPROFESSIONAL, title="種類")
    programme_item: ProgrammeItem = Field(ProgrammeItem.KA, title="事業項目")
    scene: Scene | None = None
    organiser_label: str = Field("", max_length=120)
    co_organiser: str = Field("", max_length=200)
    target_occupations: Annotated[list[Occupation], AfterValidator(_distinct)] = Field(
        default_factory=list, title="対象職種", json_schema_extra={"uniqueItems": True}
    )
    target_area: str = Field("", max_length=200)
    municipality_code: str | None = Field(
        None, pattern=r"^[0-9]{6}$", description="開催市区町村のコード（6桁）"
    )
    starts_at: When = Field(title="開始日時")
    ends_at: When | None = None
    reception_time: WallTime | None = None
    venue_name: str = Field("", max_length=200)
    venue_address: str = Field("", max_length=200)
    online_url: str = Field("", max_length=200)
    capacity: int | None = Field(None, ge=1, le=100_000, description="空欄（null）は定員なし")
    capacity_note: str = Field("", max_length=40)
    apply_until: When | None = None
    description: str = Field("", max_length=5000)
    how_to_apply: str = Field("", max_length=2000)
    contact: str = Field("", max_length=1000)
    fax: Phone = Field("", max_length=20)
    published: bool = Field(False, title="公開")
    lecturers: list[LecturerInput] = Field(default_factory=list, max_length=20, title="講師")

    @classmethod
    def values_of(cls, event: Event) -> dict[str, Any]:
        """The event as it is now, as this input's fields (e.g. to apply a PATCH to)."""
        values: dict[str, Any] = {name: getattr(event, name) for name in EVENT_FIELDS}
        values["scene"] = event.scene or None
        values["municipality_code"] = event.municipality.code if event.municipality else None
        values["lecturers"] = [
            {"name": x.name, "affiliation": x.affiliation, "title": x.title, "topic": x.topic}
            for x in event.lecturers.all()
        ]
        return values


if TYPE_CHECKING:
    EventPatch = EventInput
else:
    EventPatch = partial(
        EventInput,
        "EventPatch",
        doc="Only the fields sent are changed; null clears an optional one; lecturers, when "
        "sent, replace the list.",
    )

# The input's fields that are the model's fields of the same name.
EVENT_FIELDS = [n for n in EventInput.model_fields if n not in ("municipality_code", "lecturers")]


@transaction.atomic
def save_event(
    event: Event | None,
    *,
    by: Membership,
    data: EventInput,
    request: HttpRequest | None = None,
) -> tuple[Event, list[Applicant]]:
    """Create (event None) or update an event of the member's organisation; lecturers are
    replaced. Raising the capacity promotes the waiting list at once."""
    creating = event is None
    if event is None:
        event = Event(organization=by.organization, created_by=by.user)
    elif event.organization_id != by.organization.pk:
        raise NotFound("研修・イベントが見つかりません")
    else:
        event = Event.objects.select_for_update().get(pk=event.pk)
    for name in EVENT_FIELDS:
        setattr(event, name, getattr(data, name))
    event.scene = data.scene or ""
    event.target_occupations = [str(o) for o in data.target_occupations]
    if data.municipality_code is not None:
        muni = Municipality.objects.selectable().filter(code=data.municipality_code).first()
        if muni is None:
            raise ActionError(
                f"市区町村コードが見つかりません: {data.municipality_code}",
                field="municipality_code",
            )
        event.municipality = muni
    elif creating:
        event.municipality_id = by.organization.municipality_id
    else:
        event.municipality = None
    full_clean(event, exclude=["organization", "created_by"])
    event.save()
    event.lecturers.all().delete()
    Lecturer.objects.bulk_create(
        Lecturer(event=event, sort_order=i, **lec.model_dump())
        for i, lec in enumerate(data.lecturers)
    )
    promoted = [] if creating else fill_places(event)
    AuditEntry.record(
        "events.created" if creating else "events.updated",
        request=request,
        actor=by.user,
        membership=by,
        target=event,
        detail={"promoted": len(promoted)} if promoted else {},
    )
    return event, promoted


def check_upload(upload: UploadedFile[bytes]) -> str:
    """Return the content type of an acceptable attachment or raise ActionError."""
    name = (upload.name or "").lower()
    ext = "." + name.rsplit(".", 1)[-1] if "." in name else ""
    if ext not in ATTACHMENT_TYPES:
        raise ActionError("添付できるのはPDF・PNG・JPEGファイルです。", field="file")
    if (upload.size or 0) > ATTACHMENT_MAX_BYTES:
        raise ActionError(
            f"ファイルが大きすぎます（上限{ATTACHMENT_MAX_BYTES // (1024 * 1024)}MB）。",
            field="file",
        )
    content_type, magics = ATTACHMENT_TYPES[ext]
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if not any(head.startswith(m) for m in magics):
        raise ActionError("ファイルの中身が拡張子と一致しません。", field="file")
    return content_type


@transaction.atomic
def add_attachment(
    event: Event,
    *,
    title: str,
    upload: UploadedFile[bytes],
    by: Membership,
    request: HttpRequest | None = None,
) -> EventAttachment:
    content_type = check_upload(upload)
    att = EventAttachment(
        event=event,
        title=nfkc(title)[:120] or "添付ファイル",
        content_type=content_type,
        size=upload.size or 0,
    )
    att.file.save(upload.name or "file", upload, save=False)
    att.save()
    AuditEntry.record(
        "events.attachment_added",
        request=request,
        actor=by.user,
        membership=by,
        target=event,
        detail={"title": att.title, "size": att.size},
    )
    return att


@transaction.atomic
def remove_attachment(
    att: EventAttachment, *, by: Membership, request: HttpRequest | None = None
) -> None:
    event = att.event
    title = att.title
    name = att.file.name
    att.delete()
    storage = att.file.storage
    on_commit(lambda: storage.delete(name) if name else None)
    AuditEntry.record(
        "events.attachment_removed",
        request=request,
        actor=by.user,
        membership=by,
        target=event,
        detail={"title": title},
    )


# --- the day itself and afterwards ------------------------------------------------------------


class AttendanceInput(Input):
    attended: bool = Field(description="出席ならtrue、取り消すならfalse")


@transaction.atomic
def set_attendance(
    applicant: Applicant,
    data: AttendanceInput,
    *,
    by: Membership,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> Applicant:
    if applicant.status == Applicant.Status.CANCELLED and data.attended:
        raise Conflict("取消済みの申込者は出席にできません。")
    applicant.attended = data.attended
    applicant.attended_at = (now or timezone.now()) if data.attended else None
    applicant.save(update_fields=["attended", "attended_at"])
    AuditEntry.record(
        "events.attendance_marked",
        request=request,
        actor=by.user,
        membership=by,
        target=applicant.event,
        detail={"applicant": str(applicant.code), "attended": data.attended},
    )
    return applicant


@transaction.atomic
def request_feedback(
    event: Event,
    *,
    by: Membership,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> int:
    """E-mail the survey link to attendees not yet asked; returns how many were asked."""
    now = now or timezone.now()
    if not event.has_started(now):
        raise Conflict("アンケートは開催後に送信できます。")
    attendees = event.applicants.filter(attended=True).exclude(status=Applicant.Status.CANCELLED)
    if not attendees.exists():
        raise ActionError(
            "出席者が記録されていません。出席簿で出席を記録してから送信してください。"
        )
    pending = list(attendees.filter(feedback_sent_at__isnull=True).select_related("application"))
    Applicant.objects.filter(pk__in=[a.pk for a in pending]).update(feedback_sent_at=now)
    AuditEntry.record(
        "events.feedback_requested",
        request=request,
        actor=by.user,
        membership=by,
        target=event,
        detail={"sent": len(pending)},
    )
    emails.feedback_requests(event, pending)
    return len(pending)


class EventFeedbackInput(Input):
    satisfaction: int = Field(..., ge=1, le=5, description="満足度 5（とても満足）〜1")
    usefulness: int = Field(..., ge=1, le=5, description="業務への役立ち度 5〜1")
    comment: str = Field("", max_length=2000)


@transaction.atomic
def submit_feedback(applicant: Applicant, data: EventFeedbackInput) -> Feedback:
    if Feedback.objects.filter(applicant=applicant).exists():
        raise Conflict("このアンケートには既に回答いただいています。ありがとうございました。")
    return Feedback.objects.create(
        event_id=applicant.event_id,
        applicant=applicant,
        occupation=applicant.occupation,
        satisfaction=data.satisfaction,
        usefulness=data.usefulness,
        comment=data.comment,
    )
