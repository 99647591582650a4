"""Each programme workflow with both doors gives the same database state through the screen
and through /api/v1/programmes/ (issue 10): the same typed input, the same action."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.core import mail
from django.db.models import Model
from django.test import Client

from renkei.accounts.models import Membership
from renkei.programmes.models import (
    Countermeasure,
    Issue,
    Meeting,
    MeetingBody,
    ProgrammeLine,
    ProgrammeTable,
)
from renkei.programmes.testing import make_body, make_issue, make_meeting, make_table, source
from renkei.testing import sign_in

pytestmark = pytest.mark.django_db

API = "/api/v1/programmes"
SKIP = {"id", "code", "version", "created_at", "updated_at"}


def _api(client: Client, method: str, url: str, body: Any = None) -> Any:
    call = getattr(client, method)
    return call(f"{API}{url}", json.dumps(body or {}), content_type="application/json")


def _fields(obj: Model, *skip: str) -> dict[str, Any]:
    """A record's own values, without what differs between twins by construction."""
    return {
        f.attname: getattr(obj, f.attname)
        for f in obj._meta.concrete_fields
        if f.name not in SKIP and f.name not in skip
    }


@pytest.fixture
def signed(client: Client, city: Membership) -> Client:
    sign_in(client, city)
    return client


def test_table_create_and_update(signed: Client) -> None:
    form = {
        "fiscal_year": "2021",
        "title": "主な取組み",
        "results_as_of": "2022-02-28",
        "note": "注",
    }
    assert signed.post("/programmes/tables/new/", form).status_code == 302
    body = {"fiscal_year": 2022, "title": "主な取組み", "results_as_of": "2022-02-28", "note": "注"}
    assert _api(signed, "post", "/tables", body).status_code == 201
    a, b = ProgrammeTable.objects.order_by("fiscal_year")
    assert _fields(a, "fiscal_year") == _fields(b, "fiscal_year")
    form |= {"title": "改題", "version": "1"}
    assert signed.post(f"/programmes/tables/{a.code}/edit/", form).status_code == 302
    response = _api(signed, "put", f"/tables/{b.code}", body | {"title": "改題", "version": 1})
    assert response.status_code == 200
    a.refresh_from_db()
    b.refresh_from_db()
    assert _fields(a, "fiscal_year") == _fields(b, "fiscal_year") and a.title == "改題"
    assert a.version == b.version == 2


LINE = {
    "section": "人材育成",
    "name": "在宅医同行研修",
    "is_new": True,
    "items": ["ka", "e"],
    "scenes": ["daily"],
    "content": "同行研修を実施する。",
    "results": "第1回：9月26日",
    "plan": "2回開催予定",
    "effect": "在宅医療に取り組む医師が増える",
    "contractor_name": "市医師会",
}


def _line_state(line: ProgrammeLine) -> dict[str, Any]:
    budgets = list(line.budget_lines.values_list("source_id", "amount", "label"))
    return _fields(line, "table") | {"budget": budgets}


def test_line_create_with_budget_and_update(signed: Client, city: Membership) -> None:
    a = make_table(city, 2019)
    b = make_table(city, 2020)
    form = {k: v for k, v in LINE.items() if k != "is_new"} | {"is_new": "on"}
    assert signed.post(f"/programmes/tables/{a.code}/lines/new/", form).status_code == 302
    one = a.lines.get()
    fund = source("地域支援事業交付金").pk
    budget = {"source_id": str(fund), "amount": "800", "label": "H30繰越分"}
    assert signed.post(f"/programmes/lines/{one.code}/budget/", budget).status_code == 302
    api = _api(
        signed,
        "post",
        f"/tables/{b.code}/lines",
        LINE | {"budget": [{"source_id": fund, "amount": 800, "label": "H30繰越分"}]},
    )
    assert api.status_code == 201, api.content
    two = b.lines.get()
    assert _line_state(one) == _line_state(two)
    assert one.items == ["e", "ka"]
    change = {"results": "第1回：9月26日 42名", "plan": "", "version": "1"}
    assert signed.post(f"/programmes/lines/{one.code}/", form | change).status_code == 302
    body = LINE | change | {"version": 1}
    assert _api(signed, "put", f"/lines/{two.code}", body).status_code == 200
    one.refresh_from_db()
    two.refresh_from_db()
    assert _line_state(one) == _line_state(two) and one.results == "第1回：9月26日 42名"


