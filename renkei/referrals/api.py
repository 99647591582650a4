"""入退院支援 endpoints of /api/v1/: every step of the screens, as JSON.

Session authentication with CSRF for cookie clients; every lookup is scoped by the caller's
organisation (an outsider gets 404). POSTs accept an Idempotency-Key header: a replay returns
the first response and changes nothing (security R23).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from ninja.security import SessionAuth

from renkei.accounts.http import api_membership as _member
from renkei.accounts.models import AuditEntry, Membership, User
from renkei.directory.models import Capability, Facility, WardKind
from renkei.referrals import actions, metrics
from renkei.referrals.idempotency import KeyReused, run_once, valid_key
from renkei.referrals.matching import Candidate, find_candidates, find_hospitals
from renkei.referrals.models import (
    AgeBand,
    Answer,
    CaseEvent,
    CaseStatus,
    DeclineReason,
    DementiaLevel,
    Destination,
    HandoverKind,
    HandoverMethod,
    HandoverRecord,
    Household,
    Infection,
    KeyPerson,
    PlacementCase,
    PlacementCaseQuerySet,
    PlacementRequest,
    Relation,
    RequestMessage,
    RequestStatus,
    Sex,
    WithdrawalReason,
    unread_count,
)
from renkei.regions.models import Municipality, SecondaryArea


class _SessionAuth(SessionAuth):
    """Session auth with CSRF; a POST whose multipart body cannot be parsed (the CSRF check
    reads request.POST) is the client's error, not a 500."""

    def __call__(self, request: HttpRequest) -> Any:
        try:
            return super().__call__(request)
        except MultiPartParserError:
            raise HttpError(
                400, "リクエストの本文を読み取れません（JSONで送信してください）"
            ) from None


router = Router(tags=["referrals"], auth=_SessionAuth())


class ReferralErrorOut(Schema):
    detail: str


ERRORS: dict[int, Any] = {
    400: ReferralErrorOut,
    401: ReferralErrorOut,
    403: ReferralErrorOut,
    404: ReferralErrorOut,
    409: ReferralErrorOut,
}


class ReferralCaseIn(Schema):
    age_band: AgeBand
    sex: Sex
    care_level: int | None = Field(..., ge=0, le=7, description="0=自立 … 7=要介護5、null=申請中")
    dementia: DementiaLevel = DementiaLevel.NONE
    required_capabilities: list[str] = Field(default_factory=list, max_length=40)
    infections: list[Infection] = Field(default_factory=list, max_length=20)
    residence: str = Field(..., pattern=r"^\d{6}$", description="居住地の市区町村コード（6桁）")
    destinations: list[Destination] = Field(default_factory=list, max_length=20)
    desired_municipalities: list[str] = Field(default_factory=list, max_length=50)
    radius_km: int = Field(20, ge=1, le=100)
    budget_monthly: int | None = Field(None, ge=0, le=2_000_000)
    target_date: dt.date | None = None
    household: Household = Household.UNKNOWN
    key_person: KeyPerson = KeyPerson.YES
    key_person_relation: Relation | None = None
    note: str = Field("", max_length=2000)
    draft: bool = False


class ReferralCasePatch(Schema):
    age_band: AgeBand | None = None
    sex: Sex | None = None
    care_level: int | None = Field(None, ge=0, le=7)
    care_level_pending: bool | None = Field(None, description="true で要介護度を「申請中」にする")
    dementia: DementiaLevel | None = None
    required_capabilities: list[str] | None = Field(None, max_length=40)
    infections: list[Infection] | None = Field(None, max_length=20)
    residence: str | None = Field(None, pattern=r"^\d{6}$")
    destinations: list[Destination] | None = Field(None, max_length=20)
    desired_municipalities: list[str] | None = Field(None, max_length=50)
    radius_km: int | None = Field(None, ge=1, le=100)
    budget_monthly: int | None = Field(None, ge=0, le=2_000_000)
    target_date: dt.date | None = None
    household: Household | None = None
    key_person: KeyPerson | None = None
    key_person_relation: Relation | None = None
    note: str | None = Field(None, max_length=2000)
    complete_draft: bool = Field(False, description="true で下書きを登録済みにする")
    version: int | None = Field(
        None, description="楽観的ロック: 読み込んだ時点の version。異なれば409"
    )


