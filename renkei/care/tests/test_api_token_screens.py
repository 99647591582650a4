"""The API token screens (ADR 0044): the administrator lists, issues (after a recent password)
and revokes with confirmation; the member a token acts for approves it; others get 404."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from renkei.accounts import tokens
from renkei.accounts.models import ApiToken, AuditEntry, Membership
from renkei.testing import age_password_entry, sign_in

pytestmark = pytest.mark.django_db

LIST = reverse("accounts:tokens")
NEW = reverse("accounts:token_issue")


def form(member: Membership, **overrides: object) -> dict[str, object]:
    return {
        "name": "えびな在宅クリニック 電子カルテ",
        "acts_for": member.pk,
        "scopes": ["care:read", "fhir:read"],
        "days": 30,
        **overrides,
    }


def make(admin: Membership, member: Membership) -> ApiToken:
    token, _ = tokens.issue_token(
        by=admin,
        data=tokens.IssueTokenInput(name="EHR", acts_for=member.pk, scopes=["care:read"]),
    )
    return token


def test_the_administrator_issues_and_sees_the_token_once(
    client: Client, station_admin: Membership, nurse: Membership
) -> None:
    sign_in(client, station_admin)
    page = client.get(NEW)
    assert page.status_code == 200
    assert "田中看護師" in page.content.decode()
    response = client.post(NEW, form(nurse))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get()
    body = response.content.decode()
    raw = body.split('id="raw-token" type="text" value="', 1)[1].split('"', 1)[0]
    assert raw.startswith(f"rk_{token.prefix}_")
    tokens.approve_token(token, by=nurse)
    assert tokens.authenticate(raw).pk == token.pk
    assert "承認するまで" in body
    listing = client.get(LIST).content.decode()
    assert token.name in listing
    assert raw not in listing
    assert "承認待ち" not in listing and "利用可" in listing


def test_issuing_asks_for_the_password_again_after_a_while(
    client: Client, station_admin: Membership
) -> None:
    sign_in(client, station_admin)
    age_password_entry(client, 3600)
    response = client.post(NEW, form(station_admin))
    assert response.status_code == 302
    assert reverse("accounts:reauth") in response["Location"]
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": ""}, "名称（接続するシステム）を入力してください"),
        ({"days": 500}, "有効日数は90日以内にしてください"),
        ({"days": "abc"}, "有効日数は数字で入力してください"),
        ({"scopes": []}, "範囲を1つ以上選んでください"),
        ({"scopes": ["care:write"]}, "範囲は選択肢から選んでください"),
        ({"acts_for": 999999}, "この組織の有効なメンバーから選んでください"),
    ],
)
def test_bad_input_is_refused_in_japanese_and_nothing_is_issued(
    client: Client, station_admin: Membership, overrides: dict[str, object], message: str
) -> None:
    sign_in(client, station_admin)
    response = client.post(NEW, form(station_admin, **overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ApiToken.objects.exists()


def test_a_member_of_another_organisation_cannot_be_chosen(
    client: Client, station_admin: Membership, doctor: Membership
) -> None:
    sign_in(client, station_admin)
    response = client.post(NEW, form(doctor))
    assert response.status_code == 400
    assert "この組織の有効なメンバーから選んでください" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_a_member_who_is_not_administrator_cannot_issue(client: Client, nurse: Membership) -> None:
    sign_in(client, nurse)
    assert client.get(NEW).status_code == 404
    assert client.post(NEW, form(nurse)).status_code == 404
    assert not ApiToken.objects.exists()
    page = client.get(LIST)
    assert page.status_code == 200
    assert NEW not in page.content.decode()


def test_anonymous_is_sent_to_sign_in(client: Client, station_admin: Membership) -> None:
    token = make(station_admin, station_admin)
    for url in (LIST, NEW, reverse("accounts:token_revoke", args=[token.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert reverse("accounts:login") in response["Location"]
    client.post(reverse("accounts:token_revoke", args=[token.pk]))
    token.refresh_from_db()
    assert token.revoked_at is None


def test_revoking_asks_for_confirmation_then_ends_the_token(
    client: Client, station_admin: Membership, nurse: Membership
) -> None:
    token = make(station_admin, nurse)
    sign_in(client, station_admin)
    url = reverse("accounts:token_revoke", args=[token.pk])
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "元に戻すことはできません" in confirm.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None
    assert client.post(url).status_code == 302
    token.refresh_from_db()
    assert token.revoked_by == station_admin
    again = client.post(url)
    assert again.status_code == 400
    assert "失効済み" in again.content.decode()
    assert AuditEntry.objects.filter(action="accounts.token_revoked").count() == 1


def test_another_organisations_administrator_gets_404(
    client: Client, station_admin: Membership, outsider: Membership
) -> None:
    token = make(station_admin, station_admin)
    sign_in(client, outsider)
    for name in ("accounts:token_revoke", "accounts:token_approve"):
        url = reverse(name, args=[token.pk])
        assert client.get(url).status_code == 404
        assert client.post(url).status_code == 404
    assert token.name not in client.get(LIST).content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None


def test_the_member_approves_a_token_that_acts_for_them(
    client: Client, station_admin: Membership, nurse: Membership
) -> None:
    token = make(station_admin, nurse)
    sign_in(client, nurse)
    listing = client.get(LIST).content.decode()
    assert "承認待ちです" in listing
    url = reverse("accounts:token_approve", args=[token.pk])
    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 302
    token.refresh_from_db()
    assert token.approved_at is not None


def test_the_administrator_cannot_approve_in_the_members_stead(
    client: Client, station_admin: Membership, nurse: Membership
) -> None:
    token = make(station_admin, nurse)
    sign_in(client, station_admin)
    response = client.post(reverse("accounts:token_approve", args=[token.pk]))
    assert response.status_code == 403
    assert "本人だけ" in response.content.decode()
    token.refresh_from_db()
    assert token.approved_at is None


def test_approving_needs_the_second_factor_even_where_the_policy_asks_none(
    client: Client, station_admin: Membership, nurse: Membership, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The token would read her patients with no second factor of its own: approving it asks for
    hers, as every care screen does, even for a role the sign-in policy lets in without."""
    from renkei.accounts.models import TwoFactorPolicy

    monkeypatch.setattr(TwoFactorPolicy, "required_for", classmethod(lambda cls, user: False))
    token = make(station_admin, nurse)
    client.force_login(nurse.user)  # a password, no authenticator
    response = client.post(reverse("accounts:token_approve", args=[token.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:otp_setup")
    token.refresh_from_db()
    assert token.approved_at is None
    assert client.get(NEW).status_code == 302  # nor may she issue one (as an administrator)


def test_the_list_reads_revoked_tokens_in_the_same_queries(
    client: Client, station_admin: Membership, nurse: Membership
) -> None:
    sign_in(client, station_admin)
    tokens.revoke_token(make(station_admin, nurse), by=station_admin)
    client.get(LIST)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        assert client.get(LIST).status_code == 200
    for _ in range(3):
        tokens.revoke_token(make(station_admin, nurse), by=station_admin)
    with CaptureQueriesContext(connection) as four:
        assert "失効" in client.get(LIST).content.decode()
    assert len(four.captured_queries) == len(one.captured_queries)
