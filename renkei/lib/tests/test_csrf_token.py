"""The templates' csrf_token (renkei.lib.csrf, ADR 0077) is a token Django's CSRF middleware
accepts, for the cookie Django's middleware sets, with characters as random as Django's."""

from __future__ import annotations

import collections
import re

import pytest
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware import csrf as django_csrf
from django.middleware.csrf import (
    CSRF_ALLOWED_CHARS,
    CsrfViewMiddleware,
)
from django.middleware.csrf import get_token as djangos_get_token
from django.test import Client, RequestFactory

from renkei.lib.csrf import get_token, random_chars
from renkei.testing import make_member, make_org

# Django's own unmasking (private, not in the type stubs): the check its middleware runs.
_unmask_cipher_token = django_csrf._unmask_cipher_token  # type: ignore[attr-defined]

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([A-Za-z0-9]{64})"')


def _secret_set_by_djangos_middleware(cookie: str | None) -> HttpRequest:
    request = RequestFactory().get("/")
    if cookie is not None:
        request.COOKIES[settings.CSRF_COOKIE_NAME] = cookie
    CsrfViewMiddleware(lambda r: HttpResponse()).process_request(request)
    return request


@pytest.mark.parametrize("cookie", [None, "A" * 32, "not a valid secret"])
def test_the_token_unmasks_to_the_cookies_secret_as_djangos(cookie: str | None) -> None:
    """Without a cookie (or with a malformed one) a new secret is drawn and flagged to be sent;
    with a valid one it is kept. Either way the token is Django's format and unmasks to it."""
    ours = _secret_set_by_djangos_middleware(cookie)
    theirs = _secret_set_by_djangos_middleware(cookie)
    token = get_token(ours)
    djangos = djangos_get_token(theirs)
    secret = ours.META["CSRF_COOKIE"]
    assert len(token) == len(djangos) == 64
    assert set(token) <= set(CSRF_ALLOWED_CHARS)
    assert _unmask_cipher_token(token) == secret
    assert ours.META["CSRF_COOKIE_NEEDS_UPDATE"] is True
    assert len(secret) == 32 and set(secret) <= set(CSRF_ALLOWED_CHARS)
    if cookie == "A" * 32:
        assert secret == cookie
    # A second token for the same request: another mask, the same secret.
    again = get_token(ours)
    assert again != token and _unmask_cipher_token(again) == secret


@pytest.mark.django_db
def test_a_form_posted_back_with_its_token_passes_djangos_check() -> None:
    """End to end with CSRF checks on: the sign-in page's token (ours) is accepted, a tampered
    one is refused with 403."""
    member = make_member(make_org("連携テスト病院"), username="csrf-check")
    client = Client(enforce_csrf_checks=True)
    page = client.get("/accounts/login/")
    match = TOKEN.search(page.content.decode())
    assert match is not None
    token = match.group(1)
    assert _unmask_cipher_token(token) == client.cookies[settings.CSRF_COOKIE_NAME].value
    data = {"username": member.user.username, "password": "wrong-password-0"}
    tampered = ("B" if token[40] != "B" else "C").join((token[:40], token[41:]))
    assert (
        client.post("/accounts/login/", {**data, "csrfmiddlewaretoken": tampered}).status_code
        == 403
    )
    assert (
        client.post("/accounts/login/", {**data, "csrfmiddlewaretoken": token}).status_code == 200
    )


def test_each_character_is_uniform() -> None:
    """620,000 characters: each of the 62 about 10,000 times. Mapping every byte with % 62
    (no rejection) would give the first eight characters ~12,400 each."""
    counts = collections.Counter("".join(random_chars(1000) for _ in range(620)))
    assert set(counts) == set(CSRF_ALLOWED_CHARS)
    assert all(9_400 < n < 10_600 for n in counts.values()), counts.most_common(10)


@pytest.mark.django_db
def test_pages_print_this_modules_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """The settings list renkei.lib.csrf.csrf after Django's built-in processor: a page's
    {% csrf_token %} and the layout's htmx header come from get_token here, once a page."""
    from renkei.lib import csrf

    calls: list[object] = []

    def counted(request: HttpRequest) -> str:
        calls.append(request)
        return get_token(request)

    monkeypatch.setattr(csrf, "get_token", counted)
    page = Client().get("/accounts/login/")
    assert page.status_code == 200
    assert len(calls) == 1
    assert len(TOKEN.findall(page.content.decode())) == 1
