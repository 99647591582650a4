"""Participation by occupation, per event and per fiscal year, and the survey summary.

Municipalities report who attends their trainings: the count of doctors and nurses
is the indicator they watch, so every tally is broken down by occupation.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pydantic
from django.db.models import Avg, Count, Q, QuerySet
from django.http import HttpResponse
from django.utils import timezone
from pydantic import Field

from renkei.accounts.models import Organization
from renkei.events.models import Applicant, Event, Feedback, Need, Occupation
from renkei.lib import exports
from renkei.lib.dates import fiscal_year, fiscal_year_label

CONFIRMED = Applicant.Status.CONFIRMED
WAITLISTED = Applicant.Status.WAITLISTED


@dataclass
class Counts:
    applied: int = 0
    confirmed: int = 0
    waitlisted: int = 0
    attended: int = 0

    def add(self, other: Counts) -> None:
        self.applied += other.applied
        self.confirmed += other.confirmed
        self.waitlisted += other.waitlisted
        self.attended += other.attended


@dataclass
class OccupationTally:
    """Counts per occupation (in the fixed order of Occupation) and their total."""

    by_occupation: dict[str, Counts] = field(
        default_factory=lambda: {o: Counts() for o in Occupation.values}
    )
    total: Counts = field(default_factory=Counts)

    def rows(self) -> list[tuple[str, Counts]]:
        labels = dict(Occupation.choices)
        return [(labels[o], c) for o, c in self.by_occupation.items()]


def _counts(events: QuerySet[Event]) -> dict[int, dict[str, Counts]]:
    """One grouped query: {event id: {occupation: counts}}; cancelled applicants excluded."""
    rows = (
        Applicant.objects.filter(event__in=events)
        .exclude(status=Applicant.Status.CANCELLED)
        .values("event_id", "occupation")
        .annotate(
            applied=Count("id"),
            confirmed=Count("id", filter=Q(status=CONFIRMED)),
            waitlisted=Count("id", filter=Q(status=WAITLISTED)),
            attended=Count("id", filter=Q(attended=True)),
        )
        .order_by()
    )
    out: dict[int, dict[str, Counts]] = {}
    for r in rows:
        out.setdefault(r["event_id"], {})[r["occupation"]] = Counts(
            r["applied"], r["confirmed"], r["waitlisted"], r["attended"]
        )
    return out


def _tally(per_occ: dict[str, Counts]) -> OccupationTally:
    t = OccupationTally()
    for occ, c in per_occ.items():
        t.by_occupation.setdefault(occ, Counts()).add(c)
        t.total.add(c)
    return t


def event_tally(event: Event) -> OccupationTally:
    return _tally(_counts(Event.objects.filter(pk=event.pk)).get(event.pk, {}))


@dataclass
class YearTally:
    fy: int
    label: str
    events: list[tuple[Event, OccupationTally]]
    total: OccupationTally


def year_tally(organization: Organization, fy: int) -> YearTally:
    events_qs = Event.objects.organised_by(organization).in_fiscal_year(fy)
    counts = _counts(events_qs)
    total = OccupationTally()
    per_event = []
    for ev in events_qs.order_by("starts_at", "pk"):
        t = _tally(counts.get(ev.pk, {}))
        per_event.append((ev, t))
        for occ, c in t.by_occupation.items():
            total.by_occupation[occ].add(c)
        total.total.add(t.total)
    return YearTally(fy=fy, label=fiscal_year_label(fy), events=per_event, total=total)


def fiscal_years_of(organization: Organization) -> list[int]:
    starts = Event.objects.organised_by(organization).values_list("starts_at", flat=True)
    return sorted({fiscal_year(timezone.localdate(s)) for s in starts}, reverse=True)


class OccupationScore(pydantic.BaseModel):
    label: str = Field(description="職種")
    answers: int
    satisfaction_avg: float | None


class FeedbackSummary(pydantic.BaseModel):
    """The survey's answers for one event; the organiser's page shows it, the API returns it."""

    count: int
    asked: int
    satisfaction_avg: float | None
    usefulness_avg: float | None
    satisfaction_dist: list[int] = Field(description="満足度1〜5の件数")
    usefulness_dist: list[int] = Field(description="役立ち度1〜5の件数")
    by_occupation: list[OccupationScore]
    comments: list[str]


def feedback_summary(event: Event) -> FeedbackSummary:
    qs = Feedback.objects.filter(event=event)
    agg = qs.aggregate(
        n=Count("id"),
        s=Avg("satisfaction"),
        u=Avg("usefulness"),
    )
    sat = [0] * 5
    use = [0] * 5
    for s, u in qs.values_list("satisfaction", "usefulness"):
        sat[s - 1] += 1
        use[u - 1] += 1
    labels = dict(Occupation.choices)
    by_occ = [
        OccupationScore(
            label=labels.get(r["occupation"], "未回答"),
            answers=r["n"],
            satisfaction_avg=round(r["s"], 2) if r["s"] else None,
        )
        for r in qs.values("occupation")
        .annotate(n=Count("id"), s=Avg("satisfaction"))
        .order_by("occupation")
    ]
    return FeedbackSummary(
        count=agg["n"],
        asked=event.applicants.filter(feedback_sent_at__isnull=False).count(),
        satisfaction_avg=round(agg["s"], 2) if agg["s"] is not None else None,
        usefulness_avg=round(agg["u"], 2) if agg["u"] is not None else None,
        satisfaction_dist=sat,
        usefulness_dist=use,
        by_occupation=by_occ,
        comments=list(
            qs.exclude(comment="").order_by("created_at").values_list("comment", flat=True)
        ),
    )


def year_table(y: YearTally) -> tuple[list[str], list[list[Any]]]:
    """Wide table for the yearly report: one row per event, 申込/出席 per occupation."""
    occs = Occupation.choices
    header = ["年度", "開催日", "研修・イベント", "種類"]
    for _, label in occs:
        header += [f"{label} 申込", f"{label} 出席"]
    header += ["合計 申込", "合計 参加確定", "合計 出席"]
    rows: list[list[Any]] = []
    for ev, t in y.events:
        row: list[Any] = [
            y.label,
            timezone.localdate(ev.starts_at).isoformat(),
            ev.title,
            ev.get_kind_display(),
        ]
        for occ, _ in occs:
            c = t.by_occupation[occ]
            row += [c.applied, c.attended]
        row += [t.total.applied, t.total.confirmed, t.total.attended]
        rows.append(row)
    total: list[Any] = [y.label, "", "合計", ""]
    for occ, _ in occs:
        c = y.total.by_occupation[occ]
        total += [c.applied, c.attended]
    total += [y.total.total.applied, y.total.total.confirmed, y.total.total.attended]
    rows.append(total)
    return header, rows


def table_response(
    header: Sequence[str], rows: Sequence[Sequence[Any]], *, fmt: str, filename: str, sheet: str
) -> HttpResponse:
    """CSV (UTF-8 with BOM so that Excel reads Japanese) or .xlsx of one table.

    Names and questions come from the public: renkei.lib.exports neutralises formulas."""
    return exports.response(fmt, filename, exports.Sheet(sheet, header, rows))


def needs_of(event: Event) -> list[tuple[str, int]]:
    """How many live applications asked for each kind of help (車椅子, 手話通訳 …), so that
    the organiser can prepare it; in the fixed order of Need."""
    counts: Counter[str] = Counter()
    for needs in event.applications.active().values_list("needs", flat=True):
        counts.update(needs or [])
    return [(label, counts[value]) for value, label in Need.choices if counts[value]]