class ReferralCaseOut(Schema):
    code: uuid.UUID
    status: str
    status_label: str
    hospital: str
    assignee: str | None
    created_at: dt.datetime
    registered_at: dt.datetime | None
    decided_at: dt.datetime | None
    age_band: str
    sex: str
    care_level: int | None
    care_level_label: str
    dementia: str
    required_capabilities: list[str]
    infections: list[str]
    residence: str
    residence_name: str
    destinations: list[str]
    desired_municipalities: list[str]
    radius_km: int
    budget_monthly: int | None
    target_date: dt.date | None
    household: str
    key_person: str
    key_person_relation: str
    note: str
    placed_facility: uuid.UUID | None
    withdrawal_reason: str
    version: int | None


class ReferralCasePage(Schema):
    count: int
    page: int
    per_page: int
    items: list[ReferralCaseOut]


class ReferralRequestOut(Schema):
    code: uuid.UUID
    case: uuid.UUID
    facility: uuid.UUID
    facility_name: str
    status: str
    status_label: str
    answer: str
    decline_reason: str
    conditions: str
    interview_dates: list[str]
    answer_note: str
    sent_at: dt.datetime
    deadline: dt.datetime
    read_at: dt.datetime | None
    answered_at: dt.datetime | None
    withdrawn_at: dt.datetime | None
    withdrawal_note: str


class ReferralRequestPage(Schema):
    count: int
    page: int
    per_page: int
    items: list[ReferralRequestOut]


class ReferralRequestDetailOut(ReferralRequestOut):
    case_summary: ReferralCaseOut


class ReferralCandidateOut(Schema):
    facility: uuid.UUID
    name: str
    kind: str
    kind_label: str
    municipality: str
    distance_km: float | None
    vacancy_status: str
    is_match: bool
    reasons: list[str]
    missing: list[str]
    to_confirm: list[str]
    score: float
    in_network: bool
    requested_status: str | None


class ReferralCandidatesOut(Schema):
    matches: list[ReferralCandidateOut]
    near_misses: list[ReferralCandidateOut]
    truncated: bool


class ReferralSendIn(Schema):
    facilities: list[uuid.UUID] = Field(..., min_length=1, max_length=100)
    deadline: dt.datetime


class ReferralAnswerIn(Schema):
    answer: Answer
    decline_reason: DeclineReason | None = None
    conditions: str = Field("", max_length=1000)
    interview_dates: list[dt.datetime] = Field(default_factory=list, max_length=5)
    note: str = Field("", max_length=1000)


class ReferralMessageIn(Schema):
    body: str = Field(..., min_length=1, max_length=1000)


class ReferralMessageOut(Schema):
    id: int
    organization: str
    author: str
    from_hospital: bool
    body: str
    created_at: dt.datetime


class ReferralConfirmIn(Schema):
    request: uuid.UUID


class ReferralWithdrawCaseIn(Schema):
    reason: WithdrawalReason


class ReferralWithdrawRequestIn(Schema):
    note: str = Field("", max_length=200)


class ReferralAssignIn(Schema):
    username: str | None = Field(None, max_length=150, description="省略すると自分が担当する")


class ReferralHandoverIn(Schema):
    kind: HandoverKind
    method: HandoverMethod = HandoverMethod.HAND
    exchanged_on: dt.date


class ReferralHandoverOut(Schema):
    kind: str
    kind_label: str
    method: str
    exchanged_on: dt.date
    organization: str
    recorded_at: dt.datetime


class ReferralEventOut(Schema):
    at: dt.datetime
    kind: str
    kind_label: str
    text: str
    organization: str | None


class ReferralWardOut(Schema):
    kind: str
    kind_label: str
    beds: int
    vacant_beds: int | None


class ReferralHospitalOut(Schema):
    facility: uuid.UUID
    name: str
    municipality: str
    distance_km: float | None
    is_backup_hospital: bool
    vacancy_status: str
    wards: list[ReferralWardOut]
    reasons: list[str]


class ReferralUnreadOut(Schema):
    count: int


class ReferralRowOut(Schema):
    label: str
    cases: int
    decided: int
    withdrawn: int
    open: int
    days_median: float | None
    days_p90: float | None
    requests_per_placement_mean: float | None
    answer_hours_median: float | None
    answer_hours_p90: float | None
    requests: int
    answer_rate: float | None
    acceptance_rate: float | None


