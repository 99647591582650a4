"""Who sees a case: its hospital, and the facilities it was sent to. Everyone else gets 404."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from renkei.accounts.models import Membership
from renkei.directory.models import Facility
from renkei.referrals import actions
from renkei.referrals.inputs import RequestAnswerInput
from renkei.referrals.models import Answer, PlacementCase, PlacementRequest
from renkei.referrals.testing import send
from renkei.referrals.tests.conftest import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(
    case: PlacementCase,
    msw: Membership,
    tokuyo: tuple[Facility, Membership],
    roken: tuple[Facility, Membership],
) -> list[PlacementRequest]:
    reqs = send(case, msw, [tokuyo[0], roken[0]])
    actions.answer_request(
        reqs[1],
        by=roken[1],
        data=RequestAnswerInput(
            answer=Answer.DECLINED, decline_reason="cost", note="老健の秘密の回答"
        ),
    )
    return reqs


def case_urls(case: PlacementCase) -> list[str]:
    return [
        reverse("referrals:case_detail", args=[case.code]),
        reverse("referrals:case_edit", args=[case.code]),
        reverse("referrals:candidates", args=[case.code]),
    ]


def test_another_hospital_gets_404_everywhere(
    client: Client, other_msw: Membership, case: PlacementCase, sent: list[PlacementRequest]
) -> None:
    """Charlie from another hospital cannot open the case, its candidates or its requests."""
    login(client, other_msw)
    for url in case_urls(case) + [r.get_absolute_url() for r in sent]:
        assert client.get(url).status_code == 404, url
    for name in ("case_withdraw", "case_assign", "handover"):
        assert client.post(reverse(f"referrals:{name}", args=[case.code])).status_code == 404
    assert (
        client.post(reverse("referrals:request_withdraw", args=[sent[0].code])).status_code == 404
    )
    page = client.get(reverse("referrals:case_list")).content.decode()
    assert case.short_code not in page


def test_facility_not_sent_the_case_gets_404(
    client: Client,
    unsent: tuple[Facility, Membership],
    case: PlacementCase,
    sent: list[PlacementRequest],
) -> None:
    """A facility in the network but not asked sees nothing of the case."""
    login(client, unsent[1])
    for url in case_urls(case) + [r.get_absolute_url() for r in sent]:
        assert client.get(url).status_code == 404, url
    assert "特養なぎさ苑" not in client.get(reverse("referrals:inbox")).content.decode()


def test_facility_sees_the_case_only_from_the_moment_it_was_sent(
    client: Client, msw: Membership, case: PlacementCase, tokuyo: tuple[Facility, Membership]
) -> None:
    """Before the request the case is 404 for the facility; after it, the summary shows."""
    login(client, tokuyo[1])
    assert client.get(case.get_absolute_url()).status_code == 404
    (req,) = send(case, msw, [tokuyo[0]])
    response = client.get(case.get_absolute_url())
    assert response.status_code == 302
    assert response["Location"] == req.get_absolute_url()
    assert client.get(req.get_absolute_url()).status_code == 200


def test_facility_never_sees_other_facilities_answers(
    client: Client,
    tokuyo: tuple[Facility, Membership],
    roken: tuple[Facility, Membership],
    case: PlacementCase,
    sent: list[PlacementRequest],
) -> None:
    """The 特養 sees its own request; the 老健's request and answer are invisible to it."""
    login(client, tokuyo[1])
    page = client.get(sent[0].get_absolute_url()).content.decode()
    assert "老健の秘密の回答" not in page
    assert "老健ひかりの丘" not in page
    assert client.get(sent[1].get_absolute_url()).status_code == 404
    for path in (
        f"/api/v1/referrals/cases/{case.code}/requests",
        f"/api/v1/referrals/cases/{case.code}/events",
    ):
        body = client.get(path).content.decode()
        assert "老健" not in body, path
    assert [
        r["facility_name"]
        for r in json.loads(client.get(f"/api/v1/referrals/cases/{case.code}/requests").content)
    ] == ["特養なぎさ苑"]
    assert client.get(f"/api/v1/referrals/requests/{sent[1].code}").status_code == 404


def test_hospital_colleague_sees_and_acts_on_the_case(
    client: Client, colleague: Membership, case: PlacementCase, sent: list[PlacementRequest]
) -> None:
    """Bob from the same hospital opens the case and sees every answer."""
    login(client, colleague)
    page = client.get(case.get_absolute_url()).content.decode()
    assert "老健の秘密の回答" in page
    assert "特養なぎさ苑" in page


def test_anonymous_is_sent_to_login(
    client: Client, case: PlacementCase, sent: list[PlacementRequest]
) -> None:
    """Without signing in: the screens redirect to the login page, the APIs answer 401."""
    for url in case_urls(case) + [
        reverse("referrals:home"),
        reverse("referrals:inbox"),
        sent[0].get_absolute_url(),
    ]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("accounts:login"))
    for path in (
        "/api/v1/referrals/cases",
        f"/api/v1/referrals/cases/{case.code}",
        f"/api/v1/referrals/requests/{sent[0].code}",
    ):
        response = client.get(path)
        assert response.status_code == 401
        assert response.json() == {"detail": "ログインが必要です"}
    assert client.get(f"/api/fhir/ServiceRequest/{case.code}").status_code == 401


def test_case_querysets_scope_by_relationship(
    msw: Membership,
    other_msw: Membership,
    tokuyo: tuple[Facility, Membership],
    unsent: tuple[Facility, Membership],
    case: PlacementCase,
    sent: list[PlacementRequest],
) -> None:
    """visible_to: the hospital and the facilities sent to; not other hospitals or facilities."""
    assert list(PlacementCase.objects.visible_to(msw)) == [case]
    assert list(PlacementCase.objects.visible_to(tokuyo[1])) == [case]
    assert list(PlacementCase.objects.visible_to(other_msw)) == []
    assert list(PlacementCase.objects.visible_to(unsent[1])) == []
    assert list(PlacementCase.objects.visible_to(None)) == []
    assert list(PlacementRequest.objects.visible_to(tokuyo[1])) == [sent[0]]
    assert set(PlacementRequest.objects.visible_to(msw)) == set(sent)


def test_reading_a_case_is_audited(
    client: Client, tokuyo: tuple[Facility, Membership], sent: list[PlacementRequest]
) -> None:
    """A facility opening its request leaves an audit row naming its organisation (R08)."""
    from renkei.accounts.models import AuditEntry

    login(client, tokuyo[1])
    client.get(sent[0].get_absolute_url())
    entry = AuditEntry.objects.get(action="referrals.request_viewed")
    assert entry.organization == tokuyo[1].organization
    assert entry.target_id == str(sent[0].code)
