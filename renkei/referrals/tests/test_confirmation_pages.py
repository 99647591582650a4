"""この施設に決定 and 取下げ ask first: who may see the pages, and bad input on them."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from renkei.accounts.models import Membership
from renkei.directory.models import Facility
from renkei.referrals import actions
from renkei.referrals.inputs import RequestAnswerInput
from renkei.referrals.models import CaseStatus, PlacementCase
from renkei.referrals.testing import make_case, send
from renkei.referrals.tests.conftest import login

pytestmark = pytest.mark.django_db


def _pages(case: PlacementCase, request_code: object) -> list[str]:
    return [
        reverse("referrals:confirm", args=[case.code, request_code]),
        reverse("referrals:case_withdraw", args=[case.code]),
    ]


def test_outsiders_get_404_and_anonymous_users_are_sent_to_sign_in(
    client: Client,
    msw: Membership,
    other_msw: Membership,
    case: PlacementCase,
    tokuyo: tuple[Facility, Membership],
) -> None:
    (req,) = send(case, msw, [tokuyo[0]])
    for url in _pages(case, req.code):
        assert client.get(url).status_code == 302  # anonymous: to the sign-in page
        for outsider in (other_msw, tokuyo[1]):
            login(client, outsider)
            assert client.get(url).status_code == 404
            assert client.post(url, {"reason": "family"}).status_code == 404
        client.logout()
    case.refresh_from_db()
    assert case.status != CaseStatus.WITHDRAWN


def test_a_request_of_another_case_is_404(
    client: Client, msw: Membership, case: PlacementCase, tokuyo: tuple[Facility, Membership]
) -> None:
    other = make_case(msw)
    (req,) = send(other, msw, [tokuyo[0]])
    login(client, msw)
    assert client.get(reverse("referrals:confirm", args=[case.code, req.code])).status_code == 404


def test_the_pages_say_who_is_told_and_refuse_bad_input(
    client: Client,
    msw: Membership,
    case: PlacementCase,
    tokuyo: tuple[Facility, Membership],
    roken: tuple[Facility, Membership],
) -> None:
    accepted, other = send(case, msw, [tokuyo[0], roken[0]])
    actions.answer_request(accepted, by=tokuyo[1], data=RequestAnswerInput(answer="accepted"))
    login(client, msw)
    html = client.get(
        reverse("referrals:confirm", args=[case.code, accepted.code])
    ).content.decode()
    assert "次の1施設への依頼は取り下げられ" in html and "老健ひかりの丘" in html
    html = client.get(reverse("referrals:case_withdraw", args=[case.code])).content.decode()
    assert "特養なぎさ苑" in html and "老健ひかりの丘" in html
    r = client.post(reverse("referrals:case_withdraw", args=[case.code]), {"reason": "castle"})
    assert r.status_code == 400 and "選択" in r.content.decode()
    # Only an acceptance can be chosen: the page says so and offers no button.
    html = client.get(reverse("referrals:confirm", args=[case.code, other.code])).content.decode()
    assert "この依頼は決定できません" in html and "に決定する</button>" not in html
    case.refresh_from_db()
    assert case.status == CaseStatus.REQUESTING
