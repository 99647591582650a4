"""Password reset by e-mail (security R04, R05)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import Client
from django.urls import reverse

from renkei.accounts.models import AuditEntry, User
from renkei.testing import DEMO_PASSWORD, make_user

pytestmark = pytest.mark.django_db

RESET = reverse("accounts:password_reset")
LOGIN = reverse("accounts:login")
NEW_PASSWORD = "kamome-hashiru-2027"


@pytest.fixture
def user() -> User:
    return make_user("reset-nurse", email="reset-nurse@example.jp")


def _link(body: object) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/password/reset/[^\s]+/)", str(body))
    assert match, body
    return match.group(1)


def test_known_address_receives_a_working_link(client: Client, user: User) -> None:
    """The e-mail's link lets the user set a new password; the old one stops working."""
    response = client.post(RESET, {"email": "reset-nurse@example.jp"})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["reset-nurse@example.jp"]
    assert "パスワード再設定" in message.subject
    link = _link(message.body)

    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    assert "新しいパスワードの設定" in form_page.content.decode()
    set_url = form_page.redirect_chain[-1][0] if form_page.redirect_chain else link
    done = client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert done["Location"] == reverse("accounts:password_reset_complete")

    assert AuditEntry.objects.filter(action="auth.password_reset", actor=user).exists()
    fresh = Client()
    fresh.post(LOGIN, {"username": "reset-nurse", "password": DEMO_PASSWORD})
    assert SESSION_KEY not in fresh.session
    fresh.post(LOGIN, {"username": "reset-nurse", "password": NEW_PASSWORD})
    assert SESSION_KEY in fresh.session


def test_link_works_only_once(client: Client, user: User) -> None:
    """After the password is set, the same link shows the invalid-link notice."""
    client.post(RESET, {"email": "reset-nurse@example.jp"})
    link = _link(mail.outbox[0].body)
    page = client.get(link, follow=True)
    set_url = page.redirect_chain[-1][0]
    client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    again = Client().get(link, follow=True)
    assert "このリンクは無効か、期限が切れています" in again.content.decode()


def test_unknown_address_sends_nothing_and_looks_the_same(client: Client, user: User) -> None:
    """An unregistered address gets the same redirect and page, and no e-mail is sent."""
    known = Client().post(RESET, {"email": "reset-nurse@example.jp"}, follow=True)
    mail.outbox.clear()
    unknown = client.post(RESET, {"email": "nobody@example.jp"}, follow=True)
    assert mail.outbox == []
    assert unknown.redirect_chain == known.redirect_chain
    assert unknown.status_code == known.status_code == 200
    assert "入力されたアドレスが登録されていれば" in unknown.content.decode()


def test_weak_new_password_is_refused(client: Client, user: User) -> None:
    """The reset form applies the password validators; a weak password changes nothing."""
    client.post(RESET, {"email": "reset-nurse@example.jp"})
    page = client.get(_link(mail.outbox[0].body), follow=True)
    set_url = page.redirect_chain[-1][0]
    response = client.post(set_url, {"new_password1": "12345678", "new_password2": "12345678"})
    assert response.status_code == 200
    assert "このパスワードは短すぎます" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(DEMO_PASSWORD)
