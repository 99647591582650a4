"""The consultation list: one filter input, so the screen and the API list the same records
and refuse the same filters with the same words."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from renkei.accounts.models import AuditEntry, Membership
from renkei.desk.models import Desk
from renkei.desk.testing import make_consultation, topics
from renkei.desk.tests.conftest import at, login


@pytest.fixture
def listed(desk: Desk, counselor: Membership) -> list[str]:
    made = [
        make_consultation(
            desk,
            counselor,
            received_at=at(dt.date(2025, 10, 3)),
            channel="fax",
            summary="FAXの相談",
            subject_name="相談 太郎（仮名）",
        ),
        make_consultation(
            desk,
            counselor,
            received_at=at(dt.date(2025, 11, 3)),
            channel="phone",
            topic_names=["認知症"],
            summary="電話の相談",
            status="closed",
        ),
        make_consultation(
            desk, counselor, received_at=at(dt.date(2025, 11, 4)), asker_type="hospital"
        ),
    ]
    return [str(c.code) for c in made]


def both(client: Client, desk: Desk, params: dict[str, Any]) -> tuple[list[str], list[str]]:
    html = client.get(reverse("desk:list", args=[desk.code]), params)
    api = client.get(f"/api/v1/desk/desks/{desk.code}/consultations", params)
    assert html.status_code == api.status_code == 200, (html.status_code, api.content)
    return [str(c.code) for c in html.context["rows"]], [r["code"] for r in api.json()["items"]]


def test_every_filter_lists_the_same_records_on_both_doors(
    client: Client, desk: Desk, counselor: Membership, listed: list[str]
) -> None:
    """Month, channel, asker, topic, status and the keyword (the API lacked it) agree."""
    dementia = topics(desk, "認知症")[0].pk
    login(client, counselor)
    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({}, [listed[2], listed[1], listed[0]]),
        ({"month": "2025-10"}, [listed[0]]),
        ({"channel": "phone"}, [listed[2], listed[1]]),
        ({"asker": "hospital"}, [listed[2]]),
        ({"topic": dementia}, [listed[1]]),
        ({"status": "closed"}, [listed[1]]),
        ({"q": "太郎"}, [listed[0]]),
        ({"month": "2025-11", "channel": "phone"}, [listed[2], listed[1]]),
    ]
    for params, expected in cases:
        html, api = both(client, desk, params)
        assert html == api == expected, params


@pytest.mark.parametrize(
    "params, message",
    [
        ({"month": "2025-13"}, "月は2000年〜2100年の1〜12月で指定してください"),
        ({"month": "10月"}, "月は「2025-10」の形式で指定してください"),
        ({"topic": "999999"}, "相談内容の分類が正しくありません"),
        ({"page": "9"}, "ページ9はありません（全1ページ）"),
    ],
)
def test_a_bad_filter_gets_the_same_message_and_no_read(
    client: Client,
    desk: Desk,
    counselor: Membership,
    listed: list[str],
    params: dict[str, str],
    message: str,
) -> None:
    """400 with the same words on both doors, and no read is audited."""
    login(client, counselor)
    html = client.get(reverse("desk:list", args=[desk.code]), params)
    api = client.get(f"/api/v1/desk/desks/{desk.code}/consultations", params)
    assert html.status_code == api.status_code == 400
    assert message in html.content.decode()
    assert message in api.json()["detail"]
    assert not AuditEntry.objects.filter(action="desk.consultations_listed").exists()


def test_both_doors_audit_the_page_they_show(
    client: Client, desk: Desk, counselor: Membership, listed: list[str]
) -> None:
    """One entry per page read on either door, naming exactly the records shown."""
    login(client, counselor)
    both(client, desk, {"channel": "fax"})
    screen, api = AuditEntry.objects.filter(action="desk.consultations_listed").order_by("id")
    assert screen.detail["ids"] == api.detail["ids"] == [listed[0]]
    assert screen.detail["named"] == api.detail["named"] == [listed[0]]
