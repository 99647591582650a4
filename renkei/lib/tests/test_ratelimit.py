"""Rate limits (security R05): over the limit a request gets 429 with Retry-After and a Japanese
message, and changes nothing; the window passes and the client may go on."""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import pytest
from django.core import mail
from django.test import Client, RequestFactory
from django.urls import reverse
from pytest_django.fixtures import Settings

from renkei.accounts.models import AuditEntry, OrgKind, Role
from renkei.events.models import Application
from renkei.events.testing import make_event
from renkei.lib import ratelimit
from renkei.lib.clientip import client_ip
from renkei.testing import make_member, make_org, sign_in

SEARCH_API = "/api/v1/directory/facilities"


def test_rates_are_written_count_per_unit() -> None:
    assert ratelimit.Rate.parse("20/h") == ratelimit.Rate(20, 3600)
    for bad in ("20", "x/m", "5/w", "-1/m"):
        with pytest.raises(ValueError):
            ratelimit.Rate.parse(bad)


def test_a_window_counts_its_requests_then_the_next_starts_afresh(settings: Settings) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "search": "2/m"}
    with mock.patch("renkei.lib.ratelimit.time.time", return_value=6000.0 + 10):
        assert ratelimit.hit("search", "a") is None
        assert ratelimit.hit("search", "a") is None
        assert ratelimit.hit("search", "a") == 50  # seconds left in the minute
        assert ratelimit.hit("search", "b") is None  # another client counts alone
    with mock.patch("renkei.lib.ratelimit.time.time", return_value=6060.0 + 1):
        assert ratelimit.hit("search", "a") is None


@pytest.mark.django_db
def test_api_search_over_the_limit_is_429_json(client: Client, settings: Settings) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "search": "3/m"}
    for _ in range(3):
        assert client.get(SEARCH_API, {"q": "さくら"}).status_code == 200
    response = client.get(SEARCH_API, {"q": "さくら"})
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert "一時的に受け付けを止めています" in response.json()["detail"]


@pytest.mark.django_db
def test_search_page_over_the_limit_is_a_japanese_page(client: Client, settings: Settings) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "search": "1/m"}
    url = reverse("directory:search")
    assert client.get(url).status_code == 200
    response = client.get(url)
    assert response.status_code == 429
    assert "しばらくお待ちください" in response.content.decode()
    assert client.get(reverse("directory:export", args=["csv"])).status_code == 429


@pytest.mark.django_db
def test_password_reset_mails_are_limited_per_address_and_per_client(
    client: Client, settings: Settings
) -> None:
    org = make_org("藤沢テスト病院", OrgKind.HOSPITAL, municipality_code="142051")
    user = make_member(org, Role.NURSE, username="reset-nurse").user
    user.email = "reset-nurse@example.jp"
    user.save()
    url = reverse("accounts:password_reset")
    for i in range(3):
        r = client.post(url, {"email": user.email}, REMOTE_ADDR=f"10.0.0.{i + 1}")
        assert r.status_code == 302
    assert len(mail.outbox) == 3
    refused = client.post(url, {"email": user.email.upper()}, REMOTE_ADDR="10.0.0.9")
    assert refused.status_code == 429
    assert len(mail.outbox) == 3  # nothing sent
    assert AuditEntry.objects.filter(action="auth.password_reset_limited").count() == 1

    for i in range(5):  # five addresses from one client pass, the sixth does not
        assert (
            client.post(url, {"email": f"x{i}@example.jp"}, REMOTE_ADDR="10.9.9.9").status_code
            == 302
        )
    assert client.post(url, {"email": "x9@example.jp"}, REMOTE_ADDR="10.9.9.9").status_code == 429


def application(n: int) -> dict[str, Any]:
    return {
        "office_name": "さくら訪問看護ステーション",
        "contact_name": "連絡 担当",
        "contact_email": f"sakura{n}@example.jp",
        "contact_phone": "046-000-0001",
        "agree": True,
        "applicants": [
            {
                "name": "佐藤 花子",
                "kana": "さとう はなこ",
                "email": f"sato{n}@example.jp",
                "occupation": "nurse",
            }
        ],
    }


