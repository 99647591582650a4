"""/api/v1/oncall/: rotas, months, shifts and swaps, on the same actions as the screens."""

from __future__ import annotations

import datetime
import uuid

from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Path, Query, Router, Schema, Status
from ninja.security import SessionAuth
from pydantic import Field

from renkei.accounts.http import api_membership
from renkei.accounts.models import Membership
from renkei.care import actions as care_actions
from renkei.care.access import api_care_membership, visible_patient
from renkei.lib.actions import ActionError, NotFound
from renkei.lib.api import READ_ERRORS, WRITE_ERRORS, ErrorOut, act
from renkei.lib.inputs import CalendarDateTime, Input
from renkei.oncall import actions, beds, cover, search
from renkei.oncall import now as now_
from renkei.oncall.access import (
    own_offer,
    registrations_visible_to,
    searches_visible_to,
    visible_cooperation,
    visible_registration,
    visible_rota,
    visible_search,
    visible_shift,
    visible_swap,
)
from renkei.oncall.models import (
    OPEN_REGISTRATIONS,
    Absence,
    BackupBedExchange,
    BackupBedOffer,
    BackupBedRegistration,
    BackupBedUse,
    CooperatingInstitution,
    CooperationConfirmation,
    CoverAgreement,
    CoverSearch,
    CoverShare,
    CoverVolunteer,
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
    SearchDetailOut,
    SearchOut,
    ShareOut,
    ShiftOut,
    SwapOut,
    VolunteerOut,
)

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
def create_rota(request: HttpRequest, payload: actions.RotaInput) -> Status[Rota]:
    return Status(201, actions.save_rota(by=api_membership(request), data=payload, request=request))


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
) -> Status[RotaMember]:
    m = api_membership(request)
    return Status(201, act(request, m, visible_rota, code, actions.add_member, payload))


@router.post(
    "/rotas/{code}/rules",
    response={201: dict[str, int], **WRITE_ERRORS},
    summary="当番枠の規則を追加する",
)
def add_rule(
    request: HttpRequest, code: uuid.UUID, payload: actions.RuleInput
) -> Status[dict[str, int]]:
    rule = act(request, api_membership(request), visible_rota, code, actions.add_rule, payload)
    return Status(201, {"id": rule.pk})


@router.post(
    "/rotas/{code}/unavailable",
    response={200: CountOut, **WRITE_ERRORS},
    summary="当番に入れない日を登録する",
)
def mark_unavailable(
    request: HttpRequest, code: uuid.UUID, payload: actions.UnavailableInput
) -> dict[str, int]:
    m = api_membership(request)
    return {"changed": act(request, m, visible_rota, code, actions.mark_unavailable, payload)}


@router.get(
    "/rotas/{code}/months/{month}",
    response={200: MonthOut, 400: ErrorOut, **READ_ERRORS},
    summary="月の当番表",
)
def get_month(
    request: HttpRequest,
    code: uuid.UUID,
    month: str = Path(  # type: ignore[type-arg]
        ..., pattern=actions.MONTH_RE.pattern, description="対象月（YYYY-MM）"
    ),
) -> RotaMonth:
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
    return {"changed": act(request, m, visible_rota, code, actions.override_period, payload)}


@router.put(
    "/shifts/{code}",
    response={200: ShiftOut, **WRITE_ERRORS},
    summary="枠の当番を変更する（主催者）",
)
def assign(request: HttpRequest, code: uuid.UUID, payload: actions.AssignInput) -> Shift:
    m = api_membership(request)
    return _shift(act(request, m, visible_shift, code, actions.assign_shift, payload))


@router.post(
    "/shifts/{code}/swaps",
    response={201: SwapOut, **WRITE_ERRORS},
    summary="交代を頼む（当番の医療機関）",
)
def request_swap(
    request: HttpRequest, code: uuid.UUID, payload: actions.SwapInput
) -> Status[SwapRequest]:
    m = api_membership(request)
    shift = visible_shift(m, code)
    if not shift.month.is_published and shift.rota.organizer_id != m.organization_id:
        raise NotFound("当番枠が見つかりません")
    return Status(201, actions.request_swap(shift, by=m, data=payload, request=request))


@router.post(
    "/swaps/{code}/answer",
    response={200: SwapOut, **WRITE_ERRORS},
    summary="交代に回答する（頼まれた医療機関）",
)
def answer_swap(
    request: HttpRequest, code: uuid.UUID, payload: actions.SwapAnswerInput
) -> SwapRequest:
    return act(request, api_membership(request), visible_swap, code, actions.answer_swap, payload)


