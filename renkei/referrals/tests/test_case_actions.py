from __future__ import annotations

import pytest

from renkei.accounts.models import AuditEntry, Membership
from renkei.directory.models import Facility
from renkei.referrals import actions
from renkei.referrals.inputs import CaseAssignInput, CasePatch, WithdrawCaseInput
from renkei.referrals.models import (
    CaseEvent,
    CaseStatus,
    EventKind,
    PlacementCase,
    RequestStatus,
    WithdrawalReason,
)
from renkei.referrals.testing import make_case, send

pytestmark = pytest.mark.django_db


def test_registering_a_case_records_who_and_starts_the_timeline(msw: Membership) -> None:
    """A new case belongs to the member's hospital, is assigned to them and has a 登録 event."""
    case = make_case(msw, capability_codes=["suction"], note="日中は車椅子")
    assert case.hospital == msw.organization
    assert case.assignee == msw.user
    assert case.status == CaseStatus.SEARCHING
    assert case.registered_at is not None
    assert [e.kind for e in case.events.all()] == [EventKind.CREATED]
    assert AuditEntry.objects.filter(
        action="referrals.case_created", target_id=str(case.code)
    ).exists()


def test_a_note_with_a_name_is_refused_and_nothing_is_saved(msw: Membership) -> None:
    """Screening refuses the note with a message naming what was found; no case is created."""
    with pytest.raises(actions.ActionError, match="氏名（「山田太郎さん」）"):
        make_case(msw, note="山田太郎さんは独居")
    assert PlacementCase.objects.count() == 0


def test_destinations_are_required_unless_draft(msw: Membership) -> None:
    """A registered case needs a destination kind; a draft may leave it empty."""
    with pytest.raises(actions.ActionError, match="退院・転院先を1つ以上"):
        make_case(msw, destinations=[])
    draft = make_case(msw, destinations=[], draft=True)
    assert draft.status == CaseStatus.DRAFT
    assert draft.registered_at is None


def test_unknown_values_are_refused(msw: Membership) -> None:
    """Infection and destination codes outside the vocabularies are refused."""
    with pytest.raises(actions.ActionError, match="感染症の値"):
        make_case(msw, infections=["plague"])
    with pytest.raises(actions.ActionError, match="退院・転院先の値"):
        make_case(msw, destinations=["castle"])


def test_key_person_relation_only_with_a_key_person(msw: Membership) -> None:
    """A relation without a key person is contradictory and refused."""
    with pytest.raises(actions.ActionError, match="続柄"):
        make_case(msw, key_person="no", key_person_relation="child")


def test_government_members_cannot_register_cases(prefecture_officer: Membership) -> None:
    """Cases come from the care side; a prefecture member is refused."""
    with pytest.raises(actions.ActionError, match="行政"):
        make_case(prefecture_officer)


def test_update_with_a_stale_version_conflicts(msw: Membership, colleague: Membership) -> None:
    """Two colleagues edit version 1: the second save gets a conflict and the first change stays."""
    case = make_case(msw)
    actions.update_case(
        case, by=msw, data=CasePatch.model_validate({**{"radius_km": 30}, "version": 1})
    )
    with pytest.raises(actions.Conflict, match="他の方が先に"):
        actions.update_case(
            case, by=colleague, data=CasePatch.model_validate({**{"radius_km": 10}, "version": 1})
        )
    case.refresh_from_db()
    assert case.radius_km == 30
    assert case.version == 2


def test_update_records_changed_fields(msw: Membership) -> None:
    """The timeline names the changed fields (not their values)."""
    case = make_case(msw)
    actions.update_case(
        case, by=msw, data=CasePatch.model_validate({**{"radius_km": 30, "sex": case.sex}})
    )
    event = case.events.get(kind=EventKind.UPDATED)
    assert event.detail == {"fields": ["radius_km"]}
    assert "居住地からの距離" in event.text


