from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from renkei.accounts.models import AuditEntry, Membership
from renkei.directory.models import Facility
from renkei.referrals import actions
from renkei.referrals.inputs import SendRequestsInput, WithdrawCaseInput
from renkei.referrals.models import CaseStatus, EventKind, PlacementRequest, RequestStatus
from renkei.referrals.testing import make_case, make_receiver, send
from renkei.testing import make_facility

pytestmark = pytest.mark.django_db


def test_one_case_goes_to_many_facilities_at_once(
    msw: Membership,
    tokuyo: tuple[Facility, Membership],
    roken: tuple[Facility, Membership],
    third: tuple[Facility, Membership],
    django_capture_on_commit_callbacks: object,
    mailoutbox: list[object],
) -> None:
    """Three requests, one per facility, each unread, one 送信 event each, one audit row,
    the case moves to 依頼中 and each receiving organisation gets an e-mail after commit."""
    case = make_case(msw)
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        created = send(case, msw, [tokuyo[0], roken[0], third[0]])
    assert len(created) == 3
    case.refresh_from_db()
    assert case.status == CaseStatus.REQUESTING
    reqs = PlacementRequest.objects.filter(case=case)
    assert {r.organization_id for r in reqs} == {
        tokuyo[1].organization_id,
        roken[1].organization_id,
        third[1].organization_id,
    }
    assert all(r.status == RequestStatus.SENT and r.unread_by_facility for r in reqs)
    assert case.events.filter(kind=EventKind.SENT).count() == 3
    assert AuditEntry.objects.filter(action="referrals.requests_sent").count() == 1
    assert len(mailoutbox) == 3
    assert all("受入れ依頼が届きました" in m.subject for m in mailoutbox)  # type: ignore[attr-defined]


def test_no_mail_when_the_transaction_rolls_back(
    msw: Membership, tokuyo: tuple[Facility, Membership], mailoutbox: list[object]
) -> None:
    """E-mails wait for the commit: a refused send sends nothing."""
    case = make_case(msw)
    with pytest.raises(actions.ActionError):
        actions.send_requests(
            case,
            by=msw,
            data=SendRequestsInput(
                facilities=[f.code for f in [tokuyo[0]]],
                deadline=timezone.now() - dt.timedelta(hours=1),
            ),
        )
    assert mailoutbox == []
    assert PlacementRequest.objects.count() == 0


def test_already_requested_facilities_are_skipped(
    msw: Membership, tokuyo: tuple[Facility, Membership], roken: tuple[Facility, Membership]
) -> None:
    """Sending again to a facility already asked creates nothing new for it."""
    case = make_case(msw)
    send(case, msw, [tokuyo[0]])
    again = send(case, msw, [tokuyo[0], roken[0]])
    assert [r.facility for r in again] == [roken[0]]
    assert PlacementRequest.objects.filter(case=case).count() == 2
    with pytest.raises(actions.Conflict, match="すでに依頼済み"):
        send(case, msw, [tokuyo[0]])


@pytest.mark.parametrize(
    "hours, message",
    [(-1, "現在より後"), (24 * 31, "30日以内")],
)
def test_deadline_must_be_reasonable(
    msw: Membership, tokuyo: tuple[Facility, Membership], hours: int, message: str
) -> None:
    """The answer deadline is in the future and within 30 days."""
    case = make_case(msw)
    with pytest.raises(actions.ActionError, match=message):
        send(case, msw, [tokuyo[0]], hours=hours)


def test_facilities_outside_the_network_cannot_be_sent_to(msw: Membership) -> None:
    """A directory entry with no organisation would never see the request: refused by name."""
    lonely = make_facility("連絡先不明の特養")
    case = make_case(msw)
    with pytest.raises(actions.ActionError, match="連絡先不明の特養"):
        send(case, msw, [lonely])


def test_drafts_and_closed_cases_cannot_be_sent(
    msw: Membership, tokuyo: tuple[Facility, Membership]
) -> None:
    """A draft must be registered first; a withdrawn case cannot send."""
    draft = make_case(msw, draft=True, destinations=[])
    with pytest.raises(actions.ActionError, match="下書き"):
        send(draft, msw, [tokuyo[0]])
    case = make_case(msw)
    actions.withdraw_case(case, by=msw, data=WithdrawCaseInput(reason="other"))
    with pytest.raises(actions.Conflict):
        send(case, msw, [tokuyo[0]])


def test_another_hospital_cannot_send_the_case(
    msw: Membership, other_msw: Membership, tokuyo: tuple[Facility, Membership]
) -> None:
    """The case is invisible to another hospital: NotFound, nothing created."""
    case = make_case(msw)
    with pytest.raises(actions.NotFound):
        send(case, other_msw, [tokuyo[0]])
    assert PlacementRequest.objects.count() == 0


def test_fifty_facilities_in_one_send(
    msw: Membership, django_assert_max_num_queries: object
) -> None:
    """Fifty requests cost a constant number of queries (bulk insert), not one per facility."""
    facilities = [make_receiver(f"施設{i:02d}", username=f"f{i}")[0] for i in range(50)]
    case = make_case(msw)
    with django_assert_max_num_queries(15):  # type: ignore[operator]
        created = send(case, msw, facilities)
    assert len(created) == 50
    assert PlacementRequest.objects.filter(case=case).count() == 50


def test_too_many_facilities_are_refused(msw: Membership) -> None:
    """More than 100 in one send is refused before anything is written."""
    facilities = [make_facility(f"施設{i}") for i in range(101)]
    with pytest.raises(actions.ActionError, match="100施設まで"):
        send(make_case(msw), msw, facilities)
