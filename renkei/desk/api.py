"""相談窓口 endpoints of /api/v1/desk/: the same actions, inputs and getters as the screens.

Only the desk's members reach consultations (others get 404); every read is audited.
The 委託元 municipalities read the tallies only. Refusals are the actions' errors, answered
by renkei.api's handler as {"detail", "field"} with their status.
"""

from __future__ import annotations

import uuid

from django.core.paginator import Page
from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Path, Query, Router, Schema, Status
from ninja.security import SessionAuth
from pydantic import Field

from renkei.accounts.http import api_membership
from renkei.desk import actions
from renkei.desk.access import (
    desk_topic,
    member_desk,
    reportable_desk,
    visible_consultation,
    visible_followup,
)
from renkei.desk.models import Consultation, ConsultationVersion, Desk, FollowUp, Topic
from renkei.desk.schemas import (
    ConsultationOut,
    ConsultationPage,
    DeskOut,
    DeskTallyOut,
    FollowUpOut,
    TopicOut,
    VersionOut,
)
from renkei.desk.tally import Tally, yearly_tally
from renkei.lib.api import READ_ERRORS, WRITE_ERRORS, ErrorOut
from renkei.lib.inputs import CalendarDate

router = Router(tags=["desk"], auth=SessionAuth())


def _detail(c: Consultation) -> Consultation:
    """The record as the API shows it, fetched again after a write (fresh many-to-many sets)."""
    return Consultation.objects.select_related(
        "desk", "subject_municipality", "entered_by", "confirmed_by"
    ).get(pk=c.pk)


# Desks and topics -------------------------------------------------------------------


@router.get("/desks", response=list[DeskOut], summary="利用できる相談窓口の一覧")
def list_desks(request: HttpRequest) -> QuerySet[Desk]:
    m = api_membership(request)
    return (
        Desk.objects.reportable_by(m)
        .with_membership(m)
        .select_related("organization")
        .prefetch_related("municipalities")
        .order_by("name")
    )


@router.get(
    "/desks/{desk}/topics",
    response={200: list[TopicOut], **READ_ERRORS},
    summary="相談内容の分類（共通＋窓口独自）",
)
def list_topics(request: HttpRequest, desk: uuid.UUID) -> QuerySet[Topic]:
    return member_desk(api_membership(request), desk).topics()


@router.post(
    "/desks/{desk}/topics",
    response={201: TopicOut, **WRITE_ERRORS},
    summary="窓口独自の分類を追加する",
)
def add_topic(request: HttpRequest, desk: uuid.UUID, payload: actions.TopicInput) -> Status[Topic]:
    m = api_membership(request)
    topic = actions.add_topic(member_desk(m, desk), by=m, data=payload, request=request)
    return Status(201, topic)


@router.post(
    "/desks/{desk}/topics/{topic_id}/retire",
    response={200: TopicOut, **WRITE_ERRORS},
    summary="窓口独自の分類を使用停止にする（過去の記録と集計には残る）",
)
def retire_topic(
    request: HttpRequest,
    desk: uuid.UUID,
    topic_id: int = Path(..., ge=1, le=2**31 - 1),  # type: ignore[type-arg]
) -> Topic:
    m = api_membership(request)
    topic = desk_topic(member_desk(m, desk), topic_id)
    return actions.retire_topic(topic, by=m, request=request)


# Consultations ------------------------------------------------------------------------


@router.get(
    "/desks/{desk}/consultations",
    response={200: ConsultationPage, 400: ErrorOut, **READ_ERRORS},
    summary="相談記録の一覧（閲覧は監査ログに記録）",
)
def list_consultations(
    request: HttpRequest, desk: uuid.UUID, filters: Query[actions.ConsultationFilter]
) -> Page[Consultation]:
    m = api_membership(request)
    return actions.list_consultations(member_desk(m, desk), by=m, filters=filters, request=request)


@router.post(
    "/desks/{desk}/consultations",
    response={201: ConsultationOut, **WRITE_ERRORS},
    summary="相談を記録する",
)
def create_consultation(
    request: HttpRequest, desk: uuid.UUID, payload: actions.NewConsultationInput
) -> Status[Consultation]:
    m = api_membership(request)
    c = actions.create_consultation_as_read(
        member_desk(m, desk), by=m, data=payload, request=request
    )
    # Confirmed at once, the record has a version and a confirmer: read it back.
    return Status(201, _detail(c) if payload.confirm else c)


