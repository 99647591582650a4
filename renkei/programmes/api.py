"""/api/v1/programmes/: 事業一覧, meeting bodies and meetings, issues and countermeasures, on the
same actions and getters as the screens. (The pdca app mounts surveys/ and indicators/ beside.)"""

from __future__ import annotations

import uuid

from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.security import SessionAuth

from renkei.accounts.http import api_membership
from renkei.accounts.models import Membership
from renkei.lib.api import READ_ERRORS, WRITE_ERRORS
from renkei.programmes import access, actions, contracts, imports
from renkei.programmes.exports import table_view
from renkei.programmes.models import (
    FundingSource,
    Issue,
    Meeting,
    MeetingBody,
    ProgrammeImport,
    ProgrammeLine,
    ProgrammeTable,
)
from renkei.programmes.schemas import (
    BodyDetailOut,
    BodyMemberOut,
    BodyOut,
    FundingSourceOut,
    ImportOut,
    IssueDetailOut,
    IssueOut,
    LineOut,
    MeasureOut,
    MeetingOut,
    TableDetailOut,
    TableOut,
    with_view,
)

router = Router(tags=["programmes"], auth=SessionAuth())


class NoticeCountOut(Schema):
    count: int


@router.get(
    "/funding-sources", response={200: list[FundingSourceOut], **READ_ERRORS}, summary="財源の一覧"
)
def funding_sources(request: HttpRequest) -> list[FundingSource]:
    api_membership(request)
    return list(FundingSource.objects.filter(is_active=True))


# 事業一覧 ---------------------------------------------------------------------------------------


@router.get("/tables", response={200: list[TableOut], **READ_ERRORS}, summary="見られる事業一覧")
def list_tables(request: HttpRequest) -> list[ProgrammeTable]:
    return list(ProgrammeTable.objects.visible_to(api_membership(request)).select_related("owner"))


@router.post("/tables", response={201: TableOut, **WRITE_ERRORS}, summary="事業一覧を作る")
def create_table(request: HttpRequest, payload: actions.TableInput) -> Status[ProgrammeTable]:
    return Status(
        201, actions.save_table(by=api_membership(request), data=payload, request=request)
    )


@router.get(
    "/tables/{code}",
    response={200: TableDetailOut, **READ_ERRORS},
    summary="事業一覧（事業・予算・財源別と項目別の合計）",
)
def get_table(request: HttpRequest, code: uuid.UUID) -> ProgrammeTable:
    m = api_membership(request)
    table = access.visible_table(m, code)
    lines = access.shown_lines(m, table).order_by("sort_order", "pk")
    return with_view(table, table_view(table, lines))


@router.put("/tables/{code}", response={200: TableOut, **WRITE_ERRORS}, summary="事業一覧の設定")
def update_table(
    request: HttpRequest, code: uuid.UUID, payload: actions.TableInput
) -> ProgrammeTable:
    m = api_membership(request)
    table = access.visible_table(m, code, edit=True)
    return actions.save_table(by=m, data=payload, table=table, request=request)


@router.post(
    "/tables/{code}/rollover",
    response={201: TableOut, **WRITE_ERRORS},
    summary="翌年度の事業一覧を作る（予定を実績の下書きに写す）",
)
def rollover(request: HttpRequest, code: uuid.UUID) -> Status[ProgrammeTable]:
    m = api_membership(request)
    return Status(
        201, actions.roll_over(access.visible_table(m, code, edit=True), by=m, request=request)
    )


@router.post("/tables/{code}/lines", response={201: LineOut, **WRITE_ERRORS}, summary="事業を追加")
def create_line(
    request: HttpRequest, code: uuid.UUID, payload: actions.LineInput
) -> Status[ProgrammeLine]:
    m = api_membership(request)
    table = access.visible_table(m, code, edit=True)
    return Status(201, actions.save_line(table, by=m, data=payload, request=request))


def _line(m: Membership, code: uuid.UUID, mode: str = "read") -> ProgrammeLine:
    return access.visible_line(m, code, mode=mode)


@router.get("/lines/{code}", response={200: LineOut, **READ_ERRORS}, summary="事業")
def get_line(request: HttpRequest, code: uuid.UUID) -> ProgrammeLine:
    return _line(api_membership(request), code)


@router.put(
    "/lines/{code}",
    response={200: LineOut, **WRITE_ERRORS},
    summary="事業を変更（事業一覧の組織、または編集を任された受託者）",
)
def update_line(request: HttpRequest, code: uuid.UUID, payload: actions.LineInput) -> ProgrammeLine:
    m = api_membership(request)
    line = _line(m, code, "edit")
    return actions.save_line(line.table, by=m, data=payload, line=line, request=request)


@router.put(
    "/lines/{code}/results",
    response={200: LineOut, **WRITE_ERRORS},
    summary="事業の実績を入力（事業一覧の組織、または受託者）",
)
def put_results(
    request: HttpRequest, code: uuid.UUID, payload: contracts.ResultsInput
) -> ProgrammeLine:
    m = api_membership(request)
    return contracts.enter_results(_line(m, code, "results"), by=m, data=payload, request=request)


