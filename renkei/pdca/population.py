"""The 65+ population from open data: 総務省「住民基本台帳に基づく人口、人口動態及び世帯数」
年齢階級別人口（市区町村別）, as published on e-Stat and the ministry's site (CSV or Excel).

The table has one row per municipality (and, in the ministry's files, per sex: 計・男・女), a
団体コード column and five-year age bands (0歳～4歳 … 100歳以上). The 65+ figure is the sum
of the bands from 65 up, or a "65歳以上" column where the table has one (the 年齢3区分 form).
Only the 計 rows count when there is a sex column; prefecture and national totals are left
out. The figures are as of 1 January; the administrator says which fiscal year they serve
(the 1 January 2025 figures for 令和7年度 as a rule). See docs/pdca-population.md.

All or nothing, as the programmes import: every row is checked first; one bad row and
nothing is written, and the report names each bad row with its line in the file.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from renkei.accounts.models import AuditEntry, Membership, OrgKind
from renkei.lib.actions import ActionError, Forbidden
from renkei.pdca.catalogue import POPULATION_65, ensure_indicators
from renkei.pdca.models import IndicatorValue
from renkei.regions.models import Municipality

MAX_BYTES = 10 * 1024 * 1024
# The national file has about 1,900 municipalities × 3 (計・男・女) rows plus its titles.
MAX_LINES = 12_000
AGED_FROM = 65

BAND = re.compile(r"^(\d{1,3})歳?\s*[~〜\-－ー―]\s*(\d{1,3})歳$")
OPEN_BAND = re.compile(r"^(\d{1,3})歳以上$")
TOTAL_SEX = {"計", "総数", "男女計", "合計"}


class PopulationFileRefused(ActionError):
    pass


@dataclass
class Layout:
    """Where the header is and which columns matter (0-based)."""

    header_line: int
    code: int
    sex: int | None
    bands: list[int]
    name: int | None = None


@dataclass
class RowIssue:
    line: int
    code: str
    name: str
    errors: list[str]


@dataclass
class PopulationReport:
    fiscal_year: int
    written: int = 0
    skipped: int = 0
    outside: int = 0
    issues: list[RowIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.issues


def issue_lines(report: PopulationReport) -> list[str]:
    """Each refused row as one line: where, which municipality, why (the screen's table,
    the command's stderr and the API's message say the same)."""
    out = []
    for issue in report.issues:
        where = f"{issue.line}行目" if issue.line else "ファイル"
        label = " ".join(x for x in (issue.code, issue.name) if x)
        out.append(f"{where} {label}: {'、'.join(issue.errors)}")
    return out


def refusal_message(report: PopulationReport, most: int = 20) -> str:
    lines = issue_lines(report)
    more = f" ほか{len(lines) - most}件" if len(lines) > most else ""
    return (
        f"誤りのある行が{len(lines)}件あります。何も保存していません: "
        + " / ".join(lines[:most])
        + more
    )


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def read_table(data: bytes, filename: str) -> list[list[str]]:
    """Every line of the first sheet or of the CSV (UTF-8 or Shift_JIS), NFKC-normalised."""
    if not data.strip():
        raise PopulationFileRefused("ファイルが空です", field="file")
    if filename.lower().endswith(".xls") and not data.startswith(b"PK"):
        raise PopulationFileRefused(
            "古い Excel 形式（.xls）は読めません。.xlsx か CSV で保存し直してください", field="file"
        )
    if data.startswith(b"PK\x03\x04"):
        return _sheet(data)
    for encoding in ("utf-8-sig", "cp932"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        break
    else:
        raise PopulationFileRefused(
            "文字コードを読み取れません（UTF-8 または Shift_JIS の CSV にしてください）",
            field="file",
        )
    lines = list(csv.reader(io.StringIO(text)))
    if len(lines) > MAX_LINES:
        raise PopulationFileRefused(f"行が多すぎます（{MAX_LINES}行まで）", field="file")
    return [[_text(c) for c in line] for line in lines]


def _sheet(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(i.file_size for i in archive.infolist()) > 20 * MAX_BYTES:
                raise PopulationFileRefused("展開後のファイルが大きすぎます", field="file")
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except PopulationFileRefused:
        raise
    except Exception:  # openpyxl raises many kinds for what is not a workbook
        raise PopulationFileRefused(
            "Excel（.xlsx）のファイルとして読めません", field="file"
        ) from None
    out: list[list[str]] = []
    for values in book.worksheets[0].iter_rows(values_only=True):
        if len(out) >= MAX_LINES:
            book.close()
            raise PopulationFileRefused(f"行が多すぎます（{MAX_LINES}行まで）", field="file")
        out.append([_text(v) for v in values])
    book.close()
    return out


def find_layout(lines: list[list[str]]) -> Layout:
    """The header: the first line with a code column and age bands."""
    for number, cells in enumerate(lines):
        code = next((i for i, c in enumerate(cells) if "コード" in c), None)
        if code is None:
            continue
        ranges: dict[int, tuple[int, int | None]] = {}
        for i, c in enumerate(cells):
            text = c.replace(" ", "")
            if m := BAND.match(text):
                ranges[i] = (int(m.group(1)), int(m.group(2)))
            elif m := OPEN_BAND.match(text):
                ranges[i] = (int(m.group(1)), None)
        if not ranges:
            continue
        direct = [i for i, (low, high) in ranges.items() if low == AGED_FROM and high is None]
        if direct:
            bands = direct[:1]
        else:
            straddling = [
                i for i, (low, high) in ranges.items() if low < AGED_FROM <= (high or low)
            ]
            if straddling or not any(low == AGED_FROM for low, _ in ranges.values()):
                raise PopulationFileRefused(
                    f"{AGED_FROM}歳で区切られた年齢階級の列がありません（{number + 1}行目の見出し）",
                    field="file",
                )
            bands = sorted(i for i, (low, _) in ranges.items() if low >= AGED_FROM)
        sex = next((i for i, c in enumerate(cells) if c in ("性別", "男女", "男女別")), None)
        name = next((i for i, c in enumerate(cells) if "市区町村" in c and "コード" not in c), None)
        return Layout(number, code, sex, bands, name)
    raise PopulationFileRefused(
        "見出しの行が見つかりません（団体コードの列と「65歳～69歳」などの年齢階級の列が必要です）",
        field="file",
    )


def _number(text: str) -> int | None:
    text = text.replace(",", "").strip()
    if text in ("", "-", "－", "―", "…", "x", "X"):
        return 0 if text in ("-", "－", "―") else None
    return int(text) if re.fullmatch(r"\d{1,9}", text) else None


def _municipality(
    code: str, by_code: dict[str, Municipality], by_five: dict[str, Municipality]
) -> tuple[Municipality | None, bool]:
    """The municipality of a 団体コード (six digits with the check digit, or five without; a
    number cell of Excel drops the leading zero of 01–09), and whether the code is a
    prefecture's or the nation's total (xx000)."""
    if len(code) == 6:
        return by_code.get(code), code[2:5] == "000"
    if len(code) == 5 and code not in by_five and "0" + code in by_code:
        return by_code["0" + code], False
    five = code.zfill(5)
    total = five[2:] == "000" or (len(code) == 5 and code.zfill(6)[2:5] == "000")
    return by_five.get(five), total


def check(
    lines: list[list[str]], layout: Layout, allowed: set[int] | None, fiscal_year: int
) -> tuple[PopulationReport, dict[int, int]]:
    """Every row checked: the report, and the 65+ figure per municipality id."""
    by_code = {m.code: m for m in Municipality.objects.only("pk", "code", "name")}
    by_five = {code[:5]: m for code, m in by_code.items()}
    report = PopulationReport(fiscal_year)
    figures: dict[int, int] = {}
    first_line: dict[int, int] = {}
    for number, cells in enumerate(lines[layout.header_line + 1 :], start=layout.header_line + 2):
        if not any(cells):
            continue

        def cell(i: int | None, cells: list[str] = cells) -> str:
            return cells[i] if i is not None and i < len(cells) else ""

        if layout.sex is not None and cell(layout.sex) not in TOTAL_SEX:
            report.skipped += 1
            continue
        if not any(cell(i) for i in layout.bands):
            report.skipped += 1  # a note under the table, a sub-heading
            continue
        raw = cell(layout.code)
        code = raw.replace("-", "")
        name = cell(layout.name)[:40]
        if not re.fullmatch(r"\d{4,6}", code):
            report.issues.append(RowIssue(number, raw[:12], name, ["団体コードが読めません"]))
            continue
        muni, total = _municipality(code, by_code, by_five)
        if muni is None and total:
            report.skipped += 1  # the prefecture's (or the nation's) total
            continue
        errors: list[str] = []
        if muni is None:
            errors.append("この団体コードの市区町村が登録されていません")
        values = [_number(cell(i)) for i in layout.bands]
        if any(v is None for v in values):
            errors.append("年齢階級の人数に数字でない値があります")
        if muni is not None and muni.pk in first_line:
            errors.append(f"同じ市区町村が{first_line[muni.pk]}行目にもあります")
        if errors or muni is None:
            report.issues.append(RowIssue(number, code, name or getattr(muni, "name", ""), errors))
            continue
        first_line[muni.pk] = number
        if allowed is not None and muni.pk not in allowed:
            report.outside += 1
            continue
        figures[muni.pk] = sum(v or 0 for v in values)
    if not figures and not report.issues:
        report.issues.append(RowIssue(0, "", "", ["取り込める市区町村の行がありません"]))
    return report, figures


def _scope(by: Membership) -> set[int] | None:
    org = by.organization
    if org.kind == OrgKind.OPERATOR:
        return None
    if org.kind == OrgKind.PREFECTURE and org.prefecture_id:
        return set(org.curated_municipalities().values_list("pk", flat=True))
    raise Forbidden("人口を取り込めるのは都道府県と運営者の担当者です")


@transaction.atomic
def import_population(
    data: bytes,
    filename: str,
    *,
    fiscal_year: int,
    by: Membership | None,
    request: HttpRequest | None = None,
) -> PopulationReport:
    """Write the 65+ population of every municipality in the file for `fiscal_year`, or
    nothing. `by` None is the management command (every municipality)."""
    allowed = _scope(by) if by is not None else None
    if len(data) > MAX_BYTES:
        raise PopulationFileRefused("ファイルは10MBまでにしてください", field="file")
    lines = read_table(data, filename)
    report, figures = check(lines, find_layout(lines), allowed, fiscal_year)
    if not report.ok:
        return report
    indicator = ensure_indicators()[POPULATION_65]
    now = timezone.now()
    existing = {
        v.municipality_id: v
        for v in IndicatorValue.objects.select_for_update().filter(
            indicator=indicator, fiscal_year=fiscal_year, municipality_id__in=list(figures)
        )
    }
    user = by.user if by is not None else None
    changed: list[IndicatorValue] = []
    created: list[IndicatorValue] = []
    for muni, n in figures.items():
        row = existing.get(muni) or IndicatorValue(
            indicator=indicator, municipality_id=muni, fiscal_year=fiscal_year
        )
        row.numerator, row.denominator, row.value = float(n), None, float(n)
        row.computed_at, row.entered_by = now, user
        (changed if row.pk else created).append(row)
    IndicatorValue.objects.bulk_update(
        changed, ["numerator", "denominator", "value", "computed_at", "entered_by"], 500
    )
    IndicatorValue.objects.bulk_create(created, batch_size=500)
    report.written = len(figures)
    AuditEntry.record(
        "pdca.population_imported",
        request=request,
        by=by,
        actor_label="" if by is not None else "管理コマンド",
        detail={"fiscal_year": fiscal_year, "filename": filename[-100:], "rows": len(figures)},
    )
    return report
