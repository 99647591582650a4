"""What /api/v1/programmes/ returns, read from model instances."""

from __future__ import annotations

import datetime as dt
import uuid

from ninja import Field, Schema

from renkei.lib.inputs import TimeOfDay
from renkei.programmes.exports import TableView
from renkei.programmes.figures import CourseFigures
from renkei.programmes.models import (
    BodyMember,
    BudgetLine,
    Countermeasure,
    Issue,
    LineContractor,
    Meeting,
    MeetingBody,
    ProgrammeImport,
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


class ContractorOut(Schema):
    organization_code: uuid.UUID
    name: str
    may_edit: bool = Field(description="実績だけでなく事業の内容も編集できる")

    @staticmethod
    def resolve_organization_code(obj: LineContractor) -> uuid.UUID:
        return obj.organization.code

    @staticmethod
    def resolve_name(obj: LineContractor) -> str:
        return obj.organization.name


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
    contractors: list[ContractorOut]
    courses: list[uuid.UUID] = Field(description="実績を添える研修コースのコード")
    budget: list[BudgetOut]
    version: int

    @staticmethod
    def resolve_budget(obj: ProgrammeLine) -> list[BudgetLine]:
        return list(obj.budget_lines.all())

    @staticmethod
    def resolve_contractors(obj: ProgrammeLine) -> list[LineContractor]:
        return list(obj.contracts.all())

    @staticmethod
    def resolve_courses(obj: ProgrammeLine) -> list[uuid.UUID]:
        return [c.code for c in obj.courses.all()]


class CourseFiguresOut(Schema):
    course: uuid.UUID
    title: str
    rounds: int = Field(description="その年度に開催した回数")
    participants: int = Field(description="受講者数（参加確定）")

    @staticmethod
    def resolve_course(obj: CourseFigures) -> uuid.UUID:
        return obj.course.code

    @staticmethod
    def resolve_title(obj: CourseFigures) -> str:
        return obj.course.title


class TableLineOut(LineOut):
    course_figures: list[CourseFiguresOut]


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


class FigureOut(Schema):
    label: str
    value: int


class TableDetailOut(TableOut):
    """The table as the caller reads it: a contractor gets only the lines it works on."""

    lines: list[TableLineOut]
    totals_by_source: list[TotalOut]
    totals_by_item: list[TotalOut] = Field(
        description="事業項目（ア〜ク）ごと。複数の項目に当たる事業はそれぞれに数えます"
    )
    event_figures: list[FigureOut] = Field(
        description="その年度の研修・普及啓発の回数と受講者数（指標から。市区町村・都道府県の表）"
    )

    @staticmethod
    def resolve_lines(obj: ProgrammeTable) -> list[ProgrammeLine]:
        return _view(obj).lines

    @staticmethod
    def resolve_totals_by_source(obj: ProgrammeTable) -> list[TotalOut]:
        return [TotalOut(label=s.name, amount=t) for s, t in totals_by_source(_view(obj).lines)]

    @staticmethod
    def resolve_totals_by_item(obj: ProgrammeTable) -> list[TotalOut]:
        return [
            TotalOut(label=label, lines=n, amount=t)
            for label, n, t in totals_by_item(_view(obj).lines)
        ]

    @staticmethod
    def resolve_event_figures(obj: ProgrammeTable) -> list[FigureOut]:
        return [FigureOut(label=label, value=v) for label, v in _view(obj).events]


def with_view(table: ProgrammeTable, view: TableView) -> ProgrammeTable:
    """The table carrying the reader's view of it, for `TableDetailOut`."""
    table.view = view  # type: ignore[attr-defined]
    return table


def _view(table: ProgrammeTable) -> TableView:
    view: TableView = table.view  # type: ignore[attr-defined]
    return view


class ImportRowOut(Schema):
    line: int = Field(description="ファイルの行番号（0はファイル全体）")
    name: str
    errors: list[str]


class ImportOut(Schema):
    code: uuid.UUID
    filename: str
    fiscal_year: int
    status: str
    header: list[str]
    preview: list[list[str]]
    total: int
    done: int
    report: list[ImportRowOut] = Field(description="誤りのある行（何も保存していません）")
    table: uuid.UUID | None

    @staticmethod
    def resolve_report(obj: ProgrammeImport) -> list[dict[str, object]]:
        return [r for r in obj.report if "line" in r]

    @staticmethod
    def resolve_table(obj: ProgrammeImport) -> uuid.UUID | None:
        return obj.table.code if obj.table else None


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
