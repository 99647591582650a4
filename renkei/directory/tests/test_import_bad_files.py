from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest

from renkei.directory import imports
from renkei.directory.imports import kaigo, processor
from renkei.directory.models import Facility, FacilityService, ImportRun, Specialty

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"
BAD = DATA / "bad"
GOOD = DATA / "opendata" / "jigyosho_510.csv"


def snapshot() -> tuple[list[Any], list[Any]]:
    return (
        list(Facility.objects.order_by("pk").values()),
        list(FacilityService.objects.order_by("pk").values()),
    )


@pytest.mark.parametrize(
    "name, message",
    [
        ("empty.csv", "ファイルが空です。"),
        ("header_only.csv", "データ行がありません（見出し行だけのファイルです）。"),
        ("wrong_header.csv", "介護サービス情報公表の CSV に必要な列がありません: 緯度、経度。"),
        (
            "unknown_header.csv",
            "1行目の見出し（「名前」「住所」「電話」…）から形式を判別できません。",
        ),
        ("05_pharmacy.csv", "医療情報ネットの薬局のファイルには対応していません。"),
        ("truncated.csv", "6行目の列数が3列で、見出しの24列と合いません。"),
        ("cut_in_quote.csv", "6行目を CSV として読み取れません"),
        ("euc_jp.csv", "文字コードが EUC-JP のようです。"),
        ("utf16.csv", "UTF-16 のファイルには対応していません。"),
        ("garbage.csv", "文字コードを読み取れません。"),
    ],
)
def test_unusable_file_is_refused_whole_and_changes_nothing(name: str, message: str) -> None:
    """Each bad sample is refused with its Japanese reason; the directory stays as it was."""
    imports.import_file(GOOD)
    before = snapshot()
    with pytest.raises(imports.FileRefused) as refused:
        imports.import_file(BAD / name)
    assert str(refused.value).startswith(message)
    assert str(refused.value).endswith(
        "ファイルは取り込んでいません（データベースは変更していません）。"
    )
    assert snapshot() == before


def test_truncated_file_is_refused_even_though_its_first_rows_are_fine() -> None:
    """The structural check covers the whole file before the first write: rows 2–5 of the
    truncated download are valid, yet nothing of it is imported."""
    with pytest.raises(imports.FileRefused):
        imports.import_file(BAD / "truncated.csv")
    assert not Facility.objects.exists()