class ReferralKindRowOut(Schema):
    kind: str
    requests: int
    answered: int
    positive: int
    acceptance_rate: float | None


class ReferralCountOut(Schema):
    label: str
    count: int


class ReferralDashboardOut(Schema):
    total: ReferralRowOut
    by_area: list[ReferralRowOut]
    by_month: list[ReferralRowOut]
    by_kind: list[ReferralKindRowOut]
    decline_reasons: list[ReferralCountOut]
    failures: list[ReferralCountOut]


# Helpers ----------------------------------------------------------------------


def _jsonable(body: Any) -> Any:
    return json.loads(json.dumps(body, cls=DjangoJSONEncoder))


def _run(request: HttpRequest, scope: str, work: Callable[[], tuple[int, Any]]) -> Status[Any]:
    """Run an action; map its errors to {"detail"}; replay an Idempotency-Key's first response."""

    def guarded() -> tuple[int, Any]:
        status, body = work()
        return status, _jsonable(body)

    key = request.headers.get("Idempotency-Key", "")
    try:
        if not key:
            return Status(*guarded())
        if not valid_key(key):
            return Status(
                400,
                {"detail": "Idempotency-Key は8〜100文字の英数字・記号（-_:.）で指定してください"},
            )
        user: User = request.user  # type: ignore[assignment]
        status, body, _ = run_once(user, f"api:{key}", scope, guarded)
        return Status(status, body)
    except actions.ActionError as e:
        return Status(e.status, {"detail": str(e)})
    except KeyReused as e:
        return Status(409, {"detail": str(e)})


def case_out(case: PlacementCase, membership: Membership) -> dict[str, Any]:
    own = case.hospital_id == membership.organization_id
    return {
        "code": case.code,
        "status": case.status,
        "status_label": case.get_status_display(),
        "hospital": case.hospital.name,
        "assignee": str(case.assignee) if own and case.assignee else None,
        "created_at": case.created_at,
        "registered_at": case.registered_at,
        "decided_at": case.decided_at,
        "age_band": case.age_band,
        "sex": case.sex,
        "care_level": case.care_level,
        "care_level_label": case.care_level_label,
        "dementia": case.dementia,
        "required_capabilities": [c.code for c in case.required_capabilities.all()],
        "infections": list(case.infections),
        "residence": case.residence.code,
        "residence_name": case.residence.name,
        "destinations": list(case.destinations),
        "desired_municipalities": [m.code for m in case.desired_municipalities.all()],
        "radius_km": case.radius_km,
        "budget_monthly": case.budget_monthly,
        "target_date": case.target_date,
        "household": case.household,
        "key_person": case.key_person,
        "key_person_relation": case.key_person_relation,
        "note": case.note,
        "placed_facility": case.placed_facility.code if own and case.placed_facility else None,
        "withdrawal_reason": case.withdrawal_reason,
        "version": case.version if own else None,
    }


def request_out(r: PlacementRequest) -> dict[str, Any]:
    return {
        "code": r.code,
        "case": r.case.code,
        "facility": r.facility.code,
        "facility_name": r.facility.name,
        "status": r.status,
        "status_label": r.get_status_display(),
        "answer": r.answer,
        "decline_reason": r.decline_reason,
        "conditions": r.conditions,
        "interview_dates": [str(d) for d in r.interview_dates],
        "answer_note": r.answer_note,
        "sent_at": r.sent_at,
        "deadline": r.deadline,
        "read_at": r.read_at,
        "answered_at": r.answered_at,
        "withdrawn_at": r.withdrawn_at,
        "withdrawal_note": r.withdrawal_note,
    }


def candidate_out(c: Candidate) -> dict[str, Any]:
    f = c.facility
    return {
        "facility": f.code,
        "name": f.name,
        "kind": f.kind,
        "kind_label": f.get_kind_display(),
        "municipality": c.municipality_name,
        "distance_km": round(c.distance_km, 2) if c.distance_km is not None else None,
        "vacancy_status": f.vacancy_status,
        "is_match": c.is_match,
        "reasons": c.reasons,
        "missing": c.missing,
        "to_confirm": c.to_confirm,
        "score": c.score,
        "in_network": c.in_network,
        "requested_status": c.requested_status,
    }


