"""同行研修 workflows: apply, match, notify, schedule, report, pay. Audited and transactional.

Each workflow takes one typed input, produced alike by the screen's form and the API's body
(docs/architecture.md, "The action layer"); refusals are `renkei.lib.actions` errors, and
every e-mail is enqueued with the change that causes it.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Sequence
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from pydantic import AfterValidator, BeforeValidator, Field

from renkei.accounts.models import AuditEntry, Membership
from renkei.lib import mail
from renkei.lib.actions import ActionError, Conflict, Forbidden, NotFound, full_clean, notify
from renkei.lib.inputs import CalendarDate, FiscalYear, Input, required
from renkei.mentoring.models import (
    ApplicationStatus,
    Match,
    Mentor,
    Profession,
    TraineeApplication,
    TrainingProgram,
    area_choices,
    can_organise,
    weekday_mask,
)
from renkei.regions.models import Municipality

PHONE_PATTERN = r"^[0-9０-９\-‐ー()（） +]{6,20}$"
AREAS_UNKNOWN = (
    "選べない市区町村が含まれています（研修を行う都道府県の市区町村コードを指定してください）"
)
MENTOR_UNKNOWN = "選んだ指導医はこの研修に登録されていません"


def _email(value: str) -> str:
    try:
        validate_email(value)
    except ValidationError:
        raise ValueError("メールアドレスの形式が正しくありません") from None
    return value


def _phone(value: Any) -> Any:
    if isinstance(value, str) and value.strip() and not re.match(PHONE_PATTERN, value.strip()):
        raise ValueError("電話番号の形式が正しくありません")
    return value


Email = Annotated[
    str,
    Field(max_length=254, json_schema_extra={"format": "email"}),
    AfterValidator(_email),
]
Phone = Annotated[str, Field(pattern=PHONE_PATTERN), BeforeValidator(_phone)]
OptionalPhone = Annotated[
    str, Field(pattern=r"^([0-9０-９\-‐ー()（） +]{6,20})?$"), BeforeValidator(_phone)
]
AreaCode = Annotated[str, Field(pattern=r"^\d{6}$", description="市区町村コード")]
Weekday = Annotated[int, Field(ge=0, le=6, description="0=月 … 6=日")]


# Inputs ---------------------------------------------------------------------------------


class TrainingProgramInput(Input):
    """One fiscal year's programme: the office's settings form and the API's body."""

    fiscal_year: FiscalYear
    name: str = Field("在宅医同行研修", min_length=1, max_length=100)
    co_organizer: str = Field("", max_length=100)
    planned_count: int = Field(..., ge=1, le=1000)
    honorarium_amount: int = Field(..., ge=0, le=1_000_000)
    is_open: bool = True
    contact: str = Field("", max_length=200)


class TraineeApplicationInput(Input):
    """The 申込書: the public form, the office's proxy entry and the API's body."""

    trainee_name: str = Field(..., min_length=1, max_length=60)
    trainee_kana: str = Field(..., min_length=1, max_length=60)
    profession: Profession
    affiliation: str = Field(..., min_length=1, max_length=120)
    email: Email
    phone: Phone
    preferred_areas: list[AreaCode] = Field(default_factory=list, max_length=50)
    preferred_weekdays: list[Weekday] = Field(default_factory=list, max_length=7)
    preferred_dates: str = Field("", max_length=300)
    motivation: str = Field("", max_length=2000)


class MentorInput(Input):
    name: str = Field(..., min_length=1, max_length=60)
    kana: str = Field("", max_length=60)
    affiliation: str = Field(..., min_length=1, max_length=120)
    email: Email
    phone: OptionalPhone = ""
    recommended: bool = False
    recommended_on: CalendarDate | None = Field(None, description="推薦日（推薦ありの場合は必須）")
    areas: list[AreaCode] = Field(default_factory=list, max_length=100)
    weekdays: list[Weekday] = Field(default_factory=list, max_length=7)
    availability: str = Field("", max_length=200)
    is_active: bool = True


class MentorDecisionInput(Input):
    mentor: Annotated[uuid.UUID, required("指導医を選んでください")] = Field(
        description="指導医のコード"
    )


class VisitDateInput(Input):
    visit_date: Annotated[CalendarDate, required("研修日を入力してください")] = Field(
        description="研修日（研修の年度内）"
    )


class MentoringReportInput(Input):
    text: Annotated[
        str, Field(min_length=1, max_length=4000), required("報告の内容を入力してください")
    ]


