from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from renkei.accounts.models import Membership
from renkei.mentoring import actions
from renkei.mentoring.models import (
    ApplicationStatus,
    Match,
    OncePerYearError,
    TraineeApplication,
    TrainingProgram,
)
from renkei.mentoring.testing import decide as decide_match
from renkei.mentoring.testing import make_application, make_mentor

# Programme FY2025 (令和7年度): 1 January of the fiscal year is 2026-01-01; two trainings planned.
DEC_31 = dt.date(2025, 12, 31)
JAN_1 = dt.date(2026, 1, 1)


def decide(a: TraineeApplication, office: Membership, on: dt.date) -> Match:
    mentor = make_mentor(office.organization, email=f"mentor-{a.pk}@example.jp")
    m = decide_match(a, mentor, by=office, today=on)
    Match.objects.filter(pk=m.pk).update(
        decided_at=timezone.make_aware(dt.datetime.combine(on, dt.time(12)))
    )
    return m


def matched(program: TrainingProgram, office: Membership, n: int, *, decided: dt.date) -> None:
    """n other trainees matched on a given day (the count the 1 January rule looks at)."""
    for i in range(n):
        a = make_application(
            program,
            f"他の受講者{i}（仮名）",
            kana=f"ほか{i}",
            email=f"other{i}@example.jp",
            today=decided,
        )
        decide(a, office, decided)


def test_second_training_refused_before_january(
    program: TrainingProgram, office: Membership
) -> None:
    """On 31 December a trainee with one training this year cannot apply again; nothing is saved."""
    make_application(program, today=dt.date(2025, 6, 1))
    with pytest.raises(OncePerYearError) as e:
        make_application(program, today=DEC_31)
    assert "原則として年度内1回" in str(e.value)
    assert "2026年1月1日の時点で実施予定数（2件）に達していない場合に限り" in str(e.value)
    assert TraineeApplication.objects.count() == 1


def test_second_training_allowed_from_january_when_plan_not_reached(
    program: TrainingProgram, office: Membership
) -> None:
    """From 1 January, with fewer trainings than planned on that day, the second application passes."""
    first = make_application(program, today=dt.date(2025, 6, 1))
    decide(first, office, dt.date(2025, 7, 1))
    assert program.trainings_before_january() == 1  # < 2 planned
    assert not program.extra_trainings_allowed(DEC_31)
    assert program.extra_trainings_allowed(JAN_1)
    second = make_application(program, today=JAN_1)
    assert second.status == ApplicationStatus.APPLIED
    assert TraineeApplication.objects.filter(email="trainee@example.jp").count() == 2


def test_second_training_refused_from_january_when_plan_was_reached(
    program: TrainingProgram, office: Membership
) -> None:
    """If the plan (2) was reached before 1 January, the rule still holds in January."""
    make_application(program, today=dt.date(2025, 6, 1))
    matched(program, office, 2, decided=dt.date(2025, 12, 20))
    with pytest.raises(OncePerYearError, match="達していたため、今年度の追加受講はできません"):
        make_application(program, today=JAN_1)


def test_matches_decided_after_january_do_not_count_for_the_snapshot(
    program: TrainingProgram, office: Membership
) -> None:
    """The plan is measured on 1 January: matches decided in January do not close the exception."""
    make_application(program, today=dt.date(2025, 6, 1))
    matched(program, office, 2, decided=dt.date(2026, 1, 5))
    assert program.trainings_before_january() == 0
    make_application(program, today=dt.date(2026, 1, 10))


def test_same_person_is_recognised_by_name_and_reading(program: TrainingProgram) -> None:
    """A different e-mail does not hide the same trainee (name and kana, any width)."""
    make_application(
        program, "受講 花子（仮名）", kana="じゅこう はなこ", today=dt.date(2025, 6, 1)
    )
    with pytest.raises(OncePerYearError):
        make_application(
            program,
            "受講 花子（仮名）",
            kana="ジュコウ ハナコ",
            email="other@example.jp",
            today=DEC_31,
        )


def test_cancelled_application_does_not_count(program: TrainingProgram, office: Membership) -> None:
    """A cancelled application frees the trainee to apply again the same year."""
    first = make_application(program, today=dt.date(2025, 6, 1))
    actions.cancel_application(
        first, by=office, data=actions.MentoringCancelInput(reason="本人の都合")
    )
    make_application(program, today=DEC_31)
    assert TraineeApplication.objects.exclude(status=ApplicationStatus.CANCELLED).count() == 1


def test_other_fiscal_year_does_not_count(program: TrainingProgram) -> None:
    """Last year's training does not block this year's."""
    make_application(program, today=dt.date(2025, 6, 1))
    next_year = TrainingProgram.objects.create(
        organizer=program.organizer, fiscal_year=2026, planned_count=2, honorarium_amount=20_000
    )
    make_application(next_year, today=dt.date(2026, 4, 1))