def _case_qs() -> PlacementCaseQuerySet:
    return PlacementCase.objects.select_related(
        "hospital", "assignee", "residence", "placed_facility"
    ).prefetch_related("required_capabilities", "desired_municipalities")


def _visible_case(membership: Membership, code: uuid.UUID) -> PlacementCase:
    return get_object_or_404(_case_qs().visible_to(membership), code=code)


def _own_case(membership: Membership, code: uuid.UUID) -> PlacementCase:
    return get_object_or_404(_case_qs().of_hospital(membership), code=code)


def _visible_request(membership: Membership, code: uuid.UUID) -> PlacementRequest:
    return get_object_or_404(
        PlacementRequest.objects.visible_to(membership).select_related(
            "case", "case__hospital", "case__residence", "facility"
        ),
        code=code,
    )


def _capabilities(codes: list[str]) -> list[Capability]:
    caps = list(Capability.objects.filter(code__in=codes))
    missing = sorted(set(codes) - {c.code for c in caps})
    if missing:
        raise actions.ActionError(f"処置項目が見つかりません: {', '.join(missing)}")
    return caps


def _municipality(code: str) -> Municipality:
    muni = Municipality.objects.filter(code=code).first()
    if muni is None:
        raise actions.ActionError(f"市区町村コードが見つかりません（{code}）")
    return muni


def _municipalities(codes: list[str]) -> list[Municipality]:
    munis = list(Municipality.objects.filter(code__in=codes))
    if len(munis) != len(set(codes)):
        raise actions.ActionError("希望地域に存在しない市区町村コードがあります")
    return munis


def _page(page: int, per_page: int) -> tuple[int, int]:
    if page < 1 or not 1 <= per_page <= 100:
        raise HttpError(400, "page は1以上、per_page は1〜100で指定してください")
    return (page - 1) * per_page, page * per_page


# Cases -------------------------------------------------------------------------


@router.get("/cases", response={200: ReferralCasePage, **ERRORS}, summary="自院の案件の一覧")
def list_cases(
    request: HttpRequest,
    scope: str = "team",
    status: str = "",
    page: int = 1,
    per_page: int = 20,
) -> Status[Any]:
    m = _member(request)
    if scope not in ("team", "mine"):
        return Status(400, {"detail": "scope は team または mine で指定してください"})
    if status and status != "open" and status not in CaseStatus.values:
        return Status(400, {"detail": f"状態の指定が正しくありません（{status}）"})
    start, end = _page(page, per_page)
    qs = _case_qs().of_hospital(m).order_by("-created_at", "-id")
    if scope == "mine":
        qs = qs.filter(Q(assignee=m.user) | Q(created_by=m.user, assignee__isnull=True))
    if status == "open":
        qs = qs.open()
    elif status:
        qs = qs.filter(status=status)
    return Status(
        200,
        {
            "count": qs.count(),
            "page": page,
            "per_page": per_page,
            "items": [case_out(c, m) for c in qs[start:end]],
        },
    )


@router.post("/cases", response={201: ReferralCaseOut, **ERRORS}, summary="案件を登録する（匿名）")
def create_case(request: HttpRequest, payload: ReferralCaseIn) -> Status[Any]:
    m = _member(request)

    def work() -> tuple[int, Any]:
        fields = payload.dict(exclude={"required_capabilities", "desired_municipalities", "draft"})
        fields["residence"] = _municipality(payload.residence)
        fields["key_person_relation"] = payload.key_person_relation or ""
        fields["infections"] = [str(i) for i in payload.infections]
        fields["destinations"] = [str(d) for d in payload.destinations]
        case = actions.create_case(
            by=m,
            fields=fields,
            capabilities=_capabilities(payload.required_capabilities),
            desired_municipalities=_municipalities(payload.desired_municipalities),
            draft=payload.draft,
            request=request,
        )
        return 201, case_out(_visible_case(m, case.code), m)

    return _run(request, "POST /cases", work)


@router.get("/cases/{code}", response={200: ReferralCaseOut, **ERRORS}, summary="案件の内容")
def get_case(request: HttpRequest, code: uuid.UUID) -> Status[Any]:
    m = _member(request)
    case = _visible_case(m, code)
    AuditEntry.record("referrals.case_viewed", request=request, target=case, detail={"via": "api"})
    return Status(200, case_out(case, m))


