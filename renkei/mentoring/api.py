"""同行研修 endpoints of /api/v1/mentoring/: the same actions, inputs and getters as the screens.

The office (members of the programme's organiser) works with session auth; trainees apply
without signing in; mentor and trainee reach their own match with the signed token only.
Refusals are the actions' errors, answered by renkei.api's handler with their status.
"""

from __future__ import annotations

import uuid

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.security import SessionAuth

from renkei.accounts.http import api_membership
from renkei.accounts.named import require_named_reader
from renkei.lib import ratelimit
from renkei.lib.api import READ_ERRORS, WRITE_ERRORS, ErrorOut, errors
from renkei.mentoring import actions
from renkei.mentoring.access import (
    Party,
    office_application,
    office_match,
    office_mentor,
    office_program,
    party,
    public_program,
)
from renkei.mentoring.models import (
    Match,
    Mentor,
    Suggestion,
    TraineeApplication,
    TrainingProgram,
    suggestions,
)
from renkei.mentoring.schemas import (
    AppliedOut,
    MatchOut,
    MentorOut,
    PartyOut,
    ProgramOut,
    SuggestionOut,
    SummaryOut,
    TraineeApplicationOut,
)
from renkei.mentoring.summary import Summary, yearly_summary

router = Router(tags=["mentoring"], auth=SessionAuth())


PARTY_ERRORS = errors(400, 404, 409)


def _match(match: Match) -> Match:
    """The match as the API shows it, with what its schema reads (after a write)."""
    return Match.objects.select_related("application", "mentor").get(pk=match.pk)


# Programmes ----------------------------------------------------------------------------


@router.get(
    "/programs",
    response={200: list[ProgramOut], 403: ErrorOut},
    summary="事務局の同行研修（年度）一覧",
)
def list_programs(request: HttpRequest) -> QuerySet[TrainingProgram]:
    return (
        TrainingProgram.objects.for_office(api_membership(request))
        .select_related("organizer")
        .with_january_count()
    )


@router.post(
    "/programs", response={201: ProgramOut, **WRITE_ERRORS}, summary="同行研修（年度）を登録する"
)
def create_program(
    request: HttpRequest, payload: actions.TrainingProgramInput
) -> Status[TrainingProgram]:
    m = api_membership(request)
    return Status(201, actions.save_program(by=m, data=payload, request=request))


@router.put(
    "/programs/{code}",
    response={200: ProgramOut, **WRITE_ERRORS},
    summary="同行研修（年度）の設定を変更する",
)
def update_program(
    request: HttpRequest, code: uuid.UUID, payload: actions.TrainingProgramInput
) -> TrainingProgram:
    m = api_membership(request)
    program = office_program(m, code)
    return actions.save_program(by=m, data=payload, program=program, request=request)


@router.get(
    "/programs/{code}/summary",
    response={200: SummaryOut, **READ_ERRORS},
    summary="年度の実績（申込・実施・職種別・指導医別・謝礼）",
)
def get_summary(request: HttpRequest, code: uuid.UUID) -> Summary:
    return yearly_summary(office_program(api_membership(request), code))


# Applications -------------------------------------------------------------------------


@router.get(
    "/programs/{code}/applications",
    response={200: list[TraineeApplicationOut], 400: ErrorOut, **READ_ERRORS},
    summary="申込の一覧",
)
def list_applications(
    request: HttpRequest, code: uuid.UUID, filters: Query[actions.ApplicationFilter]
) -> QuerySet[TraineeApplication]:
    m = api_membership(request)
    program = office_program(m, code)
    require_named_reader(m)  # 403 outside the organisation's named-read roles (ADR 0043)
    return TraineeApplication.objects.listed(program, filters.status)[:1000]


@router.post(
    "/programs/{code}/applications",
    response={201: TraineeApplicationOut, **WRITE_ERRORS},
    summary="申込を代理入力する（事務局）",
)
def create_application(
    request: HttpRequest, code: uuid.UUID, payload: actions.TraineeApplicationInput
) -> Status[TraineeApplication]:
    m = api_membership(request)
    program = office_program(m, code)
    require_named_reader(m)
    a = actions.apply(program, data=payload, by=m, request=request)
    return Status(201, a)


@router.post(
    "/programs/{code}/apply",
    response={201: AppliedOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut, 429: ErrorOut},
    auth=None,
    summary="受講を申し込む（ログイン不要）",
)
def apply_public(
    request: HttpRequest, code: uuid.UUID, payload: actions.TraineeApplicationInput
) -> Status[TraineeApplication]:
    ratelimit.check(request, "public_form")
    a = actions.apply(public_program(code), data=payload, request=request)
    return Status(201, a)


@router.get(
    "/applications/{code}",
    response={200: TraineeApplicationOut, **READ_ERRORS},
    summary="申込の詳細",
)
def get_application(request: HttpRequest, code: uuid.UUID) -> TraineeApplication:
    return office_application(api_membership(request), code)


