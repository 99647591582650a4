from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from renkei.accounts.models import AuditEntry, Membership
from renkei.directory.models import Facility
from renkei.referrals import actions
from renkei.referrals.inputs import HandoverInput, RequestAnswerInput
from renkei.referrals.models import (
    Answer,
    CaseStatus,
    DeclineReason,
    PlacementCase,
    PlacementRequest,
    RequestStatus,
)
from renkei.referrals.testing import send

pytestmark = pytest.mark.django_db


@pytest.fixture
def three(
    case: PlacementCase,
    msw: Membership,
    tokuyo: tuple[Facility, Membership],
    roken: tuple[Facility, Membership],
    third: tuple[Facility, Membership],
) -> list[PlacementRequest]:
    return send(case, msw, [tokuyo[0], roken[0], third[0]])


def test_confirming_decides_the_case_and_withdraws_the_others(
    case: PlacementCase,
    msw: Membership,
    three: list[PlacementRequest],
    tokuyo: tuple[Facility, Membership],
    roken: tuple[Facility, Membership],
    third: tuple[Facility, Membership],
    django_capture_on_commit_callbacks: object,
    mailoutbox: list[object],
) -> None:
    """One facility declines, one accepts, the MSW confirms: the case is 決定 with that facility,
    the third open request is withdrawn with a notice; the declined one keeps its answer and is
    not notified again."""
    a, b, c = three
    actions.answer_request(a, by=tokuyo[1], data=RequestAnswerInput(answer=Answer.ACCEPTED))
    actions.answer_request(
        b,
        by=roken[1],
        data=RequestAnswerInput(answer=Answer.DECLINED, decline_reason=DeclineReason.FULL),
    )
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        actions.confirm_placement(case, a, by=msw)
    case.refresh_from_db()
    assert case.status == CaseStatus.DECIDED
    assert case.placed_facility == tokuyo[0]
    assert case.decided_at is not None
    statuses = dict(PlacementRequest.objects.filter(case=case).values_list("pk", "status"))
    assert statuses == {
        a.pk: RequestStatus.CONFIRMED,
        b.pk: RequestStatus.DECLINED,
        c.pk: RequestStatus.WITHDRAWN,
    }
    subjects = {m.to[0]: m.subject for m in mailoutbox}  # type: ignore[attr-defined]
    assert "決定" in subjects[tokuyo[1].user.email]
    assert "取り下げ" in subjects[third[1].user.email]
    assert roken[1].user.email not in subjects
    assert AuditEntry.objects.filter(action="referrals.placement_confirmed").count() == 1


def test_a_second_confirmation_conflicts(
    case: PlacementCase,
    msw: Membership,
    colleague: Membership,
    three: list[PlacementRequest],
    tokuyo: tuple[Facility, Membership],
    roken: tuple[Facility, Membership],
) -> None:
    """Once decided, confirming another acceptance (or the same) is refused as a conflict."""
    a, b, _ = three
    actions.answer_request(a, by=tokuyo[1], data=RequestAnswerInput(answer=Answer.ACCEPTED))
    actions.answer_request(
        b,
        by=roken[1],
        data=RequestAnswerInput(answer=Answer.CONDITIONAL, conditions="面談後に確定"),
    )
    actions.confirm_placement(case, a, by=msw)
    for req in (b, a):
        with pytest.raises(actions.Conflict, match="すでに受入先が決定"):
            actions.confirm_placement(case, req, by=colleague)
    assert PlacementRequest.objects.filter(case=case, status=RequestStatus.CONFIRMED).count() == 1


