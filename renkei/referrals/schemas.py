"""What the placement API answers: ninja schemas read from model instances and typed rows.

The request bodies are the typed inputs (renkei.referrals.inputs); these are the outputs. A
case shows its hospital-only parts (assignee, placed facility, version) to its hospital only:
the resolvers read who is asking from the response context.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from ninja import Schema

from renkei.directory.models import Ward
from renkei.lib.api import errors
from renkei.referrals import metrics
from renkei.referrals.inputs import CaseFields
from renkei.referrals.matching import Candidate, HospitalHit
from renkei.referrals.models import (
    CaseEvent,
    HandoverRecord,
    PlacementCase,
    PlacementRequest,
    RequestMessage,
)

# Every refusal the referral routes answer (the survey routes check the session themselves).
ERRORS = errors(400, 401, 403, 404, 409)


def _viewer_org(context: Any) -> int | None:
    request = (context or {}).get("request")
    membership = getattr(request, "membership", None)
    return membership.organization_id if membership is not None else None


class ReferralCaseOut(CaseFields, Schema):
    """The case's own fields (as `CaseFields` lists them) and its state."""

    code: uuid.UUID
    status: str
    status_label: str
    hospital: str
    assignee: str | None
    created_at: dt.datetime
    registered_at: dt.datetime | None
    decided_at: dt.datetime | None
    care_level_label: str
    residence_name: str
    placed_facility: uuid.UUID | None
    withdrawal_reason: str
    version: int | None

    @staticmethod
    def resolve_status_label(obj: PlacementCase) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_hospital(obj: PlacementCase) -> str:
        return obj.hospital.name

    @staticmethod
    def resolve_assignee(obj: PlacementCase, context: Any) -> str | None:
        own = obj.hospital_id == _viewer_org(context)
        return str(obj.assignee) if own and obj.assignee else None

    @staticmethod
    def resolve_required_capabilities(obj: PlacementCase) -> list[str]:
        return [c.code for c in obj.required_capabilities.all()]

    @staticmethod
    def resolve_desired_municipalities(obj: PlacementCase) -> list[str]:
        return [m.code for m in obj.desired_municipalities.all()]

    @staticmethod
    def resolve_residence(obj: PlacementCase) -> str:
        return obj.residence.code

    @staticmethod
    def resolve_residence_name(obj: PlacementCase) -> str:
        return obj.residence.name

    @staticmethod
    def resolve_placed_facility(obj: PlacementCase, context: Any) -> uuid.UUID | None:
        own = obj.hospital_id == _viewer_org(context)
        return obj.placed_facility.code if own and obj.placed_facility else None

    @staticmethod
    def resolve_internal_ref(obj: PlacementCase, context: Any) -> str:
        return obj.internal_ref if obj.hospital_id == _viewer_org(context) else ""

    @staticmethod
    def resolve_version(obj: PlacementCase, context: Any) -> int | None:
        return obj.version if obj.hospital_id == _viewer_org(context) else None


@dataclass(frozen=True)
class Listing:
    """One page of a list, read by the *Page schemas."""

    count: int
    page: int
    per_page: int
    items: list[Any]


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

    @staticmethod
    def resolve_case(obj: PlacementRequest) -> uuid.UUID:
        return obj.case.code

    @staticmethod
    def resolve_facility(obj: PlacementRequest) -> uuid.UUID:
        return obj.facility.code

    @staticmethod
    def resolve_facility_name(obj: PlacementRequest) -> str:
        return obj.facility.name

    @staticmethod
    def resolve_status_label(obj: PlacementRequest) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_interview_dates(obj: PlacementRequest) -> list[str]:
        return [str(d) for d in obj.interview_dates]


class ReferralRequestPage(Schema):
    count: int
    page: int
    per_page: int
    items: list[ReferralRequestOut]


