"""Rotas are seen by their organiser and their members only: everyone else gets 404 on every
door, anonymous callers are refused, and drafts stay with the organiser."""

from __future__ import annotations

import pytest
from django.test import Client

from renkei.accounts.models import Membership
from renkei.oncall.models import Rota, Shift
from renkei.oncall.testing import publish
from renkei.testing import sign_in


def _routes(rota: Rota) -> tuple[list[str], list[tuple[str, str, dict[str, object]]]]:
    shift = Shift.objects.filter(rota=rota).first()
    assert shift is not None
    member = rota.members.first()
    assert member is not None
    html = [
        f"/oncall/rotas/{rota.code}/",
        f"/oncall/rotas/{rota.code}/edit/",
        f"/oncall/rotas/{rota.code}/print/?month=2026-11",
        f"/oncall/rotas/{rota.code}/export.xlsx?month=2026-11",
        f"/oncall/rotas/{rota.code}/month/generate/?month=2026-11",
        f"/oncall/shifts/{shift.code}/",
    ]
    api: list[tuple[str, str, dict[str, object]]] = [
        ("get", f"/api/v1/oncall/rotas/{rota.code}", {}),
        ("get", f"/api/v1/oncall/rotas/{rota.code}/members", {}),
        ("get", f"/api/v1/oncall/rotas/{rota.code}/months/2026-11", {}),
        ("post", f"/api/v1/oncall/rotas/{rota.code}/generate", {"month": "2026-12"}),
        ("post", f"/api/v1/oncall/rotas/{rota.code}/publish", {"month": "2026-11"}),
        ("put", f"/api/v1/oncall/shifts/{shift.code}", {"member": None}),
        ("post", f"/api/v1/oncall/shifts/{shift.code}/swaps", {"to_member": str(member.code)}),
        (
            "post",
            f"/api/v1/oncall/rotas/{rota.code}/override",
            {"member": None, "start": "2026-11-01", "end": "2026-11-02"},
        ),
    ]
    return html, api


@pytest.mark.django_db
def test_an_outsider_gets_404_on_every_rota_route(
    client: Client, rota: Rota, organiser: Membership, outsider: Membership
) -> None:
    publish(rota, organiser, "2026-11")
    html, api = _routes(rota)
    sign_in(client, outsider.user)
    for url in html:
        assert client.get(url).status_code == 404, url
    for method, url, body in api:
        response = getattr(client, method)(url, body, content_type="application/json")
        assert response.status_code == 404, url
    before = list(Shift.objects.filter(rota=rota).values_list("member_id", flat=True))
    assert list(Shift.objects.filter(rota=rota).values_list("member_id", flat=True)) == before
    assert client.get("/api/v1/oncall/rotas").json() == []


@pytest.mark.django_db
def test_anonymous_callers_are_refused(client: Client, rota: Rota, organiser: Membership) -> None:
    publish(rota, organiser, "2026-11")
    html, api = _routes(rota)
    for url in [*html, "/oncall/", "/oncall/now/"]:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
    for method, url, body in api:
        assert (
            getattr(client, method)(url, body, content_type="application/json").status_code == 401
        )


@pytest.mark.django_db
def test_a_member_does_not_see_a_draft_nor_edit_the_rota(
    client: Client, rota: Rota, organiser: Membership, doctor_a: Membership
) -> None:
    from renkei.oncall import actions

    actions.generate_month(rota, by=organiser, data=actions.MonthInput(month="2026-11"))
    shift = Shift.objects.filter(rota=rota).first()
    assert shift is not None
    sign_in(client, doctor_a.user)
    assert client.get(f"/oncall/shifts/{shift.code}/").status_code == 404
    assert client.get(f"/api/v1/oncall/rotas/{rota.code}/months/2026-11").status_code == 404
    assert (
        "公開されていません"
        in client.get(f"/oncall/rotas/{rota.code}/?month=2026-11").content.decode()
    )
    response = client.put(
        f"/api/v1/oncall/shifts/{shift.code}", {"member": None}, content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "当番表を編集できるのは主催者だけです"
    assert client.get(f"/oncall/rotas/{rota.code}/edit/").status_code == 404


@pytest.mark.django_db
def test_a_tampered_calendar_link_is_404(client: Client, rota: Rota) -> None:
    token = rota.feed_token()
    assert client.get(f"/oncall/feed/{token}.ics").status_code == 200
    assert client.get(f"/oncall/feed/{token[:-2]}xx.ics").status_code == 404
    assert client.get("/oncall/feed/%00.ics").status_code in (400, 404)