@pytest.mark.django_db
def test_public_applications_over_the_limit_save_nothing(
    client: Client, settings: Settings
) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "public_form": "2/h"}
    org = make_org("えびな在宅医療相談室", OrgKind.COORDINATION_CENTER, municipality_code="142158")
    event = make_event(org, capacity=30)
    url = f"/api/v1/events/{event.code}/applications"
    for n in range(2):
        r = client.post(url, json.dumps(application(n)), content_type="application/json")
        assert r.status_code == 201, r.content
    r = client.post(url, json.dumps(application(3)), content_type="application/json")
    assert r.status_code == 429 and "Retry-After" in r
    assert Application.objects.filter(event=event).count() == 2
    # The form page itself (GET) is not counted; its POST is.
    page = reverse("events:apply", args=[event.code])
    assert client.get(page).status_code == 200
    assert client.post(page, {}).status_code == 429


def test_forwarded_for_is_believed_only_from_a_trusted_proxy(settings: Settings) -> None:
    rf = RequestFactory()
    spoofed = rf.get("/", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="10.1.1.1")
    assert client_ip(spoofed) == "203.0.113.7"
    settings.TRUSTED_PROXIES = frozenset({"127.0.0.1"})
    proxied = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="10.1.1.1, 198.51.100.4")
    # The proxy appended the address it saw; the client may have written anything before it.
    assert client_ip(proxied) == "198.51.100.4"
    only_proxies = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert client_ip(only_proxies) == "127.0.0.1"


def test_counts_can_be_shared_through_redis(settings: Settings) -> None:
    """CACHE_URL=redis://… puts the counters where every server process sees them."""
    redis = pytest.importorskip("redis")
    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=0.5).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    from django.core.cache import caches

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/15",
            "KEY_PREFIX": "renkei-test",
        }
    }
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "search": "1/m"}
    caches["default"].clear()
    try:
        assert ratelimit.hit("search", "shared") is None
        assert ratelimit.hit("search", "shared") is not None
    finally:
        caches["default"].clear()


@pytest.mark.django_db
def test_signed_in_users_behind_one_address_count_per_user(
    client: Client, settings: Settings
) -> None:
    """Staff of one hospital behind one NAT address: each signed-in user has the whole
    allowance; anonymous visitors from that address share theirs, apart from the users'."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "search": "2/m"}
    org = make_org("厚木テスト病院", OrgKind.HOSPITAL, municipality_code="142123")
    nat = "198.51.100.20"
    page = reverse("directory:search")
    clients = []
    for name in ("nat-nurse-a", "nat-nurse-b"):
        c = Client()
        sign_in(c, make_member(org, Role.NURSE, username=name).user)
        clients.append(c)
    a, b = clients
    for _ in range(2):
        assert a.get(SEARCH_API, {"q": "さくら"}, REMOTE_ADDR=nat).status_code == 200
    assert a.get(SEARCH_API, {"q": "さくら"}, REMOTE_ADDR=nat).status_code == 429
    assert a.get(page, REMOTE_ADDR=nat).status_code == 429  # one allowance for the page and the API
    # A colleague at the same address still searches, on every door.
    assert b.get(page, REMOTE_ADDR=nat).status_code == 200
    assert b.get(SEARCH_API, REMOTE_ADDR=nat).status_code == 200
    assert b.get(reverse("directory:points"), REMOTE_ADDR=nat).status_code == 429
    # Anonymous visitors from that address count apart from the signed-in users.
    assert client.get(SEARCH_API, REMOTE_ADDR=nat).status_code == 200
    assert client.get(page, REMOTE_ADDR=nat).status_code == 200
    assert client.get(page, REMOTE_ADDR=nat).status_code == 429
    # …and another user elsewhere is not touched by any of it.
    c = Client()
    sign_in(c, make_member(org, Role.NURSE, username="nat-nurse-c").user)
    assert c.get(page, REMOTE_ADDR="203.0.113.5").status_code == 200


def test_the_user_key_is_the_user_and_the_anonymous_key_the_address() -> None:
    rf = RequestFactory()
    request = rf.get("/", REMOTE_ADDR="198.51.100.20")

    class Anonymous:
        is_authenticated = False

    class SignedIn:
        is_authenticated = True
        pk = 42

    request.user = Anonymous()  # type: ignore[assignment]
    assert ratelimit.by_user_or_ip(request) == "198.51.100.20"
    request.user = SignedIn()  # type: ignore[assignment]
    assert ratelimit.by_user_or_ip(request) == "u42"