def test_roll_over(signed: Client, city: Membership, table: ProgrammeTable) -> None:
    twin = make_table(city, 2022, lines=[_line_input(ln) for ln in table.lines.all()])
    assert signed.post(f"/programmes/tables/{table.code}/rollover/").status_code == 302
    assert _api(signed, "post", f"/tables/{twin.code}/rollover").status_code == 201

    def state(year: int) -> list[dict[str, Any]]:
        new = ProgrammeTable.objects.get(fiscal_year=year)
        return [_line_state(ln) for ln in new.lines.order_by("sort_order")]

    assert state(2020) == state(2023) and state(2020)[0]["plan"] == ""


def _line_input(line: ProgrammeLine) -> dict[str, Any]:
    names = ("section", "name", "items", "scenes", "content", "results", "plan", "effect")
    budget = [(b.source.name, b.amount, b.label) for b in line.budget_lines.all()]
    return {n: getattr(line, n) for n in names} | {"budget": budget}


def _body_state(body: MeetingBody) -> dict[str, Any]:
    members = list(body.members.values_list("name", "affiliation", "title", "email"))
    meetings = [
        _fields(m, "body", "notice_sent_at")
        | {
            "attendance": sorted(m.attendance.values_list("member__name", "status", "note")),
            "decisions": list(m.decisions.values_list("number", "text")),
            "noticed": m.notice_sent_at is not None,
        }
        for m in body.meetings.order_by("fiscal_year", "number")
    ]
    return _fields(body, "name") | {"members": members, "meetings": meetings}


BODY = {"kind": "committee", "team": "Aチーム", "items": ["i", "u"], "purpose": "入退院支援"}


def test_meeting_body_members_meetings_schedule_attendance_decisions_notice(
    signed: Client, city: Membership, django_capture_on_commit_callbacks: Any
) -> None:
    form = BODY | {"name": "専門部会（HTML）", "meetings_per_year": "4", "is_active": "on"}
    assert signed.post("/programmes/bodies/new/", form).status_code == 302
    body = {**BODY, "name": "専門部会（API）", "meetings_per_year": 4}
    assert _api(signed, "post", "/bodies", body).status_code == 201
    a = MeetingBody.objects.get(name="専門部会（HTML）")
    b = MeetingBody.objects.get(name="専門部会（API）")
    member = {
        "name": "連携 花子",
        "affiliation": "市立病院",
        "title": "部会長",
        "email": "h@example.jp",
    }
    assert signed.post(f"/programmes/bodies/{a.code}/members/", member).status_code == 302
    assert _api(signed, "post", f"/bodies/{b.code}/members", member).status_code == 201
    plan = {"fiscal_year": "2026", "dates": "2026-05-29\n2026-08-28", "place": "市役所"}
    assert signed.post(f"/programmes/bodies/{a.code}/schedule/", plan).status_code == 302
    body = {"fiscal_year": 2026, "dates": ["2026-05-29", "2026-08-28"], "place": "市役所"}
    assert _api(signed, "post", f"/bodies/{b.code}/schedule", body).status_code == 201
    meeting = {"fiscal_year": "2026", "number": "3", "held_on": "2026-11-27", "status": "planned"}
    meeting |= {"starts_at": "14:00", "place": "市役所", "agenda": "議題", "minutes": ""}
    assert signed.post(f"/programmes/bodies/{a.code}/meetings/new/", meeting).status_code == 302
    body = meeting | {"fiscal_year": 2026, "number": 3, "starts_at": "14:00:00"}
    assert _api(signed, "post", f"/bodies/{b.code}/meetings", body).status_code == 201
    first_a = a.meetings.get(number=1)
    first_b = b.meetings.get(number=1)
    (mem_a,), (mem_b,) = a.members.all(), b.members.all()
    rows = {f"s_{mem_a.code}": "proxy", f"n_{mem_a.code}": "副部会長が代理"}
    assert signed.post(f"/programmes/meetings/{first_a.code}/attendance/", rows).status_code == 302
    rows_api = {"rows": [{"member": str(mem_b.code), "status": "proxy", "note": "副部会長が代理"}]}
    response = _api(signed, "put", f"/meetings/{first_b.code}/attendance", rows_api)
    assert response.status_code == 200
    text = {"text": "退院時の連絡票を改める"}
    assert signed.post(f"/programmes/meetings/{first_a.code}/decisions/", text).status_code == 302
    assert _api(signed, "post", f"/meetings/{first_b.code}/decisions", text).status_code == 201
    with django_capture_on_commit_callbacks(execute=True):
        assert signed.post(f"/programmes/meetings/{first_a.code}/notice/").status_code == 302
        assert _api(signed, "post", f"/meetings/{first_b.code}/notice").json() == {"count": 1}
    assert _body_state(a) == _body_state(b)
    assert _body_state(a)["meetings"][0]["noticed"]
    assert [m.to for m in mail.outbox] == [["h@example.jp"], ["h@example.jp"]]


