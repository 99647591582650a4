from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from renkei.accounts.models import Membership
from renkei.directory.models import Facility
from renkei.referrals import actions
from renkei.referrals.inputs import RequestAnswerInput
from renkei.referrals.models import (
    Answer,
    CaseStatus,
    PlacementCase,
    PlacementRequest,
)
from renkei.referrals.testing import make_case, send
from renkei.referrals.tests.conftest import login

pytestmark = pytest.mark.django_db


def token(html: str, name: str = "form_token") -> str:
    m = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert m, f"no {name} in the page"
    return m.group(1)


def case_form(client: Client, **overrides: Any) -> dict[str, Any]:
    page = client.get(reverse("referrals:case_new")).content.decode()
    data: dict[str, Any] = {
        "form_token": token(page),
        "age_band": "85",
        "sex": "female",
        "care_level": "5",
        "dementia": "2a",
        "required_capabilities": [],
        "infections": [],
        "residence": "",
        "destinations": ["tokuyo", "roken"],
        "radius_km": "20",
        "budget_monthly": "150000",
        "target_date": "",
        "household": "alone",
        "key_person": "yes",
        "key_person_relation": "child",
        "note": "日中は車椅子",
        "action": "register",
    }
    data.update(overrides)
    return data


def test_msw_registers_a_case_and_sees_candidates(
    client: Client, msw: Membership, tokuyo: tuple[Facility, Membership]
) -> None:
    """Registering redirects to the candidates page, which lists the facility with its reasons."""
    from renkei.directory.models import Capability
    from renkei.regions.models import Municipality

    login(client, msw)
    fujisawa = Municipality.objects.get(code="142051")
    suction = Capability.objects.get(code="suction")
    data = case_form(client, residence=str(fujisawa.pk), required_capabilities=[str(suction.pk)])
    response = client.post(reverse("referrals:case_new"), data)
    case = PlacementCase.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("referrals:candidates", args=[case.code])
    page = client.get(response["Location"]).content.decode()
    assert "特養なぎさ苑" in page
    assert "処置: 喀痰吸引 対応可" in page
    assert 'name="facility"' in page


