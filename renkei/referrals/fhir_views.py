"""A case as a FHIR R4 ServiceRequest with an anonymous contained Patient; each request as a Task.

Broadcast placement follows the pattern in standards.md §C3: one ServiceRequest (what is needed),
one Task per candidate facility (its fulfilment), Task.status and businessStatus following the
answer. The Patient carries only sex and an age band: there is nothing else to carry.
Access is the case's: the hospital's members, and a facility for its own Task only.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from renkei.accounts.models import AuditEntry, Membership, TwoFactorPolicy
from renkei.referrals.models import (
    CaseStatus,
    PlacementCase,
    PlacementRequest,
    RequestStatus,
)

FHIR_JSON = "application/fhir+json"
SYSTEM_CAPABILITY = "urn:renkei:codesystem:capability"
SYSTEM_DESTINATION = "urn:renkei:codesystem:placement-destination"
SYSTEM_MUNICIPALITY = "urn:renkei:codesystem:jis-municipality"
SYSTEM_ANSWER = "urn:renkei:codesystem:placement-status"
SYSTEM_DECLINE = "urn:renkei:codesystem:decline-reason"
SYSTEM_ORGANIZATION = "urn:renkei:organization"
SYSTEM_FACILITY = "urn:renkei:facility"
EXT_AGE_BAND = "urn:renkei:extension:age-band"
MAX_COUNT = 100

CASE_STATUS: dict[str, str] = {
    CaseStatus.DRAFT: "draft",
    CaseStatus.SEARCHING: "active",
    CaseStatus.REQUESTING: "active",
    CaseStatus.DECIDED: "completed",
    CaseStatus.WITHDRAWN: "revoked",
}
TASK_STATUS: dict[str, str] = {
    RequestStatus.SENT: "requested",
    RequestStatus.READ: "received",
    RequestStatus.ACCEPTED: "accepted",
    RequestStatus.CONDITIONAL: "accepted",
    RequestStatus.INTERVIEW: "in-progress",
    RequestStatus.DECLINED: "rejected",
    RequestStatus.WITHDRAWN: "cancelled",
    RequestStatus.EXPIRED: "failed",
    RequestStatus.CONFIRMED: "completed",
}


def _outcome(status: int, code: str, text: str) -> JsonResponse:
    return JsonResponse(
        {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": code, "diagnostics": text}],
        },
        status=status,
        content_type=FHIR_JSON,
        json_dumps_params={"ensure_ascii": False},
    )


def _fhir(body: dict[str, Any]) -> JsonResponse:
    return JsonResponse(body, content_type=FHIR_JSON, json_dumps_params={"ensure_ascii": False})


class _Refused(Exception):
    """A request answered with an OperationOutcome instead of the resource."""

    def __init__(self, status: int, code: str, text: str) -> None:
        super().__init__(text)
        self.response = _outcome(status, code, text)


def _endpoint(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A GET of the FHIR API whose refusals (`_Refused`) become their OperationOutcome."""

    @require_GET
    @functools.wraps(view)
    def answer(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except _Refused as e:
            return e.response

    return answer


def _member(request: HttpRequest) -> Membership:
    user = request.user
    if not user.is_authenticated:
        raise _Refused(401, "login", "ログインが必要です")
    # /api/fhir/ is exempt from the two-factor middleware (public directory feeds), so the
    # case data behind it checks the second factor itself.
    from django_otp import user_has_device

    if not user.is_verified() and (  # type: ignore[attr-defined]
        user_has_device(user) or TwoFactorPolicy.required_for(user)
    ):
        raise _Refused(401, "login", "二要素認証を完了してください")
    membership: Membership | None = getattr(request, "membership", None)
    if membership is None:
        raise _Refused(403, "forbidden", "所属組織のある利用者だけが利用できます")
    return membership


def _iso(value: dt.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value is not None else None


def anonymous_patient(case: PlacementCase) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": "patient",
        "extension": [{"url": EXT_AGE_BAND, "valueString": case.get_age_band_display()}],
        "gender": case.sex,
    }


def service_request(case: PlacementCase) -> dict[str, Any]:
    caps = list(case.required_capabilities.all())
    desired = list(case.desired_municipalities.all())
    supporting = [
        f"要介護度: {case.care_level_label}",
        f"認知症高齢者の日常生活自立度: {case.get_dementia_display()}",
        f"感染症: {'、'.join(case.infection_labels()) or 'なし'}",
        f"同居者: {case.get_household_display()}",
        f"キーパーソン: {case.key_person_label()}",
        f"居住地からの距離: {case.radius_km}km以内",
    ]
    if case.budget_monthly:
        supporting.append(f"月額予算: {case.budget_monthly}円まで")
    body: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": str(case.code),
        "meta": {"lastUpdated": _iso(case.updated_at)},
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{case.code}"}],
        "contained": [anonymous_patient(case)],
        "status": CASE_STATUS.get(case.status, "unknown"),
        "intent": "order",
        "category": [{"text": "入退院支援（退院・転院先の調整）"}],
        "code": {
            "coding": [
                {"system": SYSTEM_DESTINATION, "code": d, "display": label}
                for d, label in zip(case.destinations, case.destination_labels(), strict=True)
            ],
            "text": "、".join(case.destination_labels()) or "退院・転院先",
        },
        "orderDetail": [
            {
                "coding": [{"system": SYSTEM_CAPABILITY, "code": c.code, "display": c.name}],
                "text": c.name,
            }
            for c in caps
        ],
        "subject": {"reference": "#patient"},
        "authoredOn": _iso(case.registered_at or case.created_at),
        "requester": {
            "identifier": {"system": SYSTEM_ORGANIZATION, "value": str(case.hospital.code)},
            "display": case.hospital.name,
        },
        "locationCode": [
            {
                "coding": [
                    {"system": SYSTEM_MUNICIPALITY, "code": m.code, "display": m.name}
                    for m in [case.residence, *desired]
                ][:1],
                "text": f"居住地: {case.residence.name}",
            }
        ]
        + [
            {
                "coding": [{"system": SYSTEM_MUNICIPALITY, "code": m.code, "display": m.name}],
                "text": f"希望地域: {m.name}",
            }
            for m in desired
        ],
        "supportingInfo": [{"display": s} for s in supporting],
    }
    if case.target_date:
        body["occurrenceDateTime"] = case.target_date.isoformat()
    if case.note:
        body["note"] = [{"text": case.note}]
    if not body["orderDetail"]:
        del body["orderDetail"]
    if not body["code"]["coding"]:
        del body["code"]["coding"]
    return body


