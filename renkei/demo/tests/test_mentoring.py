from __future__ import annotations

import datetime as dt

import pytest

from renkei.demo.mentoring import seed_mentoring
from renkei.mentoring.models import ApplicationStatus, TraineeApplication
from renkei.mentoring.summary import yearly_summary

pytestmark = pytest.mark.django_db


def test_seed_covers_every_stage_once() -> None:
    """The demo programme has open, matched, scheduled, done and reported applications; a re-run adds nothing."""
    result = seed_mentoring(today=dt.date(2025, 11, 20))
    statuses = set(TraineeApplication.objects.values_list("status", flat=True))
    assert statuses == {
        ApplicationStatus.APPLIED,
        ApplicationStatus.MATCHED,
        ApplicationStatus.SCHEDULED,
        ApplicationStatus.DONE,
        ApplicationStatus.REPORTED,
    }
    s = yearly_summary(result["program"])
    assert s.honoraria_total == 20_000 and s.done == 2
    assert seed_mentoring(today=dt.date(2025, 11, 20))["created"] == 0
    assert TraineeApplication.objects.count() == 6
