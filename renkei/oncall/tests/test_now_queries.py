"""「いまの当番」 in a fixed number of statements, however many rotas cover the area (ADR 0016):
the shifts now and next of every rota in one statement, the selector's list cached."""

from __future__ import annotations

import datetime as dt
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from renkei.accounts.models import Membership, Organization
from renkei.oncall import actions
from renkei.oncall import now as now_
from renkei.oncall.models import Rota
from renkei.oncall.testing import make_rota, publish
from renkei.testing import sign_in

JST = ZoneInfo("Asia/Tokyo")
MOMENT = dt.datetime(2026, 11, 24, 23, 0, tzinfo=JST)
API = "/api/v1/oncall/now?municipality=142123"
PAGE = "/oncall/now/?municipality=142123"


def oncall_statements(client: Client, url: str) -> list[str]:
    """The statements of one request that read the rotas, their shifts or the municipalities
    (the rest is the session, the member and the menu's badges, shared by every page)."""
    with (
        mock.patch("django.utils.timezone.now", return_value=MOMENT),
        CaptureQueriesContext(connection) as ctx,
    ):
        assert client.get(url).status_code == 200
    return [
        q["sql"]
        for q in ctx.captured_queries
        if any(t in q["sql"] for t in ('FROM "oncall_', 'FROM "regions_'))
        and "oncall_swaprequest" not in q["sql"]  # the menu's badge
    ]


@pytest.mark.django_db
def test_now_reads_the_rotas_in_fixed_statements_for_one_or_four_rotas(
    client: Client,
    rota: Rota,
    organiser: Membership,
    clinics: list[Organization],
    doctor_a: Membership,
) -> None:
    """The municipality with its area (1), the covering rotas (1), the shifts now and next
    of all of them (1); the API adds the rotas' municipalities for their area label (1); the
    page's selector comes from the cache (before: 2 statements per rota and the selector)."""
    publish(rota, organiser, "2026-11")
    sign_in(client, doctor_a.user)
    now_.forget_choices()
    first, cached = oncall_statements(client, PAGE), oncall_statements(client, PAGE)
    assert len(first) == 4 and len(cached) == 3
    [selector] = [q for q in first if q not in cached]  # read once, then from the cache
    assert 'FROM "regions_municipality"' in selector
    assert len(oncall_statements(client, API)) == 4
    for i in range(3):
        extra = make_rota(organiser, clinics[i:], name=f"追加の当番表{i}")
        publish(extra, organiser, "2026-11")
    assert len(oncall_statements(client, PAGE)) == 3
    with mock.patch("django.utils.timezone.now", return_value=MOMENT):
        body = client.get(API).json()
    assert len(body) == 4 and all(row["now"]["member"] for row in body)
    assert len(oncall_statements(client, API)) == 4


@pytest.mark.django_db
def test_on_duty_for_many_rotas_matches_each_rota_alone(
    rota: Rota, organiser: Membership, clinics: list[Organization]
) -> None:
    """The set-based lookup answers for each rota what it answers for that rota alone, and
    keeps the caller's order; a rota without published shifts gets (None, None)."""
    publish(rota, organiser, "2026-11")
    second = make_rota(organiser, clinics[1:], name="第二の当番表")
    publish(second, organiser, "2026-11")
    draft = make_rota(organiser, clinics[2:], name="下書きの当番表")
    moments = [
        dt.datetime(2026, 11, 24, h, m, tzinfo=JST) for h, m in ((8, 59), (9, 0), (18, 0), (23, 0))
    ] + [dt.datetime(2026, 11, 30, 20, 0, tzinfo=JST), dt.datetime(2026, 12, 1, 10, 0, tzinfo=JST)]
    for moment in moments:
        together = actions.on_duty([second, draft, rota], moment)
        assert [r for r, _, _ in together] == [second, draft, rota]
        assert together[1][1:] == (None, None)
        for r, cur, nxt in together:
            [(_, alone_cur, alone_nxt)] = actions.on_duty([r], moment)
            assert (cur, nxt) == (alone_cur, alone_nxt)
    # The last night of the month ends in December, which is not published: no next shift.
    [(_, cur, nxt)] = actions.on_duty([rota], dt.datetime(2026, 11, 30, 20, 0, tzinfo=JST))
    assert cur is not None and nxt is None
    [(_, cur, nxt)] = actions.on_duty([rota], dt.datetime(2026, 11, 24, 12, 0, tzinfo=JST))
    assert (
        cur is None
        and nxt is not None
        and nxt.starts_at == dt.datetime(2026, 11, 24, 18, 0, tzinfo=JST)
    )
