"""Course workflows: setting up a course and its rounds, applying to a round (attendance,
completion and certificates are in renkei.courses.completion).

Applying to a round is events' `apply` on the round's event, after the course's own checks
(the application period and eligibility): capacity, the waiting list, duplicates, the
submit-once key, the confirmation mail and the event row lock are events' (ADR 0030). The
course's extra answers (experience, employer) are written in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Self

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from pydantic import AfterValidator, BeforeValidator, Field, field_validator, model_validator

from renkei.accounts.models import AuditEntry, Membership, OrgKind
from renkei.courses.models import (
    Course,
    CourseRound,
    CourseSession,
    Enrolment,
    SessionKind,
)
from renkei.events import actions as events
from renkei.events.actions.rules import clipped, distinct
from renkei.events.models import (
    Applicant,
    Application,
    Event,
    EventKind,
    Occupation,
)
from renkei.lib.actions import ActionError, Conflict, NotFound, notify
from renkei.lib.inputs import (
    CalendarDate,
    CalendarDateTime,
    Input,
    MunicipalityCode,
    TimeOfDay,
)
from renkei.lib.mail import site_url
from renkei.lib.programme import ProgrammeItem
from renkei.regions.models import Municipality

MAX_ROUNDS = 12
MAX_SESSIONS = 60  # a five-month 講習会 has a session most weeks
ROUND_NOT_FOUND = "研修の回が見つかりません"


# An organiser acts signed in; an applicant by the public form or the e-mailed link.


# --- setting up a course -----------------------------------------------------------------------


def _blank_is_none(value: object) -> object:
    # The form sends "" for a field left empty; the API may send null.
    return value or None


OptionalMunicipality = Annotated[
    MunicipalityCode | None,
    BeforeValidator(_blank_is_none),
    Field(description="市区町村コード（6桁）。空欄は指定なし"),
]


class SessionInput(Input):
    date: CalendarDate = Field(description="日付")
    starts: Annotated[TimeOfDay, Field(description="開始時刻")]
    ends: Annotated[TimeOfDay, Field(description="終了時刻")]
    kind: SessionKind = Field(SessionKind.LECTURE, description="講義 または 実習")
    title: Annotated[str, clipped(200)] = Field("", max_length=200, description="内容")
    venue: Annotated[str, clipped(200)] = Field("", max_length=200, description="会場")
    online: bool = Field(False, description="オンライン")

    @model_validator(mode="after")
    def _sane(self) -> SessionInput:
        if self.ends <= self.starts:
            raise ValueError("終了時刻は開始時刻より後にしてください")
        if not self.venue and not self.online:
            raise ValueError("会場を入力するか、オンラインにしてください")
        return self


class RoundSettingsInput(Input):
    """A round's number, places and application period: what editing a round changes."""

    number: int = Field(ge=1, le=99, description="第n回")
    capacity: int | None = Field(None, ge=1, le=9999, description="定員（空欄は定員なし）")
    apply_from: CalendarDateTime | None = Field(None, description="申込開始")
    apply_until: CalendarDateTime | None = Field(None, description="申込期限")

    @model_validator(mode="after")
    def _period(self) -> Self:
        if self.apply_from and self.apply_until and self.apply_until <= self.apply_from:
            raise ValueError("申込期限は申込開始より後にしてください")
        return self


class RoundInput(RoundSettingsInput):
    """A new round: its settings and at least one session (its first day dates its event)."""

    sessions: list[SessionInput] = Field(min_length=1, max_length=MAX_SESSIONS)