@router.get(
    "/consultations/{code}",
    response={200: ConsultationOut, **READ_ERRORS},
    summary="相談記録の詳細（閲覧は監査ログに記録）",
)
def get_consultation(request: HttpRequest, code: uuid.UUID) -> Consultation:
    m = api_membership(request)
    return actions.view_consultation(visible_consultation(m, code), by=m, request=request)


@router.put(
    "/consultations/{code}",
    response={200: ConsultationOut, **WRITE_ERRORS},
    summary="相談記録を修正する（確定済みなら新しい版、versionが古ければ409）",
)
def update_consultation(
    request: HttpRequest, code: uuid.UUID, payload: actions.ConsultationEditInput
) -> Consultation:
    m = api_membership(request)
    c = actions.update_consultation(
        visible_consultation(m, code), by=m, data=payload, request=request
    )
    return _detail(c)


@router.post(
    "/consultations/{code}/confirm",
    response={200: ConsultationOut, **WRITE_ERRORS},
    summary="相談記録を確定する（以後の修正は版として残る）",
)
def confirm_consultation(
    request: HttpRequest, code: uuid.UUID, payload: actions.ConfirmInput
) -> Consultation:
    m = api_membership(request)
    c = actions.confirm_consultation(
        visible_consultation(m, code), by=m, data=payload, request=request
    )
    return _detail(c)


@router.get(
    "/consultations/{code}/versions",
    response={200: list[VersionOut], **READ_ERRORS},
    summary="確定・修正の履歴（各版の内容と変更点）",
)
def list_versions(request: HttpRequest, code: uuid.UUID) -> list[ConsultationVersion]:
    m = api_membership(request)
    return actions.view_versions(visible_consultation(m, code), by=m, request=request)


@router.get(
    "/consultations/{code}/versions/{number}",
    response={200: VersionOut, **READ_ERRORS},
    summary="特定の版",
)
def get_version(
    request: HttpRequest,
    code: uuid.UUID,
    number: int = Path(..., ge=1, le=2**31 - 1),  # type: ignore[type-arg]
) -> ConsultationVersion:
    m = api_membership(request)
    return actions.view_version(visible_consultation(m, code), number, by=m, request=request)


# Follow-ups ------------------------------------------------------------------------------


@router.post(
    "/consultations/{code}/followups",
    response={201: FollowUpOut, **WRITE_ERRORS},
    summary="フォローアップを追加する",
)
def add_followup(
    request: HttpRequest, code: uuid.UUID, payload: actions.FollowUpInput
) -> Status[FollowUp]:
    m = api_membership(request)
    f = actions.add_followup(visible_consultation(m, code), by=m, data=payload, request=request)
    return Status(201, f)


@router.post(
    "/followups/{followup_id}/done",
    response={200: FollowUpOut, **WRITE_ERRORS},
    summary="フォローアップを完了にする",
)
def complete_followup(
    request: HttpRequest,
    followup_id: int = Path(..., ge=1, le=2**63 - 1),  # type: ignore[type-arg]
) -> FollowUp:
    m = api_membership(request)
    return actions.complete_followup(visible_followup(m, followup_id), by=m, request=request)


class FollowUpFilter(Schema):
    due_by: CalendarDate | None = Field(None, description="この日までに期日を迎えるもの")


@router.get(
    "/desks/{desk}/followups",
    response={200: list[FollowUpOut], 400: ErrorOut, **READ_ERRORS},
    summary="未完了のフォローアップ（期日順、期限切れを含む）",
)
def list_followups(
    request: HttpRequest, desk: uuid.UUID, filters: Query[FollowUpFilter]
) -> QuerySet[FollowUp]:
    d = member_desk(api_membership(request), desk)
    qs = FollowUp.objects.for_desk(d).open().select_related("consultation", "assignee")
    if filters.due_by is not None:
        qs = qs.filter(due_date__lte=filters.due_by)
    return qs.order_by("due_date", "pk")[:500]


# Tallies ----------------------------------------------------------------------------------


@router.get(
    "/desks/{desk}/tally",
    response={200: DeskTallyOut, 400: ErrorOut, **READ_ERRORS},
    summary="年度の月別集計（相談方法・相談者・相談内容・場面）",
)
def get_tally(request: HttpRequest, desk: uuid.UUID, query: Query[actions.TallyQuery]) -> Tally:
    d = reportable_desk(api_membership(request), desk)
    return yearly_tally(d, actions.tally_year(query))
