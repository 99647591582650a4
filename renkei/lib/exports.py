"""Every CSV and XLSX the platform writes (issue 17 §3).

One writer, so that every download gets the same four things right:

- CSV in UTF-8 with a BOM (Excel opens Japanese correctly) and CRLF line ends;
- a header row, frozen in XLSX;
- dates and times as real dates in Excel (local time, no offset) and ISO text in CSV;
- text cells neutralised against formula injection: a value that starts with `=`, `+`,
  `-`, `@`, a tab or a CR gets a leading apostrophe, in CSV and XLSX alike (OWASP's advice),
  and an XLSX text cell is always stored as text, never as a formula.

Facility names, consultation notes, applicants' names and questions come from the public or
from imports: the neutralising is not optional and not per export.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.http import Http404, HttpResponse
from django.utils import timezone

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")

Row = Sequence[Any]


@dataclass
class Sheet:
    """One table: a sheet in XLSX, a block (separated by an empty line) in CSV.

    `header` may be empty for a table whose rows carry their own labels (a tally's title
    lines). `widths` are XLSX column widths, left to right. `freeze` is the XLSX cell below
    and right of what stays in view ("A2": the header row).
    """

    title: str
    header: Row = ()
    rows: Iterable[Row] = ()
    widths: Sequence[float] = ()
    freeze: str | None = "A2"
    bold_first_row: bool = False
    _rows: list[Row] = field(default_factory=list, init=False, repr=False)

    def all_rows(self) -> list[Row]:
        if not self._rows:
            self._rows = ([self.header] if self.header else []) + list(self.rows)
        return self._rows


def neutralise(value: str) -> str:
    """A text cell that a spreadsheet cannot read as a formula."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def _local(value: dt.datetime) -> dt.datetime:
    return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value


def csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if isinstance(value, dt.datetime):
        return _local(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int | float | Decimal):
        return value
    return neutralise(str(value))


def csv_text(*sheets: Sheet) -> str:
    buf = io.StringIO()
    buf.write("\ufeff")  # BOM so that Excel opens UTF-8 Japanese correctly
    writer = csv.writer(buf, lineterminator="\r\n")
    for i, sheet in enumerate(sheets):
        if i:
            writer.writerow([])
        writer.writerows([csv_value(v) for v in row] for row in sheet.all_rows())
    return buf.getvalue()


def xlsx_bytes(*sheets: Sheet) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    for sheet in sheets:
        # Excel's limits on sheet names: 31 characters, none of []:*?/\ .
        title = "".join(c for c in sheet.title if c not in "[]:*?/\\")[:31] or "Sheet"
        ws = wb.create_sheet(title)
        for r, row in enumerate(sheet.all_rows(), start=1):
            for c, value in enumerate(row, start=1):
                _write(ws.cell(row=r, column=c), value)
        if sheet.freeze:
            ws.freeze_panes = sheet.freeze
        if sheet.bold_first_row and ws.max_row:
            for cell in ws[1]:
                cell.font = Font(bold=True)
        for i, width in enumerate(sheet.widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = width
    if not wb.worksheets:
        wb.create_sheet("Sheet")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _write(cell: Any, value: Any) -> None:
    if value is None or value == "":
        return
    if isinstance(value, bool | int | float | Decimal):
        cell.value = value
    elif isinstance(value, dt.datetime):
        cell.value = _local(value)
        cell.number_format = "yyyy-mm-dd hh:mm"
    elif isinstance(value, dt.date):
        cell.value = value
        cell.number_format = "yyyy-mm-dd"
    else:
        cell.value = neutralise(str(value))
        # openpyxl stores any text that starts with "=" as a formula: always text here.
        cell.data_type = "s"


def response(
    fmt: str, filename: str, *sheets: Sheet, csv_sheets: Sequence[Sheet] = ()
) -> HttpResponse:
    """The download of `sheets` as `filename`.csv or `filename`.xlsx (404 for another format).

    `csv_sheets`, when given, is what the CSV holds instead (a summary whose XLSX splits the
    same figures over several sheets).
    """
    if fmt == "csv":
        resp = HttpResponse(csv_text(*(csv_sheets or sheets)), content_type=CSV_TYPE)
    elif fmt == "xlsx":
        resp = HttpResponse(xlsx_bytes(*sheets), content_type=XLSX_TYPE)
    else:
        raise Http404
    resp["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return resp