class CourseSettingsInput(Input):
    """A course without its rounds: what editing a course changes."""

    title: Annotated[str, clipped(200)] = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=4000)
    programme_item: ProgrammeItem = ProgrammeItem.KA
    municipality_code: OptionalMunicipality = None
    eligible_occupations: Annotated[list[Occupation], AfterValidator(distinct)] = Field(
        default_factory=list,
        max_length=len(Occupation.values),
        json_schema_extra={"uniqueItems": True},
    )
    min_years_experience: int | None = Field(None, ge=0, le=60)
    employer_kinds: Annotated[list[OrgKind], AfterValidator(distinct)] = Field(
        default_factory=list,
        max_length=len(OrgKind.values),
        json_schema_extra={"uniqueItems": True},
    )
    fee: int = Field(0, ge=0, le=1_000_000, description="受講料（円）")
    min_sessions: int | None = Field(None, ge=1, le=MAX_SESSIONS)
    certificate_label: Annotated[str, clipped(20)] = Field("", max_length=20)
    contact: str = Field("", max_length=1000)
    published: bool = False


class CourseInput(CourseSettingsInput):
    """A new course, with its rounds if they are known (the screen adds them one by one)."""

    rounds: list[RoundInput] = Field(default_factory=list, max_length=MAX_ROUNDS)

    @field_validator("rounds")
    @classmethod
    def _numbers_once(cls, rounds: list[RoundInput]) -> list[RoundInput]:
        numbers = [r.number for r in rounds]
        if len(set(numbers)) != len(numbers):
            raise ValueError("同じ回の番号が2回あります")
        return rounds


def _local(day: dt.date, time: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=timezone.get_current_timezone())


def _municipality(code: str | None) -> Municipality | None:
    if not code:
        return None
    municipality = Municipality.objects.filter(code=code).first()
    if municipality is None:
        raise ActionError("市区町村コードが見つかりません", field="municipality_code")
    return municipality


NO_ROUNDS = "公開するには、回を1つ以上登録してください。"


@transaction.atomic
def create_course(
    data: CourseInput, *, by: Membership, request: HttpRequest | None = None
) -> Course:
    """A course with its rounds; each round gets its event (places, deadline, applicants)."""
    if data.published and not data.rounds:
        raise ActionError(NO_ROUNDS, field="published")
    course = Course.objects.create(
        organization=by.organization,
        municipality=_municipality(data.municipality_code),
        **data.model_dump(exclude={"rounds", "municipality_code"}),
    )
    for r in data.rounds:
        add_round(course, r)
    AuditEntry.record(
        "courses.course_created",
        by=by,
        target=course,
        request=request,
        detail={"rounds": len(data.rounds)},
    )
    return course


@transaction.atomic
def update_course(
    course: Course, data: CourseSettingsInput, *, by: Membership, request: HttpRequest | None = None
) -> Course:
    """The course's settings; its rounds' events follow (title, programme item, area, texts)."""
    course = Course.objects.select_for_update().get(pk=course.pk)
    if data.published and not course.rounds.exists():
        raise ActionError(NO_ROUNDS, field="published")
    for name, value in data.model_dump(exclude={"municipality_code"}).items():
        setattr(course, name, value)
    course.municipality = _municipality(data.municipality_code)
    course.save()
    for rnd in course.rounds.select_related("event"):
        _sync_event(rnd)
    AuditEntry.record(
        "courses.course_updated",
        by=by,
        target=course,
        request=request,
        detail={"published": course.published},
    )
    return course


def _applied(course: Course | CourseRound) -> Conflict | None:
    """The refusal for deleting what people applied to: their places and history stay."""
    rounds = course.rounds.all() if isinstance(course, Course) else [course]
    if Applicant.objects.filter(event__course_round__in=rounds).exists():
        what = "研修" if isinstance(course, Course) else "回"
        return Conflict(
            f"申込のある{what}は削除できません。"
            "受付を止める場合は、非公開にするか申込期限を変更してください。"
        )
    return None


@transaction.atomic
def delete_course(course: Course, *, by: Membership, request: HttpRequest | None = None) -> None:
    """Only a course nobody applied to (a draft or a mistake) is deleted, with its rounds."""
    course = Course.objects.select_for_update().get(pk=course.pk)
    if refusal := _applied(course):
        raise refusal
    AuditEntry.record(
        "courses.course_deleted",
        by=by,
        target=course,
        request=request,
        detail={"title": course.title},
    )
    events_ = [r.event for r in course.rounds.select_related("event")]
    course.delete()
    for event in events_:
        event.delete()