def _issue_state(issue: Issue) -> dict[str, Any]:
    measures = [
        _fields(m, "issue")
        | {
            "lines": sorted(m.programme_lines.values_list("name", flat=True)),
            "notes": list(m.notes.values_list("written_on", "text")),
        }
        for m in Countermeasure.objects.filter(issue=issue).order_by("pk")
    ]
    return _fields(issue, "title") | {"measures": measures}


def test_issue_countermeasure_and_progress(
    signed: Client, city: Membership, table: ProgrammeTable
) -> None:
    body = make_body(city, "全体会議", "plenary")
    meeting = make_meeting(body, city, dt.date(2019, 5, 29), 1)
    issue = {"description": "在宅医が足りない", "scenes": ["daily"], "items": ["ka"]}
    issue |= {"source": "meeting", "meeting": str(meeting.code), "raised_on": "2019-06-01"}
    issue |= {"status": "open"}
    assert (
        signed.post("/programmes/issues/new/", issue | {"title": "課題（HTML）"}).status_code == 302
    )
    assert _api(signed, "post", "/issues", issue | {"title": "課題（API）"}).status_code == 201
    a = Issue.objects.get(title="課題（HTML）")
    b = Issue.objects.get(title="課題（API）")
    line = table.lines.order_by("sort_order").last()
    assert line is not None
    measure: dict[str, Any] = {
        "title": "同行研修を年2回にする",
        "description": "",
        "responsible_name": "医師会",
    }
    measure |= {"due_on": "2020-03-31", "status": "active", "programme_lines": [str(line.code)]}
    response = signed.post(f"/programmes/issues/{a.code}/measures/new/", measure)
    assert response.status_code == 302
    assert _api(signed, "post", f"/issues/{b.code}/countermeasures", measure).status_code == 201
    note = {"written_on": "2019-09-30", "text": "第1回を実施", "status": "done"}
    (ma,), (mb,) = a.countermeasures.all(), b.countermeasures.all()
    assert signed.post(f"/programmes/measures/{ma.code}/progress/", note).status_code == 302
    assert _api(signed, "post", f"/countermeasures/{mb.code}/progress", note).status_code == 201
    a.refresh_from_db()
    b.refresh_from_db()
    assert _issue_state(a) == _issue_state(b)
    assert a.status == "acting" and _issue_state(a)["measures"][0]["status"] == "done"


def test_a_refusal_is_the_same_on_both_doors(signed: Client, city: Membership) -> None:
    """A meeting issue without its meeting: a 400 with the same message, nothing saved."""
    make_issue(city, "既存", dt.date(2019, 6, 1))
    bad = {"title": "課題", "source": "meeting", "raised_on": "2019-06-01", "status": "open"}
    html = signed.post("/programmes/issues/new/", bad)
    assert html.status_code == 400
    api = _api(signed, "post", "/issues", bad)
    assert api.status_code == 400
    assert api.json()["detail"] in html.content.decode()
    assert Issue.objects.count() == 1
    assert Meeting.objects.count() == 0
