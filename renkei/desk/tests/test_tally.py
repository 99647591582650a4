from __future__ import annotations

import datetime as dt
import io

from django.test import Client
from django.urls import reverse

from renkei.accounts.models import AuditEntry, Membership
from renkei.desk.models import Desk
from renkei.desk.tally import yearly_tally
from renkei.desk.testing import make_consultation
from renkei.desk.tests.conftest import at, login


def seed_year(desk: Desk, by: Membership) -> None:
    # FY2024 runs 2024-04-01 .. 2025-03-31; the March 2024 and April 2025 cases fall outside.
    make_consultation(desk, by, received_at=at(dt.date(2024, 3, 31), 23), channel="phone")
    make_consultation(
        desk, by, received_at=at(dt.date(2024, 4, 1), 0), channel="phone", scene="discharge"
    )
    make_consultation(
        desk,
        by,
        received_at=at(dt.date(2024, 4, 15)),
        channel="fax",
        asker_type="hospital",
        topic_names=["訪問看護", "認知症"],
        scene="discharge",
    )
    make_consultation(
        desk, by, received_at=at(dt.date(2024, 10, 3)), channel="email", scene="end_of_life"
    )
    make_consultation(
        desk, by, received_at=at(dt.date(2025, 3, 31), 23), channel="phone", asker_type="self"
    )
    make_consultation(desk, by, received_at=at(dt.date(2025, 4, 1), 0), channel="phone")


def test_yearly_tally_counts_by_month_and_dimension(desk: Desk, counselor: Membership) -> None:
    """Fiscal year April–March in Japan time; each dimension's counts land in the right month."""
    seed_year(desk, counselor)
    t = yearly_tally(desk, 2024)
    assert t.label == "令和6年度（2024年度）"
    assert t.cases == [2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]
    channel = {r.label: r.counts for r in t.tables[0].rows}
    assert channel["電話"] == [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    assert channel["FAX"][0] == 1 and channel["メール"][6] == 1
    asker = {r.label: r.total for r in t.tables[1].rows}
    assert asker == {**dict.fromkeys(asker, 0), "家族": 2, "病院": 1, "本人": 1}
    topic = {r.label: r.total for r in t.tables[2].rows}
    assert topic["訪問看護"] == 4 and topic["認知症"] == 1
    scene = {r.label: r.total for r in t.tables[3].rows}
    assert scene["入退院支援"] == 2 and scene["看取り"] == 1 and scene["日常の療養支援"] == 1


def test_tally_exports_and_report(client: Client, desk: Desk, counselor: Membership) -> None:
    """CSV and Excel carry the same numbers as the screen; the report prints 和暦 and SVG charts."""
    seed_year(desk, counselor)
    login(client, counselor)
    csv_text = client.get(
        reverse("desk:tally_export", args=[desk.code, "csv"]), {"fy": 2024}
    ).content.decode("utf-8-sig")
    assert "総数,2,0,0,0,0,0,1,0,0,0,0,1,4" in csv_text
    assert "FAX,1,0,0,0,0,0,0,0,0,0,0,0,1" in csv_text

    from openpyxl import load_workbook

    xlsx = client.get(reverse("desk:tally_export", args=[desk.code, "xlsx"]), {"fy": 2024})
    wb = load_workbook(io.BytesIO(xlsx.content))
    assert wb.sheetnames == ["総数", "相談方法", "相談者", "相談内容", "場面"]
    assert [c.value for c in wb["総数"][3]][-1] == 4
    scene_rows = {row[0].value: row[-1].value for row in wb["場面"].iter_rows(min_row=2)}
    assert scene_rows["入退院支援"] == 2 and scene_rows["合計"] == 4
    assert AuditEntry.objects.filter(action="desk.tally_exported").count() == 2

    report = client.get(reverse("desk:report", args=[desk.code]), {"fy": 2024})
    html = report.content.decode()
    assert "令和6年度（2024年度）" in html
    assert html.count("<svg") == 5
    assert 'aria-label="場面: 入退院支援 2件' in html


def test_month_view_shows_one_month(client: Client, desk: Desk, counselor: Membership) -> None:
    """?month=2024-04 shows April only, with its charts."""
    seed_year(desk, counselor)
    login(client, counselor)
    response = client.get(reverse("desk:tally", args=[desk.code]), {"month": "2024-04"})
    assert response.context["month_total"] == 2
    assert dict(response.context["month_tables"][0][1])["FAX"] == 1
    assert response.content.decode().count("<svg") == 4
