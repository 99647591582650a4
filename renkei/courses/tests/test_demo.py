from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import override_settings
from django.utils import timezone

from renkei.courses import dispatch, tally
from renkei.courses.models import Certificate, Course, DispatchRequest, Material
from renkei.demo.courses import INTRO_COURSE, LONG_COURSE, seed_courses
from renkei.lib.dates import fiscal_year

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(tmp_path: object) -> Iterator[None]:
    with override_settings(MEDIA_ROOT=str(tmp_path)):
        yield


def test_the_demo_seeds_every_part_once() -> None:
    seeded = seed_courses()
    intro = Course.objects.get(title=INTRO_COURSE)
    assert intro.rounds.count() == 2
    assert [r.sessions.count() for r in intro.rounds.all()] == [2, 2]
    long = Course.objects.get(title=LONG_COURSE)
    assert {s.kind for s in long.rounds.get().sessions.all()} == {"lecture", "practicum"}
    # Round 1: 9 applied, 7 came both days and hold certificates numbered 1..7.
    assert sorted(
        Certificate.objects.filter(course=intro).values_list("number", flat=True)
    ) == list(range(1, 8))
    assert DispatchRequest.objects.exists()
    assert Material.objects.count() == 4
    fy = fiscal_year(timezone.localdate())
    counts = dispatch.yearly_counts(seeded.officer.organization, fy)
    assert (
        counts.total
        == DispatchRequest.objects.in_fiscal_year(fy)
        .filter(status__in=["confirmed", "reported"])
        .count()
    )
    before = (Course.objects.count(), DispatchRequest.objects.count(), Material.objects.count())
    seed_courses()
    assert (
        Course.objects.count(),
        DispatchRequest.objects.count(),
        Material.objects.count(),
    ) == before
    figures = tally.yearly(intro.organization, intro.rounds.get(number=1).fiscal_year)
    assert figures.completers >= 7