class HonorariumInput(Input):
    amount: int = Field(..., ge=1, le=1_000_000, description="支払額（円）")
    paid_at: CalendarDate = Field(description="支払日（今日まで）")


class MentoringCancelInput(Input):
    reason: Annotated[
        str, Field(min_length=1, max_length=200), required("取消の理由を入力してください")
    ]


class ApplicationFilter(Input):
    status: ApplicationStatus | None = None


# Helpers ------------------------------------------------------------------------------


def _require_office(program: TrainingProgram, by: Membership) -> None:
    # The doors fetch through the office's getters already; this keeps a direct call honest.
    if by.organization_id != program.organizer_id:
        raise NotFound("同行研修が見つかりません")


def _locked_match(match: Match) -> Match:
    """The match, locked for this transaction, with what the rules and the notices read
    (only the match's row is locked: the office and mentor rows stay free)."""
    return (
        Match.objects.select_for_update(of=("self",))
        .select_related("application__program__organizer", "mentor")
        .get(pk=match.pk)
    )


def _locked_application(application: TraineeApplication) -> TraineeApplication:
    return (
        TraineeApplication.objects.select_for_update(of=("self",))
        .select_related("program__organizer")
        .get(pk=application.pk)
    )


def _areas(program_or_office: Any, codes: Sequence[str], field: str) -> list[Municipality]:
    unique = list(dict.fromkeys(codes))
    found = list(area_choices(program_or_office).filter(code__in=unique))
    if len(found) != len(unique):
        raise ActionError(AREAS_UNKNOWN, field=field)
    return found


# Programmes and mentors ------------------------------------------------------------------


@transaction.atomic
def save_program(
    *,
    by: Membership,
    data: TrainingProgramInput,
    program: TrainingProgram | None = None,
    request: HttpRequest | None = None,
) -> TrainingProgram:
    if program is None:
        if not can_organise(by.organization):
            raise Forbidden("同行研修を主催できるのは市区町村・医師会・連携支援センターです")
        program = TrainingProgram(organizer=by.organization)
    else:
        _require_office(program, by)
    fields = data.model_dump()
    for name, value in fields.items():
        setattr(program, name, value)
    if (
        TrainingProgram.objects.filter(
            organizer_id=program.organizer_id, fiscal_year=program.fiscal_year
        )
        .exclude(pk=program.pk)
        .exists()
    ):
        raise ActionError("この年度の同行研修は既に登録されています", field="fiscal_year")
    full_clean(program)
    program.save()
    AuditEntry.record(
        "mentoring.program_saved", by=by, target=program, request=request, detail=fields
    )
    return program


@transaction.atomic
def save_mentor(
    *,
    by: Membership,
    data: MentorInput,
    mentor: Mentor | None = None,
    request: HttpRequest | None = None,
) -> Mentor:
    if mentor is None:
        if not can_organise(by.organization):
            raise Forbidden("指導医を登録できるのは同行研修の事務局です")
        mentor = Mentor(office=by.organization)
    elif mentor.office_id != by.organization_id:
        raise NotFound("指導医が見つかりません")
    if data.recommended and data.recommended_on is None:
        raise ActionError(
            "医師会の推薦がある場合は推薦日を入力してください", field="recommended_on"
        )
    if data.recommended_on is not None and data.recommended_on > timezone.localdate():
        raise ActionError("推薦日に未来の日付は入力できません", field="recommended_on")
    areas = _areas(by.organization, data.areas, "areas")
    for name, value in data.model_dump(exclude={"areas", "weekdays"}).items():
        setattr(mentor, name, value)
    mentor.weekdays = weekday_mask(data.weekdays)
    full_clean(mentor, exclude=["areas"])
    mentor.save()
    mentor.areas.set(areas)
    AuditEntry.record("mentoring.mentor_saved", by=by, target=mentor, request=request)
    return mentor


# Applications ------------------------------------------------------------------------------