def _event_fields(course: Course, number: int, sessions: list[CourseSession]) -> dict[str, Any]:
    """What a round's event says of the course and of the round's days."""
    days = sorted(sessions, key=lambda s: (s.date, s.starts))
    first_place = next((s for s in days if s.venue), None)
    return {
        "title": f"{course.title} 第{number}回"[:200],
        "programme_item": course.programme_item,
        "municipality": course.municipality,
        "starts_at": _local(days[0].date, days[0].starts),
        "ends_at": _local(days[-1].date, days[-1].ends),
        "venue_name": first_place.venue if first_place else "",
        "description": course.description,
        "contact": course.contact,
    }


def _sync_event(rnd: CourseRound) -> None:
    """Keep the round's event in step with its course and sessions (ADR 0030)."""
    fields = _event_fields(rnd.course, rnd.number, list(rnd.sessions.all()))
    event = rnd.event
    if event.apply_until and event.apply_until > fields["starts_at"]:
        raise ActionError(
            "申込期限が初日より後になります。先に回の申込期限を変更してください。",
            field="date",
        )
    for name, value in fields.items():
        setattr(event, name, value)
    event.save(update_fields=list(fields))


def add_round(course: Course, data: RoundInput) -> CourseRound:
    sessions = [CourseSession(**s.model_dump()) for s in data.sessions]
    fields = _event_fields(course, data.number, sessions)
    if data.apply_until and data.apply_until > fields["starts_at"]:
        raise ActionError("申込期限は初日より前にしてください", field="apply_until")
    if course.rounds.filter(number=data.number).exists():
        raise Conflict(f"第{data.number}回は既にあります。", field="number")
    # The round's event is never published itself: it is applied to from the course's page,
    # where eligibility is checked; events' public pages do not list it.
    event = Event.objects.create(
        organization=course.organization,
        kind=EventKind.OTHER,
        online_url="",
        capacity=data.capacity,
        apply_until=data.apply_until,
        published=False,
        **fields,
    )
    rnd = CourseRound.objects.create(
        course=course, number=data.number, event=event, apply_from=data.apply_from
    )
    for s in sessions:
        s.round = rnd
    CourseSession.objects.bulk_create(sessions)
    return rnd


@transaction.atomic
def create_round(
    course: Course, data: RoundInput, *, by: Membership, request: HttpRequest | None = None
) -> CourseRound:
    """Another round of an existing course, with its first session(s)."""
    course = Course.objects.select_for_update().get(pk=course.pk)
    if course.rounds.count() >= MAX_ROUNDS:
        raise Conflict(f"回は{MAX_ROUNDS}回までです。")
    rnd = add_round(course, data)
    AuditEntry.record(
        "courses.round_added", by=by, target=course, request=request, detail={"round": rnd.number}
    )
    return rnd


def _locked_round(rnd: CourseRound) -> CourseRound:
    """The round with its event row locked: places change under the event's lock (ADR 0009)."""
    Event.objects.select_for_update().get(pk=rnd.event_id)
    return CourseRound.objects.select_related("course", "event").get(pk=rnd.pk)


