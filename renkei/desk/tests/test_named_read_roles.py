"""Which roles read named consultations is the organisation's setting (ADR 0043): a 介護職
member of the desk's organisation gets 404 on a named record, on every door, and lists and
exports leave it out; the unnamed ones stay readable."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from renkei.accounts.models import AuditEntry, Membership, Role
from renkei.desk.models import Consultation, Desk
from renkei.desk.testing import make_consultation
from renkei.desk.tests.conftest import login
from renkei.testing import make_member

NAME = "名前 見本子（仮名）"


@pytest.fixture
def named(desk: Desk, counselor: Membership) -> Consultation:
    return make_consultation(desk, counselor, subject_name=NAME, subject_kana="なまえ みほんこ")


@pytest.fixture
def unnamed(desk: Desk, counselor: Membership) -> Consultation:
    return make_consultation(desk, counselor, summary="制度の一般的な問い合わせ")


def test_a_care_worker_gets_404_on_a_named_consultation_on_both_doors(
    client: Client, desk: Desk, clerk: Membership, named: Consultation, unnamed: Consultation
) -> None:
    login(client, clerk)
    for url in (
        reverse("desk:detail", args=[named.code]),
        reverse("desk:edit", args=[named.code]),
        reverse("desk:version", args=[named.code, 1]),
        f"/api/v1/desk/consultations/{named.code}",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert NAME not in response.content.decode()
    assert client.get(reverse("desk:detail", args=[unnamed.code])).status_code == 200
    assert client.get(f"/api/v1/desk/consultations/{unnamed.code}").status_code == 200
    # The refused read is on the record, as for an outsider.
    assert AuditEntry.objects.filter(action="access.refused", actor=clerk.user).exists()


def test_lists_and_exports_leave_named_records_out_for_a_care_worker(
    client: Client, desk: Desk, clerk: Membership, named: Consultation, unnamed: Consultation
) -> None:
    login(client, clerk)
    page = client.get(reverse("desk:list", args=[desk.code])).content.decode()
    api = client.get(f"/api/v1/desk/desks/{desk.code}/consultations").content.decode()
    export = client.get(reverse("desk:export", args=[desk.code, "csv"]))
    assert export.status_code == 200
    for text in (page, api, export.content.decode("utf-8-sig")):
        assert str(unnamed.code) in text
        assert str(named.code) not in text and NAME not in text


def test_a_counselor_reads_both_and_the_admin_can_let_care_workers_in(
    client: Client, desk: Desk, counselor: Membership, clerk: Membership, named: Consultation
) -> None:
    """相談員 reads named records by default; once the organisation adds 介護職, so does the
    clerk (the setting is the organisation's, not a constant)."""
    login(client, counselor)
    assert client.get(reverse("desk:detail", args=[named.code])).status_code == 200
    org = desk.organization
    org.named_read_roles += f"{Role.CARE_WORKER},"
    org.save()
    other = login(Client(), clerk)
    assert other.get(reverse("desk:detail", args=[named.code])).status_code == 200
    assert other.get(f"/api/v1/desk/consultations/{named.code}").status_code == 200


def test_a_care_worker_may_not_write_a_name_they_could_not_read_back(
    client: Client, desk: Desk, clerk: Membership, unnamed: Consultation
) -> None:
    login(client, clerk)
    before = Consultation.objects.count()
    response = client.post(
        f"/api/v1/desk/desks/{desk.code}/consultations",
        {
            "received_at": "2026-04-01T10:00:00+09:00",
            "channel": "phone",
            "asker_type": "family",
            "topics": [desk.topics().first().pk],  # type: ignore[union-attr]
            "scene": "daily",
            "summary": "電話での相談",
            "subject_name": NAME,
        },
        content_type="application/json",
    )
    assert response.status_code == 403
    assert "氏名" in response.json()["detail"] and response.json()["field"] == "subject_name"
    assert Consultation.objects.count() == before


def test_an_organisation_admin_of_any_role_reads_named_records(
    client: Client, desk: Desk, named: Consultation
) -> None:
    admin = make_member(
        desk.organization, Role.CARE_WORKER, username="kaigo-admin", is_org_admin=True
    )
    login(client, admin)
    assert client.get(reverse("desk:detail", args=[named.code])).status_code == 200