@router.patch("/cases/{code}", response={200: ReferralCaseOut, **ERRORS}, summary="案件を更新する")
def patch_case(request: HttpRequest, code: uuid.UUID, payload: ReferralCasePatch) -> Status[Any]:
    m = _member(request)
    case = _own_case(m, code)

    def work() -> tuple[int, Any]:
        data = payload.dict(exclude_unset=True)
        version = data.pop("version", None)
        register = data.pop("complete_draft", False)
        pending = data.pop("care_level_pending", None)
        caps = data.pop("required_capabilities", None)
        desired = data.pop("desired_municipalities", None)
        if "residence" in data:
            if data["residence"] is None:
                raise actions.ActionError("居住地は省略できません")
            data["residence"] = _municipality(data["residence"])
        if pending:
            data["care_level"] = None
        for name in ("age_band", "sex", "dementia", "household", "key_person", "radius_km"):
            if name in data and data[name] is None:
                raise actions.ActionError(f"{name} に null は指定できません")
        if "key_person_relation" in data:
            data["key_person_relation"] = data["key_person_relation"] or ""
        if "note" in data:
            data["note"] = data["note"] or ""
        for name in ("infections", "destinations"):
            if name in data:
                data[name] = [str(v) for v in data[name] or []]
        updated = actions.update_case(
            case,
            by=m,
            fields=data,
            capabilities=_capabilities(caps) if caps is not None else None,
            desired_municipalities=_municipalities(desired) if desired is not None else None,
            register=register,
            expected_version=version,
            request=request,
        )
        return 200, case_out(_visible_case(m, updated.code), m)

    return _run(request, f"PATCH /cases/{code}", work)


@router.post(
    "/cases/{code}/assign", response={200: ReferralCaseOut, **ERRORS}, summary="担当者を変更する"
)
def assign_case(request: HttpRequest, code: uuid.UUID, payload: ReferralAssignIn) -> Status[Any]:
    m = _member(request)
    case = _own_case(m, code)

    def work() -> tuple[int, Any]:
        target = m.user
        if payload.username:
            found = User.objects.filter(
                username=payload.username,
                memberships__organization_id=case.hospital_id,
                memberships__is_active=True,
            ).first()
            if found is None:
                raise actions.ActionError("担当者は同じ医療機関の職員から選んでください")
            target = found
        actions.assign_case(case, by=m, to=target, request=request)
        return 200, case_out(_visible_case(m, code), m)

    return _run(request, f"POST /cases/{code}/assign", work)


@router.post(
    "/cases/{code}/withdraw", response={200: ReferralCaseOut, **ERRORS}, summary="案件を取り下げる"
)
def withdraw_case(
    request: HttpRequest, code: uuid.UUID, payload: ReferralWithdrawCaseIn
) -> Status[Any]:
    m = _member(request)
    case = _own_case(m, code)

    def work() -> tuple[int, Any]:
        actions.withdraw_case(case, by=m, reason=payload.reason, request=request)
        return 200, case_out(_visible_case(m, code), m)

    return _run(request, f"POST /cases/{code}/withdraw", work)


@router.get(
    "/cases/{code}/candidates",
    response={200: ReferralCandidatesOut, **ERRORS},
    summary="受入れ候補（条件に合う施設と、あと少しの施設）",
)
def get_candidates(request: HttpRequest, code: uuid.UUID) -> Status[Any]:
    m = _member(request)
    case = _own_case(m, code)
    if not case.is_open:
        return Status(409, {"detail": "決定・取下げ済みの案件です"})
    result = find_candidates(case)
    return Status(
        200,
        {
            "matches": [candidate_out(c) for c in result.matches],
            "near_misses": [candidate_out(c) for c in result.near_misses],
            "truncated": result.truncated,
        },
    )


@router.get(
    "/cases/{code}/requests",
    response={200: list[ReferralRequestOut], **ERRORS},
    summary="案件の依頼と回答（依頼先には自施設の分だけ）",
)
def list_case_requests(request: HttpRequest, code: uuid.UUID) -> Status[Any]:
    m = _member(request)
    case = _visible_case(m, code)
    qs = case.requests.select_related("case", "facility")
    if case.hospital_id != m.organization_id:
        qs = qs.filter(organization_id=m.organization_id)
    return Status(200, [request_out(r) for r in qs])