@transaction.atomic
def update_round(
    rnd: CourseRound,
    data: RoundSettingsInput,
    *,
    by: Membership,
    request: HttpRequest | None = None,
) -> tuple[CourseRound, list[Applicant]]:
    """A round's number, places and period. Raising the places promotes the waiting list
    at once (events' `fill_places`, which mails those promoted)."""
    rnd = _locked_round(rnd)
    event = rnd.event
    if data.apply_until and data.apply_until > event.starts_at:
        raise ActionError("申込期限は初日より前にしてください", field="apply_until")
    if data.number != rnd.number and rnd.course.rounds.filter(number=data.number).exists():
        raise Conflict(f"第{data.number}回は既にあります。", field="number")
    before = rnd.number
    rnd.number = data.number
    rnd.apply_from = data.apply_from
    rnd.save(update_fields=["number", "apply_from"])
    event.capacity = data.capacity
    event.apply_until = data.apply_until
    event.title = f"{rnd.course.title} 第{rnd.number}回"[:200]
    event.save(update_fields=["capacity", "apply_until", "title"])
    promoted = events.fill_places(event)
    AuditEntry.record(
        "courses.round_updated",
        by=by,
        target=rnd,
        request=request,
        detail={
            "number": [before, rnd.number],
            "capacity": data.capacity,
            "promoted": len(promoted),
        },
    )
    return rnd, promoted


@transaction.atomic
def delete_round(rnd: CourseRound, *, by: Membership, request: HttpRequest | None = None) -> None:
    """Only a round nobody applied to is deleted, with its sessions and its event."""
    rnd = _locked_round(rnd)
    if refusal := _applied(rnd):
        raise refusal
    AuditEntry.record(
        "courses.round_deleted",
        by=by,
        target=rnd.course,
        request=request,
        detail={"round": rnd.number},
    )
    event = rnd.event
    rnd.delete()
    event.delete()


@transaction.atomic
def add_session(
    rnd: CourseRound, data: SessionInput, *, by: Membership, request: HttpRequest | None = None
) -> CourseSession:
    rnd = _locked_round(rnd)
    if rnd.sessions.count() >= MAX_SESSIONS:
        raise Conflict(f"日程は1回あたり{MAX_SESSIONS}日までです。")
    session = CourseSession.objects.create(round=rnd, **data.model_dump())
    _sync_event(rnd)
    # A day added to a round people applied to is a day they must now attend: told as a move is.
    told = _tell_session_moved(rnd, None, session)
    AuditEntry.record(
        "courses.session_added",
        by=by,
        target=rnd,
        request=request,
        detail={"session": str(session.code), "told": told},
    )
    return session


@transaction.atomic
def update_session(
    session: CourseSession,
    data: SessionInput,
    *,
    by: Membership,
    request: HttpRequest | None = None,
) -> CourseSession:
    rnd = _locked_round(session.round)
    session = CourseSession.objects.get(pk=session.pk)
    if data.date != session.date and session.attendance.exists():
        raise Conflict(
            "出席を記録済みの日程は日付を変更できません。先に出席を取り消してください。",
            field="date",
        )
    before = CourseSession(**{f: getattr(session, f) for f in MOVES})
    for name, value in data.model_dump().items():
        setattr(session, name, value)
    session.save()
    _sync_event(rnd)
    moved = {
        f: [str(getattr(before, f)), str(getattr(session, f))]
        for f in MOVES
        if getattr(before, f) != getattr(session, f)
    }
    told = _tell_session_moved(rnd, before, session) if moved else 0
    AuditEntry.record(
        "courses.session_updated",
        by=by,
        target=rnd,
        request=request,
        detail={"session": str(session.code), "moved": moved, "told": told},
    )
    return session


# What an applicant plans the day around: a change to any of these is mailed to them.
MOVES = ("date", "starts", "ends", "venue", "online")


