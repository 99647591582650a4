"""The API's lists cost a fixed number of queries, like the screens' (issue 10)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from renkei.accounts.models import Membership
from renkei.directory.models import Facility
from renkei.referrals.testing import make_case, send
from renkei.referrals.tests.conftest import login

pytestmark = pytest.mark.django_db
API = "/api/v1/referrals"


def test_case_list_is_not_n_plus_one(
    client: Client,
    msw: Membership,
    tokuyo: tuple[Facility, Membership],
    django_assert_max_num_queries: Any,
) -> None:
    """Fifteen cases with capabilities and desired areas: the same count as the screen's."""
    for _ in range(15):
        send(
            make_case(msw, capability_codes=["suction"], desired_codes=["142077"]), msw, [tokuyo[0]]
        )
    login(client, msw)
    with django_assert_max_num_queries(15):
        r = client.get(f"{API}/cases")
    assert r.status_code == 200 and r.json()["count"] == 15 and len(r.json()["items"]) == 15


def test_inbox_is_not_n_plus_one(
    client: Client,
    msw: Membership,
    tokuyo: tuple[Facility, Membership],
    django_assert_max_num_queries: Any,
) -> None:
    for _ in range(20):
        send(make_case(msw), msw, [tokuyo[0]])
    login(client, tokuyo[1])
    with django_assert_max_num_queries(15):
        r = client.get(f"{API}/requests")
    assert len(r.json()["items"]) == 20


def test_case_requests_events_and_messages_are_not_n_plus_one(
    client: Client,
    msw: Membership,
    django_assert_max_num_queries: Any,
) -> None:
    from renkei.referrals.testing import make_receiver

    case = make_case(msw)
    facilities = [make_receiver(f"特養{i:02d}", username=f"qc{i}")[0] for i in range(12)]
    send(case, msw, facilities)
    login(client, msw)
    for path in ("requests", "events"):
        with django_assert_max_num_queries(15):
            r = client.get(f"{API}/cases/{case.code}/{path}")
        assert r.status_code == 200 and len(r.json()) >= 12


def test_inbox_items_are_the_requests_as_read_whole(
    client: Client,
    msw: Membership,
    tokuyo: tuple[Facility, Membership],
    django_assert_max_num_queries: Any,
) -> None:
    """The inbox reads only the columns its items show (api.INBOX_FIELDS): each item is what
    ReferralRequestOut makes of the request read whole, with its whole case and facility, and
    no field is fetched row by row."""
    import datetime as dt
    import json

    from django.utils import timezone

    from renkei.lib.http import json_bytes
    from renkei.referrals.models import Answer, PlacementRequest, RequestStatus
    from renkei.referrals.schemas import ReferralRequestOut

    for _ in range(3):
        send(make_case(msw), msw, [tokuyo[0]])
    answered, withdrawn, _ = PlacementRequest.objects.order_by("id")
    now = timezone.now()
    PlacementRequest.objects.filter(pk=answered.pk).update(
        status=RequestStatus.CONDITIONAL,
        answer=Answer.CONDITIONAL,
        conditions="吸引は日中のみ",
        interview_dates=["2026-12-10T10:00:00+09:00"],
        answer_note="面談をお願いします",
        read_at=now - dt.timedelta(hours=1),
        answered_at=now,
    )
    PlacementRequest.objects.filter(pk=withdrawn.pk).update(
        status=RequestStatus.WITHDRAWN, withdrawn_at=now, withdrawal_note="他施設に決定"
    )
    login(client, tokuyo[1])
    with django_assert_max_num_queries(8):
        r = client.get(f"{API}/requests?show=all")
    assert r.status_code == 200
    whole = PlacementRequest.objects.select_related("case", "facility").order_by("-sent_at", "-id")
    expected = [
        json.loads(json_bytes(ReferralRequestOut.model_validate(q).model_dump())) for q in whole
    ]
    assert r.json()["items"] == expected
    assert {i["status"] for i in expected} == {"sent", "conditional", "withdrawn"}
