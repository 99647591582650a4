"""Programme workflows: each takes the acting membership and one typed input, which the HTML
form and the API body both produce (docs/architecture.md). Only the owning organisation writes;
the access getters have already given everyone else a 404."""

from __future__ import annotations

import re
from typing import Annotated, Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from pydantic import Field

from renkei.accounts.models import AuditEntry, Membership, Organization
from renkei.courses.models import Course
from renkei.lib.actions import ActionError, Conflict, bump_version, notify
from renkei.lib.inputs import CalendarDate, FiscalYear, Input, TimeOfDay
from renkei.lib.programme import ProgrammeItem, Scene
from renkei.lib.uploads import checked_type
from renkei.programmes.models import (
    MATERIAL_MAX_BYTES,
    MATERIAL_TYPES,
    OWNER_KINDS,
    Attendance,
    AttendanceStatus,
    BodyKind,
    BodyMember,
    BudgetLine,
    Countermeasure,
    Decision,
    FundingSource,
    Issue,
    IssueSource,
    IssueStatus,
    LineContractor,
    Material,
    MeasureStatus,
    Meeting,
    MeetingBody,
    MeetingStatus,
    ProgrammeLine,
    ProgrammeTable,
    ProgressNote,
)

LONG = 4000
# A record's code where a body names another record: a UUID (with or without hyphens), or
# nothing. The schema says so, and `_uuid` applies the same expression.
CODE_RE = re.compile(r"[0-9a-fA-F]{8}(-?[0-9a-fA-F]{4}){3}-?[0-9a-fA-F]{12}")
CODE_OR_EMPTY: dict[str, Any] = {"pattern": rf"^({CODE_RE.pattern})?$"}
CODE: dict[str, Any] = {"pattern": rf"^{CODE_RE.pattern}$"}


def audit(
    action: str, target: Any, by: Membership, request: HttpRequest | None, **detail: Any
) -> None:
    AuditEntry.record(action, request=request, by=by, target=target, detail=detail)


def require_owner(owner_id: int, by: Membership, what: str) -> None:
    """Only the owning organisation writes (the getters gave everyone else a 404 already)."""
    if owner_id != by.organization_id:
        raise ActionError(f"この{what}は編集できません")


def require_owner_kind(by: Membership) -> None:
    if by.organization.kind not in OWNER_KINDS:
        raise ActionError("事業の記録を作れるのは市区町村・都道府県・医師会などの組織です")


# ---------------------------------------------------------------------------------------------
# 事業一覧


class TableInput(Input):
    """A 事業一覧's heading: the fiscal year and title, and when its 実績 were counted."""

    fiscal_year: FiscalYear
    title: str = Field(..., min_length=1, max_length=120, description="表題")
    results_as_of: CalendarDate | None = Field(None, description="実績の時点（例: 2月末）")
    note: str = Field("", max_length=2000)
    version: int | None = None


@transaction.atomic
def save_table(
    *,
    by: Membership,
    data: TableInput,
    table: ProgrammeTable | None = None,
    request: HttpRequest | None = None,
) -> ProgrammeTable:
    require_owner_kind(by)
    clash = ProgrammeTable.objects.filter(owner_id=by.organization_id, fiscal_year=data.fiscal_year)
    if table is not None:
        clash = clash.exclude(pk=table.pk)
        bump_version(table, data.version)
    if clash.exists():
        raise Conflict("この年度の事業一覧はすでにあります", field="fiscal_year")
    if table is None:
        table = ProgrammeTable(owner=by.organization)
    table.fiscal_year = data.fiscal_year
    table.title = data.title
    table.results_as_of = data.results_as_of
    table.note = data.note
    table.save()
    audit("programmes.table_saved", table, by, request, fiscal_year=table.fiscal_year)
    return table