def test_update_replaces_capabilities_and_municipalities(msw: Membership) -> None:
    """What the user takes off the case is gone, what they add is there (not only added)."""
    case = make_case(msw, capability_codes=["suction"], desired_codes=["142077"])
    actions.update_case(
        case,
        by=msw,
        data=CasePatch.model_validate(
            {"required_capabilities": [], "desired_municipalities": ["143821"]}
        ),
    )
    case.refresh_from_db()
    assert list(case.required_capabilities.values_list("code", flat=True)) == []
    assert list(case.desired_municipalities.values_list("code", flat=True)) == ["143821"]
    assert case.events.get(kind=EventKind.UPDATED).detail == {
        "fields": ["required_capabilities", "desired_municipalities"]
    }


def test_registering_a_draft(msw: Membership) -> None:
    """A draft becomes 検索中 when registered with its destinations filled in."""
    draft = make_case(msw, destinations=[], draft=True)
    actions.update_case(
        draft,
        by=msw,
        data=CasePatch.model_validate({**{"destinations": ["tokuyo"]}, "complete_draft": True}),
    )
    draft.refresh_from_db()
    assert draft.status == CaseStatus.SEARCHING
    assert draft.registered_at is not None


def test_colleague_picks_up_a_case(msw: Membership, colleague: Membership) -> None:
    """A colleague of the same hospital can become the assignee; the timeline says so."""
    case = make_case(msw)
    actions.assign_case(case, by=colleague, data=CaseAssignInput(username=colleague.user.username))
    case.refresh_from_db()
    assert case.assignee == colleague.user
    assert case.events.filter(kind=EventKind.ASSIGNED).exists()


def test_assignee_must_belong_to_the_hospital(msw: Membership, other_msw: Membership) -> None:
    """Another hospital's member can neither assign nor be assigned."""
    case = make_case(msw)
    with pytest.raises(actions.ActionError, match="同じ医療機関"):
        actions.assign_case(case, by=msw, data=CaseAssignInput(username=other_msw.user.username))
    with pytest.raises(actions.NotFound):
        actions.assign_case(
            case, by=other_msw, data=CaseAssignInput(username=other_msw.user.username)
        )


def test_withdrawing_a_case_withdraws_open_requests_and_notifies(
    msw: Membership,
    tokuyo: tuple[Facility, Membership],
    roken: tuple[Facility, Membership],
    django_capture_on_commit_callbacks: object,
    mailoutbox: list[object],
) -> None:
    """取下げ closes the case with its reason, withdraws every open request and e-mails those facilities."""
    case = make_case(msw)
    send(case, msw, [tokuyo[0], roken[0]])
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        actions.withdraw_case(case, by=msw, data=WithdrawCaseInput(reason=WithdrawalReason.FAMILY))
    case.refresh_from_db()
    assert case.status == CaseStatus.WITHDRAWN
    assert case.withdrawal_reason == WithdrawalReason.FAMILY
    assert set(case.requests.values_list("status", flat=True)) == {RequestStatus.WITHDRAWN}
    assert sorted(m.to[0] for m in mailoutbox) == sorted(  # type: ignore[attr-defined]
        [tokuyo[1].user.email, roken[1].user.email]
    )
    assert all("取り下げ" in m.subject for m in mailoutbox)  # type: ignore[attr-defined]
    with pytest.raises(actions.Conflict):
        actions.withdraw_case(case, by=msw, data=WithdrawCaseInput(reason=WithdrawalReason.OTHER))


def test_only_the_hospital_may_withdraw(
    msw: Membership, tokuyo: tuple[Facility, Membership]
) -> None:
    """A facility the case was sent to cannot withdraw the case."""
    case = make_case(msw)
    send(case, msw, [tokuyo[0]])
    with pytest.raises(actions.NotFound):
        actions.withdraw_case(
            case, by=tokuyo[1], data=WithdrawCaseInput(reason=WithdrawalReason.OTHER)
        )


def test_events_show_the_organisation(msw: Membership) -> None:
    """Each event records the acting organisation (for the facility's own timeline filter)."""
    case = make_case(msw)
    assert CaseEvent.objects.get(case=case).organization == msw.organization