@router.post(
    "/swaps/{code}/decide",
    response={200: SwapOut, **WRITE_ERRORS},
    summary="交代を承認する（主催者）",
)
def decide_swap(
    request: HttpRequest, code: uuid.UUID, payload: actions.SwapAnswerInput
) -> SwapRequest:
    return act(request, api_membership(request), visible_swap, code, actions.decide_swap, payload)


@router.get(
    "/now",
    response={200: list[OnDutyOut], 400: ErrorOut, **READ_ERRORS},
    summary="いまの当番（市区町村を担当する公開済みの当番表）",
)
def now(request: HttpRequest, q: Query[NowQuery]) -> list[dict[str, object]]:
    api_membership(request)
    municipality = now_.find_municipality(q.municipality)
    if municipality is None:
        raise ActionError("市区町村が見つかりません", field="municipality")
    rotas = now_.covering(municipality).prefetch_related("municipalities")
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


# Backup beds and 協力医療機関 (ADR 0047) ---------------------------------------------------------


class OfferOut(Schema):
    code: uuid.UUID
    hospital: str
    hospital_code: uuid.UUID
    scheme: str
    name: str
    phone: str
    beds: int | None
    note: str
    is_active: bool

    @staticmethod
    def resolve_hospital(obj: BackupBedOffer) -> str:
        return obj.hospital.name

    @staticmethod
    def resolve_hospital_code(obj: BackupBedOffer) -> uuid.UUID:
        return obj.hospital.code


class ExchangeOut(Schema):
    at: datetime.datetime
    from_hospital: bool
    organization: str
    summary: str

    @staticmethod
    def resolve_organization(obj: BackupBedExchange) -> str:
        return obj.by.organization.name


class UseOut(Schema):
    code: uuid.UUID
    admitted_on: datetime.date
    outcome: str
    discharged_on: datetime.date | None
    note: str


class RegistrationOut(Schema):
    code: uuid.UUID
    patient: uuid.UUID
    hospital: str
    clinic: str
    offer: uuid.UUID
    status: str
    registered_at: datetime.datetime
    decided_at: datetime.datetime | None
    decline_reason: str
    last_exchange_at: datetime.datetime
    stale: bool = Field(description="最後の情報交換から3か月以上")
    version: int

    @staticmethod
    def resolve_patient(obj: BackupBedRegistration) -> uuid.UUID:
        return obj.patient.code

    @staticmethod
    def resolve_hospital(obj: BackupBedRegistration) -> str:
        return obj.hospital.name

    @staticmethod
    def resolve_clinic(obj: BackupBedRegistration) -> str:
        return obj.clinic.name

    @staticmethod
    def resolve_offer(obj: BackupBedRegistration) -> uuid.UUID:
        return obj.offer.code

    @staticmethod
    def resolve_stale(obj: BackupBedRegistration) -> bool:
        today = timezone.localdate()
        return timezone.localdate(obj.last_exchange_at) < beds.months_before(
            today, beds.STALE_MONTHS
        )


class RegistrationDetailOut(RegistrationOut):
    exchanges: list[ExchangeOut]
    uses: list[UseOut]

    @staticmethod
    def resolve_exchanges(obj: BackupBedRegistration) -> list[BackupBedExchange]:
        return list(obj.exchanges.select_related("by__organization"))

    @staticmethod
    def resolve_uses(obj: BackupBedRegistration) -> list[BackupBedUse]:
        return list(obj.uses.all())


class ConfirmationOut(Schema):
    code: uuid.UUID
    fiscal_year: int
    confirmed_on: datetime.date
    filed_on: datetime.date | None
    note: str


class CooperationOut(Schema):
    code: uuid.UUID
    facility: str
    institution: uuid.UUID | None
    name: str
    phone: str
    valid_from: datetime.date
    valid_until: datetime.date | None
    confirmations: list[ConfirmationOut]

    @staticmethod
    def resolve_facility(obj: CooperatingInstitution) -> str:
        return obj.facility.name

    @staticmethod
    def resolve_institution(obj: CooperatingInstitution) -> uuid.UUID | None:
        return obj.institution.code if obj.institution else None

    @staticmethod
    def resolve_confirmations(obj: CooperatingInstitution) -> list[CooperationConfirmation]:
        return list(obj.confirmations.all())


def _registration(m: Membership, code: uuid.UUID, request: HttpRequest) -> BackupBedRegistration:
    reg = visible_registration(m, code)
    care_actions.view_patient(reg.patient, by=m, what="backup_bed", request=request)
    return reg


@router.get(
    "/beds/offers", response={200: list[OfferOut], **READ_ERRORS}, summary="受付中の後方ベッド"
)
def list_offers(request: HttpRequest) -> QuerySet[BackupBedOffer]:
    api_membership(request)
    return BackupBedOffer.objects.filter(is_active=True).select_related("hospital")


