"""Parity of the sharing writes: revoking a consent, declining an invitation, marking a post
read, sending a shared form and replying to it run the same action with the same typed input
on the screens under /care/ and /api/v1/care/. Each test runs once per door and compares with
one expected state; the same bad input is refused with the same Japanese message on both,
changing nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from renkei.accounts.models import AuditEntry, Membership, Organization, OrgKind, Role
from renkei.care.actions import forms as fa
from renkei.care.models import (
    CareTeamMember,
    Consent,
    MemberStatus,
    Patient,
    PostRead,
    ProvisionRecord,
    SharedForm,
    TeamRole,
)
from renkei.care.testing import add_to_team, make_post
from renkei.care.tests.conftest import verified
from renkei.care.tests.test_shared_forms import _draft
from renkei.care.tests.test_team import invite_body
from renkei.testing import make_member, make_org

pytestmark = pytest.mark.django_db
DOORS = ["html", "api"]


@pytest.fixture
def cm(db: None) -> Membership:
    office = make_org(
        "海老名ケアプランセンター", OrgKind.CARE_MANAGEMENT, municipality_code="142158"
    )
    return make_member(office, Role.CARE_MANAGER, username="cm_suzuki", display_name="鈴木CM")


@pytest.fixture
def team(patient: Patient, doctor: Membership, cm: Membership, other_org: Organization) -> Patient:
    """The clinic's patient with a care manager and the hospital's 連携室 on the team."""
    liaison = make_member(other_org, Role.MSW, username="msw_kato", display_name="加藤MSW")
    add_to_team(patient, cm, by=doctor, team_role=TeamRole.CARE_MANAGER)
    add_to_team(patient, liaison, by=doctor, team_role=TeamRole.HOSPITAL_LIAISON)
    return patient


def _json(client: Client, url: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def _audit() -> list[str]:
    """The writes audited; the reads a page writes when it shows a refusal again are left out."""
    return list(
        AuditEntry.objects.filter(action__startswith="care.")
        .exclude(action__in=["care.patient_viewed", "care.form_viewed", "care.form_received"])
        .order_by("pk")
        .values_list("action", flat=True)
    )


def _door(client: Client, door: str, html: str, api: str, body: dict[str, Any]) -> Any:
    """The same body to the screen (as a form post) or to the API (as JSON)."""
    return client.post(html, body) if door == "html" else _json(client, api, body)


def _shown(r: Any, door: str) -> str:
    """What the user is told: the page (after its redirect) or the API's detail."""
    return str(r.content.decode() if door == "html" else r.json()["detail"])


def _consents(p: Patient) -> list[tuple[Any, ...]]:
    return [
        (c.revoked_by_id, c.revoke_reason, c.revoked_at is None)
        for c in Consent.objects.filter(patient=p).order_by("pk")
    ]


@pytest.mark.parametrize("door", DOORS)
def test_a_consent_is_revoked_the_same_and_a_bad_reason_refused_the_same(
    doctor: Membership, patient: Patient, door: str
) -> None:
    client = verified(Client(), doctor)
    consent = Consent.objects.get(patient=patient)
    html = reverse("care:consent_revoke", args=[patient.code, consent.code])
    api = f"/api/v1/care/patients/{patient.code}/consents/{consent.code}/revoke"
    before = _audit()
    too_long = {"reason": "理" * 301}
    if door == "html":
        r = client.post(html, too_long, follow=True)
    else:
        r = _json(client, api, too_long)
        assert r.status_code == 400
    assert "300文字以内で入力してください" in _shown(r, door)
    assert _consents(patient) == [(None, "", True)] and _audit() == before
    if door == "html":
        assert client.post(html, {"reason": "家族の希望"}).status_code == 302
    else:
        assert _json(client, api, {"reason": "家族の希望"}).status_code == 200
    assert _consents(patient) == [(doctor.pk, "家族の希望", False)]
    assert _audit()[len(before) :] == ["care.consent_revoked"]
    # Revoked already: the same refusal on both doors, nothing more written.
    if door == "html":
        r = client.post(html, {"reason": "二度目"}, follow=True)
    else:
        r = _json(client, api, {"reason": "二度目"})
        assert r.status_code == 409
    assert "この同意は既に撤回されています" in _shown(r, door)
    assert _consents(patient) == [(doctor.pk, "家族の希望", False)]
    assert _audit()[len(before) :] == ["care.consent_revoked"]


