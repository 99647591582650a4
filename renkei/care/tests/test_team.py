"""Care teams across organisations: invitations accepted there, leaving and removal, the
consent as the limit of sharing, break-glass reads."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from renkei.accounts.models import AuditEntry, Membership, Organization, OrgKind, Role
from renkei.care.models import (
    BreakGlassGrant,
    CareTeamMember,
    ConsentScope,
    MemberStatus,
    Patient,
    ProvisionRecord,
)
from renkei.care.testing import add_to_team, make_consent, make_patient
from renkei.care.tests.conftest import verified
from renkei.testing import make_member, make_org

pytestmark = pytest.mark.django_db


def post_json(client: Client, url: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(url, json.dumps(body or {}), content_type="application/json")


@pytest.fixture
def care_office(db: None) -> Organization:
    return make_org("えびなケアプランセンター", OrgKind.CARE_MANAGEMENT, municipality_code="142158")


@pytest.fixture
def cm(care_office: Organization) -> Membership:
    return make_member(care_office, Role.CARE_MANAGER, username="cm_suzuki", display_name="鈴木CM")


def invite_body(m: Membership, role: str = "care_manager") -> dict[str, str]:
    return {
        "organization": str(m.organization.code),
        "username": m.user.username,
        "team_role": role,
    }


def rows() -> list[tuple[Any, ...]]:
    return list(
        CareTeamMember.objects.order_by("patient_id", "pk").values_list(
            "membership_id", "team_role", "status", "invited_by_id"
        )
    )


def test_inviting_through_either_door_and_accepting_there(
    doctor: Membership, patient: Patient, cm: Membership, django_capture_on_commit_callbacks: Any
) -> None:
    """The same invitation by form and API; the invitee sees no patient data until accepting,
    then reads the record; a 第29条 record is written for the provision."""
    second = make_patient(doctor, name="二人目 患者", kana="ふたりめ", allow_duplicate=True)
    make_consent(second, by=doctor)
    client = verified(Client(), doctor)
    with django_capture_on_commit_callbacks(execute=True):
        html = client.post(reverse("care:team", args=[patient.code]), invite_body(cm))
        api = post_json(client, f"/api/v1/care/patients/{second.code}/team", invite_body(cm))
    assert html.status_code == 302
    assert api.status_code == 201, api.content
    mine = [r for r in rows() if r[0] == cm.pk]
    assert mine[0] == mine[1] == (cm.pk, "care_manager", "invited", doctor.pk)
    assert len(mail.outbox) == 2 and "二人目" not in mail.outbox[0].body

    cm_client = verified(Client(), cm)
    assert cm_client.get(reverse("care:patient", args=[patient.code])).status_code == 404
    listing = cm_client.get(reverse("care:invitations")).content.decode()
    assert "佐藤医師" in listing and "連携 花子" not in listing
    invitations = cm_client.get("/api/v1/care/invitations").json()
    assert {i["invited_by"] for i in invitations} == {"佐藤医師"}
    row1, row2 = CareTeamMember.objects.filter(membership=cm).order_by("pk")
    assert cm_client.post(reverse("care:accept", args=[row1.pk])).status_code == 302
    assert post_json(cm_client, f"/api/v1/care/invitations/{row2.pk}/accept").status_code == 200
    assert cm_client.get(reverse("care:patient", args=[patient.code])).status_code == 200
    assert cm_client.get(f"/api/v1/care/patients/{second.code}").status_code == 200
    records = ProvisionRecord.objects.filter(recipient=cm.organization)
    assert records.count() == 2
    keep = records.first().keep_until  # type: ignore[union-attr]
    assert keep >= timezone.localdate() + dt.timedelta(days=3 * 365)


def test_declining_leaves_no_access(doctor: Membership, patient: Patient, cm: Membership) -> None:
    client = verified(Client(), doctor)
    post_json(client, f"/api/v1/care/patients/{patient.code}/team", invite_body(cm))
    row = CareTeamMember.objects.get(membership=cm)
    cm_client = verified(Client(), cm)
    assert post_json(cm_client, f"/api/v1/care/invitations/{row.pk}/decline").status_code == 200
    assert cm_client.get(f"/api/v1/care/patients/{patient.code}").status_code == 404
    again = post_json(cm_client, f"/api/v1/care/invitations/{row.pk}/accept")
    assert again.status_code == 404


@pytest.mark.parametrize("door", ["html", "api"])
def test_an_organisation_outside_the_consent_is_refused_with_a_clear_message(
    doctor: Membership, cm: Membership, nurse: Membership, door: str
) -> None:
    p = make_patient(doctor)
    make_consent(p, by=doctor, scope=ConsentScope.ORGANIZATIONS, organizations=[nurse.organization])
    client = verified(Client(), doctor)
    if door == "html":
        response = client.post(reverse("care:team", args=[p.code]), invite_body(cm))
        text = response.content.decode()
    else:
        response = post_json(client, f"/api/v1/care/patients/{p.code}/team", invite_body(cm))
        text = response.json()["detail"]
    assert response.status_code == 403
    assert (
        "「えびなケアプランセンター」は患者さんの情報共有の同意の範囲外のため、共有できません"
        in text
    )
    assert not CareTeamMember.objects.filter(membership=cm).exists()


def test_removal_stops_the_next_read_and_leaving_works(
    doctor: Membership, patient: Patient, nurse: Membership, station_admin: Membership
) -> None:
    nurse_client = verified(Client(), nurse)
    assert nurse_client.get(f"/api/v1/care/patients/{patient.code}").status_code == 200
    row = CareTeamMember.objects.get(membership=nurse)
    doctor_client = verified(Client(), doctor)
    end = post_json(
        doctor_client,
        f"/api/v1/care/patients/{patient.code}/team/{row.pk}/end",
        {"reason": "担当交代"},
    )
    assert end.status_code == 200 and end.json()["status"] == "ended"
    assert nurse_client.get(f"/api/v1/care/patients/{patient.code}").status_code == 404
    assert AuditEntry.objects.filter(action="care.team_removed").count() == 1
    # The last member cannot leave the patient without a team.
    mine = CareTeamMember.objects.get(membership=doctor)
    last = post_json(doctor_client, f"/api/v1/care/patients/{patient.code}/team/{mine.pk}/end")
    assert last.status_code == 409


def test_a_member_of_another_organisation_may_not_remove_others(
    doctor: Membership, patient: Patient, nurse: Membership
) -> None:
    mine = CareTeamMember.objects.get(membership=doctor)
    response = post_json(
        verified(Client(), nurse), f"/api/v1/care/patients/{patient.code}/team/{mine.pk}/end"
    )
    assert response.status_code == 403
    assert CareTeamMember.objects.get(pk=mine.pk).status == MemberStatus.ACTIVE


def test_an_ended_period_ends_access(
    doctor: Membership, patient: Patient, nurse: Membership
) -> None:
    CareTeamMember.objects.filter(membership=nurse).update(
        end_date=timezone.localdate() - dt.timedelta(days=1)
    )
    assert verified(Client(), nurse).get(f"/api/v1/care/patients/{patient.code}").status_code == 404


BREAK = {
    "kana": "レンケイ ハナコ",
    "birth_date": "1938-04-12",
    "reason": "救急搬送時の既往歴確認のため",
}


@pytest.mark.parametrize("door", ["html", "api"])
def test_break_glass_reads_for_four_hours_and_alerts_the_team_and_admins(
    patient: Patient,
    outsider: Membership,
    station_admin: Membership,
    doctor: Membership,
    door: str,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = verified(Client(), outsider)
    url = f"/api/v1/care/patients/{patient.code}"
    assert client.get(url).status_code == 404
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        if door == "html":
            assert client.post(reverse("care:break_glass"), BREAK).status_code == 302
        else:
            response = post_json(client, "/api/v1/care/break-glass", BREAK)
            assert response.status_code == 201
            assert response.json()["patients"] == [str(patient.code)]
    assert client.get(url).status_code == 200
    page = client.get(reverse("care:patient", args=[patient.code])).content.decode()
    assert "緊急時の閲覧です" in page
    recipients = {m.to[0] for m in mail.outbox}
    # The team (doctor, nurse), the registering clinic's and the reader's own administrators.
    assert {doctor.user.email, "ns_tanaka@example.jp", outsider.user.email} <= recipients
    assert all("連携 花子" not in m.body and "れんけい" not in m.body for m in mail.outbox)
    entry = AuditEntry.objects.get(action="care.break_glass")
    assert entry.detail["reason"] == BREAK["reason"] and entry.target_id == str(patient.code)
    viewed = AuditEntry.objects.filter(action="care.patient_viewed", actor=outsider.user).first()
    assert viewed is not None and viewed.detail["via"] == "break_glass"
    # A break-glass reader reads; writing needs the team.
    assert post_json(client, f"{url}/team", invite_body(outsider)).status_code == 403
    grant = BreakGlassGrant.objects.get()
    assert grant.expires_at - grant.created_at == dt.timedelta(hours=4)
    BreakGlassGrant.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    "body, status, message",
    [
        ({**BREAK, "reason": "短い"}, 400, "10文字以上"),
        ({**BREAK, "kana": "べつじん"}, 404, "ふりがなと生年月日が一致する患者が見つかりません"),
    ],
)
def test_break_glass_needs_a_reason_and_an_exact_match(
    patient: Patient, outsider: Membership, body: dict[str, str], status: int, message: str
) -> None:
    response = post_json(verified(Client(), outsider), "/api/v1/care/break-glass", body)
    assert response.status_code == status
    assert message in response.json()["detail"]
    assert not AuditEntry.objects.filter(action="care.break_glass").exists()


def test_a_care_worker_may_not_break_glass(patient: Patient, other_org: Organization) -> None:
    worker = make_member(other_org, Role.CARE_WORKER, username="worker")
    response = post_json(verified(Client(), worker), "/api/v1/care/break-glass", BREAK)
    assert response.status_code == 403


def test_add_to_team_builder_writes_a_provision_record(doctor: Membership, cm: Membership) -> None:
    p = make_patient(doctor)
    make_consent(p, by=doctor, scope=ConsentScope.PEOPLE, people=[cm.user])
    add_to_team(p, cm, by=doctor, team_role="care_manager")
    assert ProvisionRecord.objects.filter(patient=p, recipient=cm.organization).exists()
