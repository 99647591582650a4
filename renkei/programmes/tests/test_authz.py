"""Only the owning organisation edits; the prefecture reads its municipalities' records; an
organisation elsewhere gets 404 on every door; an anonymous caller is refused."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from renkei.accounts.models import Membership
from renkei.programmes import actions
from renkei.programmes.models import ProgrammeTable
from renkei.programmes.testing import make_body, make_issue, make_meeting
from renkei.testing import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(city: Membership, table: ProgrammeTable) -> dict[str, str]:
    body = make_body(city, "在宅療養連携会議 全体会議", "plenary")
    meeting = make_meeting(body, city, dt.date(2019, 5, 29), 1)
    material = actions.add_material(
        meeting,
        by=city,
        title="資料6-2",
        upload=SimpleUploadedFile("shiryou.pdf", b"%PDF-1.4 test", content_type="application/pdf"),
    )
    issue = make_issue(
        city, "在宅医が足りない", dt.date(2019, 6, 1), scenes=["daily"], items=["ka"]
    )
    measure = actions.save_countermeasure(
        issue, by=city, data=actions.CountermeasureInput(title="同行研修を年2回にする")
    )
    line = table.lines.first()
    assert line is not None
    return {
        "table": f"/programmes/tables/{table.code}/",
        "print": f"/programmes/tables/{table.code}/print/",
        "export": f"/programmes/tables/{table.code}/export.csv",
        "line": f"/programmes/lines/{line.code}/",
        "body": f"/programmes/bodies/{body.code}/",
        "meeting": f"/programmes/meetings/{meeting.code}/",
        "material": f"/programmes/materials/{material.code}/",
        "issue": f"/programmes/issues/{issue.code}/",
        "trace": f"/programmes/issues/{issue.code}/trace/",
        "measure": f"/programmes/measures/{measure.code}/",
        "api_table": f"/api/v1/programmes/tables/{table.code}",
        "api_line": f"/api/v1/programmes/lines/{line.code}",
        "api_body": f"/api/v1/programmes/bodies/{body.code}",
        "api_meeting": f"/api/v1/programmes/meetings/{meeting.code}",
        "api_issue": f"/api/v1/programmes/issues/{issue.code}",
    }


READS = ["table", "print", "export", "body", "meeting", "material", "issue", "trace"]
API_READS = ["api_table", "api_line", "api_body", "api_meeting", "api_issue"]
EDITS = ["line", "measure"]


def test_outsider_gets_404_everywhere(
    client: Client, outsider: Membership, records: dict[str, str]
) -> None:
    sign_in(client, outsider.user)
    for key in READS + API_READS + EDITS:
        assert client.get(records[key]).status_code == 404, key
    assert client.get("/api/v1/programmes/tables").json() == []
    assert client.get("/api/v1/programmes/issues").json() == []


def test_another_prefecture_gets_404(
    client: Client, other_pref: Membership, records: dict[str, str]
) -> None:
    sign_in(client, other_pref.user)
    for key in READS + API_READS:
        assert client.get(records[key]).status_code == 404, key


def test_anonymous_is_refused(client: Client, records: dict[str, str]) -> None:
    for key in READS + EDITS:
        response = client.get(records[key])
        assert response.status_code == 302 and "/login" in response["Location"], key
    for key in API_READS:
        assert client.get(records[key]).status_code == 401, key


def test_owner_reads_and_edits(client: Client, city: Membership, records: dict[str, str]) -> None:
    sign_in(client, city.user)
    for key in READS + API_READS + EDITS:
        assert client.get(records[key]).status_code == 200, key


def test_prefecture_reads_but_does_not_edit(
    client: Client, pref: Membership, records: dict[str, str], table: ProgrammeTable
) -> None:
    sign_in(client, pref.user)
    for key in READS + API_READS:
        assert client.get(records[key]).status_code == 200, key
    for key in EDITS:
        assert client.get(records[key]).status_code == 404, key
    body = {"fiscal_year": 2019, "title": "書き換え"}
    response = client.put(records["api_table"], json.dumps(body), content_type="application/json")
    assert response.status_code == 404
    table.refresh_from_db()
    assert table.title != "書き換え"
    assert client.post(f"/programmes/tables/{table.code}/rollover/").status_code == 404
    assert not ProgrammeTable.objects.filter(fiscal_year=2020).exists()
    # The screen offers no edit links to a reader.
    page = client.get(records["table"]).content.decode()
    assert "事業を追加" not in page
