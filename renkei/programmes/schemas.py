"""What /api/v1/programmes/ returns, read from model instances."""

from __future__ import annotations

import datetime as dt
import uuid

from ninja import Field, Schema

from renkei.lib.inputs import TimeOfDay
from renkei.programmes.models import (
    BodyMember,
    BudgetLine,
    Countermeasure,
    Issue,
    Meeting,
    MeetingBody,
    ProgrammeLine,
    ProgrammeTable,
    totals_by_item,
    totals_by_source,
)


class FundingSourceOut(Schema):
    id: int
    name: str
    short_name: str


class BudgetOut(Schema):
    code: uuid.UUID
    source_id: int
    source: str
    amount: int = Field(description="予算額（千円）")
    label: str

    @staticmethod
    def resolve_source(obj: BudgetLine) -> str:
        return obj.source.name


class LineOut(Schema):
    code: uuid.UUID
    sort_order: int
    section: str
    name: str
    is_new: bool
    items: list[str]
    scenes: list[str]
    content: str
    results: str
    plan: str
    effect: str
    contractor_name: str
    budget: list[BudgetOut]
    version: int

    @staticmethod
    def resolve_budget(obj: ProgrammeLine) -> list[BudgetLine]:
        return list(obj.budget_lines.all())


class TableOut(Schema):
    code: uuid.UUID
    owner: str
    fiscal_year: int
    fiscal_year_label: str = Field(description="和暦の年度（令和元年度（2019年度）など）")
    title: str
    results_as_of: dt.date | None
    note: str
    version: int

    @staticmethod
    def resolve_owner(obj: ProgrammeTable) -> str:
        return obj.owner.name


class TotalOut(Schema):
    label: str
    lines: int | None = None
    amount: int = Field(description="千円")


class TableDetailOut(TableOut):
    lines: list[LineOut]
    totals_by_source: list[TotalOut]
    totals_by_item: list[TotalOut] = Field(
        description="事業項目（ア〜ク）ごと。複数の項目に当たる事業はそれぞれに数えます"
    )

    @staticmethod
    def resolve_lines(obj: ProgrammeTable) -> list[ProgrammeLine]:
        return list(obj.lines.prefetch_related("budget_lines__source"))

    @staticmethod
    def resolve_totals_by_source(obj: ProgrammeTable) -> list[TotalOut]:
        return [TotalOut(label=s.name, amount=t) for s, t in totals_by_source(obj)]

    @staticmethod
    def resolve_totals_by_item(obj: ProgrammeTable) -> list[TotalOut]:
        lines = list(obj.lines.prefetch_related("budget_lines"))
        return [TotalOut(label=label, lines=n, amount=t) for label, n, t in totals_by_item(lines)]


class BodyMemberOut(Schema):
    code: uuid.UUID
    label: str
    organization_code: uuid.UUID | None
    name: str
    affiliation: str
    title: str

    @staticmethod
    def resolve_label(obj: BodyMember) -> str:
        return str(obj)

    @staticmethod
    def resolve_organization_code(obj: BodyMember) -> uuid.UUID | None:
        return obj.organization.code if obj.organization else None


class BodyOut(Schema):
    code: uuid.UUID
    owner: str
    name: str
    kind: str
    parent: uuid.UUID | None
    team: str
    items: list[str]
    purpose: str
    meetings_per_year: int
    is_active: bool
    version: int

    @staticmethod
    def resolve_owner(obj: MeetingBody) -> str:
        return obj.owner.name

    @staticmethod
    def resolve_parent(obj: MeetingBody) -> uuid.UUID | None:
        return obj.parent.code if obj.parent else None


class BodyDetailOut(BodyOut):
    members: list[BodyMemberOut]

    @staticmethod
    def resolve_members(obj: MeetingBody) -> list[BodyMember]:
        return list(obj.members.filter(is_active=True).select_related("organization"))


class DecisionOut(Schema):
    code: uuid.UUID
    number: int
    text: str


class AttendanceOut(Schema):
    member: uuid.UUID
    status: str
    note: str


class MeetingOut(Schema):
    code: uuid.UUID
    body: uuid.UUID
    fiscal_year: int
    number: int
    held_on: dt.date
    starts_at: TimeOfDay | None
    place: str
    status: str
    agenda: str
    minutes: str
    notice_sent_at: dt.datetime | None
    decisions: list[DecisionOut]
    attendance: list[AttendanceOut]
    version: int

    @staticmethod
    def resolve_body(obj: Meeting) -> uuid.UUID:
        return obj.body.code

    @staticmethod
    def resolve_decisions(obj: Meeting) -> list[DecisionOut]:
        return [DecisionOut(code=d.code, number=d.number, text=d.text) for d in obj.decisions.all()]

    @staticmethod
    def resolve_attendance(obj: Meeting) -> list[AttendanceOut]:
        return [
            AttendanceOut(member=a.member.code, status=a.status, note=a.note)
            for a in obj.attendance.select_related("member")
        ]


class NoteOut(Schema):
    written_on: dt.date
    text: str


class MeasureOut(Schema):
    code: uuid.UUID
    title: str
    description: str
    responsible_name: str
    due_on: dt.date | None
    status: str
    decision: uuid.UUID | None
    programme_lines: list[uuid.UUID]
    indicators: list[str] = Field(description="動かしたい指標のコード")
    notes: list[NoteOut]
    version: int

    @staticmethod
    def resolve_decision(obj: Countermeasure) -> uuid.UUID | None:
        return obj.decision.code if obj.decision else None

    @staticmethod
    def resolve_programme_lines(obj: Countermeasure) -> list[uuid.UUID]:
        return [ln.code for ln in obj.programme_lines.all()]

    @staticmethod
    def resolve_indicators(obj: Countermeasure) -> list[str]:
        return [i.code for i in obj.indicators.all()]

    @staticmethod
    def resolve_notes(obj: Countermeasure) -> list[NoteOut]:
        return [NoteOut(written_on=n.written_on, text=n.text) for n in obj.notes.all()]


class IssueOut(Schema):
    code: uuid.UUID
    owner: str
    title: str
    description: str
    scenes: list[str]
    items: list[str]
    source: str
    meeting: uuid.UUID | None
    raised_on: dt.date
    status: str
    version: int

    @staticmethod
    def resolve_owner(obj: Issue) -> str:
        return obj.owner.name

    @staticmethod
    def resolve_meeting(obj: Issue) -> uuid.UUID | None:
        return obj.meeting.code if obj.meeting else None


class IssueDetailOut(IssueOut):
    countermeasures: list[MeasureOut]

    @staticmethod
    def resolve_countermeasures(obj: Issue) -> list[Countermeasure]:
        return list(
            obj.countermeasures.select_related("decision").prefetch_related(
                "programme_lines", "notes"
            )
        )
