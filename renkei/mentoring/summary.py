"""The yearly summary of a programme: applications, trainings done, by profession, mentors' load, honoraria."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, Sum
from django.http import HttpResponse
from django.utils import timezone

from renkei.lib import exports
from renkei.mentoring.models import (
    TRAINING_DONE,
    ApplicationStatus,
    Match,
    Profession,
    TraineeApplication,
    TrainingProgram,
)


@dataclass
class ProfessionRow:
    label: str
    applications: int
    cancelled: int
    matched: int
    done: int


@dataclass
class MentorRow:
    name: str
    affiliation: str
    matches: int
    done: int
    honoraria: int


@dataclass
class Summary:
    program: TrainingProgram
    applications: int
    cancelled: int
    open: int
    matched: int
    done: int
    reported: int
    honoraria_total: int
    honoraria_unpaid: int
    by_profession: list[ProfessionRow]
    mentors: list[MentorRow]
    extra_allowed_now: bool
    counted_on_january: int
    before_january: bool


def yearly_summary(program: TrainingProgram) -> Summary:
    apps = TraineeApplication.objects.filter(program=program)
    done_q = Q(status__in=TRAINING_DONE)
    matched_q = ~Q(status__in=[ApplicationStatus.APPLIED, ApplicationStatus.CANCELLED])
    cancelled_q = Q(status=ApplicationStatus.CANCELLED)
    totals = apps.aggregate(
        n=Count("pk"),
        cancelled=Count("pk", filter=cancelled_q),
        open=Count("pk", filter=Q(status=ApplicationStatus.APPLIED)),
        matched=Count("pk", filter=matched_q),
        done=Count("pk", filter=done_q),
        reported=Count("pk", filter=Q(status=ApplicationStatus.REPORTED)),
    )
    per_prof: dict[str, dict[str, Any]] = {
        row["profession"]: dict(row)
        for row in apps.values("profession")
        .annotate(
            n=Count("pk"),
            cancelled=Count("pk", filter=cancelled_q),
            matched=Count("pk", filter=matched_q),
            done=Count("pk", filter=done_q),
        )
        .order_by()
    }
    by_profession = [
        ProfessionRow(
            label=label,
            applications=per_prof.get(value, {}).get("n", 0),
            cancelled=per_prof.get(value, {}).get("cancelled", 0),
            matched=per_prof.get(value, {}).get("matched", 0),
            done=per_prof.get(value, {}).get("done", 0),
        )
        for value, label in Profession.choices
    ]
    matches = Match.objects.filter(application__program=program).exclude(
        application__status=ApplicationStatus.CANCELLED
    )
    money = matches.aggregate(
        paid=Sum("honorarium_amount"),
        unpaid=Count(
            "pk",
            filter=Q(mentor_report_at__isnull=False, honorarium_paid_at__isnull=True),
        ),
    )
    mentors = [
        MentorRow(
            name=row["mentor__name"],
            affiliation=row["mentor__affiliation"],
            matches=row["n"],
            done=row["done"],
            honoraria=row["paid"] or 0,
        )
        for row in matches.values(
            "mentor__pk", "mentor__name", "mentor__affiliation", "mentor__kana"
        )
        .annotate(
            n=Count("pk"),
            done=Count("pk", filter=Q(application__status__in=TRAINING_DONE)),
            paid=Sum("honorarium_amount"),
        )
        .order_by("-n", "mentor__kana", "mentor__pk")
    ]
    return Summary(
        program=program,
        applications=totals["n"],
        cancelled=totals["cancelled"],
        open=totals["open"],
        matched=totals["matched"],
        done=totals["done"],
        reported=totals["reported"],
        honoraria_total=money["paid"] or 0,
        honoraria_unpaid=money["unpaid"],
        by_profession=by_profession,
        mentors=mentors,
        extra_allowed_now=program.extra_trainings_allowed(),
        counted_on_january=program.trainings_before_january(),
        before_january=timezone.localdate() < program.january_first,
    )


def summary_rows(s: Summary) -> list[list[Any]]:
    p = s.program
    rows: list[list[Any]] = [
        [f"{p.name} {p.fy_label} 実績"],
        ["主催", p.organizer.name],
        ["実施予定数", p.planned_count],
        ["申込数（取消を除く）", s.applications - s.cancelled],
        ["取消", s.cancelled],
        ["指導医決定済み", s.matched],
        ["研修実施", s.done],
        ["報告完了", s.reported],
        ["指導謝礼の支払額（円）", s.honoraria_total],
        ["謝礼未払い（報告済み）", s.honoraria_unpaid],
        [],
        ["職種", "申込", "取消", "指導医決定", "研修実施"],
    ]
    rows += [[r.label, r.applications, r.cancelled, r.matched, r.done] for r in s.by_profession]
    rows += [[], ["指導医", "所属", "担当件数", "実施件数", "謝礼（円）"]]
    rows += [[m.name, m.affiliation, m.matches, m.done, m.honoraria] for m in s.mentors]
    return rows


def summary_response(s: Summary, fmt: str, filename: str) -> HttpResponse:
    """The figures as one CSV block, or as an XLSX with one sheet per table."""
    whole = exports.Sheet("実績", rows=summary_rows(s), freeze=None)
    first = exports.Sheet("実績", rows=summary_rows(s)[:10], freeze=None, widths=[32])
    prof = exports.Sheet(
        "職種別",
        ["職種", "申込", "取消", "指導医決定", "研修実施"],
        [[r.label, r.applications, r.cancelled, r.matched, r.done] for r in s.by_profession],
        widths=[32],
    )
    mentors = exports.Sheet(
        "指導医別",
        ["指導医", "所属", "担当件数", "実施件数", "謝礼（円）"],
        [[m.name, m.affiliation, m.matches, m.done, m.honoraria] for m in s.mentors],
        widths=[32],
    )
    return exports.response(fmt, filename, first, prof, mentors, csv_sheets=[whole])
