"""Courses, specialist dispatch and public materials in /api/v1/courses/.

The handlers take the actions' typed inputs as their bodies and call the same actions and
scoped getters as the screens (`renkei.courses.access`); an outsider gets the same 404.
The organiser enters and cancels a round's applications here (not through events' organiser
routes, which refuse a course's round); an applicant cancels by events' /events/applications/{token}.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Header, Query, Router, Schema, Status
from ninja.security import SessionAuth

from renkei.accounts.http import api_membership as _membership
from renkei.accounts.models import AuditEntry, Membership, Organization
from renkei.courses import access, actions, completion, dispatch, materials, tally
from renkei.courses.models import (
    Certificate,
    Course,
    CourseRound,
    CourseSession,
    DispatchRequest,
    Material,
    Specialist,
    participants,
    progress_rows,
)
from renkei.courses.schemas import (
    CertificateOut,
    CourseCountOut,
    CourseOut,
    DispatchOut,
    DispatchYearOut,
    MaterialOut,
    ParticipantOut,
    RoundOut,
    SessionOut,
    SpecialistOut,
    YearlyOut,
)
from renkei.events.actions import EventCancelInput
from renkei.events.models import Application
from renkei.events.schemas import ApplicationOut, Cancelled, CancelOut
from renkei.lib import ratelimit
from renkei.lib.actions import get_visible
from renkei.lib.api import READ_ERRORS, WRITE_ERRORS, ErrorOut
from renkei.lib.dates import fiscal_year
from renkei.lib.inputs import FiscalYear

router = Router(tags=["courses"])
session_auth = SessionAuth()


class CourseYearQuery(Schema):
    fy: FiscalYear | None = Field(None, description="年度（省略すると今年度）")


def _org(request: HttpRequest) -> Organization | None:
    m: Membership | None = getattr(request, "membership", None)
    return m.organization if m else None


def _year(q: CourseYearQuery) -> int:
    return q.fy or fiscal_year(timezone.localdate())


# --- courses: public ------------------------------------------------------------------------


@router.get("/", response={200: list[CourseOut]}, auth=None, summary="公開中の研修コース")
def list_courses(request: HttpRequest) -> list[Course]:
    return list(
        Course.objects.published()
        .select_related("organization", "municipality")
        .with_rounds()
        .order_by("-created_at", "pk")[:100]
    )


@router.get(
    "/courses/{code}",
    response={200: CourseOut, 400: ErrorOut, 404: ErrorOut},
    auth=None,
    summary="研修コースの詳細（回・日程・残席）",
)
def get_course(request: HttpRequest, code: uuid.UUID) -> Course:
    return access.public_course(_org(request), code)


KEY: Any = Header(  # type: ignore[type-arg]
    None,
    alias="Idempotency-Key",
    max_length=100,
    description="再送しても二重に申し込まれないためのキー",
)


@router.post(
    "/courses/{code}/rounds/{number}/applications",
    response={200: ApplicationOut, 201: ApplicationOut, 429: ErrorOut, **WRITE_ERRORS},
    auth=None,
    summary="回を選んで申し込む（事業所から複数名）",
)
def apply(
    request: HttpRequest,
    code: uuid.UUID,
    number: int,
    payload: actions.CourseApplicationInput,
    key: str | None = KEY,
) -> Status[Application]:
    """Public: eligibility is checked for every applicant; places are given in the order
    listed and the rest wait (per round). Cancel through /events/applications/{token}."""
    ratelimit.check(request, "public_form")
    rnd = access.public_round(_org(request), code, number)
    m: Membership | None = getattr(request, "membership", None)
    app, created = actions.apply(rnd, payload, by=m, request=request, idempotency_key=key or "")
    return Status(201 if created else 200, app)


def _participants(rows: list[Any]) -> list[ParticipantOut]:
    return [
        ParticipantOut(
            code=r.person.code,
            name=r.person.name,
            kana=r.person.kana,
            occupation=r.person.occupation,
            office_name=r.person.application.office_name,
            status=r.person.status,
            sessions_attended=[s.code for s, came in r.marks if came],
            completed=r.completed,
            certificate=r.certificate.number_label if r.certificate else None,
        )
        for r in rows
    ]


@router.get(
    "/progress/{token}",
    response={200: list[ParticipantOut], 400: ErrorOut, 404: ErrorOut},
    auth=None,
    summary="申込した職員の受講状況（申込受付メールのトークン）",
)
def get_progress(request: HttpRequest, token: str) -> list[ParticipantOut]:
    app, rnd = access.application_by_token(token)
    people = list(app.applicants.select_related("application").order_by("position"))
    return _participants(progress_rows(rnd, people))


# --- courses: organiser ----------------------------------------------------------------------


@router.get(
    "/manage/courses",
    response={200: list[CourseOut]},
    auth=session_auth,
    summary="自組織の研修コース",
)
def managed_courses(request: HttpRequest) -> list[Course]:
    m = _membership(request)
    return list(
        Course.objects.organised_by(m.organization)
        .select_related("organization", "municipality")
        .with_rounds()
        .order_by("-created_at", "pk")[:200]
    )


@router.post(
    "/manage/courses",
    response={201: CourseOut, **WRITE_ERRORS},
    auth=session_auth,
    summary="研修コースを作成する（回と日程を含む）",
)
def create_course(request: HttpRequest, payload: actions.CourseInput) -> Status[Course]:
    m = _membership(request)
    return Status(201, actions.create_course(payload, by=m, request=request))


@router.put(
    "/manage/courses/{code}",
    response={200: CourseOut, **WRITE_ERRORS},
    auth=session_auth,
    summary="研修コースの設定を変更する（回と日程は別に）",
)
def update_course(
    request: HttpRequest, code: uuid.UUID, payload: actions.CourseSettingsInput
) -> Course:
    m = _membership(request)
    return actions.update_course(access.own_course(m, code), payload, by=m, request=request)


@router.delete(
    "/manage/courses/{code}",
    response={204: None, **WRITE_ERRORS},
    auth=session_auth,
    summary="研修コースを削除する（申込がない場合のみ）",
)
def delete_course(request: HttpRequest, code: uuid.UUID) -> Status[None]:
    m = _membership(request)
    actions.delete_course(access.own_course(m, code), by=m, request=request)
    return Status(204, None)


@router.post(
    "/manage/courses/{code}/rounds",
    response={201: RoundOut, **WRITE_ERRORS},
    auth=session_auth,
    summary="回を追加する（日程を含む）",
)
def add_round(
    request: HttpRequest, code: uuid.UUID, payload: actions.RoundInput
) -> Status[CourseRound]:
    m = _membership(request)
    rnd = actions.create_round(access.own_course(m, code), payload, by=m, request=request)
    return Status(201, rnd)


@router.put(
    "/manage/courses/{code}/rounds/{number}",
    response={200: RoundOut, **WRITE_ERRORS},
    auth=session_auth,
    summary="回の番号・定員・申込期間を変更する（定員を増やすとキャンセル待ちを繰り上げ）",
)
def update_round(
    request: HttpRequest, code: uuid.UUID, number: int, payload: actions.RoundSettingsInput
) -> CourseRound:
    m = _membership(request)
    rnd, _ = actions.update_round(access.own_round(m, code, number), payload, by=m, request=request)
    return rnd


@router.delete(
    "/manage/courses/{code}/rounds/{number}",
    response={204: None, **WRITE_ERRORS},
    auth=session_auth,
    summary="回を削除する（申込がない場合のみ）",
)
def delete_round(request: HttpRequest, code: uuid.UUID, number: int) -> Status[None]:
    m = _membership(request)
    actions.delete_round(access.own_round(m, code, number), by=m, request=request)
    return Status(204, None)


@router.post(
    "/manage/courses/{code}/rounds/{number}/sessions",
    response={201: SessionOut, **WRITE_ERRORS},
    auth=session_auth,
    summary="回に日程を追加する",
)
def add_session(
    request: HttpRequest, code: uuid.UUID, number: int, payload: actions.SessionInput
) -> Status[CourseSession]:
    m = _membership(request)
    rnd = access.own_round(m, code, number)
    return Status(201, actions.add_session(rnd, payload, by=m, request=request))


@router.put(
    "/manage/courses/{code}/rounds/{number}/sessions/{session}",
    response={200: SessionOut, **WRITE_ERRORS},
    auth=session_auth,
    summary="日程を変更する",
)
def update_session(
    request: HttpRequest,
    code: uuid.UUID,
    number: int,
    session: uuid.UUID,
    payload: actions.SessionInput,
) -> CourseSession:
    m = _membership(request)
    day = access.own_session(access.own_round(m, code, number), session)
    return actions.update_session(day, payload, by=m, request=request)


@router.delete(
    "/manage/courses/{code}/rounds/{number}/sessions/{session}",
    response={204: None, **WRITE_ERRORS},
    auth=session_auth,
    summary="日程を削除する（出席の記録がない場合のみ）",
)
def delete_session(
    request: HttpRequest, code: uuid.UUID, number: int, session: uuid.UUID
) -> Status[None]:
    m = _membership(request)
    day = access.own_session(access.own_round(m, code, number), session)
    actions.delete_session(day, by=m, request=request)
    return Status(204, None)


@router.get(
    "/manage/courses/{code}/rounds/{number}/participants",
    response={200: list[ParticipantOut], 400: ErrorOut, **READ_ERRORS},
    auth=session_auth,
    summary="回の受講者と日程ごとの出席・修了",
)
def round_participants(request: HttpRequest, code: uuid.UUID, number: int) -> list[ParticipantOut]:
    rnd = access.own_round(_membership(request), code, number)
    people = list(participants(rnd))
    AuditEntry.record(
        "courses.round_viewed", request=request, target=rnd, detail={"rows": len(people)}
    )
    return _participants(progress_rows(rnd, people))


@router.post(
    "/manage/courses/{code}/rounds/{number}/applications",
    response={200: ApplicationOut, 201: ApplicationOut, **WRITE_ERRORS},
    auth=session_auth,
    summary="FAX・郵送・電話の申込を代理入力する（対象の条件を確認、キャンセル待ちは回ごと）",
)
def proxy_apply(
    request: HttpRequest,
    code: uuid.UUID,
    number: int,
    payload: actions.CourseApplicationInput,
    key: str | None = KEY,
) -> Status[Application]:
    """The organiser enters a 申込書 that came on paper or by phone: the public form's input
    and checks, except the application period (it came in time); a round that has begun is
    refused. Marked as FAX; the contact gets the confirmation mail."""
    m = _membership(request)
    rnd = access.own_round(m, code, number)
    app, created = actions.apply(
        rnd, payload, by=m, request=request, idempotency_key=key or "", proxy=True
    )
    return Status(201 if created else 200, app)


@router.post(
    "/manage/courses/{code}/rounds/{number}/applicants/{applicant}/cancel",
    response={200: CancelOut, **WRITE_ERRORS},
    auth=session_auth,
    summary="回の申込者を取り消す（空いた席はこの回のキャンセル待ちへ）",
)
def organiser_cancel(
    request: HttpRequest, code: uuid.UUID, number: int, applicant: uuid.UUID
) -> Cancelled:
    """The contact is told; those moved up from this round's waiting list are told too.
    Refused (409) once the round has begun."""
    m = _membership(request)
    rnd = access.own_round(m, code, number)
    person = access.round_applicant(rnd, applicant)
    cancelled, _ = actions.cancel(
        rnd,
        person.application,
        EventCancelInput(applicants=[person.code]),
        by=m,
        request=request,
    )
    app = Application.objects.select_related("event").get(pk=person.application_id)
    return Cancelled([a.code for a in cancelled], app)


@router.put(
    "/manage/courses/{code}/rounds/{number}/sessions/{session}/attendance",
    response={200: ParticipantOut, **WRITE_ERRORS},
    auth=session_auth,
    summary="日程ごとの出席を記録する",
)
def put_attendance(
    request: HttpRequest,
    code: uuid.UUID,
    number: int,
    session: uuid.UUID,
    payload: completion.SessionAttendanceInput,
) -> ParticipantOut:
    m = _membership(request)
    rnd = access.own_round(m, code, number)
    day = access.own_session(rnd, session)
    person = completion.set_session_attendance(day, payload, by=m, request=request)
    person = participants(rnd).get(pk=person.pk)
    return _participants(progress_rows(rnd, [person]))[0]


@router.post(
    "/manage/courses/{code}/rounds/{number}/certificates",
    response={200: list[CertificateOut], **WRITE_ERRORS},
    auth=session_auth,
    summary="修了者に修了証を発行する（番号は年度ごとの連番、再利用なし）",
)
def issue_certificates(request: HttpRequest, code: uuid.UUID, number: int) -> list[Certificate]:
    m = _membership(request)
    rnd = access.own_round(m, code, number)
    completion.issue_certificates(rnd, by=m, request=request)
    return list(
        Certificate.objects.filter(round=rnd)
        .select_related("applicant", "course")
        .order_by("number")
    )


@router.get(
    "/manage/yearly",
    response={200: YearlyOut, 400: ErrorOut},
    auth=session_auth,
    summary="年度の実績（回数・受講者数・修了者数）",
)
def yearly(request: HttpRequest, q: Query[CourseYearQuery]) -> tally.YearlyFigures:
    return tally.yearly(_membership(request).organization, _year(q))


# --- specialist dispatch ---------------------------------------------------------------------


def _dispatch(request: HttpRequest, code: uuid.UUID) -> tuple[DispatchRequest, Membership]:
    m = _membership(request)
    req = get_visible(
        DispatchRequest.objects.visible_to(m.organization).select_related(
            "municipality", "specialist", "requester"
        ),
        "派遣の依頼が見つかりません",
        code=code,
    )
    return req, m


@router.get(
    "/dispatch/requests",
    response={200: list[DispatchOut], 400: ErrorOut},
    auth=session_auth,
    summary="専門職派遣の依頼（自組織が依頼した・調整する）",
)
def list_dispatches(request: HttpRequest, q: Query[CourseYearQuery]) -> list[DispatchRequest]:
    m = _membership(request)
    return list(
        DispatchRequest.objects.visible_to(m.organization)
        .in_fiscal_year(_year(q))
        .select_related("municipality", "specialist", "requester")[:500]
    )


@router.post(
    "/dispatch/requests",
    response={201: DispatchOut, **WRITE_ERRORS},
    auth=session_auth,
    summary="専門職の派遣を依頼する（市区町村）",
)
def request_dispatch(
    request: HttpRequest, payload: dispatch.DispatchRequestInput
) -> Status[DispatchRequest]:
    return Status(201, dispatch.request_dispatch(payload, by=_membership(request), request=request))


@router.get(
    "/dispatch/requests/{code}",
    response={200: DispatchOut, 400: ErrorOut, 404: ErrorOut},
    auth=session_auth,
)
def get_dispatch(request: HttpRequest, code: uuid.UUID) -> DispatchRequest:
    return _dispatch(request, code)[0]


@router.post(
    "/dispatch/requests/{code}/decision",
    response={200: DispatchOut, **WRITE_ERRORS},
    auth=session_auth,
    summary="派遣する専門職を決定する／派遣を見送る（都道府県）",
)
def decide(
    request: HttpRequest, code: uuid.UUID, payload: dispatch.DispatchDecisionInput
) -> DispatchRequest:
    req, m = _dispatch(request, code)
    return dispatch.decide(req, payload, by=m, request=request)


@router.post(
    "/dispatch/requests/{code}/withdraw",
    response={200: DispatchOut, **WRITE_ERRORS},
    auth=session_auth,
    summary="依頼を取り下げる（市区町村）",
)
def withdraw(request: HttpRequest, code: uuid.UUID) -> DispatchRequest:
    req, m = _dispatch(request, code)
    return dispatch.withdraw(req, by=m, request=request)


@router.post(
    "/dispatch/requests/{code}/report",
    response={200: DispatchOut, **WRITE_ERRORS},
    auth=session_auth,
    summary="実施報告を代わりに登録する（都道府県）",
)
def report(
    request: HttpRequest, code: uuid.UUID, payload: dispatch.DispatchReportInput
) -> DispatchRequest:
    req, m = _dispatch(request, code)
    return dispatch.file_report(req, payload, by=m, request=request)


@router.post(
    "/dispatch/requests/{code}/fee",
    response={200: DispatchOut, **WRITE_ERRORS},
    auth=session_auth,
    summary="謝金を記録する（都道府県）",
)
def fee(request: HttpRequest, code: uuid.UUID, payload: dispatch.FeeInput) -> DispatchRequest:
    req, m = _dispatch(request, code)
    return dispatch.record_fee(req, payload, by=m, request=request)


@router.post(
    "/dispatch/reports/{token}",
    response={200: DispatchOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=None,
    summary="実施報告を提出する（専門職、メールのトークン）",
)
def report_by_token(
    request: HttpRequest, token: str, payload: dispatch.DispatchReportInput
) -> DispatchRequest:
    return dispatch.file_report(dispatch.by_token(token), payload, request=request)


@router.get(
    "/dispatch/yearly",
    response={200: DispatchYearOut, 400: ErrorOut},
    auth=session_auth,
    summary="年度の派遣人数（市区町村別・目的別・職種別）",
)
def dispatch_yearly(request: HttpRequest, q: Query[CourseYearQuery]) -> DispatchYearOut:
    c = dispatch.yearly_counts(_membership(request).organization, _year(q))

    def rows(pairs: list[tuple[str, int]]) -> list[CourseCountOut]:
        return [CourseCountOut(label=k, count=n) for k, n in pairs]

    return DispatchYearOut(
        fiscal_year=c.fiscal_year,
        total=c.total,
        by_municipality=rows(c.by_municipality),
        by_purpose=rows(c.by_purpose),
        by_kind=rows(c.by_kind),
    )


@router.get(
    "/dispatch/specialists",
    response={200: list[SpecialistOut]},
    auth=session_auth,
    summary="派遣専門職の名簿（都道府県）",
)
def list_specialists(request: HttpRequest) -> list[Specialist]:
    m = _membership(request)
    return list(Specialist.objects.organised_by(m.organization).prefetch_related("areas"))


@router.post(
    "/dispatch/specialists",
    response={201: SpecialistOut, **WRITE_ERRORS},
    auth=session_auth,
    summary="名簿に専門職を追加する（都道府県）",
)
def add_specialist(request: HttpRequest, payload: dispatch.SpecialistInput) -> Status[Specialist]:
    return Status(201, dispatch.add_specialist(payload, by=_membership(request), request=request))


# --- public materials ------------------------------------------------------------------------


@router.get("/materials/", response={200: list[MaterialOut]}, auth=None, summary="公開中の資料")
def list_materials(request: HttpRequest) -> list[Material]:
    return list(
        Material.objects.published()
        .select_related("organization", "municipality")
        .prefetch_related("versions")
        .order_by("-created_at", "pk")[:200]
    )


@router.get(
    "/materials/{code}",
    response={200: MaterialOut, 400: ErrorOut, 404: ErrorOut},
    auth=None,
    summary="資料の詳細（版の一覧）",
)
def get_material(request: HttpRequest, code: uuid.UUID) -> Material:
    return get_visible(
        Material.objects.published()
        .select_related("organization", "municipality")
        .prefetch_related("versions"),
        "資料が見つかりません",
        code=code,
    )


@router.get(
    "/materials/yearly/downloads",
    response={200: list[CourseCountOut], 400: ErrorOut},
    auth=session_auth,
    summary="自組織の資料の月別ダウンロード数",
)
def material_downloads(request: HttpRequest, q: Query[CourseYearQuery]) -> list[CourseCountOut]:
    rows = materials.monthly_downloads(_membership(request).organization, _year(q))
    return [CourseCountOut(label=f"{m:%Y-%m}", count=n) for m, n in rows]
