"""The 実績 a programme table shows without retyping (issue 15): the owner's trainings and
public events as the pdca indicators count them (`pdca.tables.event_counts`: 研修の回数,
受講者数, 普及啓発の回数), and for a line linked to courses each course's rounds held in the
table's fiscal year and their participants, counted as `courses.tally.yearly()` counts them
(rounds whose first day falls in the year; confirmed applicants), for all the table's
courses in one query."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q

from renkei.accounts.models import OrgKind
from renkei.courses.models import Course, CourseRound
from renkei.events.models import Applicant
from renkei.pdca.tables import EVENT_COUNTS, event_counts
from renkei.programmes.models import ProgrammeLine, ProgrammeTable
from renkei.regions.models import Municipality


@dataclass(frozen=True)
class CourseFigures:
    course: Course
    rounds: int  # 回数
    participants: int  # 受講者数

    @property
    def label(self) -> str:
        return f"{self.course.title}: {self.rounds}回・受講者{self.participants}人"


def event_figures(table: ProgrammeTable) -> list[tuple[str, int]]:
    """研修・普及啓発の回数と受講者数 of the owner's municipality (a prefecture: all of its
    municipalities) for the table's year; empty for an owner with no municipality."""
    owner = table.owner
    if owner.municipality_id:
        ids = [owner.municipality_id]
    elif owner.kind == OrgKind.PREFECTURE and owner.prefecture_id:
        ids = list(
            Municipality.objects.filter(prefecture_id=owner.prefecture_id).values_list(
                "pk", flat=True
            )
        )
    else:
        return []
    counts = event_counts(ids, table.fiscal_year)
    return [(label, int(counts[label])) for label in EVENT_COUNTS.values()]


def attach_course_figures(lines: list[ProgrammeLine], fiscal_year: int) -> None:
    """`line.course_figures` for each line (its `courses` prefetched): one query in all."""
    courses = {c.pk: c for ln in lines for c in ln.courses.all()}
    counts: dict[int, tuple[int, int]] = {}
    if courses:
        rows = (
            CourseRound.objects.in_fiscal_year(fiscal_year)
            .filter(course_id__in=courses)
            .values("course_id")
            .annotate(
                rounds=Count("pk", distinct=True),
                participants=Count(
                    "event__applicants",
                    filter=Q(event__applicants__status=Applicant.Status.CONFIRMED),
                    distinct=True,
                ),
            )
            .order_by()
        )
        counts = {r["course_id"]: (r["rounds"], r["participants"]) for r in rows}
    for ln in lines:
        ln.course_figures = [  # type: ignore[attr-defined]
            CourseFigures(c, *counts.get(c.pk, (0, 0))) for c in ln.courses.all()
        ]