@router.post(
    "/beds/offers", response={201: OfferOut, **WRITE_ERRORS}, summary="後方ベッドを提供する（病院）"
)
def create_offer(request: HttpRequest, payload: beds.OfferInput) -> Status[BackupBedOffer]:
    return Status(201, beds.save_offer(by=api_membership(request), data=payload, request=request))


@router.put(
    "/beds/offers/{code}",
    response={200: OfferOut, **WRITE_ERRORS},
    summary="後方ベッドの提供を変更する",
)
def update_offer(request: HttpRequest, code: uuid.UUID, payload: beds.OfferInput) -> BackupBedOffer:
    m = api_membership(request)
    return beds.save_offer(by=m, data=payload, offer=own_offer(m, code), request=request)


@router.get(
    "/beds/registrations",
    response={200: list[RegistrationOut], **READ_ERRORS},
    summary="後方ベッドの登録（病院: 登録患者と最後の情報交換、診療所: 自院の患者）",
)
def list_registrations(request: HttpRequest) -> list[BackupBedRegistration]:
    m = api_care_membership(request)
    rows = list(
        registrations_visible_to(m)
        .filter(status__in=OPEN_REGISTRATIONS)
        .select_related("patient", "hospital", "clinic", "offer")
        .order_by("last_exchange_at")
    )
    for r in rows:
        care_actions.view_patient(r.patient, by=m, what="backup_bed_list", request=request)
    return rows


@router.post(
    "/patients/{code}/backup-bed",
    response={201: RegistrationOut, **WRITE_ERRORS},
    summary="後方ベッドに事前登録して情報を送る（主治医の医療機関・1か所のみ）",
)
def register_backup_bed(
    request: HttpRequest, code: uuid.UUID, payload: beds.RegisterInput
) -> Status[BackupBedRegistration]:
    m = api_care_membership(request)
    patient = visible_patient(m, code)
    return Status(201, beds.register_patient(patient, by=m, data=payload, request=request))


@router.get(
    "/beds/registrations/{code}",
    response={200: RegistrationDetailOut, **READ_ERRORS},
    summary="後方ベッドの登録（情報交換・利用の記録を含む）",
)
def get_registration(request: HttpRequest, code: uuid.UUID) -> BackupBedRegistration:
    return _registration(api_care_membership(request), code, request)


@router.post(
    "/beds/registrations/{code}/decide",
    response={200: RegistrationOut, **WRITE_ERRORS},
    summary="事前登録に回答する（病院）",
)
def decide_registration(
    request: HttpRequest, code: uuid.UUID, payload: beds.DecisionInput
) -> BackupBedRegistration:
    m = api_care_membership(request)
    return act(request, m, visible_registration, code, beds.decide_registration, payload)


@router.post(
    "/beds/registrations/{code}/exchanges",
    response={201: ExchangeOut, **WRITE_ERRORS},
    summary="情報を送る（病院・主治医の医療機関）",
)
def send_information(
    request: HttpRequest, code: uuid.UUID, payload: beds.ExchangeInput
) -> Status[BackupBedExchange]:
    m = api_care_membership(request)
    return Status(201, act(request, m, visible_registration, code, beds.send_information, payload))


@router.post(
    "/beds/registrations/{code}/uses",
    response={201: UseOut, **WRITE_ERRORS},
    summary="後方ベッドの利用を記録する",
)
def record_use(
    request: HttpRequest, code: uuid.UUID, payload: beds.BedUseInput
) -> Status[BackupBedUse]:
    m = api_care_membership(request)
    return Status(201, act(request, m, visible_registration, code, beds.record_use, payload))


@router.post(
    "/beds/registrations/{code}/end",
    response={200: RegistrationOut, **WRITE_ERRORS},
    summary="登録を終了する",
)
def end_registration(request: HttpRequest, code: uuid.UUID) -> BackupBedRegistration:
    m = api_care_membership(request)
    return act(request, m, visible_registration, code, beds.end_registration)


@router.get(
    "/cooperation",
    response={200: list[CooperationOut], **READ_ERRORS},
    summary="協力医療機関（自施設のもの・自院が協力するもの）",
)
def list_cooperation(request: HttpRequest) -> QuerySet[CooperatingInstitution]:
    m = api_membership(request)
    return (
        CooperatingInstitution.objects.filter(
            Q(facility_id=m.organization_id) | Q(institution_id=m.organization_id)
        )
        .select_related("facility", "institution")
        .prefetch_related("confirmations")
    )


@router.post(
    "/cooperation",
    response={201: CooperationOut, **WRITE_ERRORS},
    summary="協力医療機関を記録する（介護施設）",
)
def save_cooperation(
    request: HttpRequest, payload: beds.CooperationInput
) -> Status[CooperatingInstitution]:
    row = beds.save_cooperation(by=api_membership(request), data=payload, request=request)
    return Status(201, row)