@router.post(
    "/cases/{code}/requests",
    response={201: list[ReferralRequestOut], **ERRORS},
    summary="選んだ施設に一斉に受入れ依頼を送る",
)
def send_requests(request: HttpRequest, code: uuid.UUID, payload: ReferralSendIn) -> Status[Any]:
    m = _member(request)
    case = _own_case(m, code)

    def work() -> tuple[int, Any]:
        facilities = list(Facility.objects.filter(code__in=payload.facilities))
        if len(facilities) != len(set(payload.facilities)):
            raise actions.ActionError("存在しない施設が含まれています")
        created = actions.send_requests(
            case, by=m, facilities=facilities, deadline=payload.deadline, request=request
        )
        rows = PlacementRequest.objects.filter(pk__in=[r.pk for r in created]).select_related(
            "case", "facility"
        )
        return 201, [request_out(r) for r in rows]

    return _run(request, f"POST /cases/{code}/requests", work)


@router.post(
    "/cases/{code}/confirm",
    response={200: ReferralCaseOut, **ERRORS},
    summary="受入可の回答から1施設に決定する（他の依頼は取下げ）",
)
def confirm(request: HttpRequest, code: uuid.UUID, payload: ReferralConfirmIn) -> Status[Any]:
    m = _member(request)
    case = _own_case(m, code)

    def work() -> tuple[int, Any]:
        req = PlacementRequest.objects.filter(case=case, code=payload.request).first()
        if req is None:
            raise actions.NotFound("依頼が見つかりません")
        actions.confirm_placement(case, req, by=m, request=request)
        return 200, case_out(_visible_case(m, code), m)

    return _run(request, f"POST /cases/{code}/confirm", work)


@router.get(
    "/cases/{code}/events", response={200: list[ReferralEventOut], **ERRORS}, summary="案件の経過"
)
def list_events(request: HttpRequest, code: uuid.UUID) -> Status[Any]:
    m = _member(request)
    case = _visible_case(m, code)
    events = CaseEvent.objects.visible_to(m, case).select_related("organization")
    return Status(
        200,
        [
            {
                "at": e.at,
                "kind": e.kind,
                "kind_label": e.get_kind_display(),
                "text": e.text,
                "organization": e.organization.name if e.organization else None,
            }
            for e in events
        ],
    )


def _handover_out(h: HandoverRecord) -> dict[str, Any]:
    return {
        "kind": h.kind,
        "kind_label": h.get_kind_display(),
        "method": h.method,
        "exchanged_on": h.exchanged_on,
        "organization": h.organization.name,
        "recorded_at": h.recorded_at,
    }


@router.get(
    "/cases/{code}/handovers",
    response={200: list[ReferralHandoverOut], **ERRORS},
    summary="書類の受け渡しの記録",
)
def list_handovers(request: HttpRequest, code: uuid.UUID) -> Status[Any]:
    m = _member(request)
    case = _visible_case(m, code)
    placed = case.requests.filter(
        status=RequestStatus.CONFIRMED, organization_id=m.organization_id
    ).exists()
    if case.hospital_id != m.organization_id and not placed:
        return Status(200, [])
    return Status(200, [_handover_out(h) for h in case.handovers.select_related("organization")])


@router.post(
    "/cases/{code}/handovers",
    response={201: ReferralHandoverOut, **ERRORS},
    summary="書類を受け渡したことを記録する（内容は登録しない）",
)
def record_handover(
    request: HttpRequest, code: uuid.UUID, payload: ReferralHandoverIn
) -> Status[Any]:
    m = _member(request)
    case = _visible_case(m, code)

    def work() -> tuple[int, Any]:
        h = actions.record_handover(
            case,
            by=m,
            kind=payload.kind,
            method=payload.method,
            exchanged_on=payload.exchanged_on,
            request=request,
        )
        return 201, _handover_out(h)

    return _run(request, f"POST /cases/{code}/handovers", work)


# Requests (receiving side) -------------------------------------------------------


@router.get(
    "/requests", response={200: ReferralRequestPage, **ERRORS}, summary="受け取った依頼（受信箱）"
)
def inbox(
    request: HttpRequest,
    show: str = "open",
    page: int = 1,
    per_page: int = 20,
) -> Status[Any]:
    m = _member(request)
    if show not in ("open", "all"):
        return Status(400, {"detail": "show は open または all で指定してください"})
    start, end = _page(page, per_page)
    qs = (
        PlacementRequest.objects.received_by(m)
        .select_related("case", "facility")
        .order_by("-sent_at", "-id")
    )
    if show == "open":
        qs = qs.filter(status__in=RequestStatus.open())
    return Status(
        200,
        {
            "count": qs.count(),
            "page": page,
            "per_page": per_page,
            "items": [request_out(r) for r in qs[start:end]],
        },
    )


