"""How a request reaches one programme record: through its owning organisation (read and
write) or, read-only, through the prefecture the owner belongs to. Everyone else gets the same
404 on every door (ADR 0003, 0023)."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from renkei.accounts.models import Membership, OrgKind
from renkei.lib.actions import NotFound, get_visible
from renkei.programmes.models import (
    OWNER_KINDS,
    BodyMember,
    Countermeasure,
    Decision,
    Issue,
    Material,
    Meeting,
    MeetingBody,
    ProgrammeImport,
    ProgrammeLine,
    ProgrammeTable,
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


def visible_line(m: Membership | None, code: uuid.UUID, *, edit: bool = False) -> ProgrammeLine:
    tables = ProgrammeTable.objects.editable_by(m) if edit else ProgrammeTable.objects.visible_to(m)
    return get_visible(
        ProgrammeLine.objects.filter(table__in=tables).select_related("table__owner", "contractor"),
        LINE_NOT_FOUND,
        code=code,
    )


def lines_of(m: Membership | None) -> QuerySet[ProgrammeLine]:
    """Programme lines the caller may link a countermeasure to: its own organisation's."""
    return ProgrammeLine.objects.filter(table__in=ProgrammeTable.objects.editable_by(m))


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