@router.post(
    "/cooperation/{code}/confirmations",
    response={201: ConfirmationOut, **WRITE_ERRORS},
    summary="年1回の急変時対応の確認と自治体への届出日を記録する",
)
def record_confirmation(
    request: HttpRequest, code: uuid.UUID, payload: beds.ConfirmationInput
) -> Status[CooperationConfirmation]:
    m = api_membership(request)
    return Status(
        201, act(request, m, visible_cooperation, code, beds.record_confirmation, payload)
    )


# The 副主治医 search and the 往診時医療情報連携加算 record (ADR 0016) -------------------------------


def _search_detail(m: Membership, s: CoverSearch, request: HttpRequest) -> CoverSearch:
    """What this side may see: the requester the patient and every volunteer, a recipient
    the anonymous case and its own offer."""
    mine = s.requester_id == m.organization_id
    if mine:
        care_actions.view_patient(s.patient, by=m, what="cover_search", request=request)
    volunteers = s.volunteers.select_related("organization")
    if not mine:
        volunteers = volunteers.filter(organization_id=m.organization_id)
    s.shown_to_requester = mine  # type: ignore[attr-defined]
    s.shown_volunteers = list(volunteers)  # type: ignore[attr-defined]
    return s


def _search_member(request: HttpRequest, s_code: uuid.UUID) -> tuple[Membership, CoverSearch]:
    m = api_membership(request)
    s = visible_search(m, s_code)
    if s.requester_id == m.organization_id:
        m = api_care_membership(request)  # the requesting side reaches the patient
    return m, s


@router.post(
    "/patients/{code}/cover-searches",
    response={201: SearchDetailOut, **WRITE_ERRORS},
    summary="副主治医・主治医を地域で募集する（匿名の案件）",
)
def post_search(
    request: HttpRequest, code: uuid.UUID, payload: search.SearchInput
) -> Status[CoverSearch]:
    m = api_care_membership(request)
    patient = visible_patient(m, code)
    s = search.post_search(patient, by=m, data=payload, request=request)
    return Status(201, _search_detail(m, s, request))


@router.get(
    "/cover-searches",
    response={200: list[SearchOut], **READ_ERRORS},
    summary="届いている募集・自院の募集",
)
def list_searches(request: HttpRequest) -> QuerySet[CoverSearch]:
    m = api_membership(request)
    return (
        searches_visible_to(m)
        .filter(Q(status="open") | Q(requester_id=m.organization_id))
        .select_related("requester", "municipality")
        .order_by("-created_at")[:100]
    )


@router.get(
    "/cover-searches/{code}", response={200: SearchDetailOut, **READ_ERRORS}, summary="募集"
)
def get_search(request: HttpRequest, code: uuid.UUID) -> CoverSearch:
    m, s = _search_member(request, code)
    return _search_detail(m, s, request)


@router.post(
    "/cover-searches/{code}/volunteers",
    response={201: VolunteerOut, **WRITE_ERRORS},
    summary="名乗り出る（募集を受け取った医療機関）",
)
def volunteer(
    request: HttpRequest, code: uuid.UUID, payload: search.VolunteerInput
) -> Status[CoverVolunteer]:
    m, s = _search_member(request, code)
    return Status(201, search.volunteer(s, by=m, data=payload, request=request))


@router.post(
    "/cover-searches/{code}/choose",
    response={201: CoverOut, **WRITE_ERRORS},
    summary="名乗り出た医療機関に決め、取り決めを記録する（募集元）",
)
def choose(
    request: HttpRequest, code: uuid.UUID, payload: search.ChooseInput
) -> Status[CoverAgreement]:
    m, s = _search_member(request, code)
    if s.requester_id != m.organization_id:
        raise NotFound("募集が見つかりません")
    return Status(201, search.choose(s, by=m, data=payload, request=request))


@router.post(
    "/cover-searches/{code}/withdraw",
    response={200: SearchOut, **WRITE_ERRORS},
    summary="募集を取り下げる（募集元）",
)
def withdraw_search(request: HttpRequest, code: uuid.UUID) -> CoverSearch:
    m, s = _search_member(request, code)
    return search.withdraw(s, by=m, request=request)


@router.post(
    "/patients/{code}/cover/shares",
    response={201: ShareOut, **WRITE_ERRORS},
    summary="副主治医との診療情報・急変時の方針の共有を記録する（月次）",
)
def record_share(
    request: HttpRequest, code: uuid.UUID, payload: search.ShareInput
) -> Status[CoverShare]:
    m = api_care_membership(request)
    patient = visible_patient(m, code)
    return Status(201, search.record_share(patient, by=m, data=payload, request=request))
