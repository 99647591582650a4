"""API tokens for systems (ADR 0044 part 2): issued by the organisation's administrator, approved
by the member they act for, read-only within their scopes, with that member's access rules."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from renkei.accounts import tokens
from renkei.accounts.models import ApiToken, AuditEntry, Membership
from renkei.care.models import Patient, PostRead
from renkei.care.testing import make_post
from renkei.lib.actions import ActionError, Forbidden
from renkei.lib.inputs import parse
from renkei.testing import sign_in

pytestmark = pytest.mark.django_db

CARE = "/api/v1/care"


def issue(
    admin: Membership,
    member: Membership,
    *,
    scopes: tuple[str, ...] = ("care:read",),
    days: int = 30,
    approve: bool = True,
) -> tuple[ApiToken, str]:
    token, raw = tokens.issue_token(
        by=admin,
        data=tokens.IssueTokenInput(
            name="訪問看護記録システム", acts_for=member.pk, scopes=list(scopes), days=days
        ),
    )
    if approve and token.approved_at is None:
        tokens.approve_token(token, by=member)
    return token, raw


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


# Issuing ----------------------------------------------------------------------------------


def test_the_secret_is_shown_once_and_only_its_digest_is_kept(
    station_admin: Membership,
) -> None:
    token, raw = issue(station_admin, station_admin)
    assert raw.startswith(f"rk_{token.prefix}_")
    secret = raw.split("_", 2)[2]
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert all(secret not in str(value) for value in row.values())
    assert len(token.digest) == 64
    # Acting for oneself needs no approval.
    assert token.approved_at is not None
    entry = AuditEntry.objects.get(action="accounts.token_created")
    assert entry.detail["prefix"] == token.prefix
    assert secret not in str(entry.detail)
    assert entry.action_label == "APIトークンの発行"


def test_only_the_organisations_administrator_issues(nurse: Membership) -> None:
    with pytest.raises(Forbidden):
        issue(nurse, nurse)
    assert not ApiToken.objects.exists()


def test_a_token_acts_only_for_a_member_of_the_same_organisation(
    station_admin: Membership, doctor: Membership
) -> None:
    with pytest.raises(ActionError) as e:
        issue(station_admin, doctor)
    assert e.value.field == "acts_for"
    assert "この組織の有効なメンバー" in e.value.message
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "  "}, "name", "名称（接続するシステム）を入力してください"),
        ({"days": 91}, "days", "90以下"),
        ({"days": 0}, "days", "1以上"),
        ({"scopes": []}, "scopes", "範囲を1つ以上選んでください"),
        ({"scopes": ["care:write"]}, "scopes", "範囲は選択肢から選んでください"),
    ],
)
def test_bad_input_is_refused_in_japanese(
    station_admin: Membership, data: dict[str, Any], field: str, message: str
) -> None:
    base = {"name": "EHR", "acts_for": station_admin.pk, "scopes": ["care:read"], "days": 30}
    with pytest.raises(ActionError) as e:
        parse(tokens.IssueTokenInput, {**base, **data})
    assert e.value.field == field
    assert message in e.value.message
    assert not ApiToken.objects.exists()


def test_a_token_for_another_member_waits_for_that_members_approval(
    client: Client, station_admin: Membership, nurse: Membership, patient: Patient
) -> None:
    token, raw = issue(station_admin, nurse, approve=False)
    response = client.get(f"{CARE}/patients", headers=bearer(raw))
    assert response.status_code == 401
    assert "承認待ち" in response.json()["detail"]
    # The administrator cannot approve it in the nurse's stead.
    with pytest.raises(Forbidden):
        tokens.approve_token(token, by=station_admin)
    tokens.approve_token(token, by=nurse)
    assert client.get(f"{CARE}/patients", headers=bearer(raw)).status_code == 200
    assert AuditEntry.objects.filter(action="accounts.token_approved", actor=nurse.user).exists()


# Using ------------------------------------------------------------------------------------


def test_a_token_reads_what_its_member_reads_and_the_read_is_audited_as_the_token(
    client: Client, station_admin: Membership, nurse: Membership, patient: Patient
) -> None:
    token, raw = issue(station_admin, nurse)
    rows = client.get(f"{CARE}/patients", headers=bearer(raw)).json()
    assert [r["code"] for r in rows] == [str(patient.code)]
    response = client.get(f"{CARE}/patients/{patient.code}", headers=bearer(raw))
    assert response.status_code == 200
    assert response.json()["name"] == patient.name
    read = AuditEntry.objects.filter(action="care.patient_viewed").latest("id")
    assert read.actor == nurse.user
    assert read.target_id == str(patient.code)
    assert read.detail["token"] == token.prefix
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_the_first_use_of_a_day_is_audited_once(
    client: Client, station_admin: Membership, nurse: Membership, patient: Patient
) -> None:
    _, raw = issue(station_admin, nurse)
    for _ in range(3):
        assert client.get(f"{CARE}/patients", headers=bearer(raw)).status_code == 200
    used = AuditEntry.objects.filter(action="accounts.token_used")
    assert used.count() == 1
    assert used.get().action_label == "APIトークンの利用（その日の最初）"


def test_a_token_of_another_organisation_gets_404(
    client: Client, outsider: Membership, patient: Patient
) -> None:
    _, raw = issue(outsider, outsider, scopes=("care:read", "fhir:read"))
    assert client.get(f"{CARE}/patients/{patient.code}", headers=bearer(raw)).status_code == 404
    assert client.get(f"{CARE}/patients", headers=bearer(raw)).json() == []
    fhir = client.get(f"/api/fhir/Patient/{patient.code}", headers=bearer(raw))
    assert fhir.status_code == 404
    assert fhir.json()["resourceType"] == "OperationOutcome"


def test_anonymous_is_refused(client: Client, patient: Patient) -> None:
    assert client.get(f"{CARE}/patients/{patient.code}").status_code == 401
    assert client.get(f"/api/fhir/Patient/{patient.code}").status_code == 401


@pytest.mark.parametrize(
    "raw",
    ["rk_abcdefgh_" + "x" * 43, "rk_short", "not-a-token", "rk_abcdefgh_"],
)
def test_an_unknown_or_malformed_token_is_401(client: Client, patient: Patient, raw: str) -> None:
    response = client.get(f"{CARE}/patients/{patient.code}", headers=bearer(raw))
    assert response.status_code == 401
    assert response.json()["detail"] == "トークンが正しくありません"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_wrong_secret_for_a_real_prefix_is_401(
    client: Client, station_admin: Membership, nurse: Membership, patient: Patient
) -> None:
    token, raw = issue(station_admin, nurse)
    forged = f"rk_{token.prefix}_{'A' * 43}"
    assert client.get(f"{CARE}/patients", headers=bearer(forged)).status_code == 401


def test_an_expired_token_is_401(
    client: Client, station_admin: Membership, nurse: Membership, patient: Patient
) -> None:
    token, raw = issue(station_admin, nurse, days=1)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(1))
    response = client.get(f"{CARE}/patients", headers=bearer(raw))
    assert response.status_code == 401
    assert response.json()["detail"] == "このトークンは有効期限が切れています"


def test_a_revoked_token_is_401_from_the_next_request(
    client: Client, station_admin: Membership, nurse: Membership, patient: Patient
) -> None:
    token, raw = issue(station_admin, nurse)
    assert client.get(f"{CARE}/patients", headers=bearer(raw)).status_code == 200
    tokens.revoke_token(token, by=station_admin)
    response = client.get(f"{CARE}/patients", headers=bearer(raw))
    assert response.status_code == 401
    assert response.json()["detail"] == "このトークンは失効しています"
    assert AuditEntry.objects.filter(action="accounts.token_revoked").count() == 1
    with pytest.raises(ActionError):
        tokens.revoke_token(token, by=nurse)


def test_only_the_administrator_or_the_member_revokes(
    station_admin: Membership, nurse: Membership, outsider: Membership
) -> None:
    token, _ = issue(station_admin, nurse)
    with pytest.raises(Forbidden):
        tokens.revoke_token(token, by=outsider)
    tokens.revoke_token(token, by=nurse)
    token.refresh_from_db()
    assert token.revoked_by == nurse


def test_a_token_of_a_deactivated_member_stops_working(
    client: Client, station_admin: Membership, nurse: Membership, patient: Patient
) -> None:
    _, raw = issue(station_admin, nurse)
    Membership.objects.filter(pk=nurse.pk).update(is_active=False)
    response = client.get(f"{CARE}/patients", headers=bearer(raw))
    assert response.status_code == 401
    assert "無効" in response.json()["detail"]


def test_a_token_cannot_write(
    client: Client, station_admin: Membership, nurse: Membership, patient: Patient
) -> None:
    _, raw = issue(station_admin, nurse)
    before = Patient.objects.count()
    response = client.post(
        f"{CARE}/patients",
        {"name": "書込 太郎", "kana": "かきこみ たろう", "birth_date": "1940-01-01"},
        content_type="application/json",
        headers=bearer(raw),
    )
    assert response.status_code == 403
    assert "読み取りだけ" in response.json()["detail"]
    assert Patient.objects.count() == before


@pytest.mark.parametrize(
    "path",
    ["/admin/", "/accounts/profile/", "/api/v1/desk/consultations", "/care/", "/accounts/audit/"],
)
def test_a_token_reaches_nothing_outside_its_scopes(
    client: Client, station_admin: Membership, nurse: Membership, path: str
) -> None:
    _, raw = issue(station_admin, station_admin, scopes=("care:read", "fhir:read"))
    response = client.get(path, headers=bearer(raw))
    assert response.status_code == 403
    assert "利用できない" in response.json()["detail"]


def test_fhir_needs_the_fhir_scope(
    client: Client, station_admin: Membership, nurse: Membership, patient: Patient
) -> None:
    _, care_only = issue(station_admin, nurse)
    path = f"/api/fhir/Patient/{patient.code}"
    response = client.get(path, headers=bearer(care_only))
    assert response.status_code == 403
    assert response.json()["resourceType"] == "OperationOutcome"
    token, both = issue(station_admin, nurse, scopes=("care:read", "fhir:read"))
    response = client.get(path, headers=bearer(both))
    assert response.status_code == 200
    assert response.json()["resourceType"] == "Patient"
    read = AuditEntry.objects.filter(action="care.patient_viewed").latest("id")
    assert read.detail["token"] == token.prefix
    assert read.detail["what"].startswith("fhir:")


def test_the_token_is_the_member_not_the_session_that_came_with_it(
    client: Client, station_admin: Membership, nurse: Membership, doctor: Membership
) -> None:
    """A client that sends a session cookie too still acts as the token's member."""
    from renkei.care.testing import make_patient
    from renkei.care.tests.conftest import verified

    own = make_patient(doctor, name="医師 のみ", kana="いし のみ", insured_number="1400000002")
    verified(client, doctor)
    _, raw = issue(station_admin, nurse)
    assert client.get(f"{CARE}/patients/{own.code}", headers=bearer(raw)).status_code == 404
    assert client.get(f"{CARE}/patients/{own.code}").status_code == 200