class BudgetInput(Input):
    """One amount in 千円 from one 財源."""

    source_id: int = Field(
        ..., ge=1, le=2**31 - 1, description="財源（/api/v1/programmes/funding-sources の id）"
    )
    amount: int = Field(..., ge=0, le=10**10, description="予算額（千円）")
    label: str = Field("", max_length=120, description="内訳・摘要（例: H26繰越分）")


class LineInput(Input):
    """One programme line of a 事業一覧 (seed 000's columns, seed 003's items and effect)."""

    name: str = Field(..., min_length=1, max_length=200, description="事業名称")
    section: str = Field("", max_length=120, description="区分（表の見出し）")
    is_new: bool = False
    items: list[ProgrammeItem] = Field(default_factory=list, max_length=8)
    scenes: list[Scene] = Field(default_factory=list, max_length=5)
    content: str = Field("", max_length=LONG, description="事業内容")
    results: str = Field("", max_length=LONG, description="実績")
    plan: str = Field("", max_length=LONG, description="次年度の予定")
    effect: str = Field("", max_length=LONG, description="事業効果")
    contractor_name: str = Field("", max_length=120, description="受託者")
    sort_order: int | None = Field(None, ge=0, le=100000)
    budget: list[BudgetInput] | None = Field(
        None, max_length=20, description="予算（財源別）。省略すると変えません"
    )
    courses: list[str] | None = Field(
        None,
        max_length=20,
        description="実績を表に添える研修コースのコード（/api/v1/courses/）。省略すると変えません",
    )
    version: int | None = None


def _courses(codes: list[str], by: Membership) -> list[Course]:
    wanted = {parse_code(c, "courses") for c in codes}
    found = list(Course.objects.visible_to(by.organization).filter(code__in=wanted))
    if len(found) != len(wanted):
        raise ActionError("研修コースが見つかりません", field="courses")
    return found


def _sources(budget: list[BudgetInput]) -> dict[int, FundingSource]:
    ids = {b.source_id for b in budget}
    found = {s.pk: s for s in FundingSource.objects.filter(pk__in=ids)}
    if missing := ids - set(found):
        raise ActionError(f"財源が見つかりません（{min(missing)}）", field="budget")
    return found


@transaction.atomic
def save_line(
    table: ProgrammeTable,
    *,
    by: Membership,
    data: LineInput,
    line: ProgrammeLine | None = None,
    request: HttpRequest | None = None,
) -> ProgrammeLine:
    if table.owner_id != by.organization_id:
        # A contractor allowed to edit changes the line's text; budgets and links stay the owner's.
        contract = line.contracts.filter(organization_id=by.organization_id) if line else None
        if contract is None or not contract.filter(may_edit=True).exists():
            require_owner(table.owner_id, by, "事業一覧")
        if data.budget is not None or data.courses is not None:
            raise ActionError("予算と研修コースは事業一覧の組織が設定します", field="budget")
    sources = _sources(data.budget) if data.budget is not None else {}
    courses = _courses(data.courses, by) if data.courses is not None else None
    if line is None:
        last = table.lines.order_by("-sort_order").values_list("sort_order", flat=True).first()
        line = ProgrammeLine(table=table, sort_order=(last or 0) + 10)
    else:
        bump_version(line, data.version)
    for name in ("name", "section", "is_new", "content", "results", "plan", "effect"):
        setattr(line, name, getattr(data, name))
    line.contractor_name = data.contractor_name
    line.items = _ordered(data.items, ProgrammeItem)
    line.scenes = _ordered(data.scenes, Scene)
    if data.sort_order is not None:
        line.sort_order = data.sort_order
    line.save()
    if data.budget is not None:
        line.budget_lines.all().delete()
        BudgetLine.objects.bulk_create(
            BudgetLine(line=line, source=sources[b.source_id], amount=b.amount, label=b.label)
            for b in data.budget
        )
    if courses is not None:
        line.courses.set(courses)
    audit("programmes.line_saved", line, by, request, table=str(table.code), name=line.name)
    return line


