"""How a request reaches one programme record: through its owning organisation (read and
write) or, read-only, through the prefecture the owner belongs to. Everyone else gets the same
404 on every door (ADR 0003, 0023)."""

from __future__ import annotations

import uuid

from django.db.models import Count, Q, QuerySet

from renkei.accounts.models import Membership, OrgKind
from renkei.lib.actions import NotFound, get_visible
from renkei.programmes.models import (
    OWNER_KINDS,
    BodyMember,
    Countermeasure,
    Decision,
    Issue,
    LineContractor,
    Material,
    Meeting,
    MeetingBody,
    ProgrammeImport,
    ProgrammeLine,
    ProgrammeTable,
    ScopedQuerySet,
)

TABLE_NOT_FOUND = "事業一覧が見つかりません"
LINE_NOT_FOUND = "事業が見つかりません"
BODY_NOT_FOUND = "会議体が見つかりません"
MEETING_NOT_FOUND = "会議が見つかりません"
ISSUE_NOT_FOUND = "課題が見つかりません"
MEASURE_NOT_FOUND = "対応策が見つかりません"


def sees_programmes(m: Membership | None) -> bool:
    """The menu entry: organisations that keep programme records (or read their prefecture's)."""
    return m is not None and m.organization.kind in OWNER_KINDS


def can_edit(m: Membership | None, owner_id: int) -> bool:
    return m is not None and m.organization_id == owner_id


def require_member(m: Membership | None, message: str) -> Membership:
    if m is None:
        raise NotFound(message)
    return m


def visible_table(m: Membership | None, code: uuid.UUID, *, edit: bool = False) -> ProgrammeTable:
    qs = ProgrammeTable.objects.editable_by(m) if edit else ProgrammeTable.objects.visible_to(m)
    return get_visible(qs.select_related("owner"), TABLE_NOT_FOUND, code=code)


def lines_for(m: Membership | None, *, mode: str = "read") -> QuerySet[ProgrammeLine]:
    """The lines a member reaches: its own organisation's, its prefecture's owners' (to
    read), and the lines it works on as a contractor. `mode`: "read"; "results" (enter 実績:
    the owner and every contractor); "edit" (the owner and a contractor allowed to edit);
    "own" (the owner alone: budgets, contractors, removal)."""
    if m is None:
        return ProgrammeLine.objects.none()
    contracts = LineContractor.objects.filter(organization_id=m.organization_id)
    if mode == "edit":
        contracts = contracts.filter(may_edit=True)
    if mode == "read":
        tables = ProgrammeTable.objects.filter(
            ScopedQuerySet.readers(ProgrammeTable.objects.all(), m)
        )
    else:
        tables = ProgrammeTable.objects.editable_by(m)
    if mode == "own":
        return ProgrammeLine.objects.filter(table__in=tables)
    return ProgrammeLine.objects.filter(Q(table__in=tables) | Q(pk__in=contracts.values("line_id")))


def visible_line(m: Membership | None, code: uuid.UUID, *, mode: str = "read") -> ProgrammeLine:
    return get_visible(
        lines_for(m, mode=mode).select_related("table__owner"), LINE_NOT_FOUND, code=code
    )


def visible_contract(m: Membership | None, code: uuid.UUID, org: uuid.UUID) -> LineContractor:
    """A contractor of one of the caller's own lines (only the owner names or removes one)."""
    return get_visible(
        LineContractor.objects.filter(line__in=lines_for(m, mode="own")).select_related(
            "organization", "line__table"
        ),
        "受託者が見つかりません",
        line__code=code,
        organization__code=org,
    )


def line_count(m: Membership) -> Count:
    """A table's number of lines as the member reads it (a contractor: the lines it works on)."""
    whole = ScopedQuerySet.readers(ProgrammeTable.objects.all(), m)
    mine = Q(lines__contracts__organization_id=m.organization_id)
    return Count("lines", filter=whole | mine, distinct=True)


def reads_whole_table(m: Membership | None, table: ProgrammeTable) -> bool:
    """The owner and its prefecture read every line; a contractor only the lines it works on."""
    return m is not None and (
        ProgrammeTable.objects.filter(pk=table.pk)
        .filter(ScopedQuerySet.readers(ProgrammeTable.objects.all(), m))
        .exists()
    )


def shown_lines(m: Membership | None, table: ProgrammeTable) -> QuerySet[ProgrammeLine]:
    lines = table.lines.all()
    if reads_whole_table(m, table):
        return lines
    return lines.filter(contracts__organization_id=m.organization_id if m else 0)


def visible_import(m: Membership | None, code: uuid.UUID) -> ProgrammeImport:
    return get_visible(ProgrammeImport.objects.editable_by(m), "取込みが見つかりません", code=code)


def visible_body(m: Membership | None, code: uuid.UUID, *, edit: bool = False) -> MeetingBody:
    qs = MeetingBody.objects.editable_by(m) if edit else MeetingBody.objects.visible_to(m)
    return get_visible(qs.select_related("owner", "parent"), BODY_NOT_FOUND, code=code)


def visible_member(m: Membership | None, code: uuid.UUID) -> BodyMember:
    return get_visible(
        BodyMember.objects.filter(body__in=MeetingBody.objects.editable_by(m)).select_related(
            "body", "organization"
        ),
        "構成員が見つかりません",
        code=code,
    )


def visible_meeting(m: Membership | None, code: uuid.UUID, *, edit: bool = False) -> Meeting:
    qs = Meeting.objects.editable_by(m) if edit else Meeting.objects.visible_to(m)
    return get_visible(qs.select_related("body__owner"), MEETING_NOT_FOUND, code=code)


def visible_decision(m: Membership | None, code: uuid.UUID) -> Decision:
    return get_visible(
        Decision.objects.filter(meeting__in=Meeting.objects.editable_by(m)),
        "決定事項が見つかりません",
        code=code,
    )


def visible_material(m: Membership | None, code: uuid.UUID, *, edit: bool = False) -> Material:
    meetings = Meeting.objects.editable_by(m) if edit else Meeting.objects.visible_to(m)
    return get_visible(
        Material.objects.filter(meeting__in=meetings).select_related("meeting__body__owner"),
        "資料が見つかりません",
        code=code,
    )


def visible_issue(m: Membership | None, code: uuid.UUID, *, edit: bool = False) -> Issue:
    qs = Issue.objects.editable_by(m) if edit else Issue.objects.visible_to(m)
    return get_visible(qs.select_related("owner", "meeting__body"), ISSUE_NOT_FOUND, code=code)


def visible_measure(m: Membership | None, code: uuid.UUID, *, edit: bool = False) -> Countermeasure:
    qs = Countermeasure.objects.editable_by(m) if edit else Countermeasure.objects.visible_to(m)
    return get_visible(
        qs.select_related("issue__owner", "responsible", "decision__meeting__body"),
        MEASURE_NOT_FOUND,
        code=code,
    )


def is_prefecture(m: Membership | None) -> bool:
    return m is not None and m.organization.kind == OrgKind.PREFECTURE
