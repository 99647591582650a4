from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from renkei.accounts.models import Membership, Organization, OrgKind, Role
from renkei.courses import dispatch
from renkei.courses.models import DispatchPurpose, DispatchRequest, Specialist, SpecialistKind
from renkei.courses.tests.conftest import client_for
from renkei.lib.actions import ActionError, Conflict, Forbidden
from renkei.testing import make_member, make_org

pytestmark = pytest.mark.django_db


@pytest.fixture
def city() -> Membership:
    """A 県央 municipality's officer: asks for specialists."""
    org = make_org(
        "厚木市 介護福祉課",
        OrgKind.MUNICIPALITY,
        municipality_code="142123",
        email="kaigo@atsugi.example.jp",
    )
    return make_member(org, Role.MUNICIPAL_OFFICER, username="atsugi")


@pytest.fixture
def other_city() -> Membership:
    org = make_org("大和市 高齢福祉課", OrgKind.MUNICIPALITY, municipality_code="142131")
    return make_member(org, Role.MUNICIPAL_OFFICER, username="yamato")


@pytest.fixture
def rehab(alice: Membership) -> Specialist:
    return dispatch.add_specialist(
        dispatch.SpecialistInput(
            name="相模 理子",
            kind=SpecialistKind.REHAB,
            affiliation="県央リハビリテーション病院",
            email="riko@example.jp",
            areas=["142123", "142131"],
            weekdays=[0, 1, 2, 3, 4],
        ),
        by=alice,
    )


def _next(weekday: int) -> dt.date:
    d = timezone.localdate() + dt.timedelta(days=7)
    while d.weekday() != weekday:
        d += dt.timedelta(days=1)
    return d


def _ask(by: Membership, day: dt.date, kind: str = SpecialistKind.REHAB) -> DispatchRequest:
    return dispatch.request_dispatch(
        dispatch.DispatchRequestInput(
            date=day,
            starts=dt.time(14),
            ends=dt.time(16),
            purpose=DispatchPurpose.CARE_MEETING,
            kind=kind,
            venue="厚木市役所 会議室",
            detail="自立支援型地域ケア会議の助言者",
        ),
        by=by,
    )


