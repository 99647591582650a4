"""The desk's API lists cost the same number of queries for a few rows as for many."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.test import Client
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from renkei.accounts.models import Membership, OrgKind
from renkei.desk import actions
from renkei.desk.models import Consultation, Desk
from renkei.desk.testing import make_consultation, make_desk, make_followup
from renkei.desk.tests.conftest import login
from renkei.testing import make_facility, make_org


def same_cost(
    client: Client,
    url: str,
    grow: Callable[[], None],
    assert_num: DjangoAssertNumQueries,
    assert_max: DjangoAssertNumQueries,
    ceiling: int,
) -> None:
    """Measure `url`, add rows with `grow`, and require exactly the same number of queries."""
    with assert_max(ceiling) as few:
        assert client.get(url).status_code == 200
    grow()
    with assert_num(len(few.captured_queries)):
        assert client.get(url).status_code == 200


@pytest.fixture
def signed_in(client: Client, counselor: Membership) -> Client:
    return login(client, counselor)


def test_consultation_list(
    signed_in: Client,
    desk: Desk,
    counselor: Membership,
    django_assert_num_queries: DjangoAssertNumQueries,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    """Topics of every row come in one query; the read is audited once."""
    make_consultation(desk, counselor)

    def grow() -> None:
        for i in range(12):
            make_consultation(
                desk, counselor, topic_names=["訪問看護", "認知症"], subject_name=f"見本{i}（仮名）"
            )

    same_cost(
        signed_in,
        f"/api/v1/desk/desks/{desk.code}/consultations",
        grow,
        django_assert_num_queries,
        django_assert_max_num_queries,
        16,
    )


def test_consultation_detail(
    signed_in: Client,
    desk: Desk,
    counselor: Membership,
    clerk: Membership,
    django_assert_num_queries: DjangoAssertNumQueries,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    """More topics, referred facilities and follow-ups (with assignees) add no query."""
    c = make_consultation(desk, counselor)

    def grow() -> None:
        facilities = [make_facility(f"資源{i}（仮名）") for i in range(3)]
        c.referred_facilities.set(facilities)
        c.topics.add(*desk.topics()[:4])
        for i in range(4):
            actions.add_followup(
                c,
                by=counselor,
                data=actions.FollowUpInput(
                    due_date=timezone.localdate() + dt.timedelta(days=i),
                    note=f"確認{i}",
                    assignee=clerk.user.username,
                ),
            )

    same_cost(
        signed_in,
        f"/api/v1/desk/consultations/{c.code}",
        grow,
        django_assert_num_queries,
        django_assert_max_num_queries,
        16,
    )


def test_followups_and_versions(
    signed_in: Client,
    desk: Desk,
    counselor: Membership,
    django_assert_num_queries: DjangoAssertNumQueries,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    """The open follow-ups of a desk, and the versions of a record, at a fixed cost."""
    c = make_consultation(desk, counselor, confirm=True)
    make_followup(c, counselor, due_date=timezone.localdate())

    def grow_followups() -> None:
        for i in range(8):
            other = make_consultation(desk, counselor)
            make_followup(other, counselor, due_date=timezone.localdate() + dt.timedelta(days=i))

    same_cost(
        signed_in,
        f"/api/v1/desk/desks/{desk.code}/followups",
        grow_followups,
        django_assert_num_queries,
        django_assert_max_num_queries,
        14,
    )

    def grow_versions() -> None:
        for i in range(4):
            fresh = Consultation.objects.get(pk=c.pk)
            actions.update_consultation(
                fresh,
                by=counselor,
                data=actions.ConsultationEditInput.of(fresh, summary=f"第{i + 2}版", reason="追記"),
            )

    same_cost(
        signed_in,
        f"/api/v1/desk/consultations/{c.code}/versions",
        grow_versions,
        django_assert_num_queries,
        django_assert_max_num_queries,
        14,
    )


def test_desks_and_topics(
    signed_in: Client,
    desk: Desk,
    counselor: Membership,
    django_assert_num_queries: DjangoAssertNumQueries,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    """The desks a member may use (with their areas) and a desk's categories."""

    def grow_desks() -> None:
        for i in range(3):
            make_desk(
                f"委託先の窓口{i}",
                organization=make_org(f"医師会{i}", OrgKind.MEDICAL_ASSOCIATION),
                municipality_codes=["142158", "142123"],
                contractors=[counselor.organization],
            )

    same_cost(
        signed_in,
        "/api/v1/desk/desks",
        grow_desks,
        django_assert_num_queries,
        django_assert_max_num_queries,
        12,
    )

    def grow_topics() -> None:
        for i in range(5):
            desk.own_topics.create(name=f"独自の分類{i}", sort_order=500)

    same_cost(
        signed_in,
        f"/api/v1/desk/desks/{desk.code}/topics",
        grow_topics,
        django_assert_num_queries,
        django_assert_max_num_queries,
        12,
    )