def _tell_session_moved(
    rnd: CourseRound, before: CourseSession | None, after: CourseSession | None
) -> int:
    """Mail everyone holding a place or waiting in the round that a day moved (before and
    after), was added (after only) or was dropped (before only): each application's contact
    (with its progress link) and each applicant with an address of their own. Enqueued in the
    action's transaction: sent once it commits, never if it rolls back. Returns how many
    messages."""
    people = (
        Applicant.objects.active()
        .filter(event_id=rnd.event_id)
        .select_related("application")
        .order_by("position")
    )
    contacts: dict[str, Application] = {}
    own: dict[str, Applicant] = {}
    for p in people:
        contacts.setdefault(p.application.contact_email.lower(), p.application)
        if p.has_own_address:
            own.setdefault(p.email_key, p)
    common = {
        "course": rnd.course,
        "round": rnd,
        "before": before,
        "after": after,
        "course_url": site_url(rnd.course.get_absolute_url()),
        "SITE_NAME": settings.SITE_NAME,
    }
    what = "日程変更" if before and after else "日程追加" if after else "日程削除"
    subject = " ".join(f"【{what}】{rnd.course.title} {rnd.label}".split())
    sent = 0
    for app in contacts.values():
        link = site_url(reverse("courses:progress", args=[app.signed_token]))
        sent += notify(
            to=[app.contact_email],
            subject=subject,
            template="courses_session_moved.txt",
            context={**common, "addressee": app.addressee, "link": link},
        )
    for key, p in own.items():
        if key in contacts:
            continue
        sent += notify(
            to=[p.email],
            subject=subject,
            template="courses_session_moved.txt",
            context={**common, "addressee": p.name, "link": ""},
        )
    return sent


@transaction.atomic
def delete_session(
    session: CourseSession, *, by: Membership, request: HttpRequest | None = None
) -> None:
    rnd = _locked_round(session.round)
    if rnd.sessions.count() <= 1:
        raise Conflict("回には日程が1つ以上必要です。回をやめる場合は、回を削除してください。")
    if session.attendance.exists():
        raise Conflict("出席を記録済みの日程は削除できません。先に出席を取り消してください。")
    code = str(session.code)
    # What the mail names once the row is gone.
    dropped = CourseSession(**{f: getattr(session, f) for f in (*MOVES, "title")})
    session.delete()
    _sync_event(rnd)
    told = _tell_session_moved(rnd, dropped, None)
    AuditEntry.record(
        "courses.session_deleted",
        by=by,
        target=rnd,
        request=request,
        detail={"session": code, "told": told},
    )


# --- applying ----------------------------------------------------------------------------------


class CourseApplicantInput(events.EventApplicantInput):
    """One person on the 申込書, with what the course asks beyond the events form."""

    years_experience: int = Field(ge=0, le=60, description="経験年数（年）")


class CourseApplicationInput(events.EventApplicationInput):
    """Seed 002's 申込書 for a course round: an employer applies for several staff at once."""

    employer_kind: OrgKind = Field(description="勤務先の種別（例: visiting_nurse）")
    municipality_code: OptionalMunicipality = Field(
        None, description="勤務先の市区町村コード（集計用）"
    )
    applicants: list[CourseApplicantInput] = Field(  # type: ignore[assignment]
        ..., min_length=1, max_length=events.MAX_APPLICANTS
    )

    def for_event(self) -> events.EventApplicationInput:
        """The part events' apply takes; the rest is the course's."""
        data = self.model_dump(exclude={"employer_kind", "municipality_code"})
        for row in data["applicants"]:
            row.pop("years_experience")
        return events.EventApplicationInput.model_validate(data)


