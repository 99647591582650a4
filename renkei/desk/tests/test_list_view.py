from __future__ import annotations

import datetime as dt

from django.test import Client
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from renkei.accounts.models import Membership
from renkei.desk.models import Desk
from renkei.desk.testing import make_consultation
from renkei.desk.tests.conftest import at, login


def test_list_filters_and_query_count(
    client: Client,
    desk: Desk,
    counselor: Membership,
    django_assert_num_queries: DjangoAssertNumQueries,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    """Filters narrow the list; the page costs the same number of queries for 2 rows or 20."""
    make_consultation(
        desk, counselor, received_at=at(dt.date(2025, 10, 3)), channel="fax", summary="FAXの相談"
    )
    make_consultation(
        desk, counselor, received_at=at(dt.date(2025, 11, 3)), channel="phone", summary="電話の相談"
    )
    login(client, counselor)
    url = reverse("desk:list", args=[desk.code])
    october = client.get(url, {"month": "2025-10"})
    assert [c.summary for c in october.context["rows"]] == ["FAXの相談"]
    assert [c.summary for c in client.get(url, {"channel": "phone"}).context["rows"]] == [
        "電話の相談"
    ]
    # session, user, membership, 2FA checks (3), desk, count, page, prefetch topics,
    # audit chain head and insert, topics for the filter form, the menu's badges (placement
    # requests, care-team posts, rota swaps: 4), session save (+ savepoints)
    with django_assert_max_num_queries(20) as few:
        client.get(url)
    for i in range(18):
        make_consultation(
            desk, counselor, received_at=at(dt.date(2025, 9, 1)) + dt.timedelta(minutes=i)
        )
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(url)
