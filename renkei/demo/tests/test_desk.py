from __future__ import annotations

import datetime as dt

import pytest

from renkei.demo.desk import seed_desk
from renkei.desk.models import Consultation, FollowUp
from renkei.desk.tally import yearly_tally

pytestmark = pytest.mark.django_db


def test_seed_builds_a_year_of_synthetic_records_once() -> None:
    """The demo seed fills the fiscal year up to the given day, names only （仮名） people, and is idempotent."""
    result = seed_desk(today=dt.date(2025, 11, 20), count=24)
    desk = result["desk"]
    assert result["created"] == 24
    assert Consultation.objects.filter(desk=desk).count() == 24
    named = Consultation.objects.exclude(subject_name="")
    assert named.exists() and all("（仮名）" in c.subject_name for c in named)
    assert FollowUp.objects.exists()
    assert yearly_tally(desk, 2025).total == 24
    again = seed_desk(today=dt.date(2025, 11, 20), count=24)
    assert again["created"] == 0 and Consultation.objects.count() == 24
