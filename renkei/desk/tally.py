"""Monthly and yearly tallies of a desk's consultations, and the bar charts drawn from them.

Counts follow the fiscal year (April–March). A consultation with several topics counts
once under each topic, so the topic table can add up to more than the number of cases.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.http import HttpResponse

from renkei.desk.models import AskerType, Channel, Consultation, Desk, Scene
from renkei.lib import exports
from renkei.lib.dates import fiscal_year_label

MONTHS_OF_FY = [4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3]

DIMENSIONS: list[tuple[str, str]] = [
    ("channel", "相談方法"),
    ("asker_type", "相談者"),
    ("topic", "相談内容"),
    ("scene", "場面"),
]


@dataclass
class TallyRow:
    label: str
    counts: list[int]

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass
class TallyTable:
    key: str
    label: str
    rows: list[TallyRow] = field(default_factory=list)

    def column(self, index: int) -> list[tuple[str, int]]:
        return [(r.label, r.counts[index]) for r in self.rows]

    def totals(self) -> list[tuple[str, int]]:
        return [(r.label, r.total) for r in self.rows]


@dataclass
class Tally:
    desk: Desk
    fiscal_year: int
    months: list[tuple[int, int]]
    cases: list[int]
    tables: list[TallyTable]

    @property
    def label(self) -> str:
        return fiscal_year_label(self.fiscal_year)

    @property
    def total(self) -> int:
        return sum(self.cases)

    def month_index(self, year: int, month: int) -> int:
        return self.months.index((year, month))

    def month_labels(self) -> list[str]:
        return [f"{m}月" for _, m in self.months]


def fy_months(fy: int) -> list[tuple[int, int]]:
    return [(fy if m >= 4 else fy + 1, m) for m in MONTHS_OF_FY]


def yearly_tally(desk: Desk, fy: int) -> Tally:
    """Counts per month for the fiscal year, overall and by each dimension (5 queries)."""
    months = fy_months(fy)
    index = {ym: i for i, ym in enumerate(months)}
    base = (
        Consultation.objects.filter(desk=desk)
        .in_fiscal_year(fy)
        .annotate(month=TruncMonth("received_at"))
    )

    def slot(month: dt.datetime) -> int:
        return index[(month.year, month.month)]

    cases = [0] * 12
    for row in base.values("month").annotate(n=Count("pk")).order_by():
        cases[slot(row["month"])] += row["n"]

    tables = []
    choices: dict[str, list[tuple[str, str]]] = {
        "channel": list(Channel.choices),
        "asker_type": list(AskerType.choices),
        "scene": list(Scene.choices),
    }
    for key, label in DIMENSIONS:
        if key == "topic":
            topics = list(desk.topics().values_list("pk", "name"))
            order = [(str(pk), name) for pk, name in topics]
            rows_q = base.values("month", "topics__pk", "topics__name").annotate(n=Count("pk"))
            counts: dict[str, list[int]] = {}
            names: dict[str, str] = {}
            for row in rows_q.order_by():
                pk: int | None = row["topics__pk"]
                if pk is None:
                    continue
                k = str(pk)
                names[k] = row["topics__name"]
                counts.setdefault(k, [0] * 12)[slot(row["month"])] += row["n"]
            # Retired topics still used this year keep their row.
            order += [(k, names[k]) for k in counts if k not in dict(order)]
        else:
            order = choices[key]
            counts = {}
            for row in base.values("month", key).annotate(n=Count("pk")).order_by():
                counts.setdefault(row[key], [0] * 12)[slot(row["month"])] += row["n"]
        tables.append(
            TallyTable(
                key=key,
                label=label,
                rows=[TallyRow(name, counts.get(k, [0] * 12)) for k, name in order],
            )
        )
    return Tally(desk=desk, fiscal_year=fy, months=months, cases=cases, tables=tables)


# Charts ------------------------------------------------------------------

BAR_HEIGHT = 22
BAR_GAP = 8
LABEL_WIDTH = 230
BAR_AREA = 330
VALUE_WIDTH = 50


def bar_chart(title: str, data: list[tuple[str, int]]) -> dict[str, Any]:
    """Geometry for a horizontal SVG bar chart rendered by templates/desk/_bar_chart.html."""
    peak = max((v for _, v in data), default=0)
    bars = []
    for i, (label, value) in enumerate(data):
        y = i * (BAR_HEIGHT + BAR_GAP)
        width = round(BAR_AREA * value / peak) if peak else 0
        bars.append(
            {
                "label": label,
                "value": value,
                "y": y,
                "text_y": y + BAR_HEIGHT * 0.72,
                "width": width,
                "value_x": LABEL_WIDTH + width + 6,
            }
        )
    height = max(len(data) * (BAR_HEIGHT + BAR_GAP), BAR_HEIGHT)
    return {
        "title": title,
        "bars": bars,
        "height": height,
        "width": LABEL_WIDTH + BAR_AREA + VALUE_WIDTH,
        "label_width": LABEL_WIDTH,
        "label_x": LABEL_WIDTH - 8,
        "bar_height": BAR_HEIGHT,
        "summary": "、".join(f"{label} {value}件" for label, value in data),
    }


# Exports -----------------------------------------------------------------


def tally_rows(tally: Tally) -> list[list[Any]]:
    """The tally as one sheet: a block per dimension, months across."""
    header_months = tally.month_labels()
    out: list[list[Any]] = [
        [f"{tally.desk.name} 相談件数 {tally.label}"],
        [],
        ["相談件数", *header_months, "合計"],
        ["総数", *tally.cases, tally.total],
    ]
    for table in tally.tables:
        out.append([])
        out.append([table.label, *header_months, "合計"])
        for row in table.rows:
            out.append([row.label, *row.counts, row.total])
    return out


def tally_response(tally: Tally, fmt: str, filename: str) -> HttpResponse:
    """The tally as one CSV, or as an XLSX with the totals and one sheet per breakdown."""
    whole = exports.Sheet("集計", rows=tally_rows(tally), freeze=None)
    totals = exports.Sheet(
        "総数",
        rows=[
            [f"{tally.desk.name} 相談件数 {tally.label}"],
            ["月", *tally.month_labels(), "合計"],
            ["相談件数", *tally.cases, tally.total],
        ],
        freeze=None,
        bold_first_row=True,
    )
    sheets = [totals]
    for table in tally.tables:
        rows: list[list[Any]] = [[row.label, *row.counts, row.total] for row in table.rows]
        rows.append(
            [
                "合計",
                *[sum(col) for col in zip(*[r.counts for r in table.rows], strict=True)],
                sum(r.total for r in table.rows),
            ]
            if table.rows
            else ["合計"]
        )
        sheets.append(
            exports.Sheet(
                table.label,
                [table.label, *tally.month_labels(), "合計"],
                rows,
                widths=[28],
                freeze="B2",
            )
        )
    return exports.response(fmt, filename, *sheets, csv_sheets=[whole])