def _ordered(values: list[Any], enum: Any) -> list[str]:
    chosen = {str(v.value if hasattr(v, "value") else v) for v in values}
    return [e.value for e in enum if e.value in chosen]


@transaction.atomic
def remove_line(line: ProgrammeLine, *, by: Membership, request: HttpRequest | None = None) -> None:
    require_owner(line.table.owner_id, by, "事業一覧")
    audit("programmes.line_removed", line.table, by, request, name=line.name)
    line.delete()


@transaction.atomic
def add_budget(
    line: ProgrammeLine, *, by: Membership, data: BudgetInput, request: HttpRequest | None = None
) -> BudgetLine:
    require_owner(line.table.owner_id, by, "事業一覧")
    source = _sources([data])[data.source_id]
    budget = BudgetLine.objects.create(
        line=line, source=source, amount=data.amount, label=data.label
    )
    audit("programmes.budget_saved", line, by, request, source=source.name, amount=data.amount)
    return budget


@transaction.atomic
def remove_budget(
    budget: BudgetLine, *, by: Membership, request: HttpRequest | None = None
) -> None:
    line = budget.line
    require_owner(line.table.owner_id, by, "事業一覧")
    audit("programmes.budget_removed", line, by, request, amount=budget.amount)
    budget.delete()


@transaction.atomic
def roll_over(
    table: ProgrammeTable, *, by: Membership, request: HttpRequest | None = None
) -> ProgrammeTable:
    """Next year's table from this year's: each line's 予定 becomes the draft of next year's
    実績 (edited from 「2回開催予定」 into 「2回開催」 as the year goes), the 予定 column starts
    empty, and the budget lines are carried over for review."""
    require_owner(table.owner_id, by, "事業一覧")
    year = table.fiscal_year + 1
    if ProgrammeTable.objects.filter(owner_id=table.owner_id, fiscal_year=year).exists():
        raise Conflict("翌年度の事業一覧はすでにあります")
    title = table.title.replace(table.era_year, ProgrammeTable(fiscal_year=year).era_year)
    new = ProgrammeTable.objects.create(
        owner=table.owner, fiscal_year=year, title=title, copied_from=table
    )
    lines = list(table.lines.prefetch_related("budget_lines__source", "contracts", "courses"))
    copies = ProgrammeLine.objects.bulk_create(
        ProgrammeLine(
            table=new,
            sort_order=ln.sort_order,
            section=ln.section,
            name=ln.name,
            items=ln.items,
            scenes=ln.scenes,
            content=ln.content,
            results=ln.plan,
            plan="",
            effect=ln.effect,
            contractor_name=ln.contractor_name,
        )
        for ln in lines
    )
    LineContractor.objects.bulk_create(
        LineContractor(line=copy, organization_id=c.organization_id, may_edit=c.may_edit)
        for ln, copy in zip(lines, copies, strict=True)
        for c in ln.contracts.all()
    )
    for ln, copy in zip(lines, copies, strict=True):
        if courses := list(ln.courses.all()):
            copy.courses.set(courses)
    BudgetLine.objects.bulk_create(
        BudgetLine(line=copy, source=b.source, amount=b.amount, label=b.label)
        for ln, copy in zip(lines, copies, strict=True)
        for b in ln.budget_lines.all()
    )
    audit(
        "programmes.table_rolled_over", new, by, request, source=str(table.code), lines=len(lines)
    )
    return new


# ---------------------------------------------------------------------------------------------
# 会議体と会議


class BodyInput(Input):
    name: str = Field(..., min_length=1, max_length=120, description="会議体の名称")
    kind: BodyKind
    parent: str = Field(
        "",
        max_length=40,
        description="上位の会議体のコード（専門部会の親）",
        json_schema_extra=CODE_OR_EMPTY,
    )
    team: str = Field("", max_length=30, description="チーム（Aチームなど）")
    items: list[ProgrammeItem] = Field(default_factory=list, max_length=8)
    purpose: str = Field("", max_length=2000)
    meetings_per_year: int = Field(4, ge=0, le=52)
    is_active: bool = True
    version: int | None = None


