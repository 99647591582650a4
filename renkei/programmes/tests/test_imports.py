"""Import of an existing 事業一覧: the mapping step, a per-row report, and nothing saved while
any row is bad."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import Workbook

from renkei.accounts.models import Membership
from renkei.programmes import imports
from renkei.programmes.models import (
    BudgetLine,
    ImportStatus,
    ProgrammeImport,
    ProgrammeLine,
    ProgrammeTable,
)
from renkei.testing import sign_in

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"


def _upload(client: Client, name: str, content: bytes, year: str = "2019") -> ProgrammeImport:
    response = client.post(
        "/programmes/imports/new/",
        {"fiscal_year": year, "file": SimpleUploadedFile(name, content)},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return ProgrammeImport.objects.latest("pk")


def _mapping_post(imp: ProgrammeImport, **changes: str) -> dict[str, str]:
    data = {"fiscal_year": str(imp.fiscal_year), "title": "県の主な取組み（令和元年度）"}
    data |= {f"col_{t}": str(i) for t, i in imp.mapping.items()}
    data |= changes
    return data


def test_bad_rows_are_reported_with_their_lines_and_nothing_is_saved(
    client: Client, city: Membership
) -> None:
    sign_in(client, city.user)
    imp = _upload(client, "bad_rows.csv", (DATA / "bad_rows.csv").read_bytes())
    # The mapping step guessed the columns from seed 000's headings.
    assert imp.mapping == {
        "name": 0,
        "items": 4,
        "content": 1,
        "results": 2,
        "plan": 3,
        "amount": 5,
        "source": 6,
    }
    page = client.get(imp.get_absolute_url()).content.decode()
    assert "列の対応づけ" in page and "令和元年度実績（2月末時点）" in page
    response = client.post(imp.get_absolute_url(), _mapping_post(imp))
    assert response.status_code == 302
    imp.refresh_from_db()
    assert imp.status == ImportStatus.FAILED
    report = {r["line"]: r["errors"] for r in imp.report if "line" in r}
    assert set(report) == {3, 4, 5}
    assert report[3] == ["事業名称が空です"]
    assert any("事業項目が読めません（ワ）" in e for e in report[4])
    assert any("予算額が数字ではありません（百万）" in e for e in report[4])
    assert report[5] == ["財源が見つかりません（ふるさと納税）"]
    # Nothing saved: no table, no line, not even the good rows 2 and 6.
    assert not ProgrammeTable.objects.exists()
    assert not ProgrammeLine.objects.exists()
    page = client.get(imp.get_absolute_url()).content.decode()
    assert "何も保存していません" in page and "5行目" in page and "ふるさと納税" in page


def test_a_good_file_is_imported_with_budgets_and_items(client: Client, city: Membership) -> None:
    sign_in(client, city.user)
    imp = _upload(client, "seed000.csv", (DATA / "seed000_table.csv").read_bytes())
    client.post(imp.get_absolute_url(), _mapping_post(imp))
    imp.refresh_from_db()
    assert imp.status == ImportStatus.DONE, imp.report
    table = ProgrammeTable.objects.get(owner=city.organization, fiscal_year=2019)
    assert table.title == "県の主な取組み（令和元年度）"
    lines = list(table.lines.all())
    assert [ln.name for ln in lines] == [
        "在宅医療推進協議会運営事業",
        "訪問看護管理者研修事業",
        "新任訪問看護師育成事業",
    ]
    assert lines[0].items == ["i", "ku"]
    assert lines[2].is_new
    # Seed 000's HTML cells become lines of text.
    assert (
        lines[1].results == "○制度活用管理者研修 定員 150名 2回開催\n第1回：9月7日 第2回：9月14日"
    )
    budgets = BudgetLine.objects.filter(line__table=table).order_by("amount")
    assert [(b.amount, b.source.name) for b in budgets] == [
        (408, "地域医療介護総合確保基金（医療分）"),
        (1200, "地域医療介護総合確保基金（医療分）"),
    ]


def test_mapping_the_same_column_twice_is_refused(client: Client, city: Membership) -> None:
    sign_in(client, city.user)
    imp = _upload(client, "seed000.csv", (DATA / "seed000_table.csv").read_bytes())
    response = client.post(imp.get_absolute_url(), _mapping_post(imp, col_effect="1"))
    assert response.status_code == 400
    assert "同じ列を二つの項目に選んでいます" in response.content.decode()
    imp.refresh_from_db()
    assert imp.status == ImportStatus.UPLOADED
    assert not ProgrammeLine.objects.exists()


def test_excel_is_read_and_a_large_file_runs_as_a_job(
    client: Client,
    city: Membership,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    monkeypatch.setattr(imports, "INLINE_ROWS", 2)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["見出し（区分）", "事業名", "概要", "予算額", "財源"])
    for i in range(5):
        ws.append(["人材育成", f"研修事業{i + 1}", "研修を実施する", 100 * (i + 1), "一般財源"])
    out = io.BytesIO()
    wb.save(out)
    sign_in(client, city.user)
    imp = _upload(client, "table.xlsx", out.getvalue(), year="2020")
    assert imp.total == 5
    ran: list[int] = []
    original = imports.run_import.func

    def spy(**kwargs: int) -> None:
        ran.append(kwargs["import_id"])
        original(**kwargs)

    monkeypatch.setattr(imports.run_import, "func", spy)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            imp.get_absolute_url(),
            _mapping_post(imp, col_section="0", title="令和2年度 事業一覧"),
        )
    assert ran == [imp.pk]
    imp.refresh_from_db()
    assert imp.status == ImportStatus.DONE and imp.done == 5
    table = ProgrammeTable.objects.get(fiscal_year=2020)
    assert table.lines.count() == 5
    assert (
        sum(BudgetLine.objects.filter(line__table=table).values_list("amount", flat=True)) == 1500
    )


def test_unreadable_files_are_refused_with_a_message(client: Client, city: Membership) -> None:
    sign_in(client, city.user)
    for name, content, message in [
        ("empty.csv", b"", "空です"),
        ("fake.xlsx", b"PK\x03\x04not a zip", "Excel（.xlsx）のファイルとして読めません"),
        ("broken.csv", b"\x81\x20\x81\x20", "文字コードを読み取れません"),
    ]:
        response = client.post(
            "/programmes/imports/new/",
            {"fiscal_year": "2019", "file": SimpleUploadedFile(name, content)},
        )
        assert response.status_code == 400, name
        assert message in response.content.decode(), name
    assert not ProgrammeImport.objects.exists()


def test_another_organisation_cannot_open_the_import(
    client: Client, city: Membership, outsider: Membership, pref: Membership
) -> None:
    sign_in(client, city.user)
    imp = _upload(client, "seed000.csv", (DATA / "seed000_table.csv").read_bytes())
    for other in (outsider, pref):
        sign_in(client, other.user)
        assert client.get(imp.get_absolute_url()).status_code == 404
        assert client.post(imp.get_absolute_url(), _mapping_post(imp)).status_code == 404
    assert not ProgrammeLine.objects.exists()


def _csv(rows: list[list[str]]) -> bytes:
    return "\n".join(",".join(r) for r in rows).encode("utf-8")


GOOD = _csv([["事業名称", "事業内容"], ["在宅医療講演会", "市民向け"], ["多職種研修", "年2回"]])


def test_a_vanished_file_asks_for_the_file_again_on_both_doors(
    client: Client, city: Membership
) -> None:
    sign_in(client, city.user)
    imp = _upload(client, "table.csv", GOOD)
    imp.file.storage.delete(imp.file.name or "")
    html = client.post(f"/programmes/imports/{imp.code}/", _mapping_post(imp))
    assert html.status_code == 400
    assert "もう一度ファイルを読み込んでください" in html.content.decode()
    body = {"fiscal_year": 2019, "title": "取込み", "columns": {"name": 0, "content": 1}}
    api = client.post(
        f"/api/v1/programmes/imports/{imp.code}/mapping", body, content_type="application/json"
    )
    assert api.status_code == 400
    assert "もう一度ファイルを読み込んでください" in api.json()["detail"]
    imp.refresh_from_db()
    assert imp.status == ImportStatus.UPLOADED and not ProgrammeLine.objects.exists()


def test_a_file_gone_before_the_job_runs_fails_the_import_with_the_message(
    client: Client, city: Membership
) -> None:
    sign_in(client, city.user)
    imp = _upload(client, "table.csv", GOOD)
    imp.mapping = {"columns": {"name": 0}, "title": "取込み"}
    imp.status = ImportStatus.RUNNING
    imp.save()
    imp.file.storage.delete(imp.file.name or "")
    imports.run_import(import_id=imp.pk)
    imp.refresh_from_db()
    assert imp.status == ImportStatus.FAILED
    assert "もう一度ファイルを読み込んでください" in imp.report[-1]["errors"][0]
    page = client.get(f"/programmes/imports/{imp.code}/").content.decode()
    assert "もう一度ファイルを読み込んでください" in page


def test_the_mapping_step_on_both_doors_gives_the_same_table(
    client: Client, city: Membership
) -> None:
    sign_in(client, city.user)
    first = _upload(client, "table.csv", GOOD, year="2019")
    second = _upload(client, "table.csv", GOOD, year="2020")
    html = client.post(
        f"/programmes/imports/{first.code}/",
        _mapping_post(first, title="取込み", col_content="1"),
    )
    assert html.status_code == 302
    body = {"fiscal_year": 2020, "title": "取込み", "columns": {"name": 0, "content": 1}}
    api = client.post(
        f"/api/v1/programmes/imports/{second.code}/mapping", body, content_type="application/json"
    )
    assert api.status_code == 200, api.content
    assert api.json()["status"] == "done" and api.json()["report"] == []

    def state(year: int) -> list[tuple[Any, ...]]:
        table = ProgrammeTable.objects.get(fiscal_year=year)
        return [(table.title, *row) for row in table.lines.values_list("name", "content")]

    assert (
        state(2019)
        == state(2020)
        == [
            ("取込み", "在宅医療講演会", "市民向け"),
            ("取込み", "多職種研修", "年2回"),
        ]
    )
    got = client.get(f"/api/v1/programmes/imports/{first.code}").json()
    assert got["status"] == "done" and got["table"] is not None