class ReferralRequestDetailOut(ReferralRequestOut):
    case_summary: ReferralCaseOut

    @staticmethod
    def resolve_case_summary(obj: PlacementRequest) -> PlacementCase:
        return obj.case


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

    @staticmethod
    def resolve_facility(obj: Candidate) -> uuid.UUID:
        return obj.facility.code

    @staticmethod
    def resolve_name(obj: Candidate) -> str:
        return obj.facility.name

    @staticmethod
    def resolve_kind(obj: Candidate) -> str:
        return obj.facility.kind

    @staticmethod
    def resolve_kind_label(obj: Candidate) -> str:
        return obj.facility.get_kind_display()

    @staticmethod
    def resolve_municipality(obj: Candidate) -> str:
        return obj.municipality_name

    @staticmethod
    def resolve_distance_km(obj: Candidate) -> float | None:
        return round(obj.distance_km, 2) if obj.distance_km is not None else None

    @staticmethod
    def resolve_vacancy_status(obj: Candidate) -> str:
        return obj.facility.vacancy_status


class ReferralCandidatesOut(Schema):
    matches: list[ReferralCandidateOut]
    near_misses: list[ReferralCandidateOut]
    truncated: bool


class ReferralMessageOut(Schema):
    id: int
    organization: str
    author: str
    from_hospital: bool
    body: str
    created_at: dt.datetime

    @staticmethod
    def resolve_organization(obj: RequestMessage) -> str:
        return obj.organization.name

    @staticmethod
    def resolve_author(obj: RequestMessage) -> str:
        return str(obj.author)

    @staticmethod
    def resolve_from_hospital(obj: RequestMessage) -> bool:
        return obj.organization_id == obj.request.case.hospital_id


class ReferralHandoverOut(Schema):
    kind: str
    kind_label: str
    method: str
    exchanged_on: dt.date
    organization: str
    recorded_at: dt.datetime

    @staticmethod
    def resolve_kind_label(obj: HandoverRecord) -> str:
        return obj.get_kind_display()

    @staticmethod
    def resolve_organization(obj: HandoverRecord) -> str:
        return obj.organization.name


class ReferralEventOut(Schema):
    at: dt.datetime
    kind: str
    kind_label: str
    text: str
    organization: str | None

    @staticmethod
    def resolve_kind_label(obj: CaseEvent) -> str:
        return obj.get_kind_display()

    @staticmethod
    def resolve_organization(obj: CaseEvent) -> str | None:
        return obj.organization.name if obj.organization else None


class ReferralWardOut(Schema):
    kind: str
    kind_label: str
    beds: int
    vacant_beds: int | None

    @staticmethod
    def resolve_kind_label(obj: Ward) -> str:
        return obj.get_kind_display()


class ReferralHospitalOut(Schema):
    facility: uuid.UUID
    name: str
    municipality: str
    distance_km: float | None
    is_backup_hospital: bool
    vacancy_status: str
    wards: list[ReferralWardOut]
    reasons: list[str]

    @staticmethod
    def resolve_facility(obj: HospitalHit) -> uuid.UUID:
        return obj.facility.code

    @staticmethod
    def resolve_name(obj: HospitalHit) -> str:
        return obj.facility.name

    @staticmethod
    def resolve_municipality(obj: HospitalHit) -> str:
        return obj.facility.municipality.name

    @staticmethod
    def resolve_distance_km(obj: HospitalHit) -> float | None:
        return round(obj.distance_km, 2) if obj.distance_km is not None else None

    @staticmethod
    def resolve_is_backup_hospital(obj: HospitalHit) -> bool:
        return obj.facility.is_backup_hospital

    @staticmethod
    def resolve_vacancy_status(obj: HospitalHit) -> str:
        return obj.facility.vacancy_status


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

    @staticmethod
    def resolve_by_kind(obj: metrics.Dashboard) -> list[ReferralKindRowOut]:
        return [
            ReferralKindRowOut(kind=k, requests=s, answered=a, positive=p, acceptance_rate=rate)
            for k, s, a, p, rate in obj.by_kind
        ]

    @staticmethod
    def resolve_decline_reasons(obj: metrics.Dashboard) -> list[ReferralCountOut]:
        return [ReferralCountOut(label=k, count=n) for k, n in obj.decline_reasons]

    @staticmethod
    def resolve_failures(obj: metrics.Dashboard) -> list[ReferralCountOut]:
        return [ReferralCountOut(label=k, count=n) for k, n in obj.failures]
