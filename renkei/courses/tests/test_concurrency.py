from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections
from django.utils import timezone

from renkei.accounts.models import Membership
from renkei.courses import actions
from renkei.courses.testing import course_application, make_course, nurse, two_day_round
from renkei.events.models import Applicant
from renkei.lib.actions import ActionError

APPLICANTS = 60
WORKERS = 24


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_applications_to_two_rounds(alice: Membership) -> None:
    """60 nurses apply at once, alternating between round 1 (8 places) and round 2 (5
    places): each round confirms exactly its capacity, the rest wait in a gap-free order of
    arrival, and no round borrows the other's places."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL; SQLite serialises writers instead")
    first = timezone.localdate() + dt.timedelta(days=30)
    course = make_course(
        alice,
        rounds=[
            two_day_round(1, first, capacity=8),
            two_day_round(2, first + dt.timedelta(days=7), capacity=5),
        ],
    )
    rounds = {r.number: r for r in course.rounds.all()}
    barrier = threading.Barrier(WORKERS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker(slot: int) -> None:
        try:
            barrier.wait(timeout=30)
            for n in range(slot, APPLICANTS, WORKERS):
                data = course_application(
                    [nurse(n, tag="rush")], contact_email=f"rush{n}@example.jp"
                )
                try:
                    actions.apply(rounds[1 + n % 2], data, notify=False)
                    result = "ok"
                except ActionError as e:
                    result = e.message
                with lock:
                    outcomes.append(result)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        list(pool.map(worker, range(WORKERS)))

    assert Counter(outcomes) == {"ok": APPLICANTS}
    for number, capacity in ((1, 8), (2, 5)):
        people = Applicant.objects.filter(event=rounds[number].event).order_by("position")
        statuses = list(people.values_list("status", flat=True))
        assert len(statuses) == APPLICANTS // 2
        # The first `capacity` to get the lock are confirmed, everyone after them waits.
        assert statuses == ["confirmed"] * capacity + ["waitlisted"] * (APPLICANTS // 2 - capacity)
        assert list(people.values_list("position", flat=True)) == list(
            range(1, APPLICANTS // 2 + 1)
        )
        assert rounds[number].enrolments.count() == APPLICANTS // 2
