"""The main API lists of the newer apps cost the same number of queries for a few rows as for
many (issue 10: the API's query counts are tested like the screens'). The older apps keep theirs
beside their own tests: `<app>/tests/test_api_query_counts.py` (directory, referrals, desk,
mentoring) and `events/tests/test_query_counts.py`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.test import Client
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from renkei.accounts.models import Membership, OrgKind, Role
from renkei.care.testing import make_patient
from renkei.courses.testing import make_course
from renkei.oncall.testing import make_clinic, make_organiser, make_rota
from renkei.pdca.testing import make_prefecture_officer, send_kenou_survey
from renkei.programmes.testing import make_city_office, make_issue, make_table
from renkei.testing import make_member, make_org, sign_in

pytestmark = pytest.mark.django_db

# Synthetic given names (ふりがな in kana only).
GIVEN = [
    ("花子", "はなこ"),
    ("一郎", "いちろう"),
    ("次郎", "じろう"),
    ("三郎", "さぶろう"),
    ("春子", "はるこ"),
    ("夏子", "なつこ"),
    ("秋子", "あきこ"),
    ("冬子", "ふゆこ"),
    ("桜", "さくら"),
    ("楓", "かえで"),
    ("葵", "あおい"),
    ("蓮", "れん"),
]

# How many queries a list may take at most: a ceiling, so that a first count of "everything
# per row" cannot pass as the baseline.
CEILING = 16


def same_cost(
    client: Client,
    url: str,
    grow: Callable[[int, int], object],
    assert_num: DjangoAssertNumQueries,
    assert_max: DjangoAssertNumQueries,
) -> None:
    """2 rows, then 12: the list answers with the same number of queries and more items."""
    grow(0, 2)
    client.get(url)  # what a process caches once (vocabularies) is not counted per request
    with assert_max(CEILING) as few:
        r = client.get(url)
    assert r.status_code == 200, r.content
    before = r.json()
    grow(2, 10)
    with assert_num(len(few.captured_queries)):
        r = client.get(url)
    assert r.status_code == 200
    assert _size(r.json()) > _size(before) >= 1


def _size(body: object) -> int:
    if isinstance(body, dict):
        return int(body.get("count", len(body.get("items", []))))
    assert isinstance(body, list)
    return len(body)


def _client(member: Membership) -> Client:
    client = Client()
    sign_in(client, member.user)
    return client


def test_care_patients(
    django_assert_num_queries: DjangoAssertNumQueries,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    clinic = make_org("みどり在宅クリニック", OrgKind.CLINIC, municipality_code="142158")
    doctor = make_member(clinic, Role.DOCTOR, username="care-doctor")

    def grow(start: int, n: int) -> None:
        for i in range(start, start + n):
            make_patient(
                doctor,
                name=f"連携 {GIVEN[i][0]}",
                kana=f"れんけい {GIVEN[i][1]}",
                birth_date=dt.date(1930 + i, 4, 12),
                insured_number=f"{1400000001 + i}",
            )

    same_cost(
        _client(doctor),
        "/api/v1/care/patients",
        grow,
        django_assert_num_queries,
        django_assert_max_num_queries,
    )


def test_oncall_rotas(
    django_assert_num_queries: DjangoAssertNumQueries,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    organiser = make_organiser(username="rota-organiser")
    clinics = [make_clinic("さがみ内科"), make_clinic("あつぎ診療所")]

    def grow(start: int, n: int) -> None:
        for i in range(start, start + n):
            make_rota(organiser, clinics, name=f"当番表{i}", area="")

    same_cost(
        _client(organiser),
        "/api/v1/oncall/rotas",
        grow,
        django_assert_num_queries,
        django_assert_max_num_queries,
    )


@pytest.mark.parametrize("path", ["/api/v1/programmes/tables", "/api/v1/programmes/issues"])
def test_programmes_tables_and_issues(
    django_assert_num_queries: DjangoAssertNumQueries,
    django_assert_max_num_queries: DjangoAssertNumQueries,
    path: str,
) -> None:
    office = make_city_office(username="city-office")
    today = timezone.localdate()

    def grow(start: int, n: int) -> None:
        for i in range(start, start + n):
            if path.endswith("tables"):
                make_table(office, 2010 + i)
            else:
                make_issue(office, f"課題{i}", today - dt.timedelta(days=i))

    same_cost(_client(office), path, grow, django_assert_num_queries, django_assert_max_num_queries)


def test_pdca_surveys(
    django_assert_num_queries: DjangoAssertNumQueries,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    officer = make_prefecture_officer()

    def grow(start: int, n: int) -> None:
        for i in range(start, start + n):
            send_kenou_survey(officer, fiscal_year=2010 + i, title=f"取組状況調査{i}")

    same_cost(
        _client(officer),
        "/api/v1/programmes/surveys/",
        grow,
        django_assert_num_queries,
        django_assert_max_num_queries,
    )


@pytest.mark.parametrize("who", ["public", "organiser"])
def test_courses_public_and_managed(
    django_assert_num_queries: DjangoAssertNumQueries,
    django_assert_max_num_queries: DjangoAssertNumQueries,
    who: str,
) -> None:
    org = make_org("神奈川県看護協会", OrgKind.MEDICAL_ASSOCIATION, prefecture_code="14")
    organiser = make_member(org, Role.NURSE, username="course-organiser")

    def grow(start: int, n: int) -> None:
        for i in range(start, start + n):
            make_course(organiser, title=f"訪問看護導入研修{i}", days_ahead=40 + i)

    client, url = (
        (Client(), "/api/v1/courses/")
        if who == "public"
        else (_client(organiser), "/api/v1/courses/manage/courses")
    )
    same_cost(client, url, grow, django_assert_num_queries, django_assert_max_num_queries)
