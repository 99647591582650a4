"""The tables the screens, the exports and the API read: one query or two each."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from renkei.lib import exports
from renkei.lib.dates import fiscal_year_label
from renkei.pdca.models import (
    Indicator,
    IndicatorValue,
    Question,
    Response,
    ResponseStatus,
    Submission,
    Survey,
)
from renkei.regions.models import Municipality

NO_AREA = "（二次医療圏なし）"


# ---- the survey's comparison table (seed 002's layout) ---------------------------------------


@dataclass
class AnswerRow:
    response: Response
    municipality: Municipality
    status: str
    answers: list[str]
    submitted_at: Any
    submissions: int


@dataclass
class AreaGroup:
    name: str
    rows: list[AnswerRow] = field(default_factory=list)


@dataclass
class Comparison:
    survey: Survey
    questions: list[Question]
    groups: list[AreaGroup]

    @property
    def submitted(self) -> int:
        return sum(1 for g in self.groups for r in g.rows if r.submissions)

    @property
    def total(self) -> int:
        return sum(len(g.rows) for g in self.groups)


def comparison(survey: Survey) -> Comparison:
    """One row per municipality, one column per question: the last submission's answers
    (a draft saved since is not what the municipality sent). Grouped by 二次医療圏."""
    questions = list(survey.questions.all())
    latest: dict[int, Submission] = {}
    counts: dict[int, int] = defaultdict(int)
    for s in Submission.objects.filter(response__survey=survey).order_by("response_id", "-number"):
        latest.setdefault(s.response_id, s)
        counts[s.response_id] += 1
    responses = (
        Response.objects.filter(survey=survey)
        .select_related("municipality__secondary_area", "municipality__parent__secondary_area")
        .order_by("municipality__code")
    )
    groups: dict[str, AreaGroup] = {}
    order: dict[str, int] = {}
    for r in responses:
        area = r.municipality.area
        name = area.name if area else NO_AREA
        order.setdefault(name, area.sort_order if area else 9999)
        sub = latest.get(r.pk)
        answers = sub.answers if sub else {}
        groups.setdefault(name, AreaGroup(name)).rows.append(
            AnswerRow(
                response=r,
                municipality=r.municipality,
                status=ResponseStatus.SUBMITTED.label if sub else r.get_status_display(),
                answers=[str(answers.get(q.key, "")) for q in questions],
                submitted_at=sub.submitted_at if sub else None,
                submissions=counts.get(r.pk, 0),
            )
        )
    ordered = sorted(groups.values(), key=lambda g: (order[g.name], g.name))
    return Comparison(survey=survey, questions=questions, groups=ordered)


def comparison_sheet(c: Comparison) -> exports.Sheet:
    header = [
        "二次医療圏",
        "市町村",
        "状態",
        "提出日時",
        *[f"{q.number} {q.label}".strip() for q in c.questions],
    ]
    rows = [
        [g.name, r.municipality.name, r.status, r.submitted_at, *r.answers]
        for g in c.groups
        for r in g.rows
    ]
    return exports.Sheet(
        title=c.survey.title[:31],
        header=header,
        rows=rows,
        widths=[14, 14, 10, 18, *([60] * len(c.questions))],
        freeze="C2",
        bold_first_row=True,
    )


# ---- indicators ---------------------------------------------------------------------------------


@dataclass
class YearValue:
    fiscal_year: int
    label: str
    value: float | None
    numerator: float
    denominator: float | None


@dataclass
class Trend:
    indicator: Indicator
    years: list[YearValue]
    prefecture_value: float | None = None

    @property
    def latest(self) -> YearValue | None:
        return self.years[-1] if self.years else None


def trends(municipality: Municipality) -> list[Trend]:
    """Every indicator with a value for the municipality, its years in order, and the
    prefecture's figure for the latest year beside it (two queries)."""
    by_indicator: dict[int, Trend] = {}
    for v in (
        IndicatorValue.objects.filter(municipality=municipality)
        .select_related("indicator")
        .order_by("indicator__sort_order", "indicator__code", "fiscal_year")
    ):
        t = by_indicator.setdefault(v.indicator_id, Trend(v.indicator, []))
        t.years.append(
            YearValue(
                v.fiscal_year, fiscal_year_label(v.fiscal_year), v.value, v.numerator, v.denominator
            )
        )
    if by_indicator:
        latest_year = max(t.years[-1].fiscal_year for t in by_indicator.values())
        for row in rollup(
            IndicatorValue.objects.filter(
                municipality__prefecture_id=municipality.prefecture_id,
                fiscal_year=latest_year,
                indicator_id__in=list(by_indicator),
            ),
            ("indicator_id",),
        ):
            t = by_indicator[row["indicator_id"]]
            if t.years[-1].fiscal_year == latest_year:
                t.prefecture_value = t.indicator.rate(row["num"], row["den"])
    return list(by_indicator.values())


