"""The request history behind the candidates' ranking, as written SQL (matching.history_sql,
ADR 0070), agrees with the QuerySet that defines it (matching.history_queryset).

Requests in every state that counts differently — answered yes, no, with conditions, asking
for an interview, confirmed, withdrawn before an answer, expired, unanswered before and after
the deadline — to facilities shared between three cases, compared at moments before, between
and after the deadlines, for each case and for none.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import QuerySet
from django.utils import timezone

from renkei.accounts.models import Membership
from renkei.directory.models import Facility, FacilityKind
from renkei.referrals.matching import History, history_for, history_queryset
from renkei.referrals.models import Answer, PlacementCase, PlacementRequest, RequestStatus
from renkei.referrals.testing import make_case, make_receiver, send

pytestmark = pytest.mark.django_db


def from_queryset(
    rows: QuerySet[PlacementRequest, dict[str, object]],
) -> tuple[dict[int, History], dict[int, str]]:
    history: dict[int, History] = {}
    requested: dict[int, str] = {}
    for r in rows:
        fid = int(str(r["facility_id"]))
        history[fid] = History(
            due=int(str(r["due"])),
            answered=int(str(r["answered"])),
            positive=int(str(r["positive"])),
        )
        if r["this_case"]:
            requested[fid] = str(r["this_case"])
    return history, requested


def test_the_history_sql_agrees_with_its_queryset(
    msw: Membership,
    case: PlacementCase,
    tokuyo: tuple[Facility, Membership],
    roken: tuple[Facility, Membership],
    third: tuple[Facility, Membership],
    unsent: tuple[Facility, Membership],
) -> None:
    quiet, _ = make_receiver("依頼のない特養", FacilityKind.TOKUYO, username="quiet")
    b = make_case(msw, capability_codes=["suction"], destinations=[FacilityKind.TOKUYO])
    c = make_case(msw, capability_codes=["suction"], destinations=[FacilityKind.TOKUYO])
    f1, f2, f3, f4 = tokuyo[0], roken[0], third[0], unsent[0]
    send(case, msw, [f1, f2, f3, f4])
    send(b, msw, [f1, f2, f3])
    send(c, msw, [f1])
    now = timezone.now()

    def state(k: PlacementCase, f: Facility, status: str, answer: str = "", **more: object) -> None:
        answered = now - dt.timedelta(hours=1) if answer else None
        PlacementRequest.objects.filter(case=k, facility=f).update(
            status=status, answer=answer, answered_at=answered, **more
        )

    state(case, f1, RequestStatus.ACCEPTED, Answer.ACCEPTED)
    state(b, f1, RequestStatus.DECLINED, Answer.DECLINED)
    state(c, f1, RequestStatus.SENT, deadline=now - dt.timedelta(hours=2))
    state(case, f2, RequestStatus.EXPIRED, deadline=now - dt.timedelta(days=1))
    state(b, f2, RequestStatus.READ, deadline=now + dt.timedelta(hours=5))
    state(case, f3, RequestStatus.CONFIRMED, Answer.CONDITIONAL)
    state(b, f3, RequestStatus.WITHDRAWN)
    state(case, f4, RequestStatus.INTERVIEW, Answer.INTERVIEW)

    ids = [f1.pk, f2.pk, f3.pk, f4.pk, quiet.pk]
    for moment in (now - dt.timedelta(days=3), now, now + dt.timedelta(days=30)):
        for k in (case, b, c, None):
            ours = history_for(ids, moment, k)
            assert ours == from_queryset(history_queryset(ids, moment, k)), (moment, k)
    # The states were told apart: now, for the first case —
    history, requested = history_for(ids, now, case)
    assert history[f1.pk] == History(due=3, answered=2, positive=1)  # the sent one overdue
    assert history[f2.pk] == History(due=1, answered=0, positive=0)  # READ not yet due
    assert history[f3.pk] == History(due=1, answered=1, positive=1)  # withdrawn unanswered: not due
    assert history[f4.pk] == History(due=1, answered=1, positive=0)
    assert quiet.pk not in history
    assert requested == {
        f1.pk: RequestStatus.ACCEPTED,
        f2.pk: RequestStatus.EXPIRED,
        f3.pk: RequestStatus.CONFIRMED,
        f4.pk: RequestStatus.INTERVIEW,
    }
    # — and the moment and the case change the answer.
    assert history_for(ids, now + dt.timedelta(days=30), case)[0][f2.pk].due == 2
    assert history_for(ids, now - dt.timedelta(days=3), case)[0][f1.pk].due == 2
    assert history_for(ids, now, None)[1] == {}
    assert history_for(ids, now, c)[1] == {f1.pk: RequestStatus.SENT}
    assert history_for([], now, case) == ({}, {})