def test_request_match_confirm_report_fee(
    city: Membership,
    alice: Membership,
    rehab: Specialist,
    prefecture: Organization,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """The whole round trip: the prefecture is told of the request; both sides are told of
    the decision; the specialist reports by link; the fee is recorded; the year counts it."""
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        req = _ask(city, _next(1))
    assert req.prefecture == prefecture
    assert dispatch.candidates(req) == [rehab]
    assert [m.to for m in mail.outbox] == [["alice@example.jp"]]  # the prefecture's member
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        dispatch.decide(
            req,
            dispatch.DispatchDecisionInput(specialist=rehab.code, note="当日13:45に受付へ"),
            by=alice,
        )
    req.refresh_from_db()
    assert req.status == DispatchRequest.Status.CONFIRMED and req.specialist == rehab
    to = sorted(a for m in mail.outbox for a in m.to)
    assert "kaigo@atsugi.example.jp" in to and "riko@example.jp" in to
    assert any(req.report_token in m.body for m in mail.outbox if "riko@example.jp" in m.to)
    with pytest.raises(ActionError, match="派遣日以降"):
        dispatch.file_report(req, dispatch.DispatchReportInput(report="x", participants=1))
    dispatch.file_report(
        req, dispatch.DispatchReportInput(report="事例2件に助言", participants=12), today=req.date
    )
    dispatch.record_fee(req, dispatch.FeeInput(fee=15000), by=alice)
    req.refresh_from_db()
    assert (req.status, req.participants, req.fee) == ("reported", 12, 15000)
    fy = dispatch.yearly_counts(
        prefecture, req.date.year if req.date.month >= 4 else req.date.year - 1
    )
    assert fy.total == 1 and fy.by_purpose == [("地域ケア会議", 1)] and fy.fees == 15000
    assert fy.by_municipality == [("厚木市", 1)]


def test_candidates_follow_area_weekday_and_other_dispatches(
    city: Membership, other_city: Membership, alice: Membership, rehab: Specialist
) -> None:
    sunday = _next(6)
    assert dispatch.candidates(_ask(city, sunday)) == []
    tuesday = _next(1)
    first = _ask(city, tuesday)
    dispatch.decide(first, dispatch.DispatchDecisionInput(specialist=rehab.code), by=alice)
    second = _ask(other_city, tuesday)
    assert dispatch.candidates(second) == []  # already sent to 厚木 that day
    with pytest.raises(ActionError, match="派遣できません"):
        dispatch.decide(second, dispatch.DispatchDecisionInput(specialist=rehab.code), by=alice)
    assert dispatch.candidates(_ask(city, tuesday, SpecialistKind.DIETITIAN)) == []


def test_only_the_sides_may_act(
    city: Membership, other_city: Membership, alice: Membership, rehab: Specialist
) -> None:
    req = _ask(city, _next(2))
    with pytest.raises(Forbidden):
        dispatch.decide(req, dispatch.DispatchDecisionInput(specialist=rehab.code), by=city)
    with pytest.raises(Forbidden):
        dispatch.withdraw(req, by=other_city)
    with pytest.raises(Forbidden):
        _ask(alice, _next(2))
    dispatch.decide(req, dispatch.DispatchDecisionInput(note="該当者の都合がつきません"), by=alice)
    with pytest.raises(Conflict):
        dispatch.decide(req, dispatch.DispatchDecisionInput(specialist=rehab.code), by=alice)


def test_outsiders_get_404_and_anonymous_sign_in(
    city: Membership,
    other_city: Membership,
    charlie: Membership,
    alice: Membership,
    rehab: Specialist,
    client: Client,
) -> None:
    req = _ask(city, _next(3))
    url = f"/courses/dispatch/{req.code}/"
    assert client_for(city).get(url).status_code == 200
    assert client_for(alice).get(url).status_code == 200
    assert client_for(other_city).get(url).status_code == 404
    assert client_for(charlie).post(url, {"step": "withdraw"}).status_code == 404
    assert client.get(url).status_code == 302
    assert client.get("/courses/dispatch/").status_code == 302
    assert client_for(city).get("/courses/dispatch/specialists/").status_code == 403
    assert (
        client_for(other_city)
        .post(f"/courses/dispatch/specialists/{rehab.code}/toggle/")
        .status_code
        == 404
    )
    assert client.get(f"/courses/dispatch/r/{req.report_token}x/").status_code == 404


def test_the_screens_request_and_decide(
    city: Membership, alice: Membership, rehab: Specialist
) -> None:
    day = _next(1)
    r = client_for(city).post(
        "/courses/dispatch/new/",
        {
            "date": day.isoformat(),
            "starts": "14:00",
            "ends": "16:00",
            "purpose": "care_meeting",
            "kind": "rehab",
            "venue": "厚木市役所",
        },
    )
    assert r.status_code == 302
    req = DispatchRequest.objects.get()
    page = client_for(alice).get(req.get_absolute_url()).content.decode()
    assert "相模 理子" in page
    r = client_for(alice).post(
        req.get_absolute_url(), {"step": "decide", "specialist": str(rehab.code)}
    )
    assert r.status_code == 302
    req.refresh_from_db()
    assert req.status == "confirmed"
    bad = client_for(city).post(
        "/courses/dispatch/new/",
        {
            "date": day.isoformat(),
            "starts": "16:00",
            "ends": "14:00",
            "purpose": "care_meeting",
            "kind": "rehab",
            "venue": "x",
        },
    )
    assert bad.status_code == 400 and "終了時刻は開始時刻より後" in bad.content.decode()


def test_reminders_before_and_after_a_confirmed_dispatch(
    city: Membership,
    alice: Membership,
    rehab: Specialist,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Three days before: the specialist and the municipality, once, without the request's
    free text. The day after, no report yet: the specialist, once, with the report link.
    The queue's morning job is the same two functions."""
    from renkei.courses.jobs import remind_dispatches

    assert remind_dispatches.periodic == "0 8 * * *"
    req = _ask(city, _next(1))
    undecided = _ask(city, _next(2))  # not confirmed: nobody is reminded of it
    dispatch.decide(req, dispatch.DispatchDecisionInput(specialist=rehab.code), by=alice)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch.send_reminders(today=req.date - dt.timedelta(days=4)) == 0
        assert dispatch.send_reminders(today=req.date - dt.timedelta(days=3)) == 1
        assert dispatch.send_reminders(today=req.date - dt.timedelta(days=2)) == 0
    assert sorted(a for m in mail.outbox for a in m.to) == [
        "kaigo@atsugi.example.jp",
        "riko@example.jp",
    ]
    for m in mail.outbox:
        assert "派遣日のお知らせ" in m.subject and "厚木市役所 会議室" in m.body
        assert "自立支援型地域ケア会議の助言者" not in m.body  # the request's free text stays
    to_specialist = next(m for m in mail.outbox if m.to == ["riko@example.jp"])
    to_city = next(m for m in mail.outbox if m.to == ["kaigo@atsugi.example.jp"])
    assert req.report_token in to_specialist.body and req.report_token not in to_city.body
    assert "riko@example.jp" not in to_city.body

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch.send_report_reminders(today=req.date) == 0  # the day itself: not yet
        assert dispatch.send_report_reminders(today=req.date + dt.timedelta(days=1)) == 1
        assert dispatch.send_report_reminders(today=req.date + dt.timedelta(days=2)) == 0
    assert [m.to for m in mail.outbox] == [["riko@example.jp"]]
    assert "実施報告のお願い" in mail.outbox[0].subject
    assert req.report_token in mail.outbox[0].body

    # A filed report is never asked for; a withdrawn dispatch is never announced.
    later = _ask(city, _next(3))
    dispatch.decide(later, dispatch.DispatchDecisionInput(specialist=rehab.code), by=alice)
    dispatch.file_report(
        later, dispatch.DispatchReportInput(report="助言", participants=8), today=later.date
    )
    gone = _ask(city, _next(4))
    dispatch.decide(gone, dispatch.DispatchDecisionInput(specialist=rehab.code), by=alice)
    dispatch.withdraw(gone, by=city)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch.send_report_reminders(today=later.date + dt.timedelta(days=1)) == 0
        assert dispatch.send_reminders(today=gone.date - dt.timedelta(days=1)) == 0
    assert mail.outbox == []
    undecided.refresh_from_db()
    assert undecided.reminded_at is None and undecided.report_reminded_at is None
