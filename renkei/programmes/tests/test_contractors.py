"""A 医師会 under contract reads the lines it works on and enters their 実績 (issue 15);
editing the line itself needs the owner's grant; everyone else still gets 404."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from renkei.accounts.models import Membership, OrgKind, Role
from renkei.lib.actions import ActionError
from renkei.programmes import actions, contracts
from renkei.programmes.models import ProgrammeLine, ProgrammeTable
from renkei.testing import make_member, make_org, sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def ishikai(db: None) -> Membership:
    org = make_org("横須賀市医師会", OrgKind.MEDICAL_ASSOCIATION, municipality_code="142018")
    return make_member(org, Role.DOCTOR, username="ishikai")


@pytest.fixture
def lines(table: ProgrammeTable) -> tuple[ProgrammeLine, ProgrammeLine]:
    meeting_line, training_line = table.lines.order_by("sort_order")
    return meeting_line, training_line


@pytest.fixture
def contracted(
    city: Membership, ishikai: Membership, lines: tuple[ProgrammeLine, ProgrammeLine]
) -> ProgrammeLine:
    line = lines[1]
    contracts.add_contractor(
        line, by=city, data=contracts.ContractorInput(organization=str(ishikai.organization.code))
    )
    return line


def _put(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.put(url, json.dumps(body), content_type="application/json")


def test_contractor_reads_only_the_lines_it_works_on(
    client: Client,
    ishikai: Membership,
    table: ProgrammeTable,
    lines: tuple[ProgrammeLine, ProgrammeLine],
    contracted: ProgrammeLine,
) -> None:
    other = lines[0]
    sign_in(client, ishikai)
    page = client.get(f"/programmes/tables/{table.code}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert contracted.name in text and other.name not in text
    assert "実績を入力" in text and "事業を追加" not in text
    api = client.get(f"/api/v1/programmes/tables/{table.code}").json()
    assert [ln["name"] for ln in api["lines"]] == [contracted.name]
    assert api["lines"][0]["contractors"][0]["name"] == "横須賀市医師会"
    # Totals are of what the contractor reads: its own line's budget only.
    assert api["totals_by_source"] == [
        {"label": "地域支援事業交付金", "lines": None, "amount": 800}
    ]
    assert client.get(f"/api/v1/programmes/lines/{contracted.code}").status_code == 200
    assert client.get(f"/api/v1/programmes/lines/{other.code}").status_code == 404
    assert client.get(f"/programmes/lines/{other.code}/results/").status_code == 404
    csv = client.get(f"/programmes/tables/{table.code}/export.csv").content.decode("utf-8-sig")
    assert contracted.name in csv and other.name not in csv
    assert [t["code"] for t in client.get("/api/v1/programmes/tables").json()] == [str(table.code)]
    home = client.get("/programmes/").content.decode()
    assert f'{table.title}</a></td><td>{table.owner}</td><td class="num">1</td>' in home


def test_contractor_enters_results_on_both_doors_but_does_not_edit(
    client: Client, ishikai: Membership, contracted: ProgrammeLine
) -> None:
    sign_in(client, ishikai)
    url = f"/programmes/lines/{contracted.code}/results/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"results": "第1回：9月26日 受講者 42名", "version": 1})
    assert response.status_code == 302
    contracted.refresh_from_db()
    assert contracted.results == "第1回：9月26日 受講者 42名" and contracted.version == 2
    api = _put(
        client,
        f"/api/v1/programmes/lines/{contracted.code}/results",
        {"results": "第2回：2月5日 受講者 38名", "version": 2},
    )
    assert api.status_code == 200, api.content
    assert api.json()["results"] == "第2回：2月5日 受講者 38名"
    # A stale version is refused on both doors, nothing changed.
    stale = _put(
        client,
        f"/api/v1/programmes/lines/{contracted.code}/results",
        {"results": "x", "version": 1},
    )
    assert stale.status_code == 409
    assert client.post(url, {"results": "x", "version": 1}).status_code == 409
    contracted.refresh_from_db()
    assert contracted.results == "第2回：2月5日 受講者 38名"
    # Without the owner's grant the line itself is not the contractor's to edit.
    assert client.get(f"/programmes/lines/{contracted.code}/").status_code == 404
    body = {"name": "書き換え"}
    assert _put(client, f"/api/v1/programmes/lines/{contracted.code}", body).status_code == 404
    assert client.post(f"/programmes/lines/{contracted.code}/delete/").status_code == 404
    contracted.refresh_from_db()
    assert contracted.name == "在宅医同行研修"


def test_the_owners_grant_lets_the_contractor_edit_the_text_not_the_money(
    client: Client, city: Membership, ishikai: Membership, contracted: ProgrammeLine
) -> None:
    org = str(ishikai.organization.code)
    contracts.add_contractor(
        contracted, by=city, data=contracts.ContractorInput(organization=org, may_edit=True)
    )
    assert contracted.contracts.get().may_edit
    sign_in(client, ishikai)
    page = client.get(f"/programmes/lines/{contracted.code}/")
    assert page.status_code == 200 and "予算を追加する" not in page.content.decode()
    response = client.post(
        f"/programmes/lines/{contracted.code}/", {"name": "在宅医同行研修（医師会）", "version": 1}
    )
    assert response.status_code == 302
    api = _put(
        client,
        f"/api/v1/programmes/lines/{contracted.code}",
        {"name": "在宅医同行研修", "budget": [], "version": 2},
    )
    assert api.status_code == 400 and "予算" in api.json()["detail"]
    contracted.refresh_from_db()
    assert contracted.name == "在宅医同行研修（医師会）"
    assert contracted.budget_lines.count() == 1
    # Budgets and contractors stay the owner's.
    assert client.post(f"/programmes/lines/{contracted.code}/budget/").status_code == 404
    with pytest.raises(ActionError):
        contracts.add_contractor(
            contracted, by=ishikai, data=contracts.ContractorInput(organization=org)
        )


def test_others_still_get_404_and_anonymous_is_refused(
    client: Client, outsider: Membership, contracted: ProgrammeLine, table: ProgrammeTable
) -> None:
    # A hospital in the same city, not under contract.
    hospital = make_member(
        make_org("横須賀共済病院", OrgKind.HOSPITAL, municipality_code="142018"), username="kyosai"
    )
    for who in (outsider, hospital):
        sign_in(client, who)
        assert client.get(f"/programmes/tables/{table.code}/").status_code == 404
        assert client.get(f"/programmes/lines/{contracted.code}/results/").status_code == 404
        api = _put(client, f"/api/v1/programmes/lines/{contracted.code}/results", {"results": "x"})
        assert api.status_code == 404
        client.logout()
    assert client.get(f"/programmes/lines/{contracted.code}/results/").status_code == 302
    anon = _put(client, f"/api/v1/programmes/lines/{contracted.code}/results", {"results": "x"})
    assert anon.status_code == 401
    contracted.refresh_from_db()
    assert contracted.results == "第1回：9月26日 定員 50名"


def test_contractors_set_and_removed_on_both_doors(
    client: Client, city: Membership, ishikai: Membership, lines: tuple[ProgrammeLine, ...]
) -> None:
    first, second = lines
    org = str(ishikai.organization.code)
    sign_in(client, city)
    html = client.post(
        f"/programmes/lines/{first.code}/contractors/", {"organization": org, "may_edit": "on"}
    )
    assert html.status_code == 302
    api = client.post(
        f"/api/v1/programmes/lines/{second.code}/contractors",
        json.dumps({"organization": org, "may_edit": True}),
        content_type="application/json",
    )
    assert api.status_code == 201, api.content
    assert api.json()["contractors"] == [
        {"organization_code": org, "name": "横須賀市医師会", "may_edit": True}
    ]

    def state(line: ProgrammeLine) -> list[tuple[int, bool]]:
        return list(line.contracts.values_list("organization_id", "may_edit"))

    assert state(first) == state(second) == [(ishikai.organization_id, True)]
    # The owner's own organisation, or an unknown code, is refused with a message.
    own = {"organization": str(city.organization.code)}
    response = client.post(
        f"/api/v1/programmes/lines/{first.code}/contractors",
        json.dumps(own),
        content_type="application/json",
    )
    assert (
        response.status_code == 400 and "受託者の組織が見つかりません" in response.json()["detail"]
    )
    html = client.post(f"/programmes/lines/{first.code}/contractors/{org}/remove/")
    assert html.status_code == 302
    api = client.delete(f"/api/v1/programmes/lines/{second.code}/contractors/{org}")
    assert api.status_code == 204
    assert state(first) == state(second) == []


def test_roll_over_keeps_the_contractors(
    city: Membership, ishikai: Membership, table: ProgrammeTable, contracted: ProgrammeLine
) -> None:
    new = actions.roll_over(table, by=city)
    copy = new.lines.get(name=contracted.name)
    assert list(copy.contracts.values_list("organization_id", flat=True)) == [
        ishikai.organization_id
    ]
