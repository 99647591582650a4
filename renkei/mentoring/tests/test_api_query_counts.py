"""The 同行研修 API lists cost the same number of queries for a few rows as for many."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.test import Client
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from renkei.accounts.models import Membership
from renkei.mentoring.models import Match, TrainingProgram
from renkei.mentoring.testing import decide, make_application, make_mentor, make_program
from renkei.mentoring.tests.conftest import login


def same_cost(
    client: Client,
    url: str,
    grow: Callable[[], None],
    assert_num: DjangoAssertNumQueries,
    assert_max: DjangoAssertNumQueries,
    ceiling: int = 14,
) -> None:
    with assert_max(ceiling) as few:
        assert client.get(url).status_code == 200
    grow()
    with assert_num(len(few.captured_queries)):
        assert client.get(url).status_code == 200


def test_programmes_with_the_january_rule_in_one_query(
    client: Client,
    program: TrainingProgram,
    office: Membership,
    django_assert_num_queries: DjangoAssertNumQueries,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    """Past programmes (whose 1 January has come) need their match count: no query each."""
    login(client, office)

    def grow() -> None:
        for fy in (2021, 2022, 2023, 2024):
            past = make_program(program.organizer, fiscal_year=fy, planned_count=1)
            a = make_application(past, email=f"t{fy}@example.jp", today=dt.date(fy, 6, 1))
            m = decide(a, make_mentor(program.organizer, email=f"m{fy}@example.jp"), by=office)
            if fy == 2023:  # decided in December: counts against FY2023's plan of one
                december = dt.datetime(2023, 12, 1, 10, tzinfo=timezone.get_current_timezone())
                Match.objects.filter(pk=m.pk).update(decided_at=december)

    same_cost(
        client,
        "/api/v1/mentoring/programs",
        grow,
        django_assert_num_queries,
        django_assert_max_num_queries,
    )
    rows = {p["fiscal_year"]: p for p in client.get("/api/v1/mentoring/programs").json()}
    # Matches decided today come after those years' 1 January; FY2023's came before it.
    assert rows[2021]["extra_trainings_allowed"] is True
    assert rows[2023]["extra_trainings_allowed"] is False
    for p in TrainingProgram.objects.all():  # the annotation agrees with the model's own count
        assert rows[p.fiscal_year]["extra_trainings_allowed"] == p.extra_trainings_allowed()


def test_applications_mentors_and_suggestions(
    client: Client,
    program: TrainingProgram,
    office: Membership,
    django_assert_num_queries: DjangoAssertNumQueries,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    """Areas, weekdays and matches of every row come with the page, not per row."""
    login(client, office)
    first = make_application(program)
    make_mentor(office.organization, area_codes=["142018", "142042"])

    def grow_applications() -> None:
        for i in range(6):
            a = make_application(
                program,
                f"受講者{i}（仮名）",
                kana=f"じゅこうしゃ{i}",
                email=f"a{i}@example.jp",
                area_codes=["142018", "142042"],
            )
            if i % 2:
                decide(a, make_mentor(office.organization, email=f"x{i}@example.jp"), by=office)

    same_cost(
        client,
        f"/api/v1/mentoring/programs/{program.code}/applications",
        grow_applications,
        django_assert_num_queries,
        django_assert_max_num_queries,
    )

    def grow_mentors() -> None:
        for i in range(5):
            make_mentor(
                office.organization,
                f"指導医{i}（仮名）",
                email=f"mentor-extra{i}@example.jp",
                area_codes=["142018", "142042"],
            )

    same_cost(
        client,
        "/api/v1/mentoring/mentors",
        grow_mentors,
        django_assert_num_queries,
        django_assert_max_num_queries,
    )
    same_cost(
        client,
        f"/api/v1/mentoring/applications/{first.code}/suggestions",
        grow_mentors,
        django_assert_num_queries,
        django_assert_max_num_queries,
    )
