"""How often backup beds were used (issue 14 §3, ADR 0047): counts per hospital and month of a
fiscal year, per fiscal year and 転帰, on a screen and in CSV/Excel through lib.exports.

Counts only, never a patient: the hospital sees its own beds, the 主治医's clinic its own
patients' uses, and an organiser the uses of the patients of its area (the municipalities its
published rotas cover, or those a municipality or prefecture curates), by the clinic's
municipality as the PDCA indicator counts them (`BackupBedUse.objects.per_municipality_year`)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import ExtractMonth
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from renkei.accounts.http import MemberRequest, member_required
from renkei.accounts.models import Membership, OrgKind
from renkei.lib import exports
from renkei.lib.dates import fiscal_year, fiscal_year_label, fiscal_year_range
from renkei.lib.inputs import FIRST_YEAR, LAST_YEAR
from renkei.oncall.models import BackupBedUse, BedOutcome, Rota
from renkei.regions.models import Municipality

MONTHS = [4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3]


def area_municipalities(m: Membership) -> QuerySet[Municipality]:
    """The municipalities whose patients' bed uses an organiser counts."""
    org = m.organization
    rotas = Rota.objects.organised_by(m)
    q = Q(rotas__in=rotas) | Q(secondary_area__rotas__in=rotas) | Q(parent__rotas__in=rotas)
    q |= Q(parent__secondary_area__rotas__in=rotas)
    if org.kind in (OrgKind.MUNICIPALITY, OrgKind.PREFECTURE, OrgKind.OPERATOR):
        q |= Q(pk__in=org.curated_municipalities().values("pk"))
    return Municipality.objects.filter(q)


def uses_for(m: Membership) -> QuerySet[BackupBedUse]:
    """The uses `m`'s organisation may count: its hospital's, its clinic's patients', and
    its area's as an organiser."""
    org_id = m.organization_id
    area = area_municipalities(m).values("pk")
    return BackupBedUse.objects.filter(
        Q(registration__hospital_id=org_id)
        | Q(registration__clinic_id=org_id)
        | Q(registration__clinic__municipality__in=area)
    )


@dataclass
class Tally:
    year: int
    hospitals: list[tuple[str, list[int], int]] = field(default_factory=list)
    month_totals: list[int] = field(default_factory=lambda: [0] * 12)
    outcomes: list[tuple[str, int]] = field(default_factory=list)
    years: list[tuple[str, list[int], int]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.month_totals)


def tally(uses: QuerySet[BackupBedUse], year: int) -> Tally:
    """Three statements: per hospital × month of `year`, per 転帰 in `year`, per year × 転帰."""
    start, end = fiscal_year_range(year)
    in_year = uses.filter(admitted_on__gte=start, admitted_on__lte=end)
    t = Tally(year=year)
    by_hospital: dict[str, list[int]] = defaultdict(lambda: [0] * 12)
    rows = (
        in_year.annotate(month=ExtractMonth("admitted_on"))
        .values_list("registration__hospital__name", "month")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for name, month, n in rows:
        col = MONTHS.index(month)
        by_hospital[name][col] += n
        t.month_totals[col] += n
    t.hospitals = [(name, cells, sum(cells)) for name, cells in sorted(by_hospital.items())]
    counted = dict(in_year.values_list("outcome").annotate(n=Count("pk")).order_by())
    t.outcomes = [(label, counted.get(value, 0)) for value, label in BedOutcome.choices]
    per_year: dict[int, dict[str, int]] = defaultdict(dict)
    yearly = (
        uses.annotate(fy=BackupBedUse.objects.fiscal_year_expression())
        .values_list("fy", "outcome")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for fy, outcome, n in yearly:
        per_year[fy][outcome] = n
    values = [v for v, _label in BedOutcome.choices]
    t.years = [
        (
            fiscal_year_label(fy),
            [per_year[fy].get(v, 0) for v in values],
            sum(per_year[fy].values()),
        )
        for fy in sorted(per_year, reverse=True)
    ]
    return t


def _year(request: MemberRequest) -> int | None:
    raw = request.GET.get("year", "")
    if not raw:
        return fiscal_year(timezone.localdate())
    if raw.isdigit() and FIRST_YEAR <= int(raw) <= LAST_YEAR:
        return int(raw)
    return None


def _refused(request: MemberRequest) -> HttpResponse:
    return render(
        request,
        "oncall/bed_uses.html",
        {"error": f"年度は{FIRST_YEAR}〜{LAST_YEAR}の西暦で指定してください", "t": None},
        status=400,
    )


@member_required
@require_GET
def bed_uses(request: MemberRequest) -> HttpResponse:
    year = _year(request)
    if year is None:
        return _refused(request)
    current = fiscal_year(timezone.localdate())
    return render(
        request,
        "oncall/bed_uses.html",
        {
            "t": tally(uses_for(request.membership), year),
            "label": fiscal_year_label(year),
            "months": [f"{n}月" for n in MONTHS],
            "outcome_choices": BedOutcome.choices,
            "years": range(current, current - 5, -1),
        },
    )


@member_required
@require_GET
def bed_uses_export(request: MemberRequest, fmt: str) -> HttpResponse:
    year = _year(request)
    if year is None:
        return _refused(request)
    t = tally(uses_for(request.membership), year)
    months = [f"{n}月" for n in MONTHS]
    by_month = exports.Sheet(
        title=f"{year}年度 月別",
        header=["病院", *months, "計"],
        rows=[
            *[[name, *cells, total] for name, cells, total in t.hospitals],
            ["計", *t.month_totals, t.total],
        ],
        widths=[30, *[6] * 12, 8],
    )
    by_year = exports.Sheet(
        title="年度別・転帰別",
        header=["年度", *[label for _v, label in BedOutcome.choices], "計"],
        rows=[[label, *counts, total] for label, counts, total in t.years],
        widths=[24, *[12] * len(BedOutcome.choices), 8],
    )
    return exports.response(fmt, f"backup-bed-uses-{year}", by_month, by_year)


def this_year_count(uses: QuerySet[BackupBedUse], today: dt.date | None = None) -> int:
    start, end = fiscal_year_range(fiscal_year(today or timezone.localdate()))
    return uses.filter(admitted_on__gte=start, admitted_on__lte=end).count()