def apply(
    rnd: CourseRound,
    data: CourseApplicationInput,
    *,
    by: Membership | None = None,
    request: HttpRequest | None = None,
    idempotency_key: str = "",
    now: dt.datetime | None = None,
    notify: bool = True,
    proxy: bool = False,
) -> tuple[Application, bool]:
    """Apply for staff to one round; returns the events application and whether it is new.

    Refused whole when the round is closed or any one applicant is not eligible.

    proxy: the organiser (`by`) types in a 申込書 that came by FAX, post or phone. It came
    within the period, so the course's period does not apply, but the course must be
    published and events still refuses a round that has begun; eligibility applies as on the public form. It is marked as FAX and
    records no employer account (the organiser is not the applicants' employer).
    """
    now = now or timezone.now()
    course = rnd.course
    if proxy:
        if by is None or by.organization_id != course.organization_id:
            raise NotFound(ROUND_NOT_FOUND)
        if not course.published:
            # A paper application answers the published announcement; a draft or withdrawn
            # course has none, and an entry would mail a confirmation of a course nobody can
            # see (ADR 0051).
            raise Conflict(
                "この研修は公開されていません。代理入力は研修を公開してから行ってください。"
            )
    elif reason := rnd.closed_reason(now):
        raise Conflict(reason)
    for i, a in enumerate(data.applicants, start=1):
        problem = course.eligibility_problem(a.occupation, a.years_experience, data.employer_kind)
        if problem:
            raise ActionError(f"申込者{i}（{a.name}）: {problem}", field="applicants")
    municipality = None
    if data.municipality_code:
        municipality = Municipality.objects.filter(code=data.municipality_code).first()
        if municipality is None:
            raise ActionError("市区町村コードが見つかりません", field="municipality_code")
    emails = [a.email.lower() for a in data.applicants if a.email]
    elsewhere = (
        Applicant.objects.active()
        .filter(email_key__in=emails, enrolment__round__course=course)
        .exclude(event_id=rnd.event_id)
        .values_list("email_key", flat=True)
    )
    if taken := sorted(set(elsewhere)):
        raise Conflict(
            f"{'、'.join(taken)} は、この研修の別の回に申し込まれています。"
            "回を変える場合は、先にその回の申込を取り消してください。",
            field="applicants",
        )
    with transaction.atomic():
        app, created = events.apply(
            rnd.event,
            data.for_event(),
            source=Application.Source.FAX if proxy else Application.Source.WEB,
            idempotency_key=idempotency_key,
            # The course checked its own period above; events' "published" is not the
            # course's (the round's event is never listed on its own).
            enforce_deadline=False,
            by=by,
            request=request,
            now=now,
            notify=notify,
        )
        if created:
            people = list(app.applicants.order_by("position"))
            Enrolment.objects.bulk_create(
                Enrolment(
                    applicant=p,
                    round=rnd,
                    years_experience=row.years_experience,
                    employer_kind=data.employer_kind,
                    municipality=municipality,
                    employer=by.organization if by and not proxy else None,
                )
                for p, row in zip(people, data.applicants, strict=True)
            )
            if proxy:
                AuditEntry.record(
                    "courses.proxy_applied",
                    by=by,
                    target=rnd,
                    request=request,
                    detail={"application": app.pk, "applicants": len(people)},
                )
    return app, created


def _round_application(rnd: CourseRound, application: Application) -> None:
    if application.event_id != rnd.event_id:
        raise NotFound("この回の申込が見つかりません")


def plan_cancel(
    rnd: CourseRound,
    application: Application,
    data: events.EventCancelInput,
    *,
    now: dt.datetime | None = None,
) -> events.CancelPlan:
    """What cancelling would do (who leaves, who moves up in this round): the confirmation
    page shows it before `cancel` does it; it refuses what `cancel` would refuse."""
    _round_application(rnd, application)
    return events.plan_cancel(application, data, now=now)


@transaction.atomic
def cancel(
    rnd: CourseRound,
    application: Application,
    data: events.EventCancelInput,
    *,
    by: Membership | None = None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> tuple[list[Applicant], list[Applicant]]:
    """Cancel applicants of one application to this round: the round's places go to its own
    waiting list in order (events' rule, under the round's event lock), both sides are told
    by mail. Returns (cancelled, promoted)."""
    _round_application(rnd, application)
    cancelled, promoted = events.cancel(application, data, by=by, request=request, now=now)
    AuditEntry.record(
        "courses.cancelled",
        by=by,
        target=rnd,
        request=request,
        actor_label="" if by else "申込者",
        detail={
            "application": application.pk,
            "cancelled": [str(a.code) for a in cancelled],
            "promoted": len(promoted),
        },
    )
    return cancelled, promoted