@pytest.mark.parametrize("good", [True, False])
def test_an_async_caller_sees_the_token_not_the_session_that_came_with_it(
    client: Client,
    station_admin: Membership,
    nurse: Membership,
    doctor: Membership,
    good: bool,
) -> None:
    """request.auser is what request.user is behind a bearer token: the token's member, or
    nobody for a refused token; never the user of the session cookie sent alongside."""
    from asgiref.sync import async_to_sync
    from django.conf import settings
    from django.contrib.sessions.middleware import SessionMiddleware
    from django.http import HttpRequest, HttpResponse
    from django.test import RequestFactory

    from renkei.accounts.middleware import ApiTokenMiddleware, SignedInMiddleware
    from renkei.care.tests.conftest import verified

    verified(client, doctor)
    _, raw = issue(station_admin, nurse)
    seen: dict[str, Any] = {}

    def view(request: HttpRequest) -> HttpResponse:
        seen["user"] = request.user
        seen["auser"] = async_to_sync(request.auser)()
        return HttpResponse()

    request = RequestFactory().get(
        f"{CARE}/patients", headers=bearer(raw if good else raw[:-4] + "AAAA")
    )
    cookie = settings.SESSION_COOKIE_NAME
    request.COOKIES[cookie] = client.cookies[cookie].value
    refused = SessionMiddleware(SignedInMiddleware(ApiTokenMiddleware(view)))(request)
    assert isinstance(refused, HttpResponse)
    if good:
        assert seen["user"].pk == seen["auser"].pk == nurse.user.pk
    else:
        # Refused before the view; the audit line and whatever runs after it see nobody.
        assert refused.status_code == 401
        assert not request.user.is_authenticated
        assert not async_to_sync(request.auser)().is_authenticated