@router.delete("/lines/{code}", response={204: None, **WRITE_ERRORS}, summary="事業を削除")
def delete_line(request: HttpRequest, code: uuid.UUID) -> Status[None]:
    m = api_membership(request)
    actions.remove_line(_line(m, code, "own"), by=m, request=request)
    return Status(204, None)


@router.post(
    "/lines/{code}/contractors",
    response={201: LineOut, **WRITE_ERRORS},
    summary="受託者を設定（設定済みなら編集の可否を変更）",
)
def add_contractor(
    request: HttpRequest, code: uuid.UUID, payload: contracts.ContractorInput
) -> Status[ProgrammeLine]:
    m = api_membership(request)
    line = _line(m, code, "own")
    contracts.add_contractor(line, by=m, data=payload, request=request)
    return Status(201, line)


@router.delete(
    "/lines/{code}/contractors/{organization}",
    response={204: None, **WRITE_ERRORS},
    summary="受託者を外す",
)
def remove_contractor(
    request: HttpRequest, code: uuid.UUID, organization: uuid.UUID
) -> Status[None]:
    m = api_membership(request)
    contract = access.visible_contract(m, code, organization)
    contracts.remove_contractor(contract, by=m, request=request)
    return Status(204, None)


# 取込み（ファイルの読み込みは画面から）---------------------------------------------------------------


@router.get("/imports/{code}", response={200: ImportOut, **READ_ERRORS}, summary="取込みの状況")
def get_import(request: HttpRequest, code: uuid.UUID) -> ProgrammeImport:
    return access.visible_import(api_membership(request), code)


@router.post(
    "/imports/{code}/mapping",
    response={200: ImportOut, **WRITE_ERRORS},
    summary="列の対応づけを決めて取り込む（誤りのある行があれば何も保存しません）",
)
def apply_mapping(
    request: HttpRequest, code: uuid.UUID, payload: imports.MappingInput
) -> ProgrammeImport:
    m = api_membership(request)
    imp = access.visible_import(m, code)
    return imports.apply_mapping(imp, by=m, data=payload, request=request)


# 会議体と会議 ------------------------------------------------------------------------------------


@router.get("/bodies", response={200: list[BodyOut], **READ_ERRORS}, summary="会議体")
def list_bodies(request: HttpRequest) -> list[MeetingBody]:
    return list(
        MeetingBody.objects.visible_to(api_membership(request)).select_related("owner", "parent")
    )


@router.post("/bodies", response={201: BodyOut, **WRITE_ERRORS}, summary="会議体を作る")
def create_body(request: HttpRequest, payload: actions.BodyInput) -> Status[MeetingBody]:
    return Status(201, actions.save_body(by=api_membership(request), data=payload, request=request))


@router.get(
    "/bodies/{code}", response={200: BodyDetailOut, **READ_ERRORS}, summary="会議体と構成員"
)
def get_body(request: HttpRequest, code: uuid.UUID) -> MeetingBody:
    return access.visible_body(api_membership(request), code)


@router.put("/bodies/{code}", response={200: BodyOut, **WRITE_ERRORS}, summary="会議体の設定")
def update_body(request: HttpRequest, code: uuid.UUID, payload: actions.BodyInput) -> MeetingBody:
    m = api_membership(request)
    body = access.visible_body(m, code, edit=True)
    return actions.save_body(by=m, data=payload, body=body, request=request)


@router.post(
    "/bodies/{code}/members", response={201: BodyMemberOut, **WRITE_ERRORS}, summary="構成員を追加"
)
def add_member(
    request: HttpRequest, code: uuid.UUID, payload: actions.BodyMemberInput
) -> Status[object]:
    m = api_membership(request)
    body = access.visible_body(m, code, edit=True)
    return Status(201, actions.add_member(body, by=m, data=payload, request=request))


@router.get(
    "/bodies/{code}/meetings",
    response={200: list[MeetingOut], **READ_ERRORS},
    summary="会議体の会議",
)
def list_meetings(request: HttpRequest, code: uuid.UUID) -> list[Meeting]:
    body = access.visible_body(api_membership(request), code)
    return list(body.meetings.select_related("body"))


@router.post(
    "/bodies/{code}/meetings", response={201: MeetingOut, **WRITE_ERRORS}, summary="会議を追加"
)
def create_meeting(
    request: HttpRequest, code: uuid.UUID, payload: actions.MeetingInput
) -> Status[Meeting]:
    m = api_membership(request)
    body = access.visible_body(m, code, edit=True)
    return Status(201, actions.save_meeting(body, by=m, data=payload, request=request))


