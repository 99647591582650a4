from __future__ import annotations

import pytest
from django.utils import timezone

from renkei.demo.events import seed_events
from renkei.events.models import Applicant, Event, Feedback

pytestmark = pytest.mark.django_db


def test_seed_builds_the_flyers_and_is_idempotent() -> None:
    """Seed 002's two flyers (30 and 80 places) with attendance and answers, upcoming events
    with a waiting list; a second call adds nothing."""
    events = seed_events(now=timezone.now())
    titles = {e.title: e for e in events}
    ebina = titles["在宅・施設での急変時対応"]
    aikawa = titles["安心して過ごせる場をどう作っていくか"]
    assert (ebina.capacity, aikawa.capacity) == (30, 80)
    assert ebina.date_label == "令和7年10月24日(金)"
    assert aikawa.date_label == "令和8年2月13日(金)"
    assert ebina.applicants.filter(attended=True).exists()
    assert Feedback.objects.filter(event=aikawa).exists()
    assert Applicant.objects.filter(status=Applicant.Status.WAITLISTED).exists()
    assert Event.objects.published().upcoming().count() == 3
    # Lecturers are invented, not the people on the real flyer.
    names = set(ebina.lecturers.values_list("name", flat=True))
    assert names == {"相模 一郎", "大山 健"}
    count = Applicant.objects.count()
    seed_events(now=timezone.now())
    assert Applicant.objects.count() == count


def test_the_public_lecture_has_residents_with_companions_and_needs() -> None:
    """The demo's 市民向け講座 shows the resident's form at work: parties of one to three,
    a wheelchair and sign language to prepare."""
    from renkei.events.models import EventKind
    from renkei.events.tallies import needs_of

    lecture = next(e for e in seed_events(now=timezone.now()) if e.kind == EventKind.PUBLIC_LECTURE)
    assert lecture.applications.count() == 8
    assert lecture.applicants.count() == 15  # parties of 1, 2, 3, 1, 2, 3, 1, 2
    assert lecture.applicants.filter(occupation="citizen").count() == lecture.applicants.count()
    assert dict(needs_of(lecture))["車椅子で来場"] == 1
