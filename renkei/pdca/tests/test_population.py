"""The 65+ population imported from the 住民基本台帳 年齢階級別人口 table (e-Stat), all or
nothing, with a report per bad row; on the screen, the management command and the action."""

from __future__ import annotations

import base64
import csv
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from openpyxl import Workbook

from renkei.accounts.models import AuditEntry, Membership, OrgKind, Role
from renkei.lib.actions import Forbidden
from renkei.pdca.catalogue import POPULATION_65
from renkei.pdca.models import IndicatorValue
from renkei.pdca.population import PopulationFileRefused, import_population
from renkei.testing import make_member, make_org, sign_in

SAMPLE = Path(__file__).parent / "data" / "jumin_age_bands_sample.csv"
# The sample's 計 rows, 65歳～69歳 … 100歳以上 added by hand.
EBINA_65 = 7000 + 6500 + 6000 + 4500 + 3000 + 1500 + 400 + 100  # 29,000
ATSUGI_65 = 9000 + 8500 + 8000 + 6000 + 4000 + 2000 + 450 + 50  # 38,000
MORIOKA_65 = 10000 * 6 + 1000 + 200  # 61,200


def stored(fy: int = 2025) -> dict[str, float]:
    return dict(
        IndicatorValue.objects.filter(indicator__code=POPULATION_65, fiscal_year=fy).values_list(
            "municipality__code", "numerator"
        )
    )


def sample_lines() -> list[list[str]]:
    with SAMPLE.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def as_csv(lines: list[list[str]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(lines)
    return out.getvalue().encode(encoding)


@pytest.fixture
def operator(db: None) -> Membership:
    org = make_org("Renkei 運営事務局（テスト）", OrgKind.OPERATOR)
    return make_member(org, Role.ADMIN, username="operator")


@pytest.mark.django_db
def test_the_sample_file_gives_the_hand_counted_65_plus(operator: Membership) -> None:
    """Only the 計 rows, only the bands from 65 up; the prefecture's total line is left out."""
    report = import_population(SAMPLE.read_bytes(), SAMPLE.name, fiscal_year=2025, by=operator)
    assert report.ok and report.written == 3
    assert stored() == {"142158": EBINA_65, "142123": ATSUGI_65, "032018": MORIOKA_65}
    # Read past: the 男・女 rows of the four areas (8), the prefecture's 計 row, the note.
    assert report.skipped == 8 + 1 + 1
    assert AuditEntry.objects.filter(action="pdca.population_imported").count() == 1
    # Again with other figures: the values are replaced, not added.
    lines = sample_lines()
    for line in lines:
        if line[:1] == ["142158"] and line[3] == "計":
            line[-1] = "1,100"  # 100歳以上: 100 → 1,100
    import_population(as_csv(lines), "again.csv", fiscal_year=2025, by=operator)
    assert stored()["142158"] == EBINA_65 + 1000
    assert IndicatorValue.objects.filter(indicator__code=POPULATION_65).count() == 3


@pytest.mark.django_db
def test_xlsx_and_shift_jis_read_as_the_csv(operator: Membership) -> None:
    lines = sample_lines()
    book = Workbook()
    for line in lines:
        book.active.append(
            [
                int(c.replace(",", "")) if c.replace(",", "").isdigit() and i >= 4 else c
                for i, c in enumerate(line)
            ]
        )
    data = io.BytesIO()
    book.save(data)
    import_population(data.getvalue(), "2501nsjin.xlsx", fiscal_year=2024, by=operator)
    assert stored(2024) == {"142158": EBINA_65, "142123": ATSUGI_65, "032018": MORIOKA_65}
    import_population(as_csv(lines, "cp932"), "sjis.csv", fiscal_year=2023, by=operator)
    assert stored(2023) == stored(2024)


@pytest.mark.django_db
def test_a_prefecture_writes_its_own_municipalities_only(pref: Membership) -> None:
    report = import_population(SAMPLE.read_bytes(), SAMPLE.name, fiscal_year=2025, by=pref)
    assert report.ok and (report.written, report.outside) == (2, 1)
    assert stored() == {"142158": EBINA_65, "142123": ATSUGI_65}


@pytest.mark.django_db
def test_a_municipality_may_not_import(ebina: Membership) -> None:
    with pytest.raises(Forbidden):
        import_population(SAMPLE.read_bytes(), SAMPLE.name, fiscal_year=2025, by=ebina)
    assert stored() == {}


@pytest.mark.django_db
def test_bad_rows_are_each_reported_with_their_line_and_nothing_is_saved(
    operator: Membership,
) -> None:
    import_population(SAMPLE.read_bytes(), SAMPLE.name, fiscal_year=2025, by=operator)
    before = stored()
    lines = sample_lines()
    header = lines.index(next(x for x in lines if x[:1] == ["団体コード"]))
    ebina = next(i for i, x in enumerate(lines) if x[:1] == ["142158"] and x[3] == "計")
    atsugi = next(i for i, x in enumerate(lines) if x[:1] == ["142123"] and x[3] == "計")
    lines[ebina][-3] = "約400"  # 90歳～94歳 not a number
    lines.append(["149999", "神奈川県", "架空町", "計", *lines[atsugi][4:]])  # no such code
    lines.append(list(lines[atsugi]))  # 厚木 twice
    lines.append(["14-21-X", "神奈川県", "読めない市", "計", *lines[atsugi][4:]])
    report = import_population(as_csv(lines), "bad.csv", fiscal_year=2025, by=operator)
    n = len(lines)
    got = [(i.line, i.code, i.errors) for i in report.issues]
    assert got == [
        (ebina + 1, "142158", ["年齢階級の人数に数字でない値があります"]),
        (n - 2, "149999", ["この団体コードの市区町村が登録されていません"]),
        (n - 1, "142123", [f"同じ市区町村が{atsugi + 1}行目にもあります"]),
        (n, "14-21-X", ["団体コードが読めません"]),
    ]
    assert header + 1 < ebina + 1  # lines are the file's, counted from 1
    assert stored() == before
    assert AuditEntry.objects.filter(action="pdca.population_imported").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "empty.csv", "空"),
        (b"\xd0\xcf\x11\xe0old", "2501nsjin.xls", ".xls"),
        (
            "団体コード,市区町村名,60歳～69歳,70歳以上\n142158,海老名市,1,2\n".encode(),
            "a.csv",
            "65歳",
        ),
        ("市区町村名,人口\n海老名市,1\n".encode(), "b.csv", "見出し"),
        (b"PK\x03\x04 not a workbook", "c.xlsx", "Excel"),
    ],
)
def test_unreadable_files_are_refused_in_japanese(
    operator: Membership, data: bytes, name: str, message: str
) -> None:
    with pytest.raises(PopulationFileRefused, match=message):
        import_population(data, name, fiscal_year=2025, by=operator)
    assert stored() == {}


