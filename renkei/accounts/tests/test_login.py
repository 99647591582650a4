"""Sign-in and sign-out through the real login form (security R05, R06)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse

from renkei.accounts.models import OrgKind
from renkei.testing import DEMO_PASSWORD, make_member, make_org, pass_second_factor

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')
CSRF_HEADER = re.compile(rb'"X-CSRFToken": "[^"]+"')
CSP_NONCE = re.compile(rb'nonce="[^"]+"')


@pytest.fixture
def member_username() -> str:
    org = make_org("藤沢テスト病院", OrgKind.HOSPITAL, municipality_code="142051")
    return make_member(org, username="fujisawa-msw").user.get_username()


def _without_per_response_tokens(body: bytes) -> bytes:
    return CSP_NONCE.sub(b"", CSRF_HEADER.sub(b"", CSRF_INPUT.sub(b"", body)))


def test_correct_password_signs_in_and_redirects_home(client: Client, member_username: str) -> None:
    """The right ID and password start a session and go to the home page."""
    response = client.post(LOGIN, {"username": member_username, "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.session.get(SESSION_KEY) is not None


def test_unknown_user_and_wrong_password_get_identical_pages(
    client: Client, member_username: str
) -> None:
    """An unknown ID and a wrong password give the same generic page (no account enumeration).

    The typed ID is echoed back in the form, so both attempts use an ID of the same shape and
    the echoed value is blanked before comparing, as are the per-response CSRF token and CSP
    nonce.
    """
    wrong = client.post(LOGIN, {"username": member_username, "password": "not-the-password"})
    unknown_name = "fujisawa-zzz"
    unknown = Client().post(LOGIN, {"username": unknown_name, "password": "not-the-password"})
    assert wrong.status_code == unknown.status_code == 200
    assert "ログインIDまたはパスワードが正しくありません".encode() in wrong.content
    wrong_body = _without_per_response_tokens(wrong.content).replace(
        member_username.encode(), b"<ID>"
    )
    unknown_body = _without_per_response_tokens(unknown.content).replace(
        unknown_name.encode(), b"<ID>"
    )
    assert wrong_body == unknown_body
    assert SESSION_KEY not in client.session


def test_inactive_account_gets_the_same_generic_message(
    client: Client, member_username: str
) -> None:
    """A disabled account is refused with the same message as a wrong password."""
    from renkei.accounts.models import User

    User.objects.filter(username=member_username).update(is_active=False)
    response = client.post(LOGIN, {"username": member_username, "password": DEMO_PASSWORD})
    assert response.status_code == 200
    assert "ログインIDまたはパスワードが正しくありません".encode() in response.content
    assert SESSION_KEY not in client.session


def test_login_issues_a_new_session_key(client: Client, member_username: str) -> None:
    """The session ID changes at sign-in, so a planted pre-login session is useless (fixation)."""
    client.get(LOGIN)
    session = client.session
    session["planted"] = "1"
    session.save()
    before = session.session_key
    assert before is not None
    client.cookies["sessionid"] = before
    client.post(LOGIN, {"username": member_username, "password": DEMO_PASSWORD})
    after = client.cookies["sessionid"].value
    assert after != before
    from renkei.accounts.models import Session

    assert not Session.objects.filter(session_key=before).exists()


def test_logout_by_post_ends_the_server_side_session(client: Client, member_username: str) -> None:
    """POST to logout deletes the session row; the old cookie then counts as anonymous."""
    from renkei.accounts.models import Session

    client.post(LOGIN, {"username": member_username, "password": DEMO_PASSWORD})
    key = client.cookies["sessionid"].value
    assert Session.objects.filter(session_key=key).exists()
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert not Session.objects.filter(session_key=key).exists()
    replay = Client()
    replay.cookies["sessionid"] = key
    assert replay.get(reverse("accounts:profile")).status_code == 302


def test_logout_by_get_is_refused(client: Client, member_username: str) -> None:
    """A GET (e.g. an <img> on another site) cannot sign the user out."""
    client.post(LOGIN, {"username": member_username, "password": DEMO_PASSWORD})
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert SESSION_KEY in client.session


def test_next_to_another_site_is_ignored(client: Client, member_username: str) -> None:
    """After sign-in, a `next` pointing off-site is replaced by the home page (open redirect)."""
    response = client.post(
        LOGIN + "?next=https://evil.example/",
        {"username": member_username, "password": DEMO_PASSWORD, "next": "https://evil.example/"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_deactivated_user_loses_existing_session(client: Client, member_username: str) -> None:
    """Disabling an account ends its sessions on the next request (ASVS 7.4.2)."""
    from renkei.accounts.models import User

    client.post(LOGIN, {"username": member_username, "password": DEMO_PASSWORD})
    pass_second_factor(client, User.objects.get(username=member_username))
    assert client.get(reverse("accounts:profile")).status_code == 200
    User.objects.filter(username=member_username).update(is_active=False)
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


@pytest.mark.django_db
def test_an_overlong_login_id_is_refused_before_authentication(client: Client) -> None:
    """A 1 KB login ID gets the form's Japanese message and records no failed attempt (django-axes
    keeps usernames in varchar(255): on PostgreSQL the record itself was a 500)."""
    from axes.models import AccessAttempt

    response = client.post("/accounts/login/", {"username": "x" * 1024, "password": "pw"})
    assert response.status_code == 200
    assert "ログインIDは150文字以内で入力してください" in response.content.decode()
    assert not AccessAttempt.objects.exists()