@pytest.mark.parametrize("door", DOORS)
def test_an_invitation_is_declined_the_same_and_cannot_be_answered_twice(
    doctor: Membership, patient: Patient, cm: Membership, door: str
) -> None:
    _json(
        verified(Client(), doctor),
        f"/api/v1/care/patients/{patient.code}/team",
        invite_body(cm),
    )
    row = CareTeamMember.objects.get(membership=cm)
    client = verified(Client(), cm)
    before = _audit()
    if door == "html":
        assert client.post(reverse("care:decline", args=[row.pk])).status_code == 302
    else:
        r = _json(client, f"/api/v1/care/invitations/{row.pk}/decline")
        assert r.status_code == 200
    row.refresh_from_db()
    assert row.status == MemberStatus.DECLINED and row.answered_at is not None
    assert _audit()[len(before) :] == ["care.team_declined"]
    # Answered: the invitation is no longer the member's to answer, on either door.
    if door == "html":
        r = client.post(reverse("care:decline", args=[row.pk]))
    else:
        r = _json(client, f"/api/v1/care/invitations/{row.pk}/decline")
    assert r.status_code == 404
    assert _audit()[len(before) :] == ["care.team_declined"]


@pytest.mark.parametrize("door", DOORS)
def test_a_post_is_marked_read_the_same_and_an_unknown_post_is_404(
    doctor: Membership, nurse: Membership, patient: Patient, door: str
) -> None:
    post = make_post(patient, doctor, body="血圧 150/90、経過観察")
    other = make_post(patient, doctor, body="服薬の確認をお願いします")
    client = verified(Client(), nurse)
    before = _audit()
    base = f"/api/v1/care/patients/{patient.code}/posts"
    for _ in range(2):  # marking twice is still one read
        if door == "html":
            r = client.post(reverse("care:read", args=[patient.code, post.code]))
            assert r.status_code == 302
        else:
            r = _json(client, f"{base}/{post.code}/read")
            assert r.json() == {"post": str(post.code), "read": True}
    reads = set(PostRead.objects.filter(user=nurse.user).values_list("post_id", flat=True))
    assert reads == {post.pk} and other.pk not in reads
    assert _audit() == before
    unknown = "00000000-0000-4000-8000-000000000000"
    if door == "html":
        r = client.post(reverse("care:read", args=[patient.code, unknown]))
    else:
        r = _json(client, f"{base}/{unknown}/read")
    assert r.status_code == 404
    assert PostRead.objects.filter(user=nurse.user).count() == 1


def _sent(sf: SharedForm) -> tuple[Any, ...]:
    sf.refresh_from_db()
    return (sf.recipient_id, sf.sent_version, sf.sent_by_id, sf.sent_at is not None)


@pytest.mark.parametrize("door", DOORS)
def test_a_form_is_sent_the_same_and_a_stale_version_refused_the_same(
    team: Patient, cm: Membership, other_org: Organization, door: str
) -> None:
    sf = _draft(team, cm)
    client = verified(Client(), cm)
    html = reverse("care:form_send", args=[team.code, sf.code])
    api = f"/api/v1/care/patients/{team.code}/forms/{sf.code}/send"
    before = _audit()
    stale = {"recipient": str(other_org.code), "version": "0"}
    r = _door(client, door, html, api, stale)
    assert r.status_code == 409 and "他の方が更新しました" in _shown(r, door)
    assert _sent(sf) == (None, None, None, False) and _audit() == before
    body = {"recipient": str(other_org.code), "version": "1"}
    if door == "html":
        assert client.post(html, body).status_code == 302
    else:
        assert _json(client, api, body).status_code == 200
    assert _sent(sf) == (other_org.pk, 1, cm.pk, True)
    assert list(
        ProvisionRecord.objects.filter(recipient=other_org, items="入院時情報提供書").values_list(
            "items", "recorded_by"
        )
    ) == [("入院時情報提供書", cm.pk)]
    assert _audit()[len(before) :] == ["care.form_sent"]


@pytest.mark.parametrize("door", DOORS)
def test_a_reply_is_stored_the_same_and_a_blank_reply_refused_the_same(
    team: Patient, cm: Membership, doctor: Membership, door: str
) -> None:
    sf = _draft(team, cm, "doctor_cm")
    fa.send_form(sf, by=cm, data=fa.SendInput(recipient=doctor.organization.code))
    client = verified(Client(), doctor)
    html = reverse("care:form_reply", args=[team.code, sf.code])
    api = f"/api/v1/care/patients/{team.code}/forms/{sf.code}/reply"
    before = _audit()
    r = _door(client, door, html, api, {"reply": " "})
    assert r.status_code == 400 and "返信の内容を入力してください" in _shown(r, door)
    sf.refresh_from_db()
    assert (sf.reply, sf.replied_at) == ("", None) and _audit() == before
    if door == "html":
        assert client.post(html, {"reply": "週2回で結構です。"}).status_code == 302
    else:
        assert _json(client, api, {"reply": "週2回で結構です。"}).status_code == 200
    sf.refresh_from_db()
    assert (sf.reply, sf.replied_by_id, sf.read_by_id) == (
        "週2回で結構です。",
        doctor.pk,
        doctor.pk,
    )
    assert _audit()[len(before) :] == ["care.form_replied"]