@pytest.mark.django_db
def test_a_table_with_a_65_plus_column_uses_it_alone(operator: Membership) -> None:
    """The 年齢3区分 form: 0～14歳, 15～64歳, 65歳以上 (and 75歳以上 inside it, not added)."""
    data = "団体コード,市区町村名,0歳～14歳,15歳～64歳,65歳以上,75歳以上\n142158,海老名市,1,2,300,100\n"
    import_population(data.encode(), "three.csv", fiscal_year=2025, by=operator)
    assert stored() == {"142158": 300.0}


@pytest.mark.django_db
def test_the_screen_for_the_prefecture_and_404_for_a_municipality(
    client: Client, pref: Membership, ebina: Membership
) -> None:
    url = "/pdca/indicators/population"
    assert client.get(url).status_code == 302  # anonymous: to the sign-in
    sign_in(client, ebina.user)
    assert client.get(url).status_code == 404
    assert client.post(url, {"fiscal_year": 2025}).status_code == 404
    client.logout()
    sign_in(client, pref.user)
    assert "65歳以上人口の取込み" in client.get("/pdca/").content.decode()
    assert client.get(url).status_code == 200
    bad = as_csv([*sample_lines(), ["142123", "神奈川県", "厚木市", "計", *["1"] * 21, "x"]])
    page = client.post(
        url, {"fiscal_year": 2025, "file": SimpleUploadedFile("bad.csv", bad, "text/csv")}
    )
    assert page.status_code == 400
    body = page.content.decode()
    assert "何も保存していません" in body and f"{len(sample_lines()) + 1}行目" in body
    assert stored() == {}
    page = client.post(
        url, {"fiscal_year": 2025, "file": SimpleUploadedFile("e.csv", b"", "text/csv")}
    )
    assert page.status_code == 400 and "空" in page.content.decode()
    upload = SimpleUploadedFile(SAMPLE.name, SAMPLE.read_bytes(), "text/csv")
    page = client.post(url, {"fiscal_year": 2025, "file": upload})
    assert page.status_code == 200 and "保存しました" in page.content.decode()
    assert stored() == {"142158": EBINA_65, "142123": ATSUGI_65}