@router.get("/unread", response={200: ReferralUnreadOut, **ERRORS}, summary="未読の件数（バッジ）")
def unread(request: HttpRequest) -> Status[Any]:
    return Status(200, {"count": unread_count(_member(request))})


@router.get(
    "/requests/{code}",
    response={200: ReferralRequestDetailOut, **ERRORS},
    summary="依頼の内容（案件の匿名の概要つき）。依頼先が開くと既読になる",
)
def get_request(request: HttpRequest, code: uuid.UUID) -> Status[Any]:
    m = _member(request)
    req = _visible_request(m, code)
    actions.mark_read(req, by=m)
    AuditEntry.record(
        "referrals.request_viewed", request=request, target=req, detail={"via": "api"}
    )
    case = _visible_case(m, req.case.code)
    return Status(200, {**request_out(req), "case_summary": case_out(case, m)})


@router.post(
    "/requests/{code}/answer",
    response={200: ReferralRequestOut, **ERRORS},
    summary="依頼に回答する（受入可・条件付き・面談希望・受入不可）",
)
def answer(request: HttpRequest, code: uuid.UUID, payload: ReferralAnswerIn) -> Status[Any]:
    m = _member(request)
    req = _visible_request(m, code)
    if req.organization_id != m.organization_id:
        raise HttpError(404, "依頼が見つかりません")

    def work() -> tuple[int, Any]:
        updated = actions.answer_request(
            req,
            by=m,
            answer=payload.answer,
            decline_reason=payload.decline_reason or "",
            conditions=payload.conditions,
            interview_dates=payload.interview_dates,
            note=payload.note,
            request=request,
        )
        return 200, request_out(updated)

    return _run(request, f"POST /requests/{code}/answer", work)


@router.post(
    "/requests/{code}/withdraw",
    response={200: ReferralRequestOut, **ERRORS},
    summary="依頼を取り下げる（依頼元）",
)
def withdraw_request(
    request: HttpRequest, code: uuid.UUID, payload: ReferralWithdrawRequestIn
) -> Status[Any]:
    m = _member(request)
    req = _visible_request(m, code)
    if req.case.hospital_id != m.organization_id:
        raise HttpError(404, "依頼が見つかりません")

    def work() -> tuple[int, Any]:
        updated = actions.withdraw_request(req, by=m, note=payload.note, request=request)
        return 200, request_out(updated)

    return _run(request, f"POST /requests/{code}/withdraw", work)


def _message_out(msg: RequestMessage, hospital_id: int) -> dict[str, Any]:
    return {
        "id": msg.pk,
        "organization": msg.organization.name,
        "author": str(msg.author),
        "from_hospital": msg.organization_id == hospital_id,
        "body": msg.body,
        "created_at": msg.created_at,
    }


@router.get(
    "/requests/{code}/messages",
    response={200: list[ReferralMessageOut], **ERRORS},
    summary="依頼ごとの質問・回答",
)
def list_messages(request: HttpRequest, code: uuid.UUID) -> Status[Any]:
    m = _member(request)
    req = _visible_request(m, code)
    msgs = req.messages.select_related("organization", "author")
    return Status(200, [_message_out(x, req.case.hospital_id) for x in msgs])


@router.post(
    "/requests/{code}/messages",
    response={201: ReferralMessageOut, **ERRORS},
    summary="質問・回答を投稿する",
)
def post_message(request: HttpRequest, code: uuid.UUID, payload: ReferralMessageIn) -> Status[Any]:
    m = _member(request)
    req = _visible_request(m, code)

    def work() -> tuple[int, Any]:
        msg = actions.post_message(req, by=m, body=payload.body, request=request)
        return 201, _message_out(
            RequestMessage.objects.select_related("organization", "author").get(pk=msg.pk),
            req.case.hospital_id,
        )

    return _run(request, f"POST /requests/{code}/messages", work)


# The other direction and 効果検証 ---------------------------------------------------


