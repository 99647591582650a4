"""「いまの当番」 in a fixed number of statements, however many rotas cover the area (ADR 0016):
the shifts now and next of every rota in one statement, the selector's list cached."""

from __future__ import annotations

import datetime as dt
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from renkei.accounts.models import Membership, Organization
from renkei.oncall import actions
from renkei.oncall import now as now_
from renkei.oncall.models import Rota, Shift
from renkei.oncall.testing import HOSPITAL_RULES, make_rota, publish
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
    """The covering rotas (1), the shifts now and next of all of them (1); the API adds the
    rotas' municipalities for their area label (1); the municipality with its area and the
    page's selector are read once, then come from the cache (before: 2 statements per rota,
    the municipality and the selector on every request)."""
    publish(rota, organiser, "2026-11")
    sign_in(client, doctor_a.user)
    now_.forget_choices()
    first, cached = oncall_statements(client, PAGE), oncall_statements(client, PAGE)
    assert len(first) == 4 and len(cached) == 2
    kept = [q for q in first if q not in cached]  # read once, then from the cache
    assert len(kept) == 2 and all('FROM "regions_municipality"' in q for q in kept)
    assert len(oncall_statements(client, API)) == 3
    for i in range(3):
        extra = make_rota(organiser, clinics[i:], name=f"追加の当番表{i}")
        publish(extra, organiser, "2026-11")
    assert len(oncall_statements(client, PAGE)) == 2
    with mock.patch("django.utils.timezone.now", return_value=MOMENT):
        body = client.get(API).json()
    assert len(body) == 4 and all(row["now"]["member"] for row in body)
    assert len(oncall_statements(client, API)) == 3


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


def _per_rota(rota: Rota, moment: dt.datetime) -> tuple[Shift | None, Shift | None]:
    """The lookup `on_duty` replaced (two statements per rota), as the reference."""
    published = Shift.objects.published().filter(rota=rota).order_by("starts_at", "pk")
    cur = published.at(moment).first()
    nxt = published.filter(starts_at__gte=cur.ends_at if cur else moment).first()
    return cur, nxt


@pytest.mark.django_db
def test_on_duty_answers_what_the_per_rota_lookup_answers_every_half_hour(
    rota: Rota, organiser: Membership, clinics: list[Organization]
) -> None:
    """Every half hour of a month, for a night rota and a hospital rota (one shift overlapping
    the next night's start, one gap): the shift now and the next one are those the per-rota
    lookup finds, the next one starting at or after the current one's end."""
    publish(rota, organiser, "2026-11")
    hospitals = make_rota(organiser, clinics[2:], name="病院当番", rules=HOSPITAL_RULES)
    publish(hospitals, organiser, "2026-11")
    first = Shift.objects.filter(rota=rota, day=dt.date(2026, 11, 10)).get()
    Shift.objects.create(
        rota=rota,
        month=first.month,
        day=first.day,
        day_type=first.day_type,
        label="準夜",
        starts_at=first.starts_at + dt.timedelta(hours=2),
        ends_at=first.starts_at + dt.timedelta(hours=20),
    )
    Shift.objects.filter(rota=hospitals, day=dt.date(2026, 11, 12)).update(member=None)
    moment = dt.datetime(2026, 11, 1, 0, 15, tzinfo=JST)
    while moment < dt.datetime(2026, 12, 1, 12, 0, tzinfo=JST):
        for r, cur, nxt in actions.on_duty([rota, hospitals], moment):
            assert (cur, nxt) == _per_rota(r, moment), (r.name, moment)
            if cur is not None and nxt is not None:
                assert nxt.starts_at >= cur.ends_at
        moment += dt.timedelta(minutes=30)
    [(_, cur, _), (_, gap, _)] = actions.on_duty(
        [rota, hospitals], dt.datetime(2026, 11, 12, 20, 0, tzinfo=JST)
    )
    assert cur is not None and cur.member is not None and cur.member.organization.name
    assert gap is not None and gap.member is None


@pytest.mark.django_db
def test_the_page_and_the_api_take_five_statements_in_all(
    client: Client,
    rota: Rota,
    organiser: Membership,
    doctor_a: Membership,
    django_assert_num_queries: Any,
    settings: Any,
) -> None:
    """A whole request once the municipality and the selector are kept: the session, the user
    and their second factor in one statement (ADR 0071), the membership (2), the menu's badges
    (1, page only), the covering rotas and their shifts (2), the rotas' municipalities for the
    area label (1, API only): 5 each (7 before ADR 0071; the page 8 and the API 8 in session 8,
    12 and 9 in session 7)."""
    settings.SESSION_REFRESH_SECONDS = 3600  # no session write inside the count
    publish(rota, organiser, "2026-11")
    sign_in(client, doctor_a.user)
    with mock.patch("django.utils.timezone.now", return_value=MOMENT):
        for url in (PAGE, API):
            assert client.get(url).status_code == 200
            with django_assert_num_queries(5):
                assert client.get(url).status_code == 200
