"""The 事業一覧 as its readers see it (`table_view`) and as sheets for renkei.lib.exports: the
lines in seed 000's columns (with seed 003's items and 事業効果, the linked courses' figures
and the budget), then the totals by 財源 and by item, and the year's trainings and events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from renkei.lib.exports import Sheet
from renkei.programmes.figures import attach_course_figures, event_figures
from renkei.programmes.models import (
    ProgrammeLine,
    ProgrammeTable,
    totals_by_item,
    totals_by_source,
)


@dataclass
class TableView:
    """A table as one reader sees it (a contractor: its own lines), with the figures the
    screen, the print, the exports and the API show: in a fixed number of queries."""

    table: ProgrammeTable
    lines: list[ProgrammeLine]
    events: list[tuple[str, int]]

    @property
    def sections(self) -> list[tuple[str, list[ProgrammeLine]]]:
        out: list[tuple[str, list[ProgrammeLine]]] = []
        for ln in self.lines:
            if not out or out[-1][0] != ln.section:
                out.append((ln.section, []))
            out[-1][1].append(ln)
        return out

    def context(self) -> dict[str, Any]:
        by_source = totals_by_source(self.lines)
        return {
            "table": self.table,
            "lines": self.lines,
            "sections": self.sections,
            "by_source": by_source,
            "source_total": sum(t for _, t in by_source),
            "by_item": totals_by_item(self.lines),
            "event_figures": self.events,
        }


def table_view(table: ProgrammeTable, lines: QuerySet[ProgrammeLine]) -> TableView:
    shown = list(
        lines.prefetch_related("budget_lines__source", "contracts__organization", "courses")
    )
    attach_course_figures(shown, table.fiscal_year)
    return TableView(table, shown, event_figures(table))


def table_sheets(view: TableView) -> list[Sheet]:
    table, lines = view.table, view.lines
    results_head = f"{table.era_year}実績" + (
        f"（{table.as_of_label}）" if table.results_as_of else ""
    )
    header = [
        "区分",
        "事業名称",
        "新規",
        "事業項目",
        "場面",
        "事業内容",
        results_head,
        f"{table.next_era_year}実施予定",
        "事業効果",
        "受託者",
        "予算額（千円）",
        "財源",
        "研修の実績（回数・受講者数）",
    ]
    rows = []
    for ln in lines:
        budgets = list(ln.budget_lines.all())
        rows.append(
            [
                ln.section,
                ln.name,
                ln.is_new,
                ln.items_label,
                ln.scenes_label,
                ln.content,
                ln.results,
                ln.plan,
                ln.effect,
                ln.contractor_label,
                sum(b.amount for b in budgets) if budgets else None,
                "、".join(
                    f"{b.source.name}{'（' + b.label + '）' if b.label else ''} {b.amount:,}"
                    for b in budgets
                ),
                "\n".join(f.label for f in ln.course_figures),  # type: ignore[attr-defined]
            ]
        )
    by_source = totals_by_source(lines)
    sources = Sheet(
        title="財源別",
        header=["財源", "予算額（千円）"],
        rows=[[s.name, total] for s, total in by_source] + [["合計", sum(t for _, t in by_source)]],
        widths=[40, 16],
    )
    items = Sheet(
        title="事業項目別",
        header=["事業項目", "事業数", "予算額（千円）"],
        rows=[list(r) for r in totals_by_item(lines)],
        widths=[44, 10, 16],
    )
    main = Sheet(
        title=f"{table.era_year}事業一覧",
        header=header,
        rows=rows,
        widths=[20, 28, 6, 12, 14, 50, 50, 50, 40, 20, 14, 40, 30],
    )
    events = Sheet(
        title="研修・普及啓発の実績",
        header=["項目（指標から）", table.fiscal_year_label],
        rows=[list(r) for r in view.events],
        widths=[30, 24],
    )
    return [main, sources, items, events]
