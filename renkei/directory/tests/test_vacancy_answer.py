"""A vacancy report and 「変わりなし」 answer with the facility as written, not a second read
(ADR 0076): the answer must be what GET /facilities/{code} gives right after."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from renkei.accounts.models import OrgKind, Role
from renkei.directory.models import Capability, Facility
from renkei.testing import make_facility, make_member, make_org, sign_in

pytestmark = pytest.mark.django_db


def _setup(client: Client) -> Facility:
    org = make_org("ひだまり会", OrgKind.CARE_PROVIDER, municipality_code="142051")
    sign_in(client, make_member(org, Role.COUNSELOR, username="hidamari").user)
    f = make_facility("ひだまりの家", organization=org)
    f.set_capabilities(Capability.objects.order_by("code")[:3])
    f.save()
    return f


def _url(f: Facility) -> str:
    return f"/api/v1/directory/facilities/{f.code}"


def _send(client: Client, method: str, url: str, body: dict[str, Any]) -> Any:
    r = getattr(client, method)(url, json.dumps(body), content_type="application/json")
    assert r.status_code == 200, r.content
    return r.json()


def test_a_vacancy_report_is_answered_as_read_back(client: Client) -> None:
    f = _setup(client)
    made = _send(
        client, "put", _url(f) + "/vacancy", {"status": "few", "count": 2, "note": "女性1床"}
    )
    assert made["vacancy_status"] == "few"
    # From the mask, in the order the link table gives them.
    assert made["capabilities"] == [c.code for c in f.capabilities.all()]
    assert len(made["capabilities"]) == 3
    assert made == client.get(_url(f)).json()


def test_a_vacancy_report_costs_a_fixed_number_of_statements(
    client: Client, django_assert_num_queries: Any
) -> None:
    """The session, the membership, the facility with its municipality, the version's bump
    (one UPDATE … RETURNING since ADR 0081), the update, the history row, the audit entry
    (two), and the savepoint pair of the test's transaction: a refresh (two before ADR 0076)
    or the link table would add."""
    f = _setup(client)
    client.get(_url(f))  # the vocabulary, kept by the process
    body = {"status": "few", "count": 2, "note": ""}
    with django_assert_num_queries(10):
        _send(client, "put", _url(f) + "/vacancy", body)


def test_an_unchanged_vacancy_is_answered_as_read_back(client: Client) -> None:
    f = _setup(client)
    _send(client, "put", _url(f) + "/vacancy", {"status": "available", "count": 4})
    made = _send(client, "post", _url(f) + "/vacancy/confirm", {})
    assert made["vacancy_count"] == 4
    assert made == client.get(_url(f)).json()