@transaction.atomic
def save_body(
    *,
    by: Membership,
    data: BodyInput,
    body: MeetingBody | None = None,
    request: HttpRequest | None = None,
) -> MeetingBody:
    require_owner_kind(by)
    parent = None
    if data.parent:
        parent = MeetingBody.objects.filter(
            owner_id=by.organization_id, code=parse_code(data.parent, "parent")
        ).first()
        if parent is None or (body is not None and parent.pk == body.pk):
            raise ActionError("上位の会議体が見つかりません", field="parent")
    if body is None:
        body = MeetingBody(owner=by.organization)
    else:
        bump_version(body, data.version)
    body.name, body.kind, body.team, body.parent = data.name, data.kind, data.team, parent
    body.items = _ordered(data.items, ProgrammeItem)
    body.purpose, body.meetings_per_year, body.is_active = (
        data.purpose,
        data.meetings_per_year,
        data.is_active,
    )
    body.save()
    audit("programmes.body_saved", body, by, request, name=body.name)
    return body


def parse_code(value: str, field: str) -> Any:
    import uuid

    if not CODE_RE.fullmatch(value):
        raise ActionError("コードの形式が正しくありません", field=field)
    return uuid.UUID(value)


class BodyMemberInput(Input):
    organization: str = Field(
        "", max_length=40, description="組織のコード（任意）", json_schema_extra=CODE_OR_EMPTY
    )
    name: str = Field("", max_length=60, description="氏名")
    affiliation: str = Field("", max_length=120, description="所属（組織として登録のない場合）")
    title: str = Field("", max_length=60, description="役職")
    email: str = Field(
        "", max_length=254, pattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$", description="通知先メール"
    )


@transaction.atomic
def add_member(
    body: MeetingBody, *, by: Membership, data: BodyMemberInput, request: HttpRequest | None = None
) -> BodyMember:
    require_owner(body.owner_id, by, "会議体")
    org = None
    if data.organization:
        org = Organization.objects.filter(
            code=parse_code(data.organization, "organization"), is_active=True
        ).first()
        if org is None:
            raise ActionError("組織が見つかりません", field="organization")
    if org is None and not data.name and not data.affiliation:
        raise ActionError("組織か氏名のどちらかを入力してください", field="name")
    last = body.members.order_by("-sort_order").values_list("sort_order", flat=True).first()
    member = BodyMember.objects.create(
        body=body,
        organization=org,
        name=data.name,
        affiliation=data.affiliation,
        title=data.title,
        email=data.email,
        sort_order=(last or 0) + 1,
    )
    audit("programmes.member_saved", body, by, request, member=str(member))
    return member


@transaction.atomic
def remove_member(
    member: BodyMember, *, by: Membership, request: HttpRequest | None = None
) -> None:
    require_owner(member.body.owner_id, by, "会議体")
    member.is_active = False
    member.save(update_fields=["is_active"])
    audit("programmes.member_removed", member.body, by, request, member=str(member))


class MeetingInput(Input):
    fiscal_year: FiscalYear
    number: int = Field(..., ge=1, le=99, description="第何回")
    held_on: CalendarDate = Field(..., description="開催日")
    starts_at: TimeOfDay | None = None
    place: str = Field("", max_length=120)
    status: MeetingStatus = MeetingStatus.PLANNED
    agenda: str = Field("", max_length=LONG, description="議題")
    minutes: str = Field("", max_length=20000, description="議事録")
    version: int | None = None


