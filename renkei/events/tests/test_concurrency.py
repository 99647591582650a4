from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from renkei.accounts.models import Organization
from renkei.events import actions
from renkei.events.models import Applicant
from renkei.events.testing import application_data, make_application, make_event, person
from renkei.lib.actions import ActionError

APPLICANTS = 100
PLACES_LEFT = 10
# Concurrent connections: enough to contend hard on the lock, few enough to stay well under
# PostgreSQL's default max_connections=100 on a machine that runs other test databases.
WORKERS = 32


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_hundred_applicants_for_ten_places_never_overfill(organiser: Organization) -> None:
    """100 people apply at once for the last 10 places: exactly 10 are confirmed and 90
    wait, in a gap-free order of arrival, and nobody gets a place twice."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL; SQLite serialises writers instead")
    event = make_event(organiser, capacity=70)
    i = 0
    while i < 60:
        make_application(event, 3, start=1000 + i, contact_email=f"o{i}@example.jp", notify=False)
        i += 3
    assert event.places_left() == PLACES_LEFT

    barrier = threading.Barrier(WORKERS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker(slot: int) -> None:
        try:
            barrier.wait(timeout=30)
            for n in range(slot, APPLICANTS, WORKERS):
                data = application_data(
                    [person(n, tag="rush")], contact_email=f"rush{n}@example.jp"
                )
                try:
                    actions.apply(event, data, notify=False)
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
    rush = Applicant.objects.filter(event=event, email_key__startswith="rush")
    assert rush.filter(status=Applicant.Status.CONFIRMED).count() == PLACES_LEFT
    assert rush.filter(status=Applicant.Status.WAITLISTED).count() == APPLICANTS - PLACES_LEFT
    assert event.applicants.confirmed().count() == 70
    positions = list(event.applicants.order_by("position").values_list("position", flat=True))
    assert positions == list(range(1, 60 + APPLICANTS + 1))
    # The confirmed newcomers are the first ten to get the lock, not an arbitrary ten.
    first_rush = list(rush.order_by("position").values_list("status", flat=True)[:PLACES_LEFT])
    assert set(first_rush) == {Applicant.Status.CONFIRMED}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_same_email_at_once_gets_one_place(organiser: Organization) -> None:
    """Ten simultaneous submissions with one e-mail: one is accepted, nine are refused."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    event = make_event(organiser, capacity=30)
    barrier = threading.Barrier(10)
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            data = application_data([person(7)], contact_email=f"c{n}@example.jp")
            try:
                actions.apply(event, data, notify=False)
                result = "ok"
            except ActionError:
                result = "refused"
            with lock:
                outcomes.append(result)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Counter(outcomes) == {"ok": 1, "refused": 9}
    assert Applicant.objects.filter(event=event).count() == 1