def test_form_keeps_input_after_an_error(client: Client, msw: Membership) -> None:
    """A note with a phone number is refused in Japanese, nothing is saved, the input stays."""
    from renkei.regions.models import Municipality

    login(client, msw)
    fujisawa = Municipality.objects.get(code="142051")
    data = case_form(
        client, residence=str(fujisawa.pk), note="長女 090-1234-5678", budget_monthly="123000"
    )
    response = client.post(reverse("referrals:case_new"), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "電話番号（「090-1234-5678」）" in html
    assert 'value="123000"' in html
    assert "長女 090-1234-5678</textarea>" in html
    assert PlacementCase.objects.count() == 0


def test_resubmitting_the_form_creates_one_case(client: Client, msw: Membership) -> None:
    """The same form posted twice (double click, back and resend) makes one case."""
    from renkei.regions.models import Municipality

    login(client, msw)
    data = case_form(client, residence=str(Municipality.objects.get(code="142051").pk))
    first = client.post(reverse("referrals:case_new"), data)
    second = client.post(reverse("referrals:case_new"), data)
    assert PlacementCase.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_send_three_then_decline_accept_confirm(
    client: Client,
    msw: Membership,
    case: PlacementCase,
    tokuyo: tuple[Facility, Membership],
    roken: tuple[Facility, Membership],
    third: tuple[Facility, Membership],
) -> None:
    """The whole loop through the screens: send to three, one declines with a reason, one accepts,
    the MSW confirms, and the third facility sees its request as withdrawn."""
    login(client, msw)
    page = client.get(reverse("referrals:candidates", args=[case.code])).content.decode()
    response = client.post(
        reverse("referrals:candidates", args=[case.code]),
        {
            "form_token": token(page),
            "deadline": "2099-01-01T17:00",
            "facility": [str(f.code) for f in (tokuyo[0], roken[0], third[0])],
        },
    )
    # 2099 is beyond the 30-day limit: refused, nothing sent, choices kept.
    assert response.status_code == 400
    assert "30日以内" in response.content.decode()
    assert PlacementRequest.objects.count() == 0
    import datetime as dt

    from django.utils import timezone

    deadline = (timezone.localtime() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("referrals:candidates", args=[case.code]),
        {
            "form_token": token(page),
            "deadline": deadline,
            "facility": [str(f.code) for f in (tokuyo[0], roken[0], third[0])],
        },
    )
    assert response.status_code == 302
    reqs = {r.facility_id: r for r in PlacementRequest.objects.filter(case=case)}
    assert len(reqs) == 3

    # 老健 declines with a reason through its own screen.
    login(client, roken[1])
    r_roken = reqs[roken[0].pk]
    page = client.get(r_roken.get_absolute_url()).content.decode()
    assert "85〜89歳" in page
    response = client.post(
        reverse("referrals:request_answer", args=[r_roken.code]),
        {"form_token": token(page), "answer": "declined", "decline_reason": "full"},
    )
    assert response.status_code == 302

    # 特養 accepts.
    login(client, tokuyo[1])
    r_tokuyo = reqs[tokuyo[0].pk]
    page = client.get(r_tokuyo.get_absolute_url()).content.decode()
    client.post(
        reverse("referrals:request_answer", args=[r_tokuyo.code]),
        {"form_token": token(page), "answer": "accepted", "note": "来週から可"},
    )

    # The MSW sees both answers and confirms 特養.
    login(client, msw)
    page = client.get(case.get_absolute_url()).content.decode()
    assert "受入不可" in page and "満床" in page and "受入可" in page
    # この施設に決定 asks first, on a page naming the facility that will be told.
    confirm_url = reverse("referrals:confirm", args=[case.code, r_tokuyo.code])
    page = client.get(confirm_url).content.decode()
    assert "特養みどり荘" in page
    response = client.post(
        reverse("referrals:confirm", args=[case.code, r_tokuyo.code]),
        {"form_token": token(page)},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.DECIDED

    # The third facility sees its request as withdrawn.
    login(client, third[1])
    r_third = reqs[third[0].pk]
    page = client.get(r_third.get_absolute_url()).content.decode()
    assert "この依頼は取り下げられました" in page
    assert "回答する" not in page


def test_facility_inbox_shows_unread_badge(
    client: Client, msw: Membership, case: PlacementCase, tokuyo: tuple[Facility, Membership]
) -> None:
    """A new request shows in the inbox and as a badge in the navigation until opened."""
    (req,) = send(case, msw, [tokuyo[0]])
    login(client, tokuyo[1])
    page = client.get(reverse("referrals:inbox")).content.decode()
    assert "新着" in page
    assert 'aria-label="未読1件"' in page
    client.get(req.get_absolute_url())
    page = client.get(reverse("referrals:inbox")).content.decode()
    assert 'aria-label="未読1件"' not in page


def test_thread_posts_through_htmx(
    client: Client, msw: Membership, case: PlacementCase, tokuyo: tuple[Facility, Membership]
) -> None:
    """An htmx post returns only the thread fragment with the new message."""
    (req,) = send(case, msw, [tokuyo[0]])
    login(client, tokuyo[1])
    page = client.get(req.get_absolute_url()).content.decode()
    form_token = re.findall(r'name="form_token" value="([^"]+)"', page)[-1]
    response = client.post(
        reverse("referrals:request_message", args=[req.code]),
        {"form_token": form_token, "body": "ADLを教えてください"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "ADLを教えてください" in html
    assert "<html" not in html


def test_case_list_filters_and_counts_without_n_plus_one(
    client: Client,
    msw: Membership,
    colleague: Membership,
    tokuyo: tuple[Facility, Membership],
    django_assert_max_num_queries: Any,
) -> None:
    """Mine shows my cases only; the list costs a fixed number of queries for 15 cases."""
    for _i in range(10):
        send(make_case(msw), msw, [tokuyo[0]])
    for _i in range(5):
        make_case(colleague)
    login(client, msw)
    with django_assert_max_num_queries(15):
        page = client.get(reverse("referrals:case_list")).content.decode()
    assert page.count("<tr>") == 1 + 15
    page = client.get(reverse("referrals:case_list") + "?scope=mine").content.decode()
    assert page.count("<tr>") == 1 + 10


def test_inbox_without_n_plus_one(
    client: Client,
    msw: Membership,
    tokuyo: tuple[Facility, Membership],
    django_assert_max_num_queries: Any,
) -> None:
    """Twenty requests in the inbox cost a fixed number of queries (about a dozen are the
    session, membership and two-factor checks every page makes)."""
    for _ in range(20):
        send(make_case(msw), msw, [tokuyo[0]])
    login(client, tokuyo[1])
    with django_assert_max_num_queries(15):
        response = client.get(reverse("referrals:inbox"))
    assert response.content.decode().count('class="result"') == 20


def test_government_sees_no_case_screens(client: Client, prefecture_officer: Membership) -> None:
    """A prefecture member cannot register cases but reaches the dashboard."""
    login(client, prefecture_officer)
    assert client.get(reverse("referrals:case_new")).status_code == 404
    assert client.get(reverse("referrals:dashboard")).status_code == 200


def test_decided_case_records_handover_from_the_screen(
    client: Client, msw: Membership, case: PlacementCase, tokuyo: tuple[Facility, Membership]
) -> None:
    """After the decision, the MSW records that the 看護サマリー was handed over."""
    (req,) = send(case, msw, [tokuyo[0]])
    actions.answer_request(req, by=tokuyo[1], data=RequestAnswerInput(answer=Answer.ACCEPTED))
    actions.confirm_placement(case, req, by=msw)
    login(client, msw)
    page = client.get(case.get_absolute_url()).content.decode()
    from django.utils import timezone

    client.post(
        reverse("referrals:handover", args=[case.code]),
        {
            "form_token": token(page),
            "kind": "nursing_summary",
            "method": "hand",
            "exchanged_on": timezone.localdate().isoformat(),
        },
    )
    assert case.handovers.count() == 1
    page = client.get(case.get_absolute_url()).content.decode()
    assert "看護サマリー" in page


def test_admission_search_screen(client: Client, msw: Membership) -> None:
    """The reverse search lists a hospital with a vacant 地域包括ケア病棟."""
    from renkei.directory.models import Ward
    from renkei.testing import make_facility

    h = make_facility("後方支援病院", "hospital", is_backup_hospital=True)
    Ward.objects.create(facility=h, kind="community", beds=40, vacant_beds=2)
    login(client, msw)
    page = client.get(
        reverse("referrals:admission") + "?search=1&ward_kinds=community&vacant_only=on"
    ).content.decode()
    assert "後方支援病院" in page
    assert "地域包括ケア病棟 40床（空床2）" in page


def test_admission_search_sorts_and_shows_its_conditions(client: Client, msw: Membership) -> None:
    """受入れ病院を探す: the order is chosen and explained, the conditions stay in view."""
    from renkei.directory.models import Ward
    from renkei.testing import make_facility

    near = make_facility("近い病院", "hospital", lat=35.34, lng=139.49)
    Ward.objects.create(facility=near, kind="community", beds=40, vacant_beds=1)
    roomy = make_facility("空床の多い病院", "hospital", lat=35.40, lng=139.55)
    Ward.objects.create(facility=roomy, kind="community", beds=40, vacant_beds=9)
    login(client, msw)
    url = reverse("referrals:admission") + "?search=1&ward_kinds=community&vacant_only=on"
    by_vacancy = client.get(url + "&sort=vacant").content.decode()
    assert by_vacancy.index("空床の多い病院") < by_vacancy.index("近い病院")
    assert "並び順: <strong>選んだ病棟の空床が多い順（同数は近い順）</strong>" in by_vacancy
    assert "空床のある病棟のみ" in by_vacancy and "地域包括ケア病棟" in by_vacancy
    by_distance = client.get(url + "&sort=near").content.decode()
    assert by_distance.index("近い病院") < by_distance.index("空床の多い病院")
    r = client.get("/api/v1/referrals/admission/hospitals?ward_kind=community&sort=vacant")
    assert [h["name"] for h in r.json()] == ["空床の多い病院", "近い病院"]


def test_candidates_page_reads_the_case_once(
    client: Client,
    msw: Membership,
    case: PlacementCase,
    tokuyo: tuple[Facility, Membership],
) -> None:
    """The page fetches the case with only its residence joined (ADR 0068): nothing on the page
    or in matching reads the hospital, assignee, author or placed facility, so none of them is
    loaded afterwards one by one (each would be one more statement here). The session, the user
    and the second-factor device are one statement of the ten before ADR 0071's eight; the
    case, its procedures and its desired municipalities one of ADR 0075's six (the two
    prefetches were two more)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    login(client, msw)
    url = reverse("referrals:candidates", args=[case.code])
    client.get(url)  # the session's first refresh is not the page's
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200 and "特養なぎさ苑" in response.content.decode()
    # A statement reading the case's row (the menu's badge names the table too, not its columns).
    case_reads = [q["sql"] for q in queries if '"age_band"' in q["sql"]]
    assert len(case_reads) == 1
    assert "accounts_organization" not in case_reads[0]
    assert len(queries) == 6