@transaction.atomic
def save_meeting(
    body: MeetingBody,
    *,
    by: Membership,
    data: MeetingInput,
    meeting: Meeting | None = None,
    request: HttpRequest | None = None,
) -> Meeting:
    require_owner(body.owner_id, by, "会議体")
    from renkei.lib.dates import fiscal_year

    if fiscal_year(data.held_on) != data.fiscal_year:
        raise ActionError("開催日がその年度に入っていません", field="held_on")
    if meeting is None:
        meeting = Meeting(body=body)
    else:
        bump_version(meeting, data.version)
    for name in MeetingInput.model_fields.keys() - {"version"}:
        setattr(meeting, name, getattr(data, name))
    try:
        with transaction.atomic():
            meeting.save()
    except IntegrityError:
        raise Conflict("その年度のその回の会議はすでにあります", field="number") from None
    audit("programmes.meeting_saved", meeting, by, request, number=meeting.number)
    return meeting


class ScheduleInput(Input):
    """A year's schedule in one go: the dates of the 第1回 … 第N回 meetings."""

    fiscal_year: FiscalYear
    dates: list[CalendarDate] = Field(..., min_length=1, max_length=24)
    place: str = Field("", max_length=120)


@transaction.atomic
def plan_year(
    body: MeetingBody, *, by: Membership, data: ScheduleInput, request: HttpRequest | None = None
) -> list[Meeting]:
    from renkei.lib.dates import fiscal_year

    require_owner(body.owner_id, by, "会議体")
    if any(fiscal_year(d) != data.fiscal_year for d in data.dates):
        raise ActionError("開催日がその年度に入っていません", field="dates")
    if body.meetings.filter(fiscal_year=data.fiscal_year).exists():
        raise Conflict(
            "この年度の予定はすでにあります。会議を一つずつ追加してください", field="fiscal_year"
        )
    meetings = [
        Meeting.objects.create(
            body=body, fiscal_year=data.fiscal_year, number=i, held_on=d, place=data.place
        )
        for i, d in enumerate(sorted(data.dates), start=1)
    ]
    audit("programmes.meeting_saved", body, by, request, planned=len(meetings))
    return meetings


def send_notice(meeting: Meeting, *, by: Membership, request: HttpRequest | None = None) -> int:
    """Tell the body's members the date, place and agenda; mail goes once the change commits."""
    with transaction.atomic():
        require_owner(meeting.body.owner_id, by, "会議")
        if meeting.status == MeetingStatus.CANCELLED:
            raise Conflict("中止した会議の通知は送れません")
        members = list(meeting.body.members.filter(is_active=True).select_related("organization"))
        to = sorted({a for a in (mm.notice_address() for mm in members) if a})
        if not to:
            raise ActionError("通知先メールのある構成員がいません")
        sent = notify(
            to=to,
            subject=f"{meeting.body} 第{meeting.number}回 開催のお知らせ",
            template="programmes_meeting_notice.txt",
            context={"meeting": meeting, "body": meeting.body, "owner": meeting.body.owner},
        )
        meeting.notice_sent_at = timezone.now()
        meeting.save(update_fields=["notice_sent_at"])
        audit("programmes.meeting_notice_sent", meeting, by, request, recipients=len(to))
    return sent


class AttendanceRow(Input):
    member: str = Field(..., max_length=40, description="構成員のコード")
    status: AttendanceStatus
    note: str = Field("", max_length=120)


class MeetingAttendanceInput(Input):
    rows: list[AttendanceRow] = Field(..., max_length=200)


@transaction.atomic
def record_attendance(
    meeting: Meeting,
    *,
    by: Membership,
    data: MeetingAttendanceInput,
    request: HttpRequest | None = None,
) -> int:
    require_owner(meeting.body.owner_id, by, "会議")
    members = {str(mm.code): mm for mm in meeting.body.members.all()}
    for row in data.rows:
        if row.member not in members:
            raise ActionError("構成員が見つかりません", field="rows")
    for row in data.rows:
        Attendance.objects.update_or_create(
            meeting=meeting,
            member=members[row.member],
            defaults={"status": row.status, "note": row.note},
        )
    audit("programmes.attendance_saved", meeting, by, request, rows=len(data.rows))
    return len(data.rows)