@transaction.atomic
def apply(
    program: TrainingProgram,
    *,
    data: TraineeApplicationInput,
    by: Membership | None = None,
    today: dt.date | None = None,
    request: HttpRequest | None = None,
) -> TraineeApplication:
    """Register an application (the trainee's own, or entered by the office from paper).

    The once-per-year rule is checked under a lock on the programme so that two
    simultaneous applications by the same person cannot both pass.
    """
    if by is not None:
        _require_office(program, by)
    program = (
        TrainingProgram.objects.select_for_update(of=("self",))
        .select_related("organizer")
        .get(pk=program.pk)
    )
    if not program.is_open and by is None:
        raise Conflict("この研修は現在、申込みを受け付けていません")
    areas = _areas(program.organizer, data.preferred_areas, "preferred_areas")
    TraineeApplication.objects.check_once_per_year(
        program,
        email=data.email,
        name=data.trainee_name,
        kana=data.trainee_kana,
        today=today,
    )
    application = TraineeApplication(
        program=program,
        entered_by=by.user if by else None,
        preferred_weekdays=weekday_mask(data.preferred_weekdays),
        **data.model_dump(exclude={"preferred_areas", "preferred_weekdays"}),
    )
    full_clean(application, exclude=["preferred_areas", "trainee_key", "program"])
    application.save()
    application.preferred_areas.set(areas)
    AuditEntry.record(
        "mentoring.applied",
        by=by,
        target=application,
        request=request,
        actor_label="" if by else "申込者（公開フォーム）",
        detail={"program": str(program.code), "profession": application.profession},
    )
    notify(
        to=[application.email],
        subject=f"お申込みを受け付けました（{program.name}）",
        template="mentoring_application_received.txt",
        context={"a": application},
    )
    return application


@transaction.atomic
def cancel_application(
    application: TraineeApplication,
    *,
    by: Membership,
    data: MentoringCancelInput,
    request: HttpRequest | None = None,
) -> TraineeApplication:
    application = _locked_application(application)
    _require_office(application.program, by)
    if application.status in (
        ApplicationStatus.DONE,
        ApplicationStatus.REPORTED,
        ApplicationStatus.CANCELLED,
    ):
        raise Conflict(f"「{application.get_status_display()}」の申込は取り消せません")
    application.status = ApplicationStatus.CANCELLED
    application.cancelled_at = timezone.now()
    application.cancel_reason = data.reason
    application.save(update_fields=["status", "cancelled_at", "cancel_reason"])
    AuditEntry.record(
        "mentoring.cancelled",
        by=by,
        target=application,
        request=request,
        detail={"reason": data.reason},
    )
    return application


# Matches ---------------------------------------------------------------------------------


@transaction.atomic
def decide_match(
    application: TraineeApplication,
    *,
    by: Membership,
    data: MentorDecisionInput,
    today: dt.date | None = None,
    request: HttpRequest | None = None,
) -> Match:
    """The office chooses a mentor; the decision notice goes to both with the commit."""
    application = _locked_application(application)
    program = application.program
    _require_office(program, by)
    mentor = Mentor.objects.filter(office_id=program.organizer_id, code=data.mentor).first()
    if mentor is None:
        raise ActionError(MENTOR_UNKNOWN, field="mentor")
    if application.status != ApplicationStatus.APPLIED:
        raise Conflict(
            f"この申込は「{application.get_status_display()}」のため、指導医を決定できません"
        )
    if not mentor.is_active:
        raise Conflict("この研修の指導医として登録され、受入れ中の医師を選んでください")
    TraineeApplication.objects.check_once_per_year(
        program,
        email=application.email,
        name=application.trainee_name,
        kana=application.trainee_kana,
        today=today,
        exclude=application,
    )
    match = Match.objects.create(
        application=application,
        mentor=mentor,
        decided_at=timezone.now(),
        decided_by=by.user,
    )
    application.status = ApplicationStatus.MATCHED
    application.save(update_fields=["status"])
    AuditEntry.record(
        "mentoring.matched",
        by=by,
        target=match,
        request=request,
        detail={"application": str(application.code), "mentor": str(mentor.code)},
    )
    _send_decision_notices(match)
    return match


def _send_decision_notices(match: Match) -> None:
    """決定連絡票 to the mentor and the trainee, each with their own report link."""
    a, program = match.application, match.application.program
    for side, address, template in (
        (Match.Side.MENTOR, match.mentor.email, "mentoring_decision_mentor.txt"),
        (Match.Side.TRAINEE, a.email, "mentoring_decision_trainee.txt"),
    ):
        party_url = match.party_url(side)
        notify(
            to=[address],
            subject=f"決定連絡票（{program.name} {program.fy_label}）",
            template=template,
            context={
                "match": match,
                "a": a,
                "program": program,
                "mentor": match.mentor,
                "party_url": mail.site_url(party_url),
                "notice_url": mail.site_url(party_url.rstrip("/") + "/notice/"),
            },
        )
    match.notice_sent_at = timezone.now()
    match.save(update_fields=["notice_sent_at"])


