"""/api/v1/oncall/: rotas, months, shifts and swaps, on the same actions as the screens."""

from __future__ import annotations

import datetime
import uuid

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from ninja.security import SessionAuth
from pydantic import Field

from renkei.accounts.http import api_membership
from renkei.care import actions as care_actions
from renkei.care.access import api_care_membership, visible_patient
from renkei.lib.actions import ActionError, NotFound
from renkei.lib.api import READ_ERRORS, WRITE_ERRORS, ErrorOut
from renkei.lib.inputs import CalendarDateTime, Input
from renkei.oncall import actions, cover
from renkei.oncall.access import visible_rota, visible_shift, visible_swap
from renkei.oncall.models import (
    Absence,
    CoverAgreement,
    Rota,
    RotaMember,
    RotaMonth,
    Shift,
    SwapRequest,
)
from renkei.oncall.schemas import (
    CountOut,
    MemberOut,
    MonthOut,
    OnDutyOut,
    RotaOut,
    ShiftOut,
    SwapOut,
)
from renkei.regions.models import Municipality

router = Router(tags=["oncall"], auth=SessionAuth())


class NowQuery(Input):
    municipality: str = Field(..., pattern=r"^\d{6}$", description="市区町村コード（6桁）")


def _shift(shift: Shift) -> Shift:
    return Shift.objects.select_related("member__organization").get(pk=shift.pk)


def _month(rota: Rota, month: str, *, organiser: bool) -> RotaMonth:
    found = (
        RotaMonth.objects.filter(rota=rota, month=actions.first_of(month))
        .prefetch_related(
            Prefetch(
                "shifts", Shift.objects.select_related("member__organization").order_by("starts_at")
            )
        )
        .first()
    )
    if found is None or not (organiser or found.is_published):
        raise NotFound("この月の当番表はありません")
    return found


@router.get(
    "/rotas", response={200: list[RotaOut], **READ_ERRORS}, summary="参加・主催している当番表"
)
def list_rotas(request: HttpRequest) -> QuerySet[Rota]:
    return (
        Rota.objects.visible_to(api_membership(request))
        .select_related("organizer", "area")
        .prefetch_related("municipalities")
    )


@router.post("/rotas", response={201: RotaOut, **WRITE_ERRORS}, summary="当番表を作る（主催者）")
def create_rota(request: HttpRequest, payload: actions.RotaInput) -> tuple[int, Rota]:
    return 201, actions.save_rota(by=api_membership(request), data=payload, request=request)


@router.get("/rotas/{code}", response={200: RotaOut, **READ_ERRORS}, summary="当番表")
def get_rota(request: HttpRequest, code: uuid.UUID) -> Rota:
    return visible_rota(api_membership(request), code)


@router.put(
    "/rotas/{code}", response={200: RotaOut, **WRITE_ERRORS}, summary="当番表の設定を変更する"
)
def update_rota(request: HttpRequest, code: uuid.UUID, payload: actions.RotaInput) -> Rota:
    m = api_membership(request)
    return actions.save_rota(by=m, data=payload, rota=visible_rota(m, code), request=request)


@router.get(
    "/rotas/{code}/members", response={200: list[MemberOut], **READ_ERRORS}, summary="参加機関"
)
def list_members(request: HttpRequest, code: uuid.UUID) -> QuerySet[RotaMember]:
    return visible_rota(api_membership(request), code).members.select_related("organization")


@router.post(
    "/rotas/{code}/members", response={201: MemberOut, **WRITE_ERRORS}, summary="参加機関を追加する"
)
def add_member(
    request: HttpRequest, code: uuid.UUID, payload: actions.MemberInput
) -> tuple[int, RotaMember]:
    m = api_membership(request)
    return 201, actions.add_member(visible_rota(m, code), by=m, data=payload, request=request)


@router.post(
    "/rotas/{code}/rules",
    response={201: dict[str, int], **WRITE_ERRORS},
    summary="当番枠の規則を追加する",
)
def add_rule(
    request: HttpRequest, code: uuid.UUID, payload: actions.RuleInput
) -> tuple[int, dict[str, int]]:
    m = api_membership(request)
    rule = actions.add_rule(visible_rota(m, code), by=m, data=payload, request=request)
    return 201, {"id": rule.pk}


@router.post(
    "/rotas/{code}/unavailable",
    response={200: CountOut, **WRITE_ERRORS},
    summary="当番に入れない日を登録する",
)
def mark_unavailable(
    request: HttpRequest, code: uuid.UUID, payload: actions.UnavailableInput
) -> dict[str, int]:
    m = api_membership(request)
    return {
        "changed": actions.mark_unavailable(
            visible_rota(m, code), by=m, data=payload, request=request
        )
    }


@router.get(
    "/rotas/{code}/months/{month}",
    response={200: MonthOut, 400: ErrorOut, **READ_ERRORS},
    summary="月の当番表",
)
def get_month(request: HttpRequest, code: uuid.UUID, month: str) -> RotaMonth:
    m = api_membership(request)
    rota = visible_rota(m, code)
    data = actions.MonthInput(month=month) if actions.MONTH_RE.match(month) else None
    if data is None:
        raise ActionError("月は 2026-12 の形で指定してください", field="month")
    return _month(rota, data.month, organiser=rota.organizer_id == m.organization_id)


@router.post(
    "/rotas/{code}/generate",
    response={200: MonthOut, **WRITE_ERRORS},
    summary="月の下書きを作る（作り直す）",
)
def generate_month(request: HttpRequest, code: uuid.UUID, payload: actions.MonthInput) -> RotaMonth:
    m = api_membership(request)
    rota = visible_rota(m, code)
    actions.generate_month(rota, by=m, data=payload, request=request)
    return _month(rota, payload.month, organiser=True)


