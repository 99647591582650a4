"""Every CSV and XLSX download goes through renkei.lib.exports and carries no live formula
(issue 17 §3): a text that starts with = + - @, a tab or a CR is written with a leading
apostrophe, and no XLSX cell is a formula.

One test per export whose cells can hold text that someone typed or imported. The tallies of
events (occupations × counts) and the referrals dashboard (areas, kinds and reasons from fixed
choices) have no such cell; they go through the same writer all the same (see the grep test).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from renkei.accounts.models import OrgKind, Role
from renkei.lib import exports
from renkei.testing import make_facility, make_member, make_org, sign_in

pytestmark = pytest.mark.django_db

JST = ZoneInfo("Asia/Tokyo")
ROOT = Path(__file__).resolve().parent.parent
PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# What an attacker would type; the action layer strips surrounding whitespace, so the tab and
# CR prefixes only reach a record through imports and direct writes (the facility test).
FORMULAS = ['=HYPERLINK("http://evil.example/","x")', "+1+1", "-1+2", "@SUM(A1:A2)"]
WHITESPACE = ["\tTAB", "\rCR"]


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def cells(response: Any) -> list[str]:
    """The text cells of a CSV or XLSX download; fails on any formula cell."""
    assert response.status_code == 200, response.content[:300]
    if response["Content-Type"].startswith("text/csv"):
        text = response.content.decode("utf-8")
        assert text.startswith("\ufeff")
        return [c for row in csv.reader(io.StringIO(text[1:], newline="")) for c in row]
    wb = load_workbook(io.BytesIO(response.content))
    found = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{ws.title}!{cell.coordinate} is a formula"
                if isinstance(cell.value, str):
                    found.append(cell.value)
    return found


def assert_neutralised(response: Any, hostile: list[str]) -> None:
    values = cells(response)
    live = [v for v in values if v.startswith(PREFIXES) and not _number(v)]
    assert live == []
    for text in hostile:
        # XML reads a CR as a line feed: the XLSX cell holds "'\nCR".
        found = ("'" + text, "'" + text.replace("\r", "\n"))
        assert any(f in v for v in values for f in found), f"{text!r} missing from the export"


def test_the_writer_neutralises_text_and_keeps_numbers_and_dates() -> None:
    when = dt.datetime(2026, 4, 1, 9, 30, tzinfo=JST)
    rows = [[*FORMULAS, *WHITESPACE, -3, 2.5, dt.date(2026, 4, 1), when, None, True]]
    sheet = exports.Sheet("表", ["a"] * len(rows[0]), rows)
    text = exports.csv_text(sheet)
    assert text.startswith("\ufeffa,a")
    row = list(csv.reader(io.StringIO(text[1:], newline="")))[1]
    assert row[:6] == ["'" + v for v in FORMULAS + WHITESPACE]
    assert row[6:] == ["-3", "2.5", "2026-04-01", "2026-04-01 09:30", "", "はい"]

    wb = load_workbook(io.BytesIO(exports.xlsx_bytes(sheet)))
    ws = wb["表"]
    values = [c.value for c in ws[2]]
    assert values[:6] == ["'" + v.replace("\r", "\n") for v in FORMULAS + WHITESPACE]
    assert values[6:8] == [-3, 2.5]
    # Real dates in Excel (local time, no offset), shown as dates.
    assert values[8] == dt.datetime(2026, 4, 1, 0, 0, tzinfo=JST).replace(tzinfo=None)
    assert values[9] == when.replace(tzinfo=None)
    assert ws.cell(row=2, column=9).number_format == "yyyy-mm-dd"
    assert ws.freeze_panes == "A2"
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


def test_every_export_uses_the_one_writer() -> None:
    """No module but renkei.lib.exports writes CSV or builds a workbook."""
    writers = re.compile(r"csv\.(writer|DictWriter)\(|openpyxl import Workbook|Workbook\(\)")
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "renkei").rglob("*.py")
        if "tests" not in path.parts
        and path != ROOT / "renkei" / "lib" / "exports.py"
        and writers.search(path.read_text())
    ]
    assert offenders == []


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_directory_export(client: Client, fmt: str) -> None:
    for i, name in enumerate(FORMULAS + WHITESPACE):
        make_facility(name, kana=f"てすと{i}", phone="-0466-00-0000")
    response = client.get(reverse("directory:export", args=[fmt]), {"municipality": "142051"})
    assert_neutralised(response, [*FORMULAS, *WHITESPACE, "-0466-00-0000"])


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_desk_consultation_export(client: Client, fmt: str) -> None:
    from renkei.desk.testing import make_consultation, make_desk, make_desk_member

    desk = make_desk()
    counselor = make_desk_member(desk)
    for text in FORMULAS:
        make_consultation(desk, counselor, summary=text, subject_name=text, actions_taken=text)
    sign_in(client, counselor.user)
    _recently_authenticated(client)
    response = client.get(reverse("desk:export", args=[desk.code, fmt]))
    assert_neutralised(response, FORMULAS)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_desk_tally_export(client: Client, fmt: str) -> None:
    from renkei.desk.models import Topic
    from renkei.desk.testing import make_consultation, make_desk, make_desk_member

    desk = make_desk()
    counselor = make_desk_member(desk)
    for text in FORMULAS:
        Topic.objects.create(desk=desk, name=text)
        make_consultation(desk, counselor, topic_names=[text])
    sign_in(client, counselor.user)
    fy = (
        timezone.localdate().year
        if timezone.localdate().month >= 4
        else timezone.localdate().year - 1
    )
    response = client.get(reverse("desk:tally_export", args=[desk.code, fmt]), {"fy": fy})
    assert_neutralised(response, FORMULAS)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_event_applicants_export(client: Client, fmt: str) -> None:
    from renkei.events import actions
    from renkei.events.testing import applicant, application_data, make_event

    org = make_org("研修主催（テスト）", OrgKind.COORDINATION_CENTER, municipality_code="142158")
    member = make_member(org, Role.COUNSELOR, username="export-organiser")
    event = make_event(org)
    for i, text in enumerate(FORMULAS):
        actions.apply(
            event, application_data([applicant(text, "いこーる", f"x{i}@example.jp", "nurse")])
        )
    sign_in(client, member.user)
    _recently_authenticated(client)
    response = client.get(reverse("events:applicants_export", args=[event.code, fmt]))
    assert_neutralised(response, FORMULAS)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_mentoring_summary_export(client: Client, fmt: str) -> None:
    from renkei.mentoring.testing import make_mentor, make_office_member, make_program

    program = make_program()
    office = make_office_member(program)
    for text in FORMULAS:
        make_mentor(program.organizer, name=text, affiliation=text)
    sign_in(client, office.user)
    response = client.get(reverse("mentoring:summary_export", args=[program.code, fmt]))
    values = cells(response)
    assert [v for v in values if v.startswith(PREFIXES)] == []


def test_audit_export() -> None:
    from renkei.accounts.models import AuditEntry

    city = make_org("藤沢市（テスト）", OrgKind.MUNICIPALITY, municipality_code="142051")
    auditor = make_member(city, Role.AUDITOR, username="export-auditor")
    for text in FORMULAS:
        AuditEntry.objects.create(
            action="directory.exported", organization=city, target_repr=text, actor_label=text
        )
    from renkei.accounts.tests.test_audit_view import verified_client

    response = verified_client(auditor).get(reverse("accounts:audit"), {"format": "csv"})
    assert_neutralised(response, FORMULAS)


def test_import_report_export(client: Client) -> None:
    from renkei.directory.imports_views import _reports_csv
    from renkei.directory.models import ImportRun

    run = ImportRun(code="00000000-0000-4000-8000-000000000001")
    reports = [{"line": i, "key": text, "reason": text} for i, text in enumerate(FORMULAS)]
    assert_neutralised(_reports_csv(run, reports), FORMULAS)


def _recently_authenticated(client: Client) -> None:
    import time

    from renkei.accounts.http import AUTHENTICATED_AT_KEY

    session = client.session
    session[AUTHENTICATED_AT_KEY] = int(time.time())
    session.save()


def test_secondary_areas_export() -> None:
    """The areas' CSV (to edit and upload again): an area named by a curator is text."""
    from renkei.directory import areas
    from renkei.regions.models import Municipality, SecondaryArea
    from renkei.testing import prefecture

    pref = prefecture("14")
    for i, text in enumerate(FORMULAS):
        area = SecondaryArea.objects.create(prefecture=pref, name=text, sort_order=i)
        Municipality.objects.filter(code=["142051", "142034", "142158", "142077"][i]).update(
            secondary_area=area
        )
    text = areas.export_csv(pref)
    values = [c for row in csv.reader(io.StringIO(text[1:], newline="")) for c in row]
    assert [v for v in values if v.startswith(PREFIXES)] == []
    assert all("'" + f in values for f in FORMULAS)