def _sums() -> dict[str, Any]:
    """Sums of numerators and (where there is one) denominators: a group's rate is the
    ratio of its sums, and a municipality without a denominator stays out of both."""
    return {
        "num": Coalesce(
            Sum("numerator", filter=Q(denominator__isnull=False) | Q(indicator__denominator="")),
            0.0,
        ),
        "den": Sum("denominator"),
        "n": Count("pk"),
    }


def rollup(qs: QuerySet[IndicatorValue], group: tuple[str, ...]) -> QuerySet[Any]:
    rows: QuerySet[Any] = qs.values(*group).annotate(**_sums()).order_by(*group)
    return rows


@dataclass
class CompareRow:
    label: str
    value: float | None
    numerator: float | None
    denominator: float | None
    code: str = ""
    is_total: bool = False


@dataclass
class CompareArea:
    name: str
    total: CompareRow
    rows: list[CompareRow] = field(default_factory=list)


@dataclass
class IndicatorComparison:
    indicator: Indicator
    fiscal_year: int
    areas: list[CompareArea]
    prefecture: CompareRow

    @property
    def fiscal_year_label(self) -> str:
        return fiscal_year_label(self.fiscal_year)


def compare(
    indicator: Indicator, fiscal_year: int, municipalities: QuerySet[Municipality]
) -> IndicatorComparison:
    """The municipalities' values, each 二次医療圏's and the whole's, for one year."""
    area = Coalesce(
        F("municipality__secondary_area__name"), F("municipality__parent__secondary_area__name")
    )
    values = IndicatorValue.objects.filter(
        indicator=indicator, fiscal_year=fiscal_year, municipality__in=municipalities
    )
    areas: dict[str, CompareArea] = {}
    for row in rollup(values.annotate(area=area), ("area",)):
        name = row["area"] or "（二次医療圏なし）"
        areas[name] = CompareArea(
            name,
            CompareRow(
                f"{name} 計",
                indicator.rate(row["num"], row["den"]),
                row["num"],
                row["den"],
                is_total=True,
            ),
        )
    for v in (
        values.annotate(area=area).select_related("municipality").order_by("municipality__code")
    ):
        name = v.area or "（二次医療圏なし）"  # type: ignore[attr-defined]
        areas[name].rows.append(
            CompareRow(
                v.municipality.name, v.value, v.numerator, v.denominator, v.municipality.code
            )
        )
    whole = values.aggregate(**_sums())
    total = CompareRow(
        "全体",
        indicator.rate(whole["num"], whole["den"]) if whole["n"] else None,
        whole["num"] if whole["n"] else None,
        whole["den"],
        is_total=True,
    )
    return IndicatorComparison(indicator, fiscal_year, list(areas.values()), total)


def compare_sheet(c: IndicatorComparison) -> exports.Sheet:
    rows: list[list[Any]] = []
    for a in c.areas:
        for r in [*a.rows, a.total]:
            rows.append([a.name, r.code, r.label, r.numerator, r.denominator, r.value])
    rows.append(
        [
            "",
            "",
            c.prefecture.label,
            c.prefecture.numerator,
            c.prefecture.denominator,
            c.prefecture.value,
        ]
    )
    ind = c.indicator
    return exports.Sheet(
        title=f"{ind.code}"[:31],
        header=[
            "二次医療圏",
            "市区町村コード",
            "市区町村",
            f"分子（{ind.numerator}）",
            f"分母（{ind.denominator}）" if ind.denominator else "分母",
            f"{ind.name}（{ind.unit}） {c.fiscal_year_label}",
        ],
        rows=rows,
        widths=[14, 12, 18, 16, 16, 22],
        bold_first_row=True,
    )


def trends_sheet(municipality: Municipality, items: list[Trend]) -> exports.Sheet:
    years = sorted({y.fiscal_year for t in items for y in t.years})
    rows = []
    for t in items:
        by_year = {y.fiscal_year: y.value for y in t.years}
        rows.append(
            [t.indicator.code, t.indicator.name, t.indicator.unit, *[by_year.get(y) for y in years]]
        )
    return exports.Sheet(
        title=municipality.name[:31],
        header=["指標コード", "指標", "単位", *[fiscal_year_label(y) for y in years]],
        rows=rows,
        widths=[28, 40, 8, *([20] * len(years))],
        bold_first_row=True,
    )


# The yearly figures a programme table shows beside a line of trainings or public events.
EVENT_COUNTS = {
    "events.trainings": "研修の回数",
    "events.public": "普及啓発の回数",
    "events.attended": "研修の受講者数",
}


def event_counts(municipality_ids: list[int], fiscal_year: int) -> dict[str, float]:
    """研修・普及啓発の回数 and 受講者数 of the municipalities for one fiscal year, from the
    computed indicators (one query): what programmes' tables show as 実績 without retyping."""
    sums = dict(
        IndicatorValue.objects.filter(
            indicator__code__in=list(EVENT_COUNTS),
            municipality_id__in=municipality_ids,
            fiscal_year=fiscal_year,
        )
        .values("indicator__code")
        .annotate(total=Sum("numerator"))
        .values_list("indicator__code", "total")
    )
    return {label: float(sums.get(code) or 0) for code, label in EVENT_COUNTS.items()}