def task(req: PlacementRequest) -> dict[str, Any]:
    case = req.case
    label = req.get_status_display()
    last = max(
        d for d in (req.sent_at, req.read_at, req.answered_at, req.withdrawn_at) if d is not None
    )
    body: dict[str, Any] = {
        "resourceType": "Task",
        "id": str(req.code),
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{req.code}"}],
        "contained": [anonymous_patient(case)],
        "status": TASK_STATUS.get(req.status, "requested"),
        "businessStatus": {
            "coding": [{"system": SYSTEM_ANSWER, "code": req.status, "display": label}],
            "text": label,
        },
        "intent": "order",
        "focus": {"reference": f"ServiceRequest/{case.code}"},
        "for": {"reference": "#patient"},
        "authoredOn": _iso(req.sent_at),
        "lastModified": _iso(last),
        "requester": {
            "identifier": {"system": SYSTEM_ORGANIZATION, "value": str(case.hospital.code)},
            "display": case.hospital.name,
        },
        "owner": {
            "identifier": {"system": SYSTEM_FACILITY, "value": str(req.facility.code)},
            "display": req.facility.name,
        },
        "restriction": {"period": {"end": _iso(req.deadline)}},
    }
    if req.status == RequestStatus.DECLINED and req.decline_reason:
        body["statusReason"] = {
            "coding": [
                {
                    "system": SYSTEM_DECLINE,
                    "code": req.decline_reason,
                    "display": req.get_decline_reason_display(),
                }
            ],
            "text": req.get_decline_reason_display(),
        }
    elif req.status == RequestStatus.WITHDRAWN and req.withdrawal_note:
        body["statusReason"] = {"text": req.withdrawal_note}
    notes = [n for n in (req.conditions, req.answer_note) if n]
    if notes:
        body["note"] = [{"text": n} for n in notes]
    if req.interview_dates:
        body["output"] = [
            {"type": {"text": "面談の候補日時"}, "valueDateTime": str(d)}
            for d in req.interview_dates
        ]
    return body


