"""Races on PostgreSQL (security R21/R23): real threads, each with its own connection,
released together by a barrier. Skipped on SQLite, whose writers are serialised anyway."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from renkei.accounts.models import Membership, Role
from renkei.directory.models import Facility
from renkei.referrals import actions
from renkei.referrals.inputs import RequestAnswerInput, SendRequestsInput
from renkei.referrals.models import (
    Answer,
    CaseStatus,
    PlacementCase,
    PlacementRequest,
    RequestStatus,
)
from renkei.referrals.testing import make_case, make_receiver, send
from renkei.referrals.tests.conftest import login
from renkei.testing import give_authenticator, make_member, race

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrency tests need PostgreSQL (row locks)")


@pytest.fixture
def accepted(msw: Membership) -> tuple[PlacementCase, list[PlacementRequest]]:
    receivers = [make_receiver(f"特養{i}", username=f"r{i}") for i in range(4)]
    case = make_case(msw)
    reqs = send(case, msw, [f for f, _ in receivers])
    for req, (_, staff) in zip(reqs, receivers, strict=True):
        actions.answer_request(req, by=staff, data=RequestAnswerInput(answer=Answer.ACCEPTED))
    return case, reqs


def test_twenty_concurrent_confirmations_make_one_placement(
    msw: Membership, accepted: tuple[PlacementCase, list[PlacementRequest]]
) -> None:
    """20 staff confirm at once (spread over four acceptances): 1 succeeds, 19 conflict,
    one confirmed request in the database, the other three withdrawn."""
    case, reqs = accepted
    staff = [
        make_member(msw.organization, Role.DISCHARGE_NURSE, username=f"n{i}") for i in range(20)
    ]

    def confirm(i: int) -> str:
        actions.confirm_placement(case, reqs[i % 4], by=staff[i])
        return "placed"

    results = race(20, confirm)
    ok = [v for kind, v in results if kind == "ok"]
    errors = [v for kind, v in results if kind == "err"]
    assert ok == ["placed"]
    assert len(errors) == 19 and all(isinstance(e, actions.Conflict) for e in errors), errors
    assert PlacementRequest.objects.filter(case=case, status=RequestStatus.CONFIRMED).count() == 1
    assert PlacementRequest.objects.filter(case=case, status=RequestStatus.WITHDRAWN).count() == 3
    case.refresh_from_db()
    assert case.status == CaseStatus.DECIDED


def test_two_accept_at_once_then_two_confirm_at_once(
    msw: Membership,
    colleague: Membership,
    tokuyo: tuple[Facility, Membership],
    roken: tuple[Facility, Membership],
) -> None:
    """Two facilities accept at the same instant (both recorded), then two staff confirm different
    acceptances at the same instant: exactly one placement, the other request withdrawn."""
    case = make_case(msw)
    reqs = send(case, msw, [tokuyo[0], roken[0]])
    answers = race(
        2,
        lambda i: (
            actions.answer_request(
                reqs[i], by=(tokuyo, roken)[i][1], data=RequestAnswerInput(answer=Answer.ACCEPTED)
            ).status
        ),
    )
    assert answers == [("ok", RequestStatus.ACCEPTED), ("ok", RequestStatus.ACCEPTED)]
    confirms = race(
        2, lambda i: actions.confirm_placement(case, reqs[i], by=(msw, colleague)[i]).status
    )
    assert sorted(kind for kind, _ in confirms) == ["err", "ok"]
    assert PlacementRequest.objects.filter(case=case, status=RequestStatus.CONFIRMED).count() == 1
    assert PlacementRequest.objects.filter(case=case, status=RequestStatus.WITHDRAWN).count() == 1


def test_answer_racing_a_confirmation_never_reopens_the_case(
    msw: Membership,
    tokuyo: tuple[Facility, Membership],
    roken: tuple[Facility, Membership],
) -> None:
    """A facility answering while the hospital confirms another: either the answer lands first and
    is then withdrawn, or it is refused; the case ends decided with one placement either way."""
    case = make_case(msw)
    reqs = send(case, msw, [tokuyo[0], roken[0]])
    actions.answer_request(reqs[0], by=tokuyo[1], data=RequestAnswerInput(answer=Answer.ACCEPTED))

    def work(i: int) -> Any:
        if i == 0:
            return actions.confirm_placement(case, reqs[0], by=msw).status
        return actions.answer_request(
            reqs[1], by=roken[1], data=RequestAnswerInput(answer=Answer.ACCEPTED)
        ).status

    results = race(2, work)
    assert results[0] == ("ok", CaseStatus.DECIDED)
    assert PlacementRequest.objects.get(pk=reqs[1].pk).status == RequestStatus.WITHDRAWN
    assert PlacementRequest.objects.filter(case=case, status=RequestStatus.CONFIRMED).count() == 1


def test_concurrent_replays_of_one_idempotency_key_create_one_case(msw: Membership) -> None:
    """Ten identical POSTs with the same Idempotency-Key at once: one case, identical bodies."""
    body = json.dumps(
        {
            "age_band": "85",
            "sex": "male",
            "care_level": 4,
            "residence": "142051",
            "destinations": ["tokuyo"],
        }
    )

    # The user's authenticator exists before the ten sign-ins (each would otherwise enrol one).
    give_authenticator(msw.user)

    def call(i: int) -> tuple[int, Any]:
        client = login(Client(), msw)
        r = client.post(
            "/api/v1/referrals/cases",
            body,
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="same-key-for-all-ten",
        )
        return r.status_code, r.json()

    results = race(10, call)
    assert all(kind == "ok" for kind, _ in results), results
    statuses = {v[0] for _, v in results}
    codes = {v[1]["code"] for _, v in results}
    assert statuses == {201}
    assert len(codes) == 1
    assert PlacementCase.objects.count() == 1


def test_concurrent_sends_to_the_same_facility_make_one_request(
    msw: Membership, colleague: Membership, tokuyo: tuple[Facility, Membership]
) -> None:
    """Two staff send the case to the same facility at once: one request row (unique index)."""
    case = make_case(msw)
    deadline = timezone.now() + dt.timedelta(days=1)
    results = race(
        2,
        lambda i: len(
            actions.send_requests(
                case,
                by=(msw, colleague)[i],
                data=SendRequestsInput(facilities=[f.code for f in [tokuyo[0]]], deadline=deadline),
            )
        ),
    )
    assert sorted(kind for kind, _ in results) == ["err", "ok"]
    assert PlacementRequest.objects.filter(case=case).count() == 1
