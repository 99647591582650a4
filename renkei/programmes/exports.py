"""The 事業一覧 as sheets for renkei.lib.exports: the lines in seed 000's columns (with seed
003's items and 事業効果 and the budget), then the totals by 財源 and by item."""

from __future__ import annotations

from renkei.lib.exports import Sheet
from renkei.programmes.models import (
    ProgrammeLine,
    ProgrammeTable,
    totals_by_item,
    totals_by_source,
)


def table_lines(table: ProgrammeTable) -> list[ProgrammeLine]:
    return list(table.lines.select_related("contractor").prefetch_related("budget_lines__source"))


def table_sheets(table: ProgrammeTable, lines: list[ProgrammeLine]) -> list[Sheet]:
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
            ]
        )
    by_source = totals_by_source(table)
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
        widths=[20, 28, 6, 12, 14, 50, 50, 50, 40, 20, 14, 40],
    )
    return [main, sources, items]