@router.get(
    "/admission/hospitals",
    response={200: list[ReferralHospitalOut], **ERRORS},
    summary="受入れ病院（後方ベッド）を探す",
)
def admission_hospitals(
    request: HttpRequest,
    municipality: str = "",
    ward_kind: list[str] | None = None,
    capability: list[str] | None = None,
    vacant_only: bool = False,
    backup_only: bool = False,
    radius_km: float = 20.0,
) -> Status[Any]:
    m = _member(request)
    # Repeated query parameters (?ward_kind=a&ward_kind=b), read as lists.
    ward_kind = request.GET.getlist("ward_kind")
    capability = request.GET.getlist("capability")
    if not (0 < radius_km <= 100):
        return Status(400, {"detail": "距離は0より大きく100km以下で指定してください"})
    bad_wards = [k for k in ward_kind if k not in WardKind.values]
    if bad_wards:
        return Status(400, {"detail": f"病棟の種類が正しくありません: {', '.join(bad_wards)}"})
    muni = (
        Municipality.objects.filter(code=municipality).first()
        if municipality
        else m.organization.municipality
    )
    if municipality and muni is None:
        return Status(400, {"detail": f"市区町村コードが見つかりません（{municipality}）"})
    unknown = sorted(set(capability) - set(Capability.objects.values_list("code", flat=True)))
    if unknown:
        return Status(400, {"detail": f"処置項目が見つかりません: {', '.join(unknown)}"})
    hits = find_hospitals(
        point=muni.point() if muni else None,
        municipality=muni,
        ward_kinds=[str(k) for k in ward_kind],
        capability_codes=capability,
        vacant_only=vacant_only,
        backup_only=backup_only,
        radius_km=radius_km,
    )
    return Status(
        200,
        [
            {
                "facility": h.facility.code,
                "name": h.facility.name,
                "municipality": h.facility.municipality.name,
                "distance_km": round(h.distance_km, 2) if h.distance_km is not None else None,
                "is_backup_hospital": h.facility.is_backup_hospital,
                "vacancy_status": h.facility.vacancy_status,
                "wards": [
                    {
                        "kind": w.kind,
                        "kind_label": w.get_kind_display(),
                        "beds": w.beds,
                        "vacant_beds": w.vacant_beds,
                    }
                    for w in h.wards
                ],
                "reasons": h.reasons,
            }
            for h in hits
        ],
    )


def _row_out(r: metrics.Row) -> dict[str, Any]:
    return {
        "label": r.label,
        "cases": r.cases,
        "decided": r.decided,
        "withdrawn": r.withdrawn,
        "open": r.open,
        "days_median": r.days_median,
        "days_p90": r.days_p90,
        "requests_per_placement_mean": r.requests_per_placement_mean,
        "answer_hours_median": r.answer_hours_median,
        "answer_hours_p90": r.answer_hours_p90,
        "requests": r.requests,
        "answer_rate": r.answer_rate,
        "acceptance_rate": r.acceptance_rate,
    }


@router.get(
    "/dashboard",
    response={200: ReferralDashboardOut, **ERRORS},
    summary="効果検証の集計（都道府県・市区町村の所属のみ）",
)
def dashboard(
    request: HttpRequest,
    area: int | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> Status[Any]:
    m = _member(request)
    if not m.organization.is_government:
        raise HttpError(403, "効果検証の集計は行政の所属で利用できます")
    area_obj = SecondaryArea.objects.filter(pk=area).first() if area else None
    if area and area_obj is None:
        return Status(400, {"detail": "指定された二次医療圏が見つかりません"})
    board = metrics.build(
        metrics.cases_for(m.organization), area=area_obj, since=since, until=until
    )
    return Status(
        200,
        {
            "total": _row_out(board.total),
            "by_area": [_row_out(r) for r in board.by_area],
            "by_month": [_row_out(r) for r in board.by_month],
            "by_kind": [
                {"kind": k, "requests": s, "answered": a, "positive": p, "acceptance_rate": rate}
                for k, s, a, p, rate in board.by_kind
            ],
            "decline_reasons": [{"label": k, "count": n} for k, n in board.decline_reasons],
            "failures": [{"label": k, "count": n} for k, n in board.failures],
        },
    )


from renkei.referrals.survey_api import router as survey_router  # noqa: E402  (mounted last)

router.add_router("/surveys", survey_router)