@router.post(
    "/bodies/{code}/schedule",
    response={201: list[MeetingOut], **WRITE_ERRORS},
    summary="年間の開催予定を作る",
)
def plan_year(
    request: HttpRequest, code: uuid.UUID, payload: actions.ScheduleInput
) -> Status[list[Meeting]]:
    m = api_membership(request)
    body = access.visible_body(m, code, edit=True)
    return Status(201, actions.plan_year(body, by=m, data=payload, request=request))


@router.get("/meetings/{code}", response={200: MeetingOut, **READ_ERRORS}, summary="会議")
def get_meeting(request: HttpRequest, code: uuid.UUID) -> Meeting:
    return access.visible_meeting(api_membership(request), code)


@router.put("/meetings/{code}", response={200: MeetingOut, **WRITE_ERRORS}, summary="会議を変更")
def update_meeting(request: HttpRequest, code: uuid.UUID, payload: actions.MeetingInput) -> Meeting:
    m = api_membership(request)
    meeting = access.visible_meeting(m, code, edit=True)
    return actions.save_meeting(meeting.body, by=m, data=payload, meeting=meeting, request=request)


@router.post(
    "/meetings/{code}/notice",
    response={200: NoticeCountOut, **WRITE_ERRORS},
    summary="開催通知を送る",
)
def notice(request: HttpRequest, code: uuid.UUID) -> NoticeCountOut:
    m = api_membership(request)
    sent = actions.send_notice(access.visible_meeting(m, code, edit=True), by=m, request=request)
    return NoticeCountOut(count=sent)


@router.put(
    "/meetings/{code}/attendance", response={200: MeetingOut, **WRITE_ERRORS}, summary="出欠"
)
def put_attendance(
    request: HttpRequest, code: uuid.UUID, payload: actions.MeetingAttendanceInput
) -> Meeting:
    m = api_membership(request)
    meeting = access.visible_meeting(m, code, edit=True)
    actions.record_attendance(meeting, by=m, data=payload, request=request)
    return meeting


@router.post(
    "/meetings/{code}/decisions", response={201: MeetingOut, **WRITE_ERRORS}, summary="決定事項"
)
def add_decision(
    request: HttpRequest, code: uuid.UUID, payload: actions.MeetingDecisionInput
) -> Status[Meeting]:
    m = api_membership(request)
    meeting = access.visible_meeting(m, code, edit=True)
    actions.add_decision(meeting, by=m, data=payload, request=request)
    return Status(201, meeting)


# 課題と対応策 ------------------------------------------------------------------------------------


@router.get("/issues", response={200: list[IssueOut], **READ_ERRORS}, summary="課題")
def list_issues(request: HttpRequest) -> list[Issue]:
    return list(
        Issue.objects.visible_to(api_membership(request)).select_related("owner", "meeting")
    )


@router.post("/issues", response={201: IssueOut, **WRITE_ERRORS}, summary="課題を登録")
def create_issue(request: HttpRequest, payload: actions.IssueInput) -> Status[Issue]:
    return Status(
        201, actions.save_issue(by=api_membership(request), data=payload, request=request)
    )


@router.get("/issues/{code}", response={200: IssueDetailOut, **READ_ERRORS}, summary="課題と対応策")
def get_issue(request: HttpRequest, code: uuid.UUID) -> Issue:
    return access.visible_issue(api_membership(request), code)


@router.put("/issues/{code}", response={200: IssueOut, **WRITE_ERRORS}, summary="課題を変更")
def update_issue(request: HttpRequest, code: uuid.UUID, payload: actions.IssueInput) -> Issue:
    m = api_membership(request)
    issue = access.visible_issue(m, code, edit=True)
    return actions.save_issue(by=m, data=payload, issue=issue, request=request)


@router.post(
    "/issues/{code}/countermeasures",
    response={201: MeasureOut, **WRITE_ERRORS},
    summary="対応策を追加",
)
def create_measure(
    request: HttpRequest, code: uuid.UUID, payload: actions.CountermeasureInput
) -> Status[object]:
    m = api_membership(request)
    issue = access.visible_issue(m, code, edit=True)
    return Status(201, actions.save_countermeasure(issue, by=m, data=payload, request=request))


@router.put(
    "/countermeasures/{code}", response={200: MeasureOut, **WRITE_ERRORS}, summary="対応策を変更"
)
def update_measure(
    request: HttpRequest, code: uuid.UUID, payload: actions.CountermeasureInput
) -> object:
    m = api_membership(request)
    measure = access.visible_measure(m, code, edit=True)
    return actions.save_countermeasure(
        measure.issue, by=m, data=payload, measure=measure, request=request
    )


@router.post(
    "/countermeasures/{code}/progress",
    response={201: MeasureOut, **WRITE_ERRORS},
    summary="進捗を記録",
)
def add_progress(
    request: HttpRequest, code: uuid.UUID, payload: actions.ProgressInput
) -> Status[object]:
    m = api_membership(request)
    measure = access.visible_measure(m, code, edit=True)
    actions.note_progress(measure, by=m, data=payload, request=request)
    return Status(201, measure)