@pytest.mark.parametrize(
    ("method", "path", "detail"),
    [("post", f"{CARE}/patients", "読み取りだけ"), ("get", "/accounts/profile/", "利用できない")],
)
def test_a_token_refused_with_403_leaves_nobody_signed_in(
    client: Client,
    station_admin: Membership,
    nurse: Membership,
    doctor: Membership,
    method: str,
    path: str,
    detail: str,
) -> None:
    """A right token on a write or outside its scopes: refused before the view, and the
    cookie's user sent alongside is not who the request was (outer middleware, logs)."""
    from asgiref.sync import async_to_sync
    from django.conf import settings
    from django.contrib.sessions.middleware import SessionMiddleware
    from django.http import HttpRequest, HttpResponse
    from django.test import RequestFactory

    from renkei.accounts.middleware import ApiTokenMiddleware, SignedInMiddleware
    from renkei.care.tests.conftest import verified

    verified(client, doctor)
    _, raw = issue(station_admin, nurse)

    def view(request: HttpRequest) -> HttpResponse:
        raise AssertionError("the view must not run")

    request = getattr(RequestFactory(), method)(path, headers=bearer(raw))
    request.COOKIES[settings.SESSION_COOKIE_NAME] = client.cookies[
        settings.SESSION_COOKIE_NAME
    ].value
    response = SessionMiddleware(SignedInMiddleware(ApiTokenMiddleware(view)))(request)
    assert isinstance(response, HttpResponse)
    assert response.status_code == 403
    assert detail in json.loads(response.content)["detail"]
    assert not request.user.is_authenticated
    assert not async_to_sync(request.auser)().is_authenticated


