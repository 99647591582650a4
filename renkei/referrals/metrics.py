"""効果検証: does the network place patients faster and with fewer calls?

The numbers are computed in Python from a few value queries: medians and percentiles are not
portable SQL (SQLite has neither), and one prefecture's cases for a year are thousands of rows,
not millions.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from renkei.accounts.models import Organization, OrgKind
from renkei.directory.models import FacilityKind
from renkei.referrals.models import (
    Answer,
    CaseStatus,
    DeclineReason,
    PlacementCase,
    PlacementRequest,
    Survey,
    SurveyResponse,
    WithdrawalReason,
)
from renkei.regions.models import SecondaryArea


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (the method of numpy's default)."""
    if not values:
        return None
    data = sorted(values)
    pos = (len(data) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def _round(v: float | None, digits: int = 1) -> float | None:
    return None if v is None else round(v, digits)


def cases_for(org: Organization) -> QuerySet[PlacementCase]:
    """Cases a government organisation may count: residents of the municipalities it curates."""
    if org.kind == OrgKind.OPERATOR:
        return PlacementCase.objects.all()
    return PlacementCase.objects.filter(
        Q(residence__in=org.curated_municipalities())
        | Q(hospital__municipality__in=org.curated_municipalities())
    )


@dataclass
class Row:
    """One group (all, an area or a month) of the dashboard."""

    label: str
    cases: int = 0
    decided: int = 0
    withdrawn: int = 0
    open: int = 0
    days: list[float] = field(default_factory=list)
    requests_per_placement: list[int] = field(default_factory=list)
    answer_hours: list[float] = field(default_factory=list)
    requests: int = 0
    answered: int = 0
    positive: int = 0

    @property
    def days_median(self) -> float | None:
        return _round(percentile(self.days, 0.5))

    @property
    def days_p90(self) -> float | None:
        return _round(percentile(self.days, 0.9))

    @property
    def requests_per_placement_mean(self) -> float | None:
        rpp = self.requests_per_placement
        return _round(sum(rpp) / len(rpp)) if rpp else None

    @property
    def answer_hours_median(self) -> float | None:
        return _round(percentile(self.answer_hours, 0.5))

    @property
    def answer_hours_p90(self) -> float | None:
        return _round(percentile(self.answer_hours, 0.9))

    @property
    def answer_rate(self) -> float | None:
        return _round(100 * self.answered / self.requests) if self.requests else None

    @property
    def acceptance_rate(self) -> float | None:
        return _round(100 * self.positive / self.answered) if self.answered else None

    @property
    def placement_rate(self) -> float | None:
        closed = self.decided + self.withdrawn
        return _round(100 * self.decided / closed) if closed else None


@dataclass
class Dashboard:
    total: Row
    by_area: list[Row]
    by_month: list[Row]
    by_kind: list[tuple[str, int, int, int, float | None]]
    decline_reasons: list[tuple[str, int]]
    failures: list[tuple[str, int]]
    failed_cases: list[dict[str, Any]]

    def csv_rows(self) -> list[list[Any]]:
        header = [
            "区分",
            "集計単位",
            "案件数",
            "決定",
            "取下げ",
            "調整中",
            "登録から決定までの日数（中央値）",
            "同（90パーセンタイル）",
            "1件の決定あたりの依頼数（平均）",
            "回答までの時間（中央値・時間）",
            "同（90パーセンタイル・時間）",
            "依頼数",
            "回答率（%）",
            "受入可の割合（%）",
        ]
        rows: list[list[Any]] = [header]
        for group, items in (
            ("全体", [self.total]),
            ("二次医療圏", self.by_area),
            ("月", self.by_month),
        ):
            for r in items:
                rows.append(
                    [
                        group,
                        r.label,
                        r.cases,
                        r.decided,
                        r.withdrawn,
                        r.open,
                        r.days_median,
                        r.days_p90,
                        r.requests_per_placement_mean,
                        r.answer_hours_median,
                        r.answer_hours_p90,
                        r.requests,
                        r.answer_rate,
                        r.acceptance_rate,
                    ]
                )
        return rows


def build(
    cases: QuerySet[PlacementCase],
    *,
    area: SecondaryArea | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> Dashboard:
    """Every figure of the dashboard from three queries (cases, requests, areas)."""
    cases = cases.exclude(status=CaseStatus.DRAFT).annotate(
        area_id=Coalesce("residence__secondary_area_id", "residence__parent__secondary_area_id")
    )
    if area is not None:
        cases = cases.filter(area_id=area.pk)
    if since is not None:
        cases = cases.filter(created_at__date__gte=since)
    if until is not None:
        cases = cases.filter(created_at__date__lte=until)
    case_rows: list[dict[str, Any]] = [
        dict(row)
        for row in cases.values(
            "pk",
            "status",
            "created_at",
            "registered_at",
            "decided_at",
            "withdrawal_reason",
            "area_id",
            "age_band",
            "care_level",
        )
    ]
    by_pk = {c["pk"]: c for c in case_rows}
    req_rows: list[dict[str, Any]] = [
        dict(row)
        for row in PlacementRequest.objects.filter(case_id__in=list(by_pk)).values(
            "case_id",
            "status",
            "answer",
            "decline_reason",
            "sent_at",
            "answered_at",
            "facility__kind",
        )
    ]
    area_names = dict(SecondaryArea.objects.values_list("pk", "name"))

    total = Row("全体")
    areas: dict[str, Row] = {}
    months: dict[str, Row] = {}
    local = timezone.get_current_timezone()

    def groups(c: dict[str, Any]) -> Iterable[Row]:
        area_label = area_names.get(c["area_id"], "（圏域不明）")
        month = c["created_at"].astimezone(local).strftime("%Y-%m")
        return (
            total,
            areas.setdefault(area_label, Row(area_label)),
            months.setdefault(month, Row(month)),
        )

    reqs_by_case: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in req_rows:
        reqs_by_case[r["case_id"]].append(r)

    failures: Counter[str] = Counter()
    failed_cases = []
    for c in case_rows:
        reqs = reqs_by_case.get(c["pk"], [])
        start = c["registered_at"] or c["created_at"]
        for row in groups(c):
            row.cases += 1
            if c["status"] == CaseStatus.DECIDED and c["decided_at"] is not None:
                row.decided += 1
                row.days.append((c["decided_at"] - start).total_seconds() / 86400)
                row.requests_per_placement.append(len(reqs))
            elif c["status"] == CaseStatus.WITHDRAWN:
                row.withdrawn += 1
            else:
                row.open += 1
            for r in reqs:
                row.requests += 1
                if r["answered_at"] is not None:
                    row.answered += 1
                    row.answer_hours.append(
                        (r["answered_at"] - r["sent_at"]).total_seconds() / 3600
                    )
                    if r["answer"] in Answer.positive():
                        row.positive += 1
        if c["status"] == CaseStatus.WITHDRAWN:
            reason = dict(WithdrawalReason.choices).get(c["withdrawal_reason"], "（理由未記録）")
            failures[reason] += 1
            declines = Counter(
                dict(DeclineReason.choices)[r["decline_reason"]]
                for r in reqs
                if r["answer"] == Answer.DECLINED and r["decline_reason"]
            )
            failed_cases.append(
                {
                    "month": c["created_at"].astimezone(local).strftime("%Y-%m"),
                    "area": area_names.get(c["area_id"], "（圏域不明）"),
                    "reason": reason,
                    "requests": len(reqs),
                    "declines": "、".join(f"{k}{v}" for k, v in declines.most_common()),
                }
            )

    kinds: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    declines_all: Counter[str] = Counter()
    for r in req_rows:
        k = kinds[r["facility__kind"]]
        k[0] += 1
        if r["answered_at"] is not None:
            k[1] += 1
            if r["answer"] in Answer.positive():
                k[2] += 1
        if r["answer"] == Answer.DECLINED and r["decline_reason"]:
            declines_all[dict(DeclineReason.choices)[r["decline_reason"]]] += 1
    kind_labels = dict(FacilityKind.choices)
    by_kind = [
        (
            kind_labels.get(kind, kind),
            sent,
            answered,
            positive,
            _round(100 * positive / answered) if answered else None,
        )
        for kind, (sent, answered, positive) in sorted(kinds.items(), key=lambda kv: -kv[1][0])
    ]
    return Dashboard(
        total=total,
        by_area=sorted(areas.values(), key=lambda r: r.label),
        by_month=sorted(months.values(), key=lambda r: r.label),
        by_kind=by_kind,
        decline_reasons=declines_all.most_common(),
        failures=failures.most_common(),
        failed_cases=sorted(failed_cases, key=lambda f: (f["month"], f["area"])),
    )


def bars(items: Sequence[tuple[str, float | int | None]], width: int = 320) -> dict[str, Any]:
    """A server-side SVG bar chart: each row's label, value, bar width and offset in pixels."""
    top = max((v for _, v in items if v is not None), default=0) or 1
    rows = [
        {"label": label, "value": v, "width": round(width * (v or 0) / top), "y": i * 28}
        for i, (label, v) in enumerate(items)
    ]
    return {"rows": rows, "height": len(rows) * 28 + 4}


@dataclass
class SurveyTally:
    responses: int
    satisfaction_mean: float | None
    satisfaction_counts: list[tuple[int, int]]
    minutes_before_median: float | None
    minutes_now_median: float | None
    minutes_saved_median: float | None
    comments: list[str]
    by_kind: list[tuple[str, int]]


def tally(survey: Survey) -> SurveyTally:
    rows = list(
        SurveyResponse.objects.filter(survey=survey).values(
            "minutes_before", "minutes_now", "satisfaction", "comment", "organization__kind"
        )
    )
    sat = [r["satisfaction"] for r in rows]
    counts = Counter(sat)
    kind_labels = dict(OrgKind.choices)
    return SurveyTally(
        responses=len(rows),
        satisfaction_mean=_round(sum(sat) / len(sat), 2) if sat else None,
        satisfaction_counts=[(s, counts.get(s, 0)) for s in (5, 4, 3, 2, 1)],
        minutes_before_median=_round(percentile([r["minutes_before"] for r in rows], 0.5)),
        minutes_now_median=_round(percentile([r["minutes_now"] for r in rows], 0.5)),
        minutes_saved_median=_round(
            percentile([r["minutes_before"] - r["minutes_now"] for r in rows], 0.5)
        ),
        comments=[r["comment"] for r in rows if r["comment"]],
        by_kind=Counter(kind_labels.get(r["organization__kind"], "") for r in rows).most_common(),
    )