@router.post(
    "/rotas/{code}/publish",
    response={200: MonthOut, **WRITE_ERRORS},
    summary="月を公開する（参加機関に通知）",
)
def publish_month(request: HttpRequest, code: uuid.UUID, payload: actions.MonthInput) -> RotaMonth:
    m = api_membership(request)
    rota = visible_rota(m, code)
    actions.publish_month(rota, by=m, data=payload, request=request)
    return _month(rota, payload.month, organiser=True)


@router.post(
    "/rotas/{code}/override",
    response={200: CountOut, **WRITE_ERRORS},
    summary="期間の当番をまとめて変更する",
)
def override(
    request: HttpRequest, code: uuid.UUID, payload: actions.OverrideInput
) -> dict[str, int]:
    m = api_membership(request)
    return {
        "changed": actions.override_period(
            visible_rota(m, code), by=m, data=payload, request=request
        )
    }


@router.put(
    "/shifts/{code}",
    response={200: ShiftOut, **WRITE_ERRORS},
    summary="枠の当番を変更する（主催者）",
)
def assign(request: HttpRequest, code: uuid.UUID, payload: actions.AssignInput) -> Shift:
    m = api_membership(request)
    shift = visible_shift(m, code)
    return _shift(actions.assign_shift(shift, by=m, data=payload, request=request))


@router.post(
    "/shifts/{code}/swaps",
    response={201: SwapOut, **WRITE_ERRORS},
    summary="交代を頼む（当番の医療機関）",
)
def request_swap(
    request: HttpRequest, code: uuid.UUID, payload: actions.SwapInput
) -> tuple[int, SwapRequest]:
    m = api_membership(request)
    shift = visible_shift(m, code)
    if not shift.month.is_published and shift.rota.organizer_id != m.organization_id:
        raise NotFound("当番枠が見つかりません")
    return 201, actions.request_swap(shift, by=m, data=payload, request=request)


@router.post(
    "/swaps/{code}/answer",
    response={200: SwapOut, **WRITE_ERRORS},
    summary="交代に回答する（頼まれた医療機関）",
)
def answer_swap(request: HttpRequest, code: uuid.UUID, payload: actions.AnswerInput) -> SwapRequest:
    m = api_membership(request)
    return actions.answer_swap(visible_swap(m, code), by=m, data=payload, request=request)


@router.post(
    "/swaps/{code}/decide",
    response={200: SwapOut, **WRITE_ERRORS},
    summary="交代を承認する（主催者）",
)
def decide_swap(request: HttpRequest, code: uuid.UUID, payload: actions.AnswerInput) -> SwapRequest:
    m = api_membership(request)
    return actions.decide_swap(visible_swap(m, code), by=m, data=payload, request=request)


@router.get(
    "/now",
    response={200: list[OnDutyOut], 400: ErrorOut, **READ_ERRORS},
    summary="いまの当番（市区町村を担当する公開済みの当番表）",
)
def now(request: HttpRequest, q: Query[NowQuery]) -> list[dict[str, object]]:
    api_membership(request)
    municipality = Municipality.objects.filter(code=q.municipality).first()
    if municipality is None:
        raise ActionError("市区町村が見つかりません", field="municipality")
    rotas = Rota.objects.covering(municipality).select_related("organizer", "area")
    return [
        {"rota": r, "now": cur, "next": nxt}
        for r, cur, nxt in actions.on_duty(rotas, timezone.now())
    ]


# The cover chain per patient (ADR 0036): scoped exactly like the patient -----------------------


class StepOut(Schema):
    role: str
    name: str
    phone: str
    note: str
    skipped: bool
    organization: str
    doctor: str


class ChainOut(Schema):
    at: datetime.datetime
    steps: list[StepOut]


class CoverOut(Schema):
    code: uuid.UUID
    valid_from: datetime.date
    valid_until: datetime.date | None


class ChainQuery(Input):
    at: CalendarDateTime | None = Field(None, description="この時刻の連絡順（省略時は現在）")


@router.get(
    "/patients/{code}/chain",
    response={200: ChainOut, 400: ErrorOut, **READ_ERRORS},
    summary="患者の急変時の連絡順（主治医→副主治医→当番医→当番病院）",
)
def patient_chain(request: HttpRequest, code: uuid.UUID, q: Query[ChainQuery]) -> ChainOut:
    m = api_care_membership(request)
    patient = visible_patient(m, code)
    care_actions.view_patient(patient, by=m, what="cover_chain", request=request)
    moment = q.at or timezone.now()
    steps = cover.cover_chain(patient, moment)
    return ChainOut(at=moment, steps=[StepOut(**vars(s)) for s in steps])


@router.post(
    "/patients/{code}/cover",
    response={201: CoverOut, **WRITE_ERRORS},
    summary="主治医・副主治医の取り決めを記録（主治医の医療機関）",
)
def save_cover(
    request: HttpRequest, code: uuid.UUID, payload: cover.CoverInput
) -> Status[CoverAgreement]:
    m = api_care_membership(request)
    patient = visible_patient(m, code)
    return Status(201, cover.save_cover(patient, by=m, data=payload, request=request))


class AbsenceOut(Schema):
    code: uuid.UUID
    doctor: str
    starts_at: datetime.datetime
    ends_at: datetime.datetime


@router.post(
    "/absences",
    response={201: AbsenceOut, **WRITE_ERRORS},
    summary="不在の記録（自院・自院の医師）",
)
def record_absence(request: HttpRequest, payload: cover.AbsenceInput) -> Status[Absence]:
    return Status(
        201, cover.record_absence(by=api_membership(request), data=payload, request=request)
    )