def test_the_schema_documents_the_bearer_on_reads_only() -> None:
    from renkei.api import api

    schema = api.get_openapi_schema()
    schemes = schema["components"]["securitySchemes"]
    bearer_name = next(n for n, s in schemes.items() if s.get("scheme") == "bearer")
    assert "rk_" in schemes[bearer_name]["description"]
    patients = schema["paths"]["/api/v1/care/patients"]
    assert {bearer_name: []} in patients["get"]["security"]
    assert {bearer_name: []} not in patients["post"]["security"]


def test_the_capability_statement_says_a_token_reads_fhir(client: Client) -> None:
    statement = client.get("/api/fhir/metadata").json()
    care = [r for r in statement["rest"][0]["resource"] if r["type"] == "Patient"]
    assert "fhir:read" in care[0]["documentation"]


def test_the_member_is_mailed_when_a_token_is_issued_in_their_name(
    station_admin: Membership,
    nurse: Membership,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        issue(station_admin, station_admin)
    assert mailoutbox == []  # acting for oneself: nobody to ask
    with django_capture_on_commit_callbacks(execute=True):
        token, raw = issue(station_admin, nurse, approve=False)
    (mail,) = mailoutbox
    assert mail.to == [nurse.user.email]
    assert token.name in mail.body and "/accounts/tokens/" in mail.body
    assert raw.split("_", 2)[2] not in mail.body


def test_a_systems_read_leaves_the_members_unread_posts_unread(
    client: Client,
    station_admin: Membership,
    nurse: Membership,
    doctor: Membership,
    patient: Patient,
) -> None:
    """A clinic system polling the timeline is not the nurse reading it: her badges and the
    doctor's read receipts wait for her own eyes (the explicit POST …/read is refused to tokens)."""
    post = make_post(patient, doctor, body="処方変更あり")
    _, raw = issue(station_admin, nurse)
    response = client.get(f"{CARE}/patients/{patient.code}/posts", headers=bearer(raw))
    assert response.status_code == 200
    assert str(post.code) in response.content.decode()
    assert not PostRead.objects.filter(post=post, user=nurse.user).exists()
    # The read is still audited, as the token.
    read = AuditEntry.objects.filter(target_id=str(patient.code)).latest("id")
    assert read.detail["token"] and read.actor == nurse.user
    # Her own read through the screen's door does mark it.
    sign_in(Client(), nurse).get(f"{CARE}/patients/{patient.code}/posts")
    assert PostRead.objects.filter(post=post, user=nurse.user).exists()
