"""A course year's figures: the 実績 that programme tables and indicators read.

`yearly(owner, fiscal_year)` is the one function other apps call (renkei.programmes,
renkei.pdca): the number of rounds held (回数), of participants (受講者数: applicants
confirmed in a round held that year) and of completers (修了者数: participants who met the
course's rule from attendance, whether or not a certificate was printed yet), optionally for
one programme item. `breakdown` splits the same participants by round, occupation, employer
kind and area for the organiser's tally page and its export.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet

from renkei.accounts.models import Organization, OrgKind
from renkei.courses.models import CourseRound, completers
from renkei.events.models import Applicant, Occupation
from renkei.regions.models import Municipality


@dataclass(frozen=True)
class YearlyFigures:
    fiscal_year: int
    rounds: int  # 回数
    participants: int  # 受講者数
    completers: int  # 修了者数


def rounds_of(
    owner: Organization | Municipality, fiscal_year: int, *, programme_item: str | None = None
) -> QuerySet[CourseRound]:
    """Rounds held in the fiscal year: an organisation's own courses, or for a municipality
    the courses held for it (a course's municipality, its wards included)."""
    qs = CourseRound.objects.in_fiscal_year(fiscal_year)
    if isinstance(owner, Organization):
        qs = qs.filter(course__organization=owner)
    else:
        qs = qs.filter(Q(course__municipality=owner) | Q(course__municipality__parent=owner))
    if programme_item:
        qs = qs.filter(course__programme_item=programme_item)
    return qs.for_display().order_by("event__starts_at", "pk")


def yearly(
    owner: Organization | Municipality, fiscal_year: int, *, programme_item: str | None = None
) -> YearlyFigures:
    rounds = list(rounds_of(owner, fiscal_year, programme_item=programme_item))
    participants = Applicant.objects.filter(
        event_id__in=[r.event_id for r in rounds], status=Applicant.Status.CONFIRMED
    ).count()
    done = sum(completers(r).count() for r in rounds)
    return YearlyFigures(fiscal_year, len(rounds), participants, done)


@dataclass
class RoundLine:
    round: CourseRound
    confirmed: int
    waitlisted: int
    completed: int


@dataclass
class Breakdown:
    fiscal_year: int
    rounds: list[RoundLine] = field(default_factory=list)
    by_occupation: list[tuple[str, int]] = field(default_factory=list)
    by_employer_kind: list[tuple[str, int]] = field(default_factory=list)
    by_area: list[tuple[str, int]] = field(default_factory=list)

    @property
    def totals(self) -> tuple[int, int, int]:
        return (
            sum(r.confirmed for r in self.rounds),
            sum(r.waitlisted for r in self.rounds),
            sum(r.completed for r in self.rounds),
        )


def breakdown(org: Organization, fiscal_year: int) -> Breakdown:
    rounds = list(rounds_of(org, fiscal_year).select_related("course"))
    events = [r.event_id for r in rounds]
    counts: dict[int, dict[str, int]] = {
        row["event_id"]: {"confirmed": row["confirmed"], "waitlisted": row["waitlisted"]}
        for row in Applicant.objects.filter(event_id__in=events)
        .values("event_id")
        .annotate(
            confirmed=Count("id", filter=Q(status=Applicant.Status.CONFIRMED)),
            waitlisted=Count("id", filter=Q(status=Applicant.Status.WAITLISTED)),
        )
        .order_by()
    }
    out = Breakdown(fiscal_year)
    for r in rounds:
        c = counts.get(r.event_id, {})
        out.rounds.append(
            RoundLine(r, c.get("confirmed", 0), c.get("waitlisted", 0), completers(r).count())
        )
    people = Applicant.objects.filter(event_id__in=events, status=Applicant.Status.CONFIRMED)
    occ = dict(Occupation.choices)
    out.by_occupation = [
        (occ.get(k, k), n)
        for k, n in Counter(people.values_list("occupation", flat=True)).most_common()
    ]
    kinds = dict(OrgKind.choices)
    out.by_employer_kind = [
        (kinds.get(k, k), n)
        for k, n in Counter(people.values_list("enrolment__employer_kind", flat=True)).most_common()
        if k
    ]
    out.by_area = [
        (name or "（未記入）", n)
        for name, n in Counter(
            people.values_list("enrolment__municipality__name", flat=True)
        ).most_common()
    ]
    return out


def breakdown_sheets(b: Breakdown) -> list[tuple[str, list[str], list[list[object]]]]:
    """The tally as tables (title, header, rows) for renkei.lib.exports."""
    return [
        (
            "回別",
            ["研修", "回", "日程", "参加確定", "キャンセル待ち", "修了"],
            [
                [
                    line.round.course.title,
                    line.round.label,
                    line.round.dates_label(),
                    line.confirmed,
                    line.waitlisted,
                    line.completed,
                ]
                for line in b.rounds
            ],
        ),
        ("職種別", ["職種", "受講者数"], [list(r) for r in b.by_occupation]),
        ("勤務先種別", ["勤務先の種別", "受講者数"], [list(r) for r in b.by_employer_kind]),
        ("地域別", ["市区町村", "受講者数"], [list(r) for r in b.by_area]),
    ]