class MeetingDecisionInput(Input):
    text: str = Field(..., min_length=1, max_length=2000, description="決定事項")


@transaction.atomic
def add_decision(
    meeting: Meeting,
    *,
    by: Membership,
    data: MeetingDecisionInput,
    request: HttpRequest | None = None,
) -> Decision:
    require_owner(meeting.body.owner_id, by, "会議")
    number = meeting.decisions.count() + 1
    decision = Decision.objects.create(meeting=meeting, number=number, text=data.text)
    audit("programmes.decision_saved", meeting, by, request, number=number)
    return decision


def check_material(upload: UploadedFile[bytes]) -> str:
    return checked_type(
        upload,
        MATERIAL_TYPES,
        max_bytes=MATERIAL_MAX_BYTES,
        wrong_type="資料は PDF・画像・Excel・Word・PowerPoint のファイルにしてください",
        too_big="資料は10MBまでにしてください",
    )


@transaction.atomic
def add_material(
    meeting: Meeting,
    *,
    by: Membership,
    title: str,
    upload: UploadedFile[bytes],
    request: HttpRequest | None = None,
) -> Material:
    require_owner(meeting.body.owner_id, by, "会議")
    title = title.strip()
    if not title or len(title) > 120:
        raise ActionError("資料名を120文字以内で入力してください", field="title")
    content_type = check_material(upload)
    material = Material(meeting=meeting, title=title, filename=(upload.name or "")[-200:])
    material.store(upload, content_type)
    material.save()
    audit("programmes.material_added", meeting, by, request, title=title, size=material.size)
    return material


@transaction.atomic
def remove_material(
    material: Material, *, by: Membership, request: HttpRequest | None = None
) -> None:
    meeting = material.meeting
    require_owner(meeting.body.owner_id, by, "会議")
    audit("programmes.material_removed", meeting, by, request, title=material.title)
    stored = material.file.name or ""
    storage = material.file.storage
    material.delete()
    if stored:
        transaction.on_commit(lambda: storage.delete(stored))


# ---------------------------------------------------------------------------------------------
# 課題と対応策


class IssueInput(Input):
    title: str = Field(..., min_length=1, max_length=200, description="課題")
    description: str = Field("", max_length=LONG)
    scenes: list[Scene] = Field(default_factory=list, max_length=5)
    items: list[ProgrammeItem] = Field(default_factory=list, max_length=8)
    source: IssueSource
    meeting: str = Field(
        "", max_length=40, description="提起された会議のコード", json_schema_extra=CODE_OR_EMPTY
    )
    raised_on: CalendarDate = Field(..., description="提起日")
    status: IssueStatus = IssueStatus.OPEN
    version: int | None = None


@transaction.atomic
def save_issue(
    *,
    by: Membership,
    data: IssueInput,
    issue: Issue | None = None,
    request: HttpRequest | None = None,
) -> Issue:
    require_owner_kind(by)
    meeting = None
    if data.meeting:
        meeting = (
            Meeting.objects.editable_by(by).filter(code=parse_code(data.meeting, "meeting")).first()
        )
        if meeting is None:
            raise ActionError("会議が見つかりません", field="meeting")
    if data.source == IssueSource.MEETING and meeting is None:
        raise ActionError("会議で提起された課題は、その会議を選んでください", field="meeting")
    if issue is None:
        issue = Issue(owner=by.organization)
    else:
        bump_version(issue, data.version)
    issue.title, issue.description, issue.source = data.title, data.description, data.source
    issue.scenes = _ordered(data.scenes, Scene)
    issue.items = _ordered(data.items, ProgrammeItem)
    issue.meeting, issue.raised_on, issue.status = meeting, data.raised_on, data.status
    issue.save()
    audit("programmes.issue_saved", issue, by, request, title=issue.title)
    return issue


