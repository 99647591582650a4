"""相談窓口 endpoints of /api/v1/desk/: the same actions and checks as the screens.

Only the desk's members reach consultations (others get 404); every read is audited.
The 委託元 municipalities read the tallies only.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.security import SessionAuth
from pydantic import field_validator

from renkei.accounts.models import Membership, User
from renkei.desk import actions
from renkei.desk.models import (
    AskerType,
    Channel,
    Consent,
    Consultation,
    ConsultationStatus,
    ConsultationVersion,
    Desk,
    FollowUp,
    ProgrammeItem,
    Scene,
    Topic,
)
from renkei.desk.tally import yearly_tally
from renkei.directory.models import Facility
from renkei.lib.dates import fiscal_year, fiscal_year_label
from renkei.lib.http import api_membership as _membership
from renkei.regions.models import Municipality

router = Router(tags=["desk"], auth=SessionAuth())

PER_PAGE = 30


class ErrorOut(Schema):
    detail: str


class TopicOut(Schema):
    id: int
    name: str
    shared: bool


class TopicIn(Schema):
    name: str = Field(..., min_length=1, max_length=40)


class DeskOut(Schema):
    code: uuid.UUID
    name: str
    organization: str
    is_member: bool = Field(
        description="運営組織の職員（相談記録を扱える）か、委託元（集計のみ）か"
    )
    municipalities: list[str]


class FacilityRef(Schema):
    code: uuid.UUID
    name: str


class FollowUpOut(Schema):
    id: int
    consultation: uuid.UUID
    due_date: dt.date
    note: str
    assignee: str | None
    done_at: dt.datetime | None
    overdue: bool


class FollowUpIn(Schema):
    due_date: dt.date
    note: str = Field(..., min_length=1, max_length=300)
    assignee: str | None = Field(None, description="担当者のユーザー名（窓口の職員）")


class ConsultationOut(Schema):
    code: uuid.UUID
    desk: uuid.UUID
    received_at: dt.datetime
    channel: Channel
    asker_type: AskerType
    asker_detail: str
    topics: list[TopicOut]
    programme_item: ProgrammeItem
    scene: Scene
    subject_name: str
    subject_kana: str
    subject_age: int | None
    subject_municipality: str | None
    consent: Consent
    consent_date: dt.date | None
    summary: str
    actions_taken: str
    referred_facilities: list[FacilityRef]
    status: ConsultationStatus
    entered_by: str
    confirmed_by: str | None
    confirmed_at: dt.datetime | None
    version: int
    followups: list[FollowUpOut]


class ConsultationRow(Schema):
    code: uuid.UUID
    received_at: dt.datetime
    channel: Channel
    asker_type: AskerType
    topics: list[str]
    scene: Scene
    subject_name: str
    status: ConsultationStatus
    confirmed: bool


class ConsultationPage(Schema):
    count: int
    page: int
    per_page: int
    items: list[ConsultationRow]


def _bounded(value: dt.datetime | dt.date | None) -> Any:
    if value is not None and not 2000 <= value.year <= 2100:
        raise ValueError("日付は2000年〜2100年の範囲で入力してください")
    return value


# Bounded like the column: a larger id used to reach the database lookup and fail there (a 500).
TopicId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class ConsultationFields(Schema):
    received_at: dt.datetime = Field(description="受付日時（タイムゾーン省略時は日本時間）")
    channel: Channel
    asker_type: AskerType
    asker_detail: str = Field("", max_length=100)
    topics: list[TopicId] = Field(..., min_length=1, max_length=30, description="分類のID")
    programme_item: ProgrammeItem = ProgrammeItem.O
    scene: Scene
    subject_name: str = Field("", max_length=60)
    subject_kana: str = Field("", max_length=60)
    subject_age: int | None = Field(None, ge=0, le=130)
    subject_municipality: str | None = Field(None, pattern=r"^\d{6}$", description="市区町村コード")
    consent: Consent = Consent.NOT_ASKED
    consent_date: dt.date | None = None
    summary: str = Field(..., min_length=1, max_length=4000)
    actions_taken: str = Field("", max_length=4000)
    referred_facilities: list[uuid.UUID] = Field(default_factory=list, max_length=50)
    status: ConsultationStatus = ConsultationStatus.OPEN

    _check_received = field_validator("received_at")(_bounded)
    _check_consent = field_validator("consent_date")(_bounded)


class ConsultationIn(ConsultationFields):
    followup: FollowUpIn | None = None
    confirm: bool = Field(False, description="登録と同時に確定する（確定権限が必要）")


class ConsultationUpdate(ConsultationFields):
    version: int = Field(..., description="楽観的ロック: 読み込んだ時点の version。異なれば409")
    reason: str = Field("", max_length=300, description="確定済みの記録では必須")


class ConfirmIn(Schema):
    version: int | None = None


class VersionOut(Schema):
    number: int
    created_at: dt.datetime
    created_by: str
    reason: str
    changes: dict[str, Any]
    data: dict[str, Any]


class TallyRowOut(Schema):
    label: str
    counts: list[int]
    total: int


class TallyTableOut(Schema):
    key: str
    label: str
    rows: list[TallyRowOut]


class DeskTallyOut(Schema):
    desk: uuid.UUID
    fiscal_year: int
    label: str
    months: list[str] = Field(description="YYYY-MM, 4月から3月")
    cases: list[int]
    total: int
    tables: list[TallyTableOut]


# Helpers ----------------------------------------------------------------------


def _desk(request: HttpRequest, code: uuid.UUID) -> tuple[Desk, Membership]:
    m = _membership(request)
    desk = Desk.objects.for_member(m).select_related("organization").filter(code=code).first()
    if desk is None:
        raise HttpError(404, "相談窓口が見つかりません")
    return desk, m


def _consultation(request: HttpRequest, code: uuid.UUID) -> tuple[Consultation, Membership]:
    m = _membership(request)
    c = (
        Consultation.objects.visible_to(m)
        .select_related("desk__organization", "subject_municipality", "entered_by", "confirmed_by")
        .filter(code=code)
        .first()
    )
    if c is None:
        raise HttpError(404, "相談記録が見つかりません")
    return c, m


def _messages(e: ValidationError) -> str:
    return " ".join(e.messages)


def _followup_out(f: FollowUp, today: dt.date) -> dict[str, Any]:
    return {
        "id": f.pk,
        "consultation": f.consultation.code,
        "due_date": f.due_date,
        "note": f.note,
        "assignee": str(f.assignee) if f.assignee else None,
        "done_at": f.done_at,
        "overdue": f.is_overdue(today),
    }


def consultation_out(c: Consultation) -> dict[str, Any]:
    today = timezone.localdate()
    return {
        "code": c.code,
        "desk": c.desk.code,
        "received_at": c.received_at,
        "channel": c.channel,
        "asker_type": c.asker_type,
        "asker_detail": c.asker_detail,
        "topics": [
            {"id": t.pk, "name": t.name, "shared": t.desk_id is None} for t in c.topics.all()
        ],
        "programme_item": c.programme_item,
        "scene": c.scene,
        "subject_name": c.subject_name,
        "subject_kana": c.subject_kana,
        "subject_age": c.subject_age,
        "subject_municipality": c.subject_municipality.code if c.subject_municipality else None,
        "consent": c.consent,
        "consent_date": c.consent_date,
        "summary": c.summary,
        "actions_taken": c.actions_taken,
        "referred_facilities": [
            {"code": f.code, "name": f.name} for f in c.referred_facilities.all()
        ],
        "status": c.status,
        "entered_by": str(c.entered_by),
        "confirmed_by": str(c.confirmed_by) if c.confirmed_by else None,
        "confirmed_at": c.confirmed_at,
        "version": c.version,
        "followups": [_followup_out(f, today) for f in c.followups.select_related("assignee")],
    }


def _resolve(
    desk: Desk, payload: ConsultationFields
) -> tuple[dict[str, Any], list[Topic], list[Facility]]:
    data = payload.dict(
        exclude={"topics", "referred_facilities", "followup", "confirm", "version", "reason"}
    )
    received: dt.datetime = data["received_at"]
    if timezone.is_naive(received):
        data["received_at"] = timezone.make_aware(received)
    code = data.pop("subject_municipality")
    data["subject_municipality"] = None
    if code:
        muni = Municipality.objects.filter(code=code).first()
        if muni is None:
            raise HttpError(400, f"市区町村コード{code}が見つかりません")
        data["subject_municipality"] = muni
    topic_ids = list(dict.fromkeys(payload.topics))
    topics = list(desk.topics().filter(pk__in=topic_ids))
    if len(topics) != len(topic_ids):
        raise HttpError(400, "この窓口で使えない相談内容の分類が含まれています")
    codes = list(dict.fromkeys(payload.referred_facilities))
    facilities = list(Facility.objects.public().filter(code__in=codes))
    if len(facilities) != len(codes):
        raise HttpError(400, "紹介した資源に見つからない施設があります")
    return data, topics, facilities


def _assignee(desk: Desk, username: str | None) -> User | None:
    if not username:
        return None
    user = User.objects.filter(
        username=username,
        memberships__organization_id=desk.organization_id,
        memberships__is_active=True,
    ).first()
    if user is None:
        raise HttpError(400, "担当者はこの窓口の職員のユーザー名で指定してください")
    return user


# Desks and topics -------------------------------------------------------------------


@router.get("/desks", response=list[DeskOut], summary="利用できる相談窓口の一覧")
def list_desks(request: HttpRequest) -> list[dict[str, Any]]:
    m = _membership(request)
    desks = (
        Desk.objects.reportable_by(m)
        .select_related("organization")
        .prefetch_related("municipalities")
        .order_by("name")
    )
    return [
        {
            "code": d.code,
            "name": d.name,
            "organization": d.organization.name,
            "is_member": d.is_member(m),
            "municipalities": [x.code for x in d.municipalities.all()],
        }
        for d in desks
    ]


@router.get(
    "/desks/{desk}/topics",
    response={200: list[TopicOut], 403: ErrorOut, 404: ErrorOut},
    summary="相談内容の分類（共通＋窓口独自）",
)
def list_topics(request: HttpRequest, desk: uuid.UUID) -> Status[Any]:
    d, _ = _desk(request, desk)
    return Status(
        200, [{"id": t.pk, "name": t.name, "shared": t.desk_id is None} for t in d.topics()]
    )


@router.post(
    "/desks/{desk}/topics",
    response={201: TopicOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="窓口独自の分類を追加する",
)
def add_topic(request: HttpRequest, desk: uuid.UUID, payload: TopicIn) -> Status[Any]:
    d, m = _desk(request, desk)
    try:
        t = actions.add_topic(d, by=m, name=payload.name, request=request)
    except ValidationError as e:
        return Status(400, {"detail": _messages(e)})
    return Status(201, {"id": t.pk, "name": t.name, "shared": False})


# Consultations ------------------------------------------------------------------------


class ListFilters(Schema):
    month: str = Field("", pattern=r"^(\d{4}-\d{2})?$", description="YYYY-MM")
    channel: Channel | None = None
    asker: AskerType | None = None
    topic: int | None = Field(None, ge=1, le=2**31)
    scene: Scene | None = None
    status: ConsultationStatus | None = None
    page: int = Field(1, ge=1, le=100_000)


@router.get(
    "/desks/{desk}/consultations",
    response={200: ConsultationPage, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="相談記録の一覧（閲覧は監査ログに記録）",
)
def list_consultations(
    request: HttpRequest, desk: uuid.UUID, filters: Query[ListFilters]
) -> Status[Any]:
    d, m = _desk(request, desk)
    qs = Consultation.objects.filter(desk=d)
    if filters.month:
        year, month = (int(x) for x in filters.month.split("-"))
        if not (2000 <= year <= 2100 and 1 <= month <= 12):
            return Status(400, {"detail": "月は2000年〜2100年の1〜12月で指定してください"})
        qs = qs.in_month(year, month)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.asker:
        qs = qs.filter(asker_type=filters.asker)
    if filters.topic is not None:
        qs = qs.filter(topics__pk=filters.topic)
    if filters.scene:
        qs = qs.filter(scene=filters.scene)
    if filters.status:
        qs = qs.filter(status=filters.status)
    paginator = Paginator(qs.prefetch_related("topics").order_by("-received_at", "-pk"), PER_PAGE)
    if filters.page > max(paginator.num_pages, 1):
        return Status(
            400, {"detail": f"ページ{filters.page}はありません（全{paginator.num_pages}ページ）"}
        )
    rows = list(paginator.page(filters.page).object_list)
    actions.audit_read(
        request,
        by=m,
        consultations=rows,
        action="desk.consultations_listed",
        desk=d,
        extra={"query": request.GET.urlencode(), "api": True},
    )
    return Status(
        200,
        {
            "count": paginator.count,
            "page": filters.page,
            "per_page": PER_PAGE,
            "items": [
                {
                    "code": c.code,
                    "received_at": c.received_at,
                    "channel": c.channel,
                    "asker_type": c.asker_type,
                    "topics": [t.name for t in c.topics.all()],
                    "scene": c.scene,
                    "subject_name": c.subject_name,
                    "status": c.status,
                    "confirmed": c.is_confirmed,
                }
                for c in rows
            ],
        },
    )


@router.post(
    "/desks/{desk}/consultations",
    response={201: ConsultationOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="相談を記録する",
)
def create_consultation(
    request: HttpRequest, desk: uuid.UUID, payload: ConsultationIn
) -> Status[Any]:
    d, m = _desk(request, desk)
    data, topics, facilities = _resolve(d, payload)
    followup = None
    if payload.followup is not None:
        followup = {
            "due_date": payload.followup.due_date,
            "note": payload.followup.note,
            "assignee": _assignee(d, payload.followup.assignee),
        }
    try:
        c = actions.create_consultation(
            d,
            by=m,
            fields=data,
            topics=topics,
            facilities=facilities,
            followup=followup,
            confirm=payload.confirm,
            request=request,
        )
    except ValidationError as e:
        return Status(400, {"detail": _messages(e)})
    except PermissionDenied as e:
        return Status(403, {"detail": str(e)})
    c = Consultation.objects.select_related(
        "desk", "subject_municipality", "entered_by", "confirmed_by"
    ).get(pk=c.pk)
    return Status(201, consultation_out(c))


@router.get(
    "/consultations/{code}",
    response={200: ConsultationOut, 403: ErrorOut, 404: ErrorOut},
    summary="相談記録の詳細（閲覧は監査ログに記録）",
)
def get_consultation(request: HttpRequest, code: uuid.UUID) -> Status[Any]:
    c, m = _consultation(request, code)
    actions.audit_read(request, by=m, consultations=[c], action="desk.consultation_viewed")
    return Status(200, consultation_out(c))


@router.put(
    "/consultations/{code}",
    response={200: ConsultationOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="相談記録を修正する（確定済みなら新しい版、versionが古ければ409）",
)
def update_consultation(
    request: HttpRequest, code: uuid.UUID, payload: ConsultationUpdate
) -> Status[Any]:
    c, m = _consultation(request, code)
    data, topics, facilities = _resolve(c.desk, payload)
    try:
        actions.update_consultation(
            c,
            by=m,
            fields=data,
            topics=topics,
            facilities=facilities,
            expected_version=payload.version,
            reason=payload.reason,
            request=request,
        )
    except actions.StaleVersion as e:
        return Status(409, {"detail": str(e)})
    except ValidationError as e:
        return Status(400, {"detail": _messages(e)})
    c, _ = _consultation(request, code)
    return Status(200, consultation_out(c))


@router.post(
    "/consultations/{code}/confirm",
    response={200: ConsultationOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="相談記録を確定する（以後の修正は版として残る）",
)
def confirm_consultation(request: HttpRequest, code: uuid.UUID, payload: ConfirmIn) -> Status[Any]:
    c, m = _consultation(request, code)
    try:
        actions.confirm_consultation(c, by=m, expected_version=payload.version, request=request)
    except PermissionDenied as e:
        return Status(403, {"detail": str(e)})
    except (actions.DeskError, actions.StaleVersion) as e:
        return Status(409, {"detail": str(e)})
    c, _ = _consultation(request, code)
    return Status(200, consultation_out(c))


def _version_out(v: ConsultationVersion) -> dict[str, Any]:
    return {
        "number": v.number,
        "created_at": v.created_at,
        "created_by": str(v.created_by),
        "reason": v.reason,
        "changes": v.changes,
        "data": v.data,
    }


@router.get(
    "/consultations/{code}/versions",
    response={200: list[VersionOut], 403: ErrorOut, 404: ErrorOut},
    summary="確定・修正の履歴（各版の内容と変更点）",
)
def list_versions(request: HttpRequest, code: uuid.UUID) -> Status[Any]:
    c, m = _consultation(request, code)
    actions.audit_read(request, by=m, consultations=[c], action="desk.consultation_version_viewed")
    return Status(200, [_version_out(v) for v in c.versions.select_related("created_by")])


@router.get(
    "/consultations/{code}/versions/{number}",
    response={200: VersionOut, 403: ErrorOut, 404: ErrorOut},
    summary="特定の版",
)
def get_version(request: HttpRequest, code: uuid.UUID, number: int) -> Status[Any]:
    c, m = _consultation(request, code)
    v = (
        c.versions.select_related("created_by").filter(number=number).first()
        if 0 < number < 2**31
        else None
    )
    if v is None:
        raise HttpError(404, "指定された版はありません")
    actions.audit_read(
        request,
        by=m,
        consultations=[c],
        action="desk.consultation_version_viewed",
        extra={"version": number},
    )
    return Status(200, _version_out(v))


# Follow-ups ------------------------------------------------------------------------------


@router.post(
    "/consultations/{code}/followups",
    response={201: FollowUpOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="フォローアップを追加する",
)
def add_followup(request: HttpRequest, code: uuid.UUID, payload: FollowUpIn) -> Status[Any]:
    c, m = _consultation(request, code)
    try:
        f = actions.add_followup(
            c,
            by=m,
            due_date=payload.due_date,
            note=payload.note,
            assignee=_assignee(c.desk, payload.assignee),
            request=request,
        )
    except ValidationError as e:
        return Status(400, {"detail": _messages(e)})
    return Status(201, _followup_out(f, timezone.localdate()))


@router.post(
    "/followups/{followup_id}/done",
    response={200: FollowUpOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="フォローアップを完了にする",
)
def complete_followup(request: HttpRequest, followup_id: int) -> Status[Any]:
    m = _membership(request)
    f = (
        FollowUp.objects.filter(consultation__in=Consultation.objects.visible_to(m))
        .select_related("consultation__desk", "assignee")
        .filter(pk=followup_id)
        .first()
        if 0 < followup_id < 2**62
        else None
    )
    if f is None:
        raise HttpError(404, "フォローアップが見つかりません")
    try:
        f = actions.complete_followup(f, by=m, request=request)
    except actions.DeskError as e:
        return Status(409, {"detail": str(e)})
    return Status(200, _followup_out(f, timezone.localdate()))


@router.get(
    "/desks/{desk}/followups",
    response={200: list[FollowUpOut], 403: ErrorOut, 404: ErrorOut},
    summary="未完了のフォローアップ（期日順、期限切れを含む）",
)
def list_followups(
    request: HttpRequest, desk: uuid.UUID, due_by: dt.date | None = None
) -> Status[Any]:
    d, _ = _desk(request, desk)
    qs = FollowUp.objects.for_desk(d).open().select_related("consultation", "assignee")
    if due_by is not None:
        qs = qs.filter(due_date__lte=due_by)
    today = timezone.localdate()
    return Status(200, [_followup_out(f, today) for f in qs.order_by("due_date", "pk")[:500]])


# Tallies ----------------------------------------------------------------------------------


@router.get(
    "/desks/{desk}/tally",
    response={200: DeskTallyOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="年度の月別集計（相談方法・相談者・相談内容・場面）",
)
def get_tally(request: HttpRequest, desk: uuid.UUID, fy: int | None = None) -> Status[Any]:
    m = _membership(request)
    d = Desk.objects.reportable_by(m).filter(code=desk).first()
    if d is None:
        raise HttpError(404, "相談窓口が見つかりません")
    year = fy if fy is not None else fiscal_year(timezone.localdate())
    if not 2000 <= year <= 2100:
        return Status(400, {"detail": "年度は2000〜2100の西暦で指定してください"})
    t = yearly_tally(d, year)
    return Status(
        200,
        {
            "desk": d.code,
            "fiscal_year": year,
            "label": fiscal_year_label(year),
            "months": [f"{y}-{mo:02d}" for y, mo in t.months],
            "cases": t.cases,
            "total": t.total,
            "tables": [
                {
                    "key": tb.key,
                    "label": tb.label,
                    "rows": [
                        {"label": r.label, "counts": r.counts, "total": r.total} for r in tb.rows
                    ],
                }
                for tb in t.tables
            ],
        },
    )