@router.get(
    "/applications/{code}/suggestions",
    response={200: list[SuggestionOut], **READ_ERRORS},
    summary="指導医の候補（地域・曜日・今年度の担当件数で順位付け、理由つき）",
)
def get_suggestions(request: HttpRequest, code: uuid.UUID) -> list[Suggestion]:
    return suggestions(office_application(api_membership(request), code))


@router.post(
    "/applications/{code}/match",
    response={201: MatchOut, **WRITE_ERRORS},
    summary="指導医を決定し、決定連絡票を両者にメールする",
)
def decide(
    request: HttpRequest, code: uuid.UUID, payload: actions.MentorDecisionInput
) -> Status[Match]:
    m = api_membership(request)
    match = actions.decide_match(office_application(m, code), by=m, data=payload, request=request)
    return Status(201, match)


@router.post(
    "/applications/{code}/cancel",
    response={200: TraineeApplicationOut, **WRITE_ERRORS},
    summary="申込を取り消す",
)
def cancel(
    request: HttpRequest, code: uuid.UUID, payload: actions.MentoringCancelInput
) -> TraineeApplication:
    m = api_membership(request)
    a = actions.cancel_application(office_application(m, code), by=m, data=payload, request=request)
    return office_application(m, a.code)


# Matches ---------------------------------------------------------------------------------


@router.get("/matches/{code}", response={200: MatchOut, **READ_ERRORS}, summary="マッチングの詳細")
def get_match(request: HttpRequest, code: uuid.UUID) -> Match:
    return office_match(api_membership(request), code)


@router.put(
    "/matches/{code}/visit",
    response={200: MatchOut, **WRITE_ERRORS},
    summary="研修日を登録する（事務局）",
)
def put_visit(request: HttpRequest, code: uuid.UUID, payload: actions.VisitDateInput) -> Match:
    m = api_membership(request)
    return actions.set_visit_date(office_match(m, code), data=payload, by=m, request=request)


@router.post(
    "/matches/{code}/honorarium",
    response={200: MatchOut, **WRITE_ERRORS},
    summary="指導謝礼の支払いを記録する",
)
def post_honorarium(
    request: HttpRequest, code: uuid.UUID, payload: actions.HonorariumInput
) -> Match:
    m = api_membership(request)
    return actions.record_honorarium(office_match(m, code), by=m, data=payload, request=request)


@router.post(
    "/matches/{code}/notices",
    response={200: MatchOut, **WRITE_ERRORS},
    summary="決定連絡票を両者に再送する",
)
def resend_notices(request: HttpRequest, code: uuid.UUID) -> Match:
    m = api_membership(request)
    return actions.resend_decision_notices(office_match(m, code), by=m, request=request)


# Mentors --------------------------------------------------------------------------------


@router.get("/mentors", response={200: list[MentorOut], 403: ErrorOut}, summary="指導医の一覧")
def list_mentors(request: HttpRequest) -> QuerySet[Mentor]:
    m = api_membership(request)
    return Mentor.objects.for_office(m.organization).prefetch_related("areas")


@router.post("/mentors", response={201: MentorOut, **WRITE_ERRORS}, summary="指導医を登録する")
def create_mentor(request: HttpRequest, payload: actions.MentorInput) -> Status[Mentor]:
    m = api_membership(request)
    return Status(201, actions.save_mentor(by=m, data=payload, request=request))


@router.put(
    "/mentors/{code}", response={200: MentorOut, **WRITE_ERRORS}, summary="指導医の登録を変更する"
)
def update_mentor(request: HttpRequest, code: uuid.UUID, payload: actions.MentorInput) -> Mentor:
    m = api_membership(request)
    mentor = office_mentor(m, code)
    return actions.save_mentor(by=m, data=payload, mentor=mentor, request=request)


# The mentor's and trainee's own link -----------------------------------------------------


def _party(p: Party) -> Party:
    """The party's view again after a write (the match has changed)."""
    match = Match.objects.select_related("application__program", "mentor").get(pk=p.match.pk)
    return Party(match, p.side)


@router.get(
    "/reports/{token}",
    response={200: PartyOut, 404: ErrorOut},
    auth=None,
    summary="指導医・受講者用: 自分のマッチング（署名付きリンク）",
)
def get_party(request: HttpRequest, token: str) -> Party:
    return party(token)


@router.put(
    "/reports/{token}/visit",
    response={200: PartyOut, **PARTY_ERRORS},
    auth=None,
    summary="指導医・受講者用: 研修日を登録する",
)
def put_party_visit(request: HttpRequest, token: str, payload: actions.VisitDateInput) -> Party:
    p = party(token)
    actions.set_visit_date(p.match, data=payload, side=p.side, request=request)
    return _party(p)


@router.post(
    "/reports/{token}/report",
    response={200: PartyOut, **PARTY_ERRORS},
    auth=None,
    summary="指導医・受講者用: 実施報告書・受講報告書を提出する",
)
def post_party_report(
    request: HttpRequest, token: str, payload: actions.MentoringReportInput
) -> Party:
    p = party(token)
    actions.file_report(p.match, side=p.side, data=payload, request=request)
    return _party(p)