def test_excel_and_multi_csv_zips_are_refused() -> None:
    """An .xlsx (a ZIP with [Content_Types].xml) and a ZIP with two CSVs are refused clearly."""
    xlsx, two = io.BytesIO(), io.BytesIO()
    with zipfile.ZipFile(xlsx, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    with zipfile.ZipFile(two, "w") as z:
        z.writestr("a.csv", GOOD.read_bytes())
        z.writestr("b.csv", GOOD.read_bytes())
    with pytest.raises(imports.FileRefused, match="Excel 形式"):
        imports.import_bytes(xlsx.getvalue(), filename="jigyosho.xlsx")
    with pytest.raises(imports.FileRefused, match="CSV ファイルが1つだけ"):
        imports.import_bytes(two.getvalue(), filename="two.zip")
    assert not Facility.objects.exists()


def test_zip_with_one_csv_is_imported() -> None:
    """The form in which 医療情報ネット is published (one CSV in a ZIP) is accepted."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("jigyosho_510.csv", GOOD.read_bytes())
    assert imports.import_bytes(buf.getvalue(), filename="jigyosho_510.zip").created == 40


def test_forced_format_that_does_not_match_is_refused() -> None:
    """Choosing 施設票 for a 介護 file names the columns the chosen format needs."""
    with pytest.raises(
        imports.FileRefused,
        match="医療情報ネット（施設票）の CSV に必要な列がありません: ID、正式名称",
    ):
        imports.import_file(GOOD, fmt=imports.IRYOU_FACILITY)


def test_bad_kaigo_rows_are_rejected_with_line_numbers_and_good_rows_imported() -> None:
    """bad_rows.csv: lines 2 and 12 are imported; every other line is rejected with a reason."""
    result = imports.import_file(BAD / "bad_rows.csv")
    assert (result.total_rows, result.created, result.rejected, result.notes) == (11, 2, 9, 1)
    assert [(r.line, r.level, r.reason) for r in result.reports] == [
        (3, "rejected", "市区町村コード「142052」の検査数字が正しくありません"),
        (4, "rejected", "市区町村コード「149993」の市区町村が見つかりません"),
        (5, "rejected", "事業所番号「12345」が10桁の数字ではありません"),
        (6, "rejected", "緯度・経度「北緯35度」「139.099977」が数値ではありません（北緯35度）"),
        (7, "rejected", "緯度・経度（51.5, -0.12）が日本の範囲外です"),
        (8, "rejected", "緯度・経度の片方だけが入っています（緯度「」、経度「139.4」）"),
        (9, "rejected", "事業所名が空欄です"),
        (10, "rejected", "サービスの種類「宇宙旅行」を判別できません"),
        (11, "rejected", "同じ事業所番号・サービスの行が2行目にもあります（後の行は不採用）"),
        (12, "note", "電話番号「電話なし」の形式が正しくないため空欄にしました"),
    ]
    assert sorted(Facility.objects.values_list("name", flat=True)) == ["よい特養A", "よい特養B"]
    b = Facility.objects.get(name="よい特養B")
    assert (b.phone, b.address) == ("", "茅ヶ崎市本町2-2-2")


def test_bad_iryou_rows_are_rejected_and_hours_for_them_too() -> None:
    """Bad 施設票 rows are rejected; hours rows then fail for unknown IDs, bad codes and times,
    while the good hospital gets one 内科 with two time bands."""
    facilities = imports.import_file(BAD / "iryou_bad_rows.csv")
    assert (facilities.created, facilities.rejected) == (2, 4)
    assert [(r.line, r.level) for r in facilities.reports] == [
        (3, "rejected"),
        (4, "rejected"),
        (5, "rejected"),
        (6, "rejected"),
        (7, "note"),
    ]
    assert "機関区分「5」（薬局）は取り込めません" in facilities.reports[0].reason
    hours = imports.import_file(BAD / "hours_bad_rows.csv")
    assert (hours.created, hours.rejected) == (2, 5)
    assert {r.line: r.reason for r in hours.reports} == {
        4: "ID「1499999999999」の医療機関が登録されていません（先に施設票を取り込んでください）",
        5: "診療科目コード「1」が5桁の数字ではありません",
        6: "火曜の時刻「25:00」が HH:MM の形式ではありません",
        7: "水曜の診療開始・終了時間の片方だけが入っています",
        8: "同じID・診療科目コード・診療時間帯の行が2行目にもあります（後の行は不採用）",
    }
    s = Specialty.objects.get()
    assert (s.code, [e["band"] for e in s.hours["mon"]]) == ("01001", [1, 2])


def test_refused_run_records_status_and_message(tmp_path: Path) -> None:
    """Through run_import a refused file leaves the run 取込不可 with the reason."""
    run = ImportRun.objects.create(filename="truncated.csv", format="auto")
    assert imports.run_import(run, BAD / "truncated.csv") is None
    run.refresh_from_db()
    assert run.status == ImportRun.Status.REFUSED
    assert run.message.startswith("6行目の列数が3列")
    assert run.finished and run.percent == 100


def test_crash_mid_import_leaves_whole_batches_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure in the second batch rolls that batch back entirely; the first stays, the run
    is marked failed, and importing the file again completes it."""
    original = kaigo._KaigoProcessor.write
    calls = {"n": 0}

    def failing_write(self: kaigo._KaigoProcessor, batch: list[Any]) -> processor._Written:
        calls["n"] += 1
        written = original(self, batch)  # the rows are written, then the batch fails
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return written

    monkeypatch.setattr(kaigo._KaigoProcessor, "write", failing_write)
    run = ImportRun.objects.create(filename=GOOD.name, format="auto")
    assert imports.run_import(run, GOOD, batch_size=10) is None
    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED
    assert "もう一度取り込むと、残りが反映されます" in run.message
    assert Facility.objects.count() == FacilityService.objects.count() == 10

    monkeypatch.setattr(kaigo._KaigoProcessor, "write", original)
    result = imports.import_file(GOOD, batch_size=10)
    assert (result.created, result.unchanged) == (30, 10)


def test_error_while_parsing_ahead_reaches_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows are parsed in a second thread; an unexpected error there is raised to the caller
    after the batches before it were written, and nothing after it is."""
    original = kaigo._KaigoProcessor.parse

    def failing_parse(self: kaigo._KaigoProcessor, line: int, row: list[str]) -> Any:
        if line == 25:
            raise ValueError("unexpected")
        return original(self, line, row)

    monkeypatch.setattr(kaigo._KaigoProcessor, "parse", failing_parse)
    with pytest.raises(ValueError, match="unexpected"):
        imports.import_file(GOOD, batch_size=10)
    # The batches of lines 2–11 and 12–21 were parsed before the error and are written.
    assert Facility.objects.count() == 20