@pytest.mark.django_db
def test_the_management_command(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    call_command("import_population", str(SAMPLE), "--fiscal-year", "2025")
    assert "3市区町村" in capsys.readouterr().out
    assert stored()["032018"] == MORIOKA_65
    bad = tmp_path / "bad.csv"
    bad.write_bytes(as_csv([*sample_lines(), ["999999", "", "", "計", *["1"] * 22]]))
    with pytest.raises(CommandError, match="何も保存していません"):
        call_command("import_population", str(bad), "--fiscal-year", "2026")
    assert "999999" in capsys.readouterr().err
    assert stored(2026) == {}


def _send(client: Client, door: str, name: str, data: bytes, fy: int = 2025) -> Any:
    if door == "html":
        upload = SimpleUploadedFile(name, data, "text/csv")
        return client.post("/pdca/indicators/population", {"fiscal_year": fy, "file": upload})
    body = {"fiscal_year": fy, "filename": name, "content": base64.b64encode(data).decode()}
    return client.post(
        "/api/v1/programmes/indicators/population", body, content_type="application/json"
    )


def _audit_lines() -> list[tuple[str, Any]]:
    return list(
        AuditEntry.objects.filter(action="pdca.population_imported")
        .order_by("pk")
        .values_list("action", "detail")
    )


@pytest.mark.django_db
@pytest.mark.parametrize("door", ["html", "api"])
def test_the_import_is_the_same_through_either_door(
    client: Client, pref: Membership, ebina: Membership, door: str
) -> None:
    """The screen's upload and the API's base64 body reach the same import: the same rows and
    audit line; a file with a bad row is refused with the same row reasons and writes nothing;
    a municipality gets 404 on both."""
    sign_in(client, ebina.user)
    assert _send(client, door, SAMPLE.name, SAMPLE.read_bytes()).status_code == 404
    client.logout()
    sign_in(client, pref.user)
    bad = as_csv([*sample_lines(), ["142123", "神奈川県", "厚木市", "計", *["1"] * 21, "x"]])
    refused = _send(client, door, "bad.csv", bad)
    assert refused.status_code == 400
    text = refused.content.decode() if door == "html" else refused.json()["detail"]
    line = len(sample_lines()) + 1
    assert "何も保存していません" in text and f"{line}行目" in text
    assert "年齢階級の人数に数字でない値があります" in text
    assert stored() == {} and _audit_lines() == []
    assert _send(client, door, SAMPLE.name, SAMPLE.read_bytes()).status_code == 200
    assert stored() == {"142158": EBINA_65, "142123": ATSUGI_65}
    assert _audit_lines() == [
        (
            "pdca.population_imported",
            {"fiscal_year": 2025, "filename": SAMPLE.name, "rows": 2},
        )
    ]


@pytest.mark.django_db
def test_the_api_refuses_anonymous_and_a_body_that_is_not_base64(
    client: Client, pref: Membership
) -> None:
    url = "/api/v1/programmes/indicators/population"
    body = {"fiscal_year": 2025, "filename": "a.csv", "content": "%%% not base64 %%%"}
    assert client.post(url, body, content_type="application/json").status_code == 401
    sign_in(client, pref.user)
    r = client.post(url, body, content_type="application/json")
    assert r.status_code == 400 and "入力内容が正しくありません" in r.json()["detail"]
    assert stored() == {}
    empty = {**body, "content": ""}
    r = client.post(url, empty, content_type="application/json")
    assert r.status_code == 400 and "空" in r.json()["detail"]
