"""Applying to an event and cancelling: the inputs of both application forms, the capacity
rule and the waiting list."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Annotated, Any

from django.db import IntegrityError, models, transaction
from django.db.models import Count, Max, Q
from django.http import HttpRequest
from django.utils import timezone
from pydantic import AfterValidator, Field, field_validator
from pydantic_core import InitErrorDetails, PydanticCustomError
from pydantic_core import ValidationError as PydanticValidationError

from renkei.accounts import idempotency
from renkei.accounts.models import AuditEntry, Membership
from renkei.events import emails
from renkei.events.actions.rules import (
    Consent,
    Email,
    EmailOrBlank,
    Kana,
    Name,
    Phone,
    clipped,
    distinct,
)
from renkei.events.models import (
    Applicant,
    Application,
    Event,
    EventKind,
    Need,
    Occupation,
    QuestionTo,
    public_page,
)
from renkei.lib.actions import ActionError, Conflict, NotFound, as_prefetched
from renkei.lib.inputs import Input, japanese_message
from renkei.lib.mail import site_url

MAX_APPLICANTS = 20
# A resident comes with family or neighbours; a larger group calls the organiser.
MAX_PARTY = 10


class EventApplicantInput(Input):
    """One person on a 申込書."""

    name: Name = Field(description="氏名")
    kana: Kana
    email: EmailOrBlank = Field(
        "", max_length=254, description="空欄または「同上」なら事業所のアドレスに連絡"
    )
    occupation: Occupation = Field(description="職種")
    occupation_other: Annotated[str, clipped(60)] = Field("", max_length=60)


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

    office_name: Annotated[str, clipped(120)] = Field(
        ..., min_length=1, max_length=120, description="事業所名"
    )
    contact_name: Name = Field(description="事業所連絡担当者")
    contact_email: Email = Field(description="事業所メールアドレス（確認・取消のリンクを送ります）")
    contact_phone: Phone = Field(..., min_length=1, max_length=30, description="事業所電話番号")
    question_to: QuestionTo | None = Field(None, description="聞いてみたい職種")
    question_to_other: Annotated[str, clipped(60)] = Field("", max_length=60)
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
    needs: Annotated[list[Need], AfterValidator(distinct)] = Field(
        default_factory=list,
        max_length=len(Need.values),
        description="参加にあたって必要な配慮",
        json_schema_extra={"uniqueItems": True},
    )
    needs_note: Annotated[str, clipped(200)] = Field(
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


def audit(
    action: str,
    target: models.Model,
    by: Membership | None,
    request: HttpRequest | None,
    detail: dict[str, Any],
    *,
    anonymous: str = "申込者",
) -> None:
    """Applicants act by the public form or their link; an organiser (by) on their behalf.
    Apps whose people also act by a link (a course's applicants, a dispatched specialist)
    record the same way, naming who acts without an account in `anonymous`."""
    AuditEntry.record(
        action,
        by=by,
        target=target,
        request=request,
        actor_label="" if by else anonymous,
        detail=detail,
    )


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
    # Where the mail sends the reader is the event's or its owner's page: read before the
    # event's lock, which every application to the event waits for.
    event_url = site_url(public_page(event)) if notify else ""
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
            event_url=event_url,
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
    event_url: str,
) -> tuple[Application, bool]:
    # The event row alone is locked; its organisation comes along for the mail's 主催.
    event = (
        Event.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=event.pk)
    )

    def create() -> Application:
        return _create_application(
            event,
            sheet,
            source=source,
            enforce_deadline=enforce_deadline,
            by=by,
            request=request,
            now=now,
            notify=notify,
            event_url=event_url,
        )

    if not idempotency_key:
        return create(), True
    # A retried submission (the same form token or Idempotency-Key) finds the first
    # application through the platform's one submit-once record (renkei.accounts.idempotency).
    written: list[Application] = []

    def first() -> tuple[int, dict[str, Any]]:
        written.append(create())
        return 201, {"application": written[0].pk}

    _, body, replayed = idempotency.run_once(
        None,
        idempotency_key,
        f"events:{event.pk}:apply",
        first,
        fingerprint=fingerprint,
        mismatch=(
            "この申込フォームは既に送信されています。続けて申し込む場合は、申込ページを開き直してください。"
            if source == Application.Source.WEB
            else "同じIdempotency-Keyで異なる内容の申込が送信されました。"
        ),
    )
    if written:  # created now: the application as written, not read back
        return written[0], True
    return Application.objects.get(pk=body["application"]), not replayed


def _create_application(
    event: Event,
    sheet: _Sheet,
    *,
    source: str,
    enforce_deadline: bool,
    by: Membership | None,
    request: HttpRequest | None,
    now: dt.datetime,
    notify: bool,
    event_url: str,
) -> Application:
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
        source=source,
        **{f.name: getattr(sheet, f.name) for f in fields(sheet) if f.name != "people"},
    )
    # Places taken, those waiting and the last position in one statement, under the event's
    # lock. The new applicants come after every position, so a new one's rank on the waiting
    # list is those already waiting plus the new ones before it (Applicant.waitlist_rank).
    taken = event.applicants.aggregate(
        confirmed=Count("pk", filter=Q(status=Applicant.Status.CONFIRMED)),
        waiting=Count("pk", filter=Q(status=Applicant.Status.WAITLISTED)),
        last=Max("position"),
    )
    confirmed: int = taken["confirmed"]
    waiting: int = taken["waiting"]
    position = (taken["last"] or 0) + 1
    counts = {Applicant.Status.CONFIRMED: 0, Applicant.Status.WAITLISTED: 0}
    written: list[Applicant] = []
    for a in sheet.people:
        has_place = event.capacity is None or confirmed < event.capacity
        status = Applicant.Status.CONFIRMED if has_place else Applicant.Status.WAITLISTED
        confirmed += has_place
        waiting += not has_place
        counts[status] += 1
        applicant = Applicant.objects.create(
            application=app, event=event, status=status, position=position, **a.model_dump()
        )
        applicant.waitlist_rank = None if has_place else waiting  # type: ignore[attr-defined]
        written.append(applicant)
        position += 1
    audit(
        "events.applied",
        app,
        by,
        request,
        {
            "event": str(event.code),
            "source": source,
            "confirmed": counts[Applicant.Status.CONFIRMED],
            "waitlisted": counts[Applicant.Status.WAITLISTED],
        },
    )
    if notify:
        emails.confirmation(app, written, event_url=event_url)
    # The answer is the application as written (ADR 0081; test_apply_answer pins it to GET).
    as_prefetched(app, "applicants", written)
    return app


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
    audit(
        "events.cancelled",
        application,
        by,
        request,
        {"cancelled": len(plan.cancelled), "promoted": len(promoted)},
    )
    emails.cancellation(application, plan.cancelled)
    return plan.cancelled, promoted
