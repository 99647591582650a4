"""入退院支援 endpoints of /api/v1/: every step of the screens, as JSON.

Session authentication with CSRF for cookie clients; every lookup goes through the scoped
getters of renkei.referrals.access (an outsider gets 404). Each body is the typed input the
screens' forms produce too, each step the same action; refusals are answered by renkei.api's
handler for the action layer's errors. POSTs accept an Idempotency-Key header: a replay
returns the first response and changes nothing (security R23).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import Query, Router
from ninja.errors import HttpError
from ninja.security import SessionAuth
from pydantic import TypeAdapter

from renkei.accounts.http import api_membership as _member
from renkei.accounts.idempotency import run_once, valid_key
from renkei.accounts.models import User
from renkei.lib.actions import ActionError, Conflict
from renkei.lib.http import json_bytes
from renkei.referrals import access, actions, hospitals, metrics
from renkei.referrals.inputs import (
    AdmissionQuery,
    CaseAssignInput,
    CaseInput,
    CaseListQuery,
    CasePatch,
    DashboardQuery,
    HandoverInput,
    InboxQuery,
    MessageInput,
    PlacementConfirmInput,
    RequestAnswerInput,
    SendRequestsInput,
    WithdrawCaseInput,
    WithdrawRequestInput,
)
from renkei.referrals.matching import HospitalHit, MatchResult, find_candidates
from renkei.referrals.models import (
    CaseEvent,
    HandoverRecord,
    PlacementCase,
    PlacementRequest,
    RequestMessage,
    unread_count,
)
from renkei.referrals.schemas import (
    ERRORS,
    Listing,
    ReferralCandidatesOut,
    ReferralCaseOut,
    ReferralCasePage,
    ReferralDashboardOut,
    ReferralEventOut,
    ReferralHandoverOut,
    ReferralHospitalOut,
    ReferralMessageOut,
    ReferralRequestDetailOut,
    ReferralRequestOut,
    ReferralRequestPage,
    ReferralUnreadOut,
)
from renkei.regions.models import SecondaryArea


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


def _once(
    request: HttpRequest,
    scope: str,
    status: int,
    schema: Any,  # a schema or a list of one: what TypeAdapter takes
    work: Callable[[], object],
) -> HttpResponse:
    """Run the step and answer its result through `schema`; an Idempotency-Key replays it.

    The body is serialised here (not by ninja) because a replay must be the stored bytes'
    equal: the first answer is kept with the key, in the step's transaction.
    """

    def run() -> tuple[int, dict[str, Any]]:
        shape = TypeAdapter(schema)
        out = shape.validate_python(work(), context={"request": request})
        return status, json.loads(json_bytes(shape.dump_python(out)))

    key = request.headers.get("Idempotency-Key", "")
    if not key:
        code, body = run()
    elif not valid_key(key):
        raise ActionError("Idempotency-Key は8〜100文字の英数字・記号（-_:.）で指定してください")
    else:
        user: User = request.user  # type: ignore[assignment]
        code, body, _ = run_once(user, f"api:{key}", scope, run)
    return HttpResponse(json_bytes(body), status=code, content_type="application/json")


def _listing(items: Any, query: CaseListQuery | InboxQuery) -> Listing:
    if not 1 <= query.per_page <= 100:
        raise ActionError("page は1以上、per_page は1〜100で指定してください", field="per_page")
    start = (query.page - 1) * query.per_page
    return Listing(
        count=items.count(),
        page=query.page,
        per_page=query.per_page,
        items=list(items[start : start + query.per_page]),
    )


# Cases -------------------------------------------------------------------------


@router.get("/cases", response={200: ReferralCasePage, **ERRORS}, summary="自院の案件の一覧")
def list_cases(request: HttpRequest, query: Query[CaseListQuery]) -> Listing:
    m = _member(request)
    cases = access.cases().of_hospital(m).listed(m.user, scope=query.scope, status=query.status)
    return _listing(cases.order_by("-created_at", "-id"), query)


@router.post("/cases", response={201: ReferralCaseOut, **ERRORS}, summary="案件を登録する（匿名）")
def create_case(request: HttpRequest, payload: CaseInput) -> HttpResponse:
    m = _member(request)

    def work() -> PlacementCase:
        # The case as saved, with the hospital, people and residence it was made with
        # (test_the_new_case_is_answered_as_read_back pins it to GET's answer).
        return actions.create_case(by=m, data=payload, request=request)

    return _once(request, "POST /cases", 201, ReferralCaseOut, work)


@router.get("/cases/{code}", response={200: ReferralCaseOut, **ERRORS}, summary="案件の内容")
def get_case(request: HttpRequest, code: uuid.UUID) -> PlacementCase:
    m = _member(request)
    return actions.view_case(access.visible_case(m, code), by=m, request=request, via="api")


@router.patch("/cases/{code}", response={200: ReferralCaseOut, **ERRORS}, summary="案件を更新する")
def patch_case(request: HttpRequest, code: uuid.UUID, payload: CasePatch) -> HttpResponse:
    m = _member(request)
    case = access.own_case(m, code)

    def work() -> PlacementCase:
        actions.update_case(case, by=m, data=payload, request=request)
        return access.own_case(m, code)

    return _once(request, f"PATCH /cases/{code}", 200, ReferralCaseOut, work)


@router.post(
    "/cases/{code}/assign", response={200: ReferralCaseOut, **ERRORS}, summary="担当者を変更する"
)
def assign_case(request: HttpRequest, code: uuid.UUID, payload: CaseAssignInput) -> HttpResponse:
    m = _member(request)
    case = access.own_case(m, code)

    def work() -> PlacementCase:
        actions.assign_case(case, by=m, data=payload, request=request)
        return access.own_case(m, code)

    return _once(request, f"POST /cases/{code}/assign", 200, ReferralCaseOut, work)


@router.post(
    "/cases/{code}/withdraw", response={200: ReferralCaseOut, **ERRORS}, summary="案件を取り下げる"
)
def withdraw_case(
    request: HttpRequest, code: uuid.UUID, payload: WithdrawCaseInput
) -> HttpResponse:
    m = _member(request)
    case = access.own_case(m, code)

    def work() -> PlacementCase:
        actions.withdraw_case(case, by=m, data=payload, request=request)
        return access.own_case(m, code)

    return _once(request, f"POST /cases/{code}/withdraw", 200, ReferralCaseOut, work)


@router.get(
    "/cases/{code}/candidates",
    response={200: ReferralCandidatesOut, **ERRORS},
    summary="受入れ候補（条件に合う施設と、あと少しの施設）",
)
def get_candidates(request: HttpRequest, code: uuid.UUID) -> MatchResult:
    found = access.own_case_to_match(_member(request), code)
    if not found.case.is_open:
        raise Conflict("決定・取下げ済みの案件です")
    return find_candidates(found.case, criteria=found.criteria())


@router.get(
    "/cases/{code}/requests",
    response={200: list[ReferralRequestOut], **ERRORS},
    summary="案件の依頼と回答（依頼先には自施設の分だけ）",
)
def list_case_requests(request: HttpRequest, code: uuid.UUID) -> QuerySet[PlacementRequest]:
    m = _member(request)
    case = access.visible_case(m, code)
    return (
        PlacementRequest.objects.visible_to(m).filter(case=case).select_related("case", "facility")
    )


@router.post(
    "/cases/{code}/requests",
    response={201: list[ReferralRequestOut], **ERRORS},
    summary="選んだ施設に一斉に受入れ依頼を送る",
)
def send_requests(
    request: HttpRequest, code: uuid.UUID, payload: SendRequestsInput
) -> HttpResponse:
    m = _member(request)

    def work() -> list[PlacementRequest]:
        # The hospital's case found by its lock; the rows as written, with their case and
        # facility (test_the_sent_requests_are_answered_as_read_back pins them to a fresh read).
        return actions.send_requests(code, by=m, data=payload, request=request)

    return _once(request, f"POST /cases/{code}/requests", 201, list[ReferralRequestOut], work)


@router.post(
    "/cases/{code}/confirm",
    response={200: ReferralCaseOut, **ERRORS},
    summary="受入可の回答から1施設に決定する（他の依頼は取下げ）",
)
def confirm(request: HttpRequest, code: uuid.UUID, payload: PlacementConfirmInput) -> HttpResponse:
    m = _member(request)
    case = access.own_case(m, code)

    def work() -> PlacementCase:
        req = access.request_of_case(case, payload.request)
        actions.confirm_placement(case, req, by=m, request=request)
        return access.own_case(m, code)

    return _once(request, f"POST /cases/{code}/confirm", 200, ReferralCaseOut, work)


@router.get(
    "/cases/{code}/events", response={200: list[ReferralEventOut], **ERRORS}, summary="案件の経過"
)
def list_events(request: HttpRequest, code: uuid.UUID) -> QuerySet[CaseEvent]:
    m = _member(request)
    case = access.visible_case(m, code)
    return CaseEvent.objects.visible_to(m, case).select_related("organization")


@router.get(
    "/cases/{code}/handovers",
    response={200: list[ReferralHandoverOut], **ERRORS},
    summary="書類の受け渡しの記録",
)
def list_handovers(request: HttpRequest, code: uuid.UUID) -> QuerySet[HandoverRecord]:
    m = _member(request)
    return access.visible_case(m, code).handovers.visible_to(m).select_related("organization")


@router.post(
    "/cases/{code}/handovers",
    response={201: ReferralHandoverOut, **ERRORS},
    summary="書類を受け渡したことを記録する（内容は登録しない）",
)
def record_handover(request: HttpRequest, code: uuid.UUID, payload: HandoverInput) -> HttpResponse:
    m = _member(request)
    case = access.visible_case(m, code)

    def work() -> HandoverRecord:
        return actions.record_handover(case, by=m, data=payload, request=request)

    return _once(request, f"POST /cases/{code}/handovers", 201, ReferralHandoverOut, work)


# Requests (receiving side) -------------------------------------------------------


@router.get(
    "/requests", response={200: ReferralRequestPage, **ERRORS}, summary="受け取った依頼（受信箱）"
)
def inbox(request: HttpRequest, query: Query[InboxQuery]) -> Listing:
    m = _member(request)
    requests = (
        PlacementRequest.objects.received_by(m)
        .listed(show=query.show)
        .select_related("case", "facility")
        # What ReferralRequestOut reads: the whole case and facility rows (the facility has
        # dozens of columns) made instances costing more CPU than the rest of the page.
        .only(*INBOX_FIELDS)
        .order_by("-sent_at", "-id")
    )
    return _listing(requests, query)


# ReferralRequestOut's fields on the request, and the case's and facility's it shows
# (test_inbox_items_are_the_requests_as_read_whole pins the answer to the full rows').
INBOX_FIELDS = (
    "code",
    "status",
    "answer",
    "decline_reason",
    "conditions",
    "interview_dates",
    "answer_note",
    "sent_at",
    "deadline",
    "read_at",
    "answered_at",
    "withdrawn_at",
    "withdrawal_note",
    "case__code",
    "facility__code",
    "facility__name",
)


@router.get("/unread", response={200: ReferralUnreadOut, **ERRORS}, summary="未読の件数（バッジ）")
def unread(request: HttpRequest) -> dict[str, int]:
    return {"count": unread_count(_member(request))}


@router.get(
    "/requests/{code}",
    response={200: ReferralRequestDetailOut, **ERRORS},
    summary="依頼の内容（案件の匿名の概要つき）。依頼先が開くと既読になる",
)
def get_request(request: HttpRequest, code: uuid.UUID) -> PlacementRequest:
    m = _member(request)
    req = actions.view_request(access.visible_request(m, code), by=m, request=request, via="api")
    req.case = access.visible_case(m, req.case.code)
    return req


@router.post(
    "/requests/{code}/answer",
    response={200: ReferralRequestOut, **ERRORS},
    summary="依頼に回答する（受入可・条件付き・面談希望・受入不可）",
)
def answer(request: HttpRequest, code: uuid.UUID, payload: RequestAnswerInput) -> HttpResponse:
    m = _member(request)
    req = access.received_request(m, code)

    def work() -> PlacementRequest:
        return actions.answer_request(req, by=m, data=payload, request=request)

    return _once(request, f"POST /requests/{code}/answer", 200, ReferralRequestOut, work)


@router.post(
    "/requests/{code}/withdraw",
    response={200: ReferralRequestOut, **ERRORS},
    summary="依頼を取り下げる（依頼元）",
)
def withdraw_request(
    request: HttpRequest, code: uuid.UUID, payload: WithdrawRequestInput
) -> HttpResponse:
    m = _member(request)
    req = access.sent_request(m, code)

    def work() -> PlacementRequest:
        return actions.withdraw_request(req, by=m, data=payload, request=request)

    return _once(request, f"POST /requests/{code}/withdraw", 200, ReferralRequestOut, work)


@router.get(
    "/requests/{code}/messages",
    response={200: list[ReferralMessageOut], **ERRORS},
    summary="依頼ごとの質問・回答",
)
def list_messages(request: HttpRequest, code: uuid.UUID) -> QuerySet[RequestMessage]:
    req = access.visible_request(_member(request), code)
    return req.messages.select_related("organization", "author", "request__case")


@router.post(
    "/requests/{code}/messages",
    response={201: ReferralMessageOut, **ERRORS},
    summary="質問・回答を投稿する",
)
def post_message(request: HttpRequest, code: uuid.UUID, payload: MessageInput) -> HttpResponse:
    m = _member(request)
    req = access.visible_request(m, code)

    def work() -> RequestMessage:
        msg = actions.post_message(req, by=m, data=payload, request=request)
        return RequestMessage.objects.select_related("organization", "author", "request__case").get(
            pk=msg.pk
        )

    return _once(request, f"POST /requests/{code}/messages", 201, ReferralMessageOut, work)


# The other direction and 効果検証 ---------------------------------------------------


@router.get(
    "/admission/hospitals",
    response={200: list[ReferralHospitalOut], **ERRORS},
    summary="受入れ病院（後方ベッド）を探す",
)
def admission_hospitals(request: HttpRequest, query: Query[AdmissionQuery]) -> list[HospitalHit]:
    m = _member(request)
    return hospitals.search_hospitals(by=m, data=query)


@router.get(
    "/dashboard",
    response={200: ReferralDashboardOut, **ERRORS},
    summary="効果検証の集計（都道府県・市区町村の所属のみ）",
)
def dashboard(request: HttpRequest, query: Query[DashboardQuery]) -> metrics.Dashboard:
    m = _member(request)
    if not m.organization.is_government:
        raise HttpError(403, "効果検証の集計は行政の所属で利用できます")
    area = SecondaryArea.objects.filter(pk=query.area).first() if query.area else None
    if query.area and area is None:
        raise ActionError("指定された二次医療圏が見つかりません", field="area")
    return metrics.build(
        metrics.cases_for(m.organization), area=area, since=query.since, until=query.until
    )


from renkei.referrals.survey_api import router as survey_router  # noqa: E402  (mounted last)

router.add_router("/surveys", survey_router)