@pytest.mark.parametrize("answer", [None, Answer.INTERVIEW, Answer.DECLINED])
def test_only_acceptances_can_be_confirmed(
    case: PlacementCase,
    msw: Membership,
    three: list[PlacementRequest],
    tokuyo: tuple[Facility, Membership],
    answer: str | None,
) -> None:
    """Unanswered, 面談希望 and 受入不可 cannot be confirmed; the case stays open."""
    a = three[0]
    if answer == Answer.INTERVIEW:
        from django.utils import timezone

        actions.answer_request(
            a,
            by=tokuyo[1],
            data=RequestAnswerInput(answer=answer, interview_dates=[timezone.now()]),
        )
    elif answer == Answer.DECLINED:
        actions.answer_request(
            a, by=tokuyo[1], data=RequestAnswerInput(answer=answer, decline_reason="full")
        )
    with pytest.raises(actions.Conflict, match="受入可"):
        actions.confirm_placement(case, a, by=msw)
    case.refresh_from_db()
    assert case.status == CaseStatus.REQUESTING


def test_facility_cannot_confirm(
    case: PlacementCase, three: list[PlacementRequest], tokuyo: tuple[Facility, Membership]
) -> None:
    """Only the hospital decides."""
    actions.answer_request(three[0], by=tokuyo[1], data=RequestAnswerInput(answer=Answer.ACCEPTED))
    with pytest.raises(actions.NotFound):
        actions.confirm_placement(case, three[0], by=tokuyo[1])


def test_request_of_another_case_is_not_found(
    case: PlacementCase, msw: Membership, tokuyo: tuple[Facility, Membership]
) -> None:
    """A request code from another case cannot be used to decide this one."""
    from renkei.referrals.testing import make_case

    other = make_case(msw)
    req = send(other, msw, [tokuyo[0]])[0]
    actions.answer_request(req, by=tokuyo[1], data=RequestAnswerInput(answer=Answer.ACCEPTED))
    with pytest.raises(actions.NotFound):
        actions.confirm_placement(case, req, by=msw)


def test_database_allows_one_confirmed_request_per_case(
    case: PlacementCase, three: list[PlacementRequest]
) -> None:
    """The partial unique index refuses a second 受入決定 even if application checks are bypassed."""
    PlacementRequest.objects.filter(pk=three[0].pk).update(status=RequestStatus.CONFIRMED)
    with pytest.raises(IntegrityError), transaction.atomic():
        PlacementRequest.objects.filter(pk=three[1].pk).update(status=RequestStatus.CONFIRMED)


def test_handover_records_only_that_it_happened(
    case: PlacementCase,
    msw: Membership,
    three: list[PlacementRequest],
    tokuyo: tuple[Facility, Membership],
    roken: tuple[Facility, Membership],
) -> None:
    """After the decision either side records a document kind and date; nobody else can;
    before the decision it is refused."""
    import datetime as dt

    from django.utils import timezone

    a = three[0]
    with pytest.raises(actions.Conflict, match="決定してから"):
        actions.record_handover(
            case,
            by=msw,
            data=HandoverInput(kind="referral_letter", exchanged_on=timezone.localdate()),
        )
    actions.answer_request(a, by=tokuyo[1], data=RequestAnswerInput(answer=Answer.ACCEPTED))
    actions.confirm_placement(case, a, by=msw)
    today = timezone.localdate()
    h1 = actions.record_handover(
        case, by=msw, data=HandoverInput(kind="referral_letter", exchanged_on=today)
    )
    h2 = actions.record_handover(
        case,
        by=tokuyo[1],
        data=HandoverInput(kind="nursing_summary", exchanged_on=today, method="fax"),
    )
    assert {h1.kind, h2.kind} == {"referral_letter", "nursing_summary"}
    assert {f.name for f in type(h1)._meta.get_fields()} >= {"kind", "exchanged_on"}
    assert not {"content", "body", "file", "text"} & {f.name for f in type(h1)._meta.get_fields()}
    with pytest.raises(actions.NotFound):
        actions.record_handover(
            case, by=roken[1], data=HandoverInput(kind="referral_letter", exchanged_on=today)
        )
    with pytest.raises(actions.ActionError, match="未来"):
        actions.record_handover(
            case,
            by=msw,
            data=HandoverInput(kind="referral_letter", exchanged_on=today + dt.timedelta(days=1)),
        )
