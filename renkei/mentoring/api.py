"""同行研修 endpoints of /api/v1/mentoring/.

The office (members of the programme's organiser) works with session auth; trainees apply
without signing in; mentor and trainee reach their own match with the signed token only.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from ninja.security import SessionAuth
from pydantic import field_validator

from renkei.accounts.models import Membership
from renkei.lib import ratelimit
from renkei.lib.http import api_membership as _membership
from renkei.mentoring import actions
from renkei.mentoring.models import (
    ORGANISER_KINDS,
    ApplicationStatus,
    Match,
    Mentor,
    Profession,
    TraineeApplication,
    TrainingProgram,
    suggestions,
    weekday_mask,
)
from renkei.mentoring.summary import yearly_summary
from renkei.regions.models import Municipality

router = Router(tags=["mentoring"], auth=SessionAuth())


class ErrorOut(Schema):
    detail: str


def _email(value: str) -> str:
    from django.core.validators import validate_email

    value = value.strip()
    try:
        validate_email(value)
    except ValidationError:
        raise ValueError("メールアドレスの形式が正しくありません") from None
    return value


class ProgramIn(Schema):
    fiscal_year: int = Field(..., ge=2000, le=2100)
    name: str = Field("在宅医同行研修", min_length=1, max_length=100)
    co_organizer: str = Field("", max_length=100)
    planned_count: int = Field(..., ge=1, le=1000)
    honorarium_amount: int = Field(..., ge=0, le=1_000_000)
    is_open: bool = True
    contact: str = Field("", max_length=200)


class ProgramOut(Schema):
    code: uuid.UUID
    organizer: str
    name: str
    fiscal_year: int
    label: str
    planned_count: int
    honorarium_amount: int
    is_open: bool
    extra_trainings_allowed: bool = Field(description="今日、同じ受講者の追加受講が認められるか")


class TraineeApplicationIn(Schema):
    trainee_name: str = Field(..., min_length=1, max_length=60)
    trainee_kana: str = Field(..., min_length=1, max_length=60)
    profession: Profession
    affiliation: str = Field(..., min_length=1, max_length=120)
    email: str = Field(..., max_length=254)
    phone: str = Field(..., pattern=r"^[0-9０-９\-‐ー()（） +]{6,20}$")
    preferred_areas: list[str] = Field(
        default_factory=list, max_length=50, description="市区町村コード"
    )
    preferred_weekdays: list[int] = Field(
        default_factory=list, max_length=7, description="0=月 … 6=日"
    )
    preferred_dates: str = Field("", max_length=300)
    motivation: str = Field("", max_length=2000)

    _check_email = field_validator("email")(_email)


class TraineeApplicationOut(Schema):
    code: uuid.UUID
    program: uuid.UUID
    trainee_name: str
    trainee_kana: str
    profession: Profession
    affiliation: str
    email: str
    phone: str
    preferred_areas: list[str]
    preferred_weekdays: list[str]
    preferred_dates: str
    motivation: str
    status: ApplicationStatus
    applied_at: dt.datetime
    match: uuid.UUID | None


class AppliedOut(Schema):
    code: uuid.UUID
    status: ApplicationStatus
    message: str


class MentorIn(Schema):
    name: str = Field(..., min_length=1, max_length=60)
    kana: str = Field("", max_length=60)
    affiliation: str = Field(..., min_length=1, max_length=120)
    email: str = Field(..., max_length=254)
    phone: str = Field("", pattern=r"^([0-9０-９\-‐ー()（） +]{6,20})?$")
    recommended: bool = False
    recommended_on: dt.date | None = None
    areas: list[str] = Field(default_factory=list, max_length=100)
    weekdays: list[int] = Field(default_factory=list, max_length=7)
    availability: str = Field("", max_length=200)
    is_active: bool = True

    _check_email = field_validator("email")(_email)


class MentorOut(Schema):
    code: uuid.UUID
    name: str
    kana: str
    affiliation: str
    recommended: bool
    recommended_on: dt.date | None
    areas: list[str]
    weekdays: list[str]
    availability: str
    is_active: bool


class SuggestionOut(Schema):
    mentor: MentorOut
    area_hits: int
    day_ok: bool
    load: int
    reasons: list[str]


class MatchIn(Schema):
    mentor: uuid.UUID


class MentoringCancelIn(Schema):
    reason: str = Field(..., min_length=1, max_length=200)


class VisitIn(Schema):
    visit_date: dt.date


class HonorariumIn(Schema):
    amount: int = Field(..., ge=1, le=1_000_000)
    paid_at: dt.date


class ReportIn(Schema):
    text: str = Field(..., min_length=1, max_length=4000)


class MatchOut(Schema):
    code: uuid.UUID
    application: uuid.UUID
    trainee_name: str
    mentor_name: str
    status: ApplicationStatus
    decided_at: dt.datetime
    notice_sent_at: dt.datetime | None
    visit_date: dt.date | None
    mentor_report_at: dt.datetime | None
    trainee_report_at: dt.datetime | None
    honorarium_amount: int | None
    honorarium_paid_at: dt.date | None


class PartyOut(Schema):
    side: str
    program: str
    trainee_name: str
    mentor_name: str
    status: ApplicationStatus
    visit_date: dt.date | None
    own_report: str
    own_report_at: dt.datetime | None


class ProfessionRowOut(Schema):
    label: str
    applications: int
    cancelled: int
    matched: int
    done: int


class MentorRowOut(Schema):
    name: str
    affiliation: str
    matches: int
    done: int
    honoraria: int


class SummaryOut(Schema):
    program: uuid.UUID
    label: str
    planned_count: int
    applications: int
    cancelled: int
    matched: int
    done: int
    reported: int
    honoraria_total: int
    by_profession: list[ProfessionRowOut]
    mentors: list[MentorRowOut]


# Helpers ---------------------------------------------------------------------------


def _program(request: HttpRequest, code: uuid.UUID) -> tuple[TrainingProgram, Membership]:
    m = _membership(request)
    p = TrainingProgram.objects.for_office(m).select_related("organizer").filter(code=code).first()
    if p is None:
        raise HttpError(404, "同行研修が見つかりません")
    return p, m


def _application(request: HttpRequest, code: uuid.UUID) -> tuple[TraineeApplication, Membership]:
    m = _membership(request)
    a = (
        TraineeApplication.objects.for_office(m)
        .select_related("program__organizer")
        .filter(code=code)
        .first()
    )
    if a is None:
        raise HttpError(404, "申込が見つかりません")
    return a, m


def _match(request: HttpRequest, code: uuid.UUID) -> tuple[Match, Membership]:
    m = _membership(request)
    match = (
        Match.objects.filter(application__program__organizer_id=m.organization_id)
        .select_related("application__program", "mentor")
        .filter(code=code)
        .first()
    )
    if match is None:
        raise HttpError(404, "マッチングが見つかりません")
    return match, m


def _municipalities(codes: list[str]) -> list[Municipality]:
    unique = list(dict.fromkeys(codes))
    found = list(Municipality.objects.filter(code__in=unique))
    if len(found) != len(unique):
        raise HttpError(400, "存在しない市区町村コードが含まれています")
    return found


def _mask(days: list[int]) -> int:
    try:
        return weekday_mask(days)
    except ValueError as e:
        raise HttpError(400, str(e)) from None


def _messages(e: Exception) -> str:
    return " ".join(getattr(e, "messages", [str(e)]))


def program_out(p: TrainingProgram) -> dict[str, Any]:
    return {
        "code": p.code,
        "organizer": p.organizer.name,
        "name": p.name,
        "fiscal_year": p.fiscal_year,
        "label": p.fy_label,
        "planned_count": p.planned_count,
        "honorarium_amount": p.honorarium_amount,
        "is_open": p.is_open,
        "extra_trainings_allowed": p.extra_trainings_allowed(),
    }


def application_out(a: TraineeApplication) -> dict[str, Any]:
    match = a.current_match()
    return {
        "code": a.code,
        "program": a.program.code,
        "trainee_name": a.trainee_name,
        "trainee_kana": a.trainee_kana,
        "profession": a.profession,
        "affiliation": a.affiliation,
        "email": a.email,
        "phone": a.phone,
        "preferred_areas": [m.code for m in a.preferred_areas.all()],
        "preferred_weekdays": a.weekday_labels(),
        "preferred_dates": a.preferred_dates,
        "motivation": a.motivation,
        "status": a.status,
        "applied_at": a.applied_at,
        "match": match.code if match else None,
    }


def mentor_out(m: Mentor) -> dict[str, Any]:
    return {
        "code": m.code,
        "name": m.name,
        "kana": m.kana,
        "affiliation": m.affiliation,
        "recommended": m.recommended,
        "recommended_on": m.recommended_on,
        "areas": [x.code for x in m.areas.all()],
        "weekdays": m.weekday_labels(),
        "availability": m.availability,
        "is_active": m.is_active,
    }


def match_out(match: Match) -> dict[str, Any]:
    return {
        "code": match.code,
        "application": match.application.code,
        "trainee_name": match.application.trainee_name,
        "mentor_name": match.mentor.name,
        "status": match.application.status,
        "decided_at": match.decided_at,
        "notice_sent_at": match.notice_sent_at,
        "visit_date": match.visit_date,
        "mentor_report_at": match.mentor_report_at,
        "trainee_report_at": match.trainee_report_at,
        "honorarium_amount": match.honorarium_amount,
        "honorarium_paid_at": match.honorarium_paid_at,
    }


def _application_fields(payload: TraineeApplicationIn) -> dict[str, Any]:
    return {
        "trainee_name": payload.trainee_name.strip(),
        "trainee_kana": payload.trainee_kana.strip(),
        "profession": payload.profession,
        "affiliation": payload.affiliation.strip(),
        "email": str(payload.email),
        "phone": payload.phone,
        "preferred_weekdays": _mask(payload.preferred_weekdays),
        "preferred_dates": payload.preferred_dates,
        "motivation": payload.motivation,
    }


# Programmes ----------------------------------------------------------------------------


@router.get(
    "/programs",
    response={200: list[ProgramOut], 403: ErrorOut},
    summary="事務局の同行研修（年度）一覧",
)
def list_programs(request: HttpRequest) -> Status[Any]:
    m = _membership(request)
    return Status(
        200,
        [program_out(p) for p in TrainingProgram.objects.for_office(m).select_related("organizer")],
    )


@router.post(
    "/programs",
    response={201: ProgramOut, 400: ErrorOut, 403: ErrorOut},
    summary="同行研修（年度）を登録する",
)
def create_program(request: HttpRequest, payload: ProgramIn) -> Status[Any]:
    m = _membership(request)
    if m.organization.kind not in ORGANISER_KINDS:
        return Status(
            403, {"detail": "同行研修を主催できるのは市区町村・医師会・連携支援センターです"}
        )
    try:
        p = actions.save_program(by=m, fields=payload.dict(), request=request)
    except ValidationError as e:
        return Status(400, {"detail": _messages(e)})
    return Status(201, program_out(p))


@router.get(
    "/programs/{code}/summary",
    response={200: SummaryOut, 403: ErrorOut, 404: ErrorOut},
    summary="年度の実績（申込・実施・職種別・指導医別・謝礼）",
)
def get_summary(request: HttpRequest, code: uuid.UUID) -> Status[Any]:
    p, _ = _program(request, code)
    s = yearly_summary(p)
    return Status(
        200,
        {
            "program": p.code,
            "label": p.fy_label,
            "planned_count": p.planned_count,
            "applications": s.applications,
            "cancelled": s.cancelled,
            "matched": s.matched,
            "done": s.done,
            "reported": s.reported,
            "honoraria_total": s.honoraria_total,
            "by_profession": [vars(r) for r in s.by_profession],
            "mentors": [vars(r) for r in s.mentors],
        },
    )


# Applications -------------------------------------------------------------------------


@router.get(
    "/programs/{code}/applications",
    response={200: list[TraineeApplicationOut], 403: ErrorOut, 404: ErrorOut},
    summary="申込の一覧",
)
def list_applications(
    request: HttpRequest, code: uuid.UUID, status: ApplicationStatus | None = None
) -> Status[Any]:
    p, _ = _program(request, code)
    qs = p.applications.select_related("program", "match").prefetch_related("preferred_areas")
    if status:
        qs = qs.filter(status=status)
    return Status(200, [application_out(a) for a in qs.order_by("-applied_at")[:1000]])


@router.post(
    "/programs/{code}/applications",
    response={
        201: TraineeApplicationOut,
        400: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
    },
    summary="申込を代理入力する（事務局）",
)
def create_application(
    request: HttpRequest, code: uuid.UUID, payload: TraineeApplicationIn
) -> Status[Any]:
    p, m = _program(request, code)
    areas = _municipalities(payload.preferred_areas)
    try:
        a = actions.apply(
            p, fields=_application_fields(payload), areas=areas, by=m, request=request
        )
    except ValidationError as e:
        return Status(400, {"detail": _messages(e)})
    except actions.MentoringError as e:
        return Status(409, {"detail": str(e)})
    except ValueError as e:  # OncePerYearError
        return Status(409, {"detail": str(e)})
    return Status(201, application_out(a))


@router.post(
    "/programs/{code}/apply",
    response={201: AppliedOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut, 429: ErrorOut},
    auth=None,
    summary="受講を申し込む（ログイン不要）",
)
def apply_public(
    request: HttpRequest, code: uuid.UUID, payload: TraineeApplicationIn
) -> Status[Any]:
    ratelimit.check(request, "public_form")
    p = TrainingProgram.objects.select_related("organizer").filter(code=code).first()
    if p is None:
        raise HttpError(404, "同行研修が見つかりません")
    areas = _municipalities(payload.preferred_areas)
    try:
        a = actions.apply(p, fields=_application_fields(payload), areas=areas, request=request)
    except ValidationError as e:
        return Status(400, {"detail": _messages(e)})
    except ValueError as e:  # MentoringError, OncePerYearError
        return Status(409, {"detail": str(e)})
    return Status(
        201,
        {
            "code": a.code,
            "status": a.status,
            "message": "申込みを受け付けました。確認のメールをお送りしました。",
        },
    )


@router.get(
    "/applications/{code}",
    response={200: TraineeApplicationOut, 403: ErrorOut, 404: ErrorOut},
    summary="申込の詳細",
)
def get_application(request: HttpRequest, code: uuid.UUID) -> Status[Any]:
    a, _ = _application(request, code)
    return Status(200, application_out(a))


@router.get(
    "/applications/{code}/suggestions",
    response={200: list[SuggestionOut], 403: ErrorOut, 404: ErrorOut},
    summary="指導医の候補（地域・曜日・今年度の担当件数で順位付け、理由つき）",
)
def get_suggestions(request: HttpRequest, code: uuid.UUID) -> Status[Any]:
    a, _ = _application(request, code)
    return Status(
        200,
        [
            {
                "mentor": mentor_out(s.mentor),
                "area_hits": s.area_hits,
                "day_ok": s.day_ok,
                "load": s.load,
                "reasons": s.reasons,
            }
            for s in suggestions(a)
        ],
    )


@router.post(
    "/applications/{code}/match",
    response={201: MatchOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="指導医を決定し、決定連絡票を両者にメールする",
)
def decide(request: HttpRequest, code: uuid.UUID, payload: MatchIn) -> Status[Any]:
    a, m = _application(request, code)
    mentor = Mentor.objects.for_office(m.organization).filter(code=payload.mentor).first()
    if mentor is None:
        return Status(400, {"detail": "選んだ指導医はこの研修に登録されていません"})
    try:
        match = actions.decide_match(a, mentor, by=m, request=request)
    except ValueError as e:
        return Status(409, {"detail": str(e)})
    return Status(201, match_out(match))


@router.post(
    "/applications/{code}/cancel",
    response={
        200: TraineeApplicationOut,
        400: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
    },
    summary="申込を取り消す",
)
def cancel(request: HttpRequest, code: uuid.UUID, payload: MentoringCancelIn) -> Status[Any]:
    a, m = _application(request, code)
    try:
        a = actions.cancel_application(a, by=m, reason=payload.reason, request=request)
    except ValidationError as e:
        return Status(400, {"detail": _messages(e)})
    except actions.MentoringError as e:
        return Status(409, {"detail": str(e)})
    return Status(200, application_out(a))


# Matches ---------------------------------------------------------------------------------


@router.get(
    "/matches/{code}",
    response={200: MatchOut, 403: ErrorOut, 404: ErrorOut},
    summary="マッチングの詳細",
)
def get_match(request: HttpRequest, code: uuid.UUID) -> Status[Any]:
    match, _ = _match(request, code)
    return Status(200, match_out(match))


@router.put(
    "/matches/{code}/visit",
    response={200: MatchOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="研修日を登録する（事務局）",
)
def put_visit(request: HttpRequest, code: uuid.UUID, payload: VisitIn) -> Status[Any]:
    match, m = _match(request, code)
    try:
        match = actions.set_visit_date(match, payload.visit_date, by=m, request=request)
    except ValidationError as e:
        return Status(400, {"detail": _messages(e)})
    except actions.MentoringError as e:
        return Status(409, {"detail": str(e)})
    return Status(200, match_out(match))


@router.post(
    "/matches/{code}/honorarium",
    response={200: MatchOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="指導謝礼の支払いを記録する",
)
def post_honorarium(request: HttpRequest, code: uuid.UUID, payload: HonorariumIn) -> Status[Any]:
    match, m = _match(request, code)
    try:
        match = actions.record_honorarium(
            match, by=m, amount=payload.amount, paid_at=payload.paid_at, request=request
        )
    except ValidationError as e:
        return Status(400, {"detail": _messages(e)})
    except (actions.MentoringError, PermissionDenied) as e:
        return Status(409, {"detail": str(e)})
    return Status(200, match_out(match))


# Mentors --------------------------------------------------------------------------------


@router.get("/mentors", response={200: list[MentorOut], 403: ErrorOut}, summary="指導医の一覧")
def list_mentors(request: HttpRequest) -> Status[Any]:
    m = _membership(request)
    return Status(
        200,
        [
            mentor_out(x)
            for x in Mentor.objects.for_office(m.organization).prefetch_related("areas")
        ],
    )


@router.post(
    "/mentors", response={201: MentorOut, 400: ErrorOut, 403: ErrorOut}, summary="指導医を登録する"
)
def create_mentor(request: HttpRequest, payload: MentorIn) -> Status[Any]:
    m = _membership(request)
    if m.organization.kind not in ORGANISER_KINDS:
        return Status(403, {"detail": "指導医を登録できるのは同行研修の事務局です"})
    areas = _municipalities(payload.areas)
    fields = payload.dict(exclude={"areas", "weekdays"})
    fields["email"] = str(payload.email)
    fields["weekdays"] = _mask(payload.weekdays)
    if payload.recommended_on is not None and not 2000 <= payload.recommended_on.year <= 2100:
        return Status(400, {"detail": "推薦日は2000年〜2100年の範囲で入力してください"})
    try:
        mentor = actions.save_mentor(by=m, fields=fields, areas=areas, request=request)
    except ValidationError as e:
        return Status(400, {"detail": _messages(e)})
    return Status(201, mentor_out(mentor))


# The mentor's and trainee's own link -----------------------------------------------------


def _party(token: str) -> tuple[Match, str]:
    found = Match.from_token(token) if len(token) < 500 else None
    if found is None:
        raise HttpError(404, "リンクが無効です")
    return found


def party_out(match: Match, side: str) -> dict[str, Any]:
    return {
        "side": side,
        "program": str(match.application.program),
        "trainee_name": match.application.trainee_name,
        "mentor_name": match.mentor.name,
        "status": match.application.status,
        "visit_date": match.visit_date,
        "own_report": match.report_of(side),
        "own_report_at": match.report_at(side),
    }


@router.get(
    "/reports/{token}",
    response={200: PartyOut, 404: ErrorOut},
    auth=None,
    summary="指導医・受講者用: 自分のマッチング（署名付きリンク）",
)
def get_party(request: HttpRequest, token: str) -> Status[Any]:
    match, side = _party(token)
    return Status(200, party_out(match, side))


@router.put(
    "/reports/{token}/visit",
    response={200: PartyOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=None,
    summary="指導医・受講者用: 研修日を登録する",
)
def put_party_visit(request: HttpRequest, token: str, payload: VisitIn) -> Status[Any]:
    match, side = _party(token)
    try:
        match = actions.set_visit_date(match, payload.visit_date, side=side, request=request)
    except ValidationError as e:
        return Status(400, {"detail": _messages(e)})
    except actions.MentoringError as e:
        return Status(409, {"detail": str(e)})
    return Status(200, party_out(match, side))


@router.post(
    "/reports/{token}/report",
    response={200: PartyOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=None,
    summary="指導医・受講者用: 実施報告書・受講報告書を提出する",
)
def post_party_report(request: HttpRequest, token: str, payload: ReportIn) -> Status[Any]:
    match, side = _party(token)
    try:
        match = actions.file_report(match, side, payload.text, request=request)
    except ValidationError as e:
        return Status(400, {"detail": _messages(e)})
    except actions.MentoringError as e:
        return Status(409, {"detail": str(e)})
    match = Match.objects.select_related("application__program", "mentor").get(pk=match.pk)
    return Status(200, party_out(match, side))