class CountermeasureInput(Input):
    title: str = Field(..., min_length=1, max_length=200, description="対応策")
    description: str = Field("", max_length=LONG)
    responsible_name: str = Field("", max_length=120, description="担当（部署・チーム）")
    due_on: CalendarDate | None = None
    status: MeasureStatus = MeasureStatus.PLANNED
    decision: str = Field(
        "",
        max_length=40,
        description="根拠となる会議の決定事項のコード",
        json_schema_extra=CODE_OR_EMPTY,
    )
    programme_lines: list[Annotated[str, Field(json_schema_extra=CODE)]] = Field(
        default_factory=list, max_length=50, description="財源となる事業のコード"
    )
    indicators: list[str] = Field(
        default_factory=list,
        max_length=30,
        description="動かしたい指標のコード（/api/v1/programmes/indicators/ の指標）",
    )
    version: int | None = None


@transaction.atomic
def save_countermeasure(
    issue: Issue,
    *,
    by: Membership,
    data: CountermeasureInput,
    measure: Countermeasure | None = None,
    request: HttpRequest | None = None,
) -> Countermeasure:
    require_owner(issue.owner_id, by, "課題")
    decision = None
    if data.decision:
        decision = Decision.objects.filter(
            meeting__body__owner_id=by.organization_id, code=parse_code(data.decision, "decision")
        ).first()
        if decision is None:
            raise ActionError("決定事項が見つかりません", field="decision")
    codes = {parse_code(c, "programme_lines") for c in data.programme_lines}
    lines = list(ProgrammeLine.objects.filter(table__owner_id=by.organization_id, code__in=codes))
    if len(lines) != len(codes):
        raise ActionError("財源となる事業が見つかりません", field="programme_lines")
    from renkei.pdca.models import Indicator

    wanted = set(data.indicators)
    indicators = list(Indicator.objects.filter(code__in=wanted))
    if len(indicators) != len(wanted):
        raise ActionError("指標が見つかりません", field="indicators")
    if measure is None:
        measure = Countermeasure(issue=issue)
    else:
        bump_version(measure, data.version)
    measure.title, measure.description = data.title, data.description
    measure.responsible_name, measure.due_on = data.responsible_name, data.due_on
    measure.status, measure.decision = data.status, decision
    measure.save()
    measure.programme_lines.set(lines)
    measure.indicators.set(indicators)
    if issue.status == IssueStatus.OPEN and data.status == MeasureStatus.ACTIVE:
        issue.status = IssueStatus.ACTING
        issue.save(update_fields=["status"])
    audit("programmes.countermeasure_saved", measure, by, request, issue=str(issue.code))
    return measure


class ProgressInput(Input):
    written_on: CalendarDate
    text: str = Field(..., min_length=1, max_length=2000, description="進捗")
    status: MeasureStatus | None = Field(None, description="状態も変えるときに")


@transaction.atomic
def note_progress(
    measure: Countermeasure,
    *,
    by: Membership,
    data: ProgressInput,
    request: HttpRequest | None = None,
) -> ProgressNote:
    require_owner(measure.issue.owner_id, by, "課題")
    note = ProgressNote.objects.create(
        countermeasure=measure, written_on=data.written_on, text=data.text, by=by.user
    )
    if data.status is not None and data.status != measure.status:
        measure.status = data.status
        measure.save(update_fields=["status"])
    audit("programmes.progress_noted", measure, by, request, status=measure.status)
    return note


__all__ = [
    "MeetingAttendanceInput",
    "BodyInput",
    "BudgetInput",
    "CountermeasureInput",
    "MeetingDecisionInput",
    "IssueInput",
    "LineInput",
    "MeetingInput",
    "BodyMemberInput",
    "ProgressInput",
    "ScheduleInput",
    "TableInput",
]