def _bundle(entries: list[dict[str, Any]], resource_type: str) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(entries),
        "entry": [
            {"fullUrl": f"urn:uuid:{e['id']}", "resource": e, "search": {"mode": "match"}}
            for e in entries
        ],
    }


def _cases(m: Membership) -> QuerySet[PlacementCase]:
    return (
        PlacementCase.objects.visible_to(m)
        .select_related("hospital", "residence")
        .prefetch_related("required_capabilities", "desired_municipalities")
    )


def _count(request: HttpRequest) -> int:
    raw = request.GET.get("_count", "")
    if not raw:
        return MAX_COUNT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_COUNT:
        raise _Refused(400, "invalid", f"_count は1〜{MAX_COUNT}で指定してください")
    return int(raw)


def _read(
    request: HttpRequest, qs: QuerySet[Any], resource: str, code: uuid.UUID, audit: str
) -> Any:
    """One resource the caller may see, its reading audited; another's is not found."""
    found = qs.filter(code=code).first()
    if found is None:
        raise _Refused(404, "not-found", f"{resource}/{code} は見つかりません")
    AuditEntry.record(audit, request=request, target=found, detail={"via": "fhir"})
    return found


@_endpoint
def service_request_read(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    m = _member(request)
    case = _read(request, _cases(m), "ServiceRequest", code, "referrals.case_viewed")
    return _fhir(service_request(case))


@_endpoint
def service_request_search(request: HttpRequest) -> HttpResponse:
    m = _member(request)
    count = _count(request)
    qs = _cases(m).exclude(status=CaseStatus.DRAFT).order_by("-created_at", "-id")
    status = request.GET.get("status", "")
    if status:
        wanted = [k for k, v in CASE_STATUS.items() if v == status]
        if not wanted:
            return _outcome(400, "invalid", f"status の値が正しくありません（{status}）")
        qs = qs.filter(status__in=wanted)
    return _fhir(_bundle([service_request(c) for c in qs[:count]], "ServiceRequest"))


def _tasks(m: Membership) -> QuerySet[PlacementRequest]:
    return PlacementRequest.objects.visible_to(m).select_related(
        "case", "case__hospital", "facility"
    )


@_endpoint
def task_read(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    m = _member(request)
    req = _read(request, _tasks(m), "Task", code, "referrals.request_viewed")
    return _fhir(task(req))


@_endpoint
def task_search(request: HttpRequest) -> HttpResponse:
    """Task?focus=ServiceRequest/<id>: the requests of one case (a facility sees its own only)."""
    m = _member(request)
    count = _count(request)
    qs = _tasks(m).order_by("sent_at", "id")
    focus = request.GET.get("focus", "")
    if focus:
        raw = focus.removeprefix("ServiceRequest/")
        try:
            case_code = uuid.UUID(raw)
        except ValueError:
            return _outcome(400, "invalid", f"focus の値が正しくありません（{focus}）")
        qs = qs.filter(case__code=case_code)
    return _fhir(_bundle([task(r) for r in qs[:count]], "Task"))