@transaction.atomic
def resend_decision_notices(
    match: Match, *, by: Membership, request: HttpRequest | None = None
) -> Match:
    """Send the 決定連絡票 again (a lost mail, a changed address)."""
    match = _locked_match(match)
    _require_office(match.application.program, by)
    if match.application.status == ApplicationStatus.CANCELLED:
        raise Conflict("この研修は取り消されています")
    _send_decision_notices(match)
    AuditEntry.record("mentoring.notices_resent", by=by, target=match, request=request)
    return match


@transaction.atomic
def set_visit_date(
    match: Match,
    *,
    data: VisitDateInput,
    by: Membership | None = None,
    side: str = "",
    request: HttpRequest | None = None,
) -> Match:
    """Record the date mentor and trainee agreed on (either of them, or the office)."""
    match = _locked_match(match)
    a = match.application
    if by is not None:
        _require_office(a.program, by)
    if a.status not in (ApplicationStatus.MATCHED, ApplicationStatus.SCHEDULED):
        raise Conflict(f"この研修は「{a.get_status_display()}」のため、日程を変更できません")
    start, end = dt.date(a.program.fiscal_year, 4, 1), dt.date(a.program.fiscal_year + 1, 3, 31)
    if not start <= data.visit_date <= end:
        raise ActionError(
            f"研修日は{a.program.fy_label}の期間内（{start}〜{end}）で入力してください",
            field="visit_date",
        )
    match.visit_date = data.visit_date
    match.save(update_fields=["visit_date"])
    a.status = ApplicationStatus.SCHEDULED
    a.save(update_fields=["status"])
    AuditEntry.record(
        "mentoring.scheduled",
        by=by,
        target=match,
        request=request,
        actor_label="" if by else Match.Side(side).label if side else "",
        detail={"visit_date": data.visit_date.isoformat(), "side": side},
    )
    return match


@transaction.atomic
def file_report(
    match: Match,
    *,
    side: str,
    data: MentoringReportInput,
    today: dt.date | None = None,
    request: HttpRequest | None = None,
) -> Match:
    """実施報告書 / 受講報告書: once per side, after the visit day."""
    if side not in Match.Side.values:
        raise NotFound("リンクが無効です")
    match = _locked_match(match)
    a = match.application
    today = today or timezone.localdate()
    if a.status == ApplicationStatus.CANCELLED:
        raise Conflict("この研修は取り消されています")
    # Steps asked for too early are refused (400); steps the state has moved past are 409.
    if match.visit_date is None:
        raise ActionError("研修日が登録されていません。先に研修日を登録してください")
    if match.visit_date > today:
        d = match.visit_date
        raise ActionError(f"報告は研修日（{d.year}年{d.month}月{d.day}日）以降に提出してください")
    if match.report_at(side) is not None:
        raise Conflict("報告は既に提出されています")
    now = timezone.now()
    if side == Match.Side.MENTOR:
        match.mentor_report, match.mentor_report_at = data.text, now
        match.save(update_fields=["mentor_report", "mentor_report_at"])
    else:
        match.trainee_report, match.trainee_report_at = data.text, now
        match.save(update_fields=["trainee_report", "trainee_report_at"])
    both = match.mentor_report_at is not None and match.trainee_report_at is not None
    a.status = ApplicationStatus.REPORTED if both else ApplicationStatus.DONE
    a.save(update_fields=["status"])
    AuditEntry.record(
        "mentoring.reported",
        target=match,
        request=request,
        actor_label=Match.Side(side).label,
        detail={"side": side},
    )
    return match


@transaction.atomic
def record_honorarium(
    match: Match,
    *,
    by: Membership,
    data: HonorariumInput,
    request: HttpRequest | None = None,
) -> Match:
    match = _locked_match(match)
    _require_office(match.application.program, by)
    if match.mentor_report_at is None:
        raise ActionError("指導医の実施報告が提出されてから謝礼を記録してください")
    if match.honorarium_paid_at is not None:
        raise Conflict("この研修の謝礼は既に記録されています")
    if data.paid_at > timezone.localdate():
        raise ActionError("支払日に未来の日付は入力できません", field="paid_at")
    match.honorarium_amount = data.amount
    match.honorarium_paid_at = data.paid_at
    match.honorarium_recorded_by = by.user
    match.save(update_fields=["honorarium_amount", "honorarium_paid_at", "honorarium_recorded_by"])
    AuditEntry.record(
        "mentoring.honorarium_recorded",
        by=by,
        target=match,
        request=request,
        detail={"amount": data.amount, "paid_at": data.paid_at.isoformat()},
    )
    return match
