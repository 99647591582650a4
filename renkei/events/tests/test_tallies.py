from __future__ import annotations

import datetime as dt
import io

import pytest
from django.test import Client
from django.urls import reverse

from renkei.accounts.models import Membership, Organization
from renkei.events import actions, tallies
from renkei.events.models import Event, Occupation
from renkei.events.testing import applicant, application_data, make_event
from renkei.events.tests.conftest import local

pytestmark = pytest.mark.django_db


def people(*occupations: str, tag: str) -> list[actions.EventApplicantInput]:
    return [
        applicant(f"参加 {i}", "さんか", f"{tag}{i}@example.jp", occ)
        for i, occ in enumerate(occupations)
    ]


def past_event(org: Organization, day: tuple[int, int, int], capacity: int = 3) -> Event:
    starts = local(*day, 18, 30)
    return make_event(org, starts_at=starts, capacity=capacity)


def apply_before(event: Event, applicants: list[actions.EventApplicantInput], email: str) -> None:
    actions.apply(
        event,
        application_data(applicants, contact_email=email),
        now=event.starts_at - dt.timedelta(days=20),
    )


def mark(event: Event, by: Membership, *names: str) -> None:
    for a in event.applicants.filter(name__in=names):
        actions.set_attendance(a, actions.AttendanceInput(attended=True), by=by)


@pytest.fixture
def year(organiser: Organization, alice: Membership, charlie: Membership) -> list[Event]:
    """FY2025 (令和7年度): two events of the organiser; one in FY2024 and one elsewhere."""
    e1 = past_event(organiser, (2025, 10, 24))
    apply_before(
        e1, people("doctor", "nurse", "care_worker", "care_worker", tag="a"), "a@example.jp"
    )
    mark(e1, alice, "参加 0", "参加 2")
    e2 = past_event(organiser, (2026, 3, 13), capacity=10)
    apply_before(e2, people("nurse", "care_manager", tag="b"), "b@example.jp")
    mark(e2, alice, "参加 0", "参加 1")
    old = past_event(organiser, (2025, 3, 10))
    apply_before(old, people("doctor", tag="c"), "c@example.jp")
    other = past_event(charlie.organization, (2025, 11, 1))
    apply_before(other, people("doctor", "doctor", tag="d"), "d@example.jp")
    return [e1, e2]


def test_event_tally_counts_by_occupation(year: list[Event]) -> None:
    """Applied includes the waiting list; confirmed and attended are counted apart."""
    t = tallies.event_tally(year[0])
    assert vars(t.by_occupation[Occupation.CARE_WORKER]) == {
        "applied": 2,
        "confirmed": 1,
        "waitlisted": 1,
        "attended": 1,
    }
    assert t.by_occupation[Occupation.DOCTOR].attended == 1
    assert vars(t.total) == {"applied": 4, "confirmed": 3, "waitlisted": 1, "attended": 2}


def test_fiscal_year_tally_spans_april_to_march(organiser: Organization, year: list[Event]) -> None:
    """令和7年度 holds October and March events, not the earlier March or other bodies'."""
    y = tallies.year_tally(organiser, 2025)
    assert y.label.startswith("令和7年度")
    assert [e.pk for e, _ in y.events] == [year[0].pk, year[1].pk]
    assert y.total.by_occupation[Occupation.NURSE].applied == 2
    assert y.total.by_occupation[Occupation.NURSE].attended == 1
    assert y.total.by_occupation[Occupation.DOCTOR].applied == 1
    assert y.total.total.attended == 4


def test_cancelled_applicants_are_not_counted(organiser: Organization, year: list[Event]) -> None:
    """A cancelled doctor no longer appears among applicants."""
    e = make_event(organiser, capacity=5)
    apply_before_now = actions.apply(
        e, application_data(people("doctor", tag="x"), contact_email="x@example.jp")
    )
    actions.cancel(apply_before_now[0])
    assert tallies.event_tally(e).by_occupation[Occupation.DOCTOR].applied == 0


def test_year_tally_page_and_exports(alice_client: Client, year: list[Event]) -> None:
    """The yearly page shows 和暦; CSV and Excel carry one row per event plus the total."""
    page = alice_client.get(reverse("events:year_tally") + "?fy=2025").content.decode()
    assert "令和7年度" in page and "看護職" in page
    csv_text = alice_client.get(
        reverse("events:year_tally_export", args=["csv"]) + "?fy=2025"
    ).content.decode()
    lines = csv_text.strip().splitlines()
    assert "医師 申込" in lines[0]
    assert len(lines) == 1 + 2 + 1
    assert lines[-1].split(",")[2] == "合計"
    from openpyxl import load_workbook

    xlsx = alice_client.get(reverse("events:year_tally_export", args=["xlsx"]) + "?fy=2025")
    ws = load_workbook(io.BytesIO(xlsx.content)).active
    header = [c.value for c in ws[1]]
    last = [c.value for c in ws[ws.max_row]]
    assert last[header.index("看護職 申込")] == 2
    assert last[header.index("介護職 申込")] == 2
    assert last[header.index("合計 出席")] == 4


def test_year_tally_ignores_a_bad_year(alice_client: Client, year: list[Event]) -> None:
    """A malformed fy falls back to the current fiscal year instead of failing."""
    assert alice_client.get(reverse("events:year_tally") + "?fy=abc").status_code == 200
