"""What the desk's API answers: ninja schemas read from model instances and the tally.

The request bodies are the actions' inputs (renkei.desk.actions); these are the outputs.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.core.paginator import Page
from django.utils import timezone
from ninja import Field, Schema

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
from renkei.desk.tally import Tally


class TopicOut(Schema):
    id: int
    name: str
    shared: bool

    @staticmethod
    def resolve_shared(obj: Topic) -> bool:
        return obj.desk_id is None


class DeskOut(Schema):
    code: uuid.UUID
    name: str
    organization: str
    is_member: bool = Field(
        description="運営組織の職員（相談記録を扱える）か、委託元（集計のみ）か"
    )
    municipalities: list[str]

    @staticmethod
    def resolve_organization(obj: Desk) -> str:
        return obj.organization.name

    @staticmethod
    def resolve_municipalities(obj: Desk) -> list[str]:
        return [m.code for m in obj.municipalities.all()]


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

    @staticmethod
    def resolve_consultation(obj: FollowUp) -> uuid.UUID:
        return obj.consultation.code

    @staticmethod
    def resolve_assignee(obj: FollowUp) -> str | None:
        return str(obj.assignee) if obj.assignee else None

    @staticmethod
    def resolve_overdue(obj: FollowUp) -> bool:
        return obj.is_overdue(timezone.localdate())


def _user(user: Any) -> str | None:
    return str(user) if user is not None else None


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

    @staticmethod
    def resolve_desk(obj: Consultation) -> uuid.UUID:
        return obj.desk.code

    @staticmethod
    def resolve_topics(obj: Consultation) -> list[Topic]:
        return list(obj.topics.all())

    @staticmethod
    def resolve_subject_municipality(obj: Consultation) -> str | None:
        return obj.subject_municipality.code if obj.subject_municipality else None

    @staticmethod
    def resolve_referred_facilities(obj: Consultation) -> list[Any]:
        return list(obj.referred_facilities.all())

    @staticmethod
    def resolve_entered_by(obj: Consultation) -> str:
        return str(obj.entered_by)

    @staticmethod
    def resolve_confirmed_by(obj: Consultation) -> str | None:
        return _user(obj.confirmed_by)

    @staticmethod
    def resolve_followups(obj: Consultation) -> list[FollowUp]:
        # A record just written carries its follow-ups (actions._as_read).
        cached = getattr(obj, "_prefetched_objects_cache", {}).get("followups")
        if cached is not None:
            return list(cached)
        # Each follow-up's consultation is this one: no query per row for its code.
        followups = list(obj.followups.select_related("assignee"))
        for f in followups:
            f.consultation = obj
        return followups


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

    @staticmethod
    def resolve_topics(obj: Consultation) -> list[str]:
        return [t.name for t in obj.topics.all()]

    @staticmethod
    def resolve_confirmed(obj: Consultation) -> bool:
        return obj.is_confirmed


class ConsultationPage(Schema):
    """One page of the list, read from Django's Page."""

    count: int
    page: int
    per_page: int
    items: list[ConsultationRow]

    @staticmethod
    def resolve_count(obj: Page[Consultation]) -> int:
        return obj.paginator.count

    @staticmethod
    def resolve_page(obj: Page[Consultation]) -> int:
        return obj.number

    @staticmethod
    def resolve_per_page(obj: Page[Consultation]) -> int:
        return obj.paginator.per_page

    @staticmethod
    def resolve_items(obj: Page[Consultation]) -> list[Consultation]:
        return list(obj.object_list)


class VersionOut(Schema):
    number: int
    created_at: dt.datetime
    created_by: str
    reason: str
    changes: dict[str, Any]
    data: dict[str, Any]

    @staticmethod
    def resolve_created_by(obj: ConsultationVersion) -> str:
        return str(obj.created_by)


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

    @staticmethod
    def resolve_desk(obj: Tally) -> uuid.UUID:
        return obj.desk.code

    @staticmethod
    def resolve_months(obj: Tally) -> list[str]:
        return [f"{y}-{m:02d}" for y, m in obj.months]
