"""TOTP second factor, recovery codes and the per-role policy (security R03)."""

from __future__ import annotations

import re
import time

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from pytest_django.fixtures import Settings

from renkei.accounts.models import AuditEntry, Membership, OrgKind, Role, TwoFactorPolicy
from renkei.accounts.views import OTP_FAILURE_LIMIT
from renkei.testing import DEMO_PASSWORD, make_facility, make_member, make_org

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
SETUP = reverse("accounts:otp_setup")
VERIFY = reverse("accounts:otp_verify")
PROFILE = reverse("accounts:profile")
CODE = re.compile(r"<code>([0-9a-f]{8})</code>")


def token_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The code an authenticator app would show, optionally for a later 30-second step."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def wrong_token(device: TOTPDevice) -> str:
    right = {token_for(device, s) for s in (-1, 0, 1, 2)}
    return next(t for t in ("000000", "111111", "222222", "333333", "444444") if t not in right)


@pytest.fixture
def member() -> Membership:
    org = make_org("藤沢テスト病院", OrgKind.HOSPITAL, municipality_code="142051")
    return make_member(org, Role.DISCHARGE_NURSE, username="otp-nurse")


def sign_in(username: str = "otp-nurse") -> Client:
    client = Client()
    response = client.post(LOGIN, {"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 302
    return client


def enrol(client: Client) -> tuple[TOTPDevice, list[str]]:
    page = client.get(SETUP)
    assert page.status_code == 200
    device = TOTPDevice.objects.get(confirmed=False)
    response = client.post(SETUP, {"token": token_for(device)})
    assert response.status_code == 200
    codes = CODE.findall(response.content.decode())
    device.refresh_from_db()
    return device, codes


def test_setup_page_shows_qr_code_and_typable_key(member: Membership) -> None:
    """The setup page has an inline SVG QR code and the secret in base32 for manual entry."""
    client = sign_in()
    response = client.get(SETUP)
    body = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in body
    device = TOTPDevice.objects.get(user=member.user, confirmed=False)
    import base64

    assert base64.b32encode(device.bin_key).decode() in body


def test_valid_token_enables_totp_and_shows_ten_recovery_codes(member: Membership) -> None:
    """Confirming a correct code turns the device on and lists ten one-time recovery codes.

    The page with the codes is marked no-store so that no cache keeps them.
    """
    client = sign_in()
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=member.user, confirmed=False)
    response = client.post(SETUP, {"token": token_for(device)})
    codes = CODE.findall(response.content.decode())
    device.refresh_from_db()
    assert device.confirmed
    assert len(codes) == 10 == len(set(codes))
    assert StaticToken.objects.filter(device__user=member.user).count() == 10
    assert "no-store" in response["Cache-Control"]
    assert AuditEntry.objects.filter(action="auth.otp_enrolled", actor=member.user).exists()


def test_wrong_setup_token_does_not_enable(member: Membership) -> None:
    """A wrong code at setup leaves the device unconfirmed and explains in Japanese."""
    client = sign_in()
    client.get(SETUP)
    device = TOTPDevice.objects.get(confirmed=False)
    response = client.post(SETUP, {"token": wrong_token(device)})
    assert "確認コードが正しくありません" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=member.user, confirmed=True).exists()


@pytest.mark.parametrize(
    "url_name, args",
    [
        ("home", []),
        ("accounts:profile", []),
        ("directory:mine", []),
        ("api:search_facilities", []),
    ],
)
def test_password_alone_reaches_nothing_once_totp_is_on(
    member: Membership, url_name: str, args: list[str]
) -> None:
    """After enrolment, signing in with only the password redirects every page to the code;
    the API, which a program calls, answers 403 with the reason instead of a redirect."""
    enrol(sign_in())
    client = sign_in()
    response = client.get(reverse(url_name, args=args))
    if url_name.startswith("api:"):
        assert response.status_code == 403
        assert "二要素認証" in response.json()["detail"]
        return
    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY)


def test_member_fields_stay_hidden_on_exempt_paths_until_verified(member: Membership) -> None:
    """Where the pending user may go (login pages), the request carries no membership."""
    enrol(sign_in())
    client = sign_in()
    response = client.get(VERIFY)
    assert response.status_code == 200
    assert response.context["membership"] is None


def test_token_unlocks_the_session(member: Membership) -> None:
    """The current TOTP code completes sign-in, with a fresh session ID, and `next` is kept."""
    device, _ = enrol(sign_in())
    client = sign_in()
    before = client.cookies["sessionid"].value
    response = client.post(VERIFY + "?next=/accounts/profile/", {"token": token_for(device, 1)})
    assert response.status_code == 302
    assert response["Location"] == PROFILE
    assert client.cookies["sessionid"].value != before
    assert client.get(PROFILE).status_code == 200


def test_recovery_code_works_once(member: Membership) -> None:
    """A recovery code signs in once; the same code is refused the second time."""
    _, codes = enrol(sign_in())
    first = sign_in()
    assert first.post(VERIFY, {"token": codes[0]}).status_code == 302
    assert first.get(PROFILE).status_code == 200
    second = sign_in()
    response = second.post(VERIFY, {"token": codes[0]})
    assert response.status_code == 200
    assert "確認コードが正しくありません" in response.content.decode()
    assert second.get(PROFILE).status_code == 302


def test_wrong_tokens_are_limited_across_sessions(member: Membership, settings: Settings) -> None:
    """After five wrong codes even the right one is refused (429), also after signing in again."""
    # django-otp's own back-off would refuse the right code for a second after each failure;
    # switch it off to show that the app's counter alone enforces the limit.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0
    device, _ = enrol(sign_in())
    client = sign_in()
    for _ in range(OTP_FAILURE_LIMIT):
        response = client.post(VERIFY, {"token": wrong_token(device)})
        assert response.status_code == 200
    locked = client.post(VERIFY, {"token": token_for(device, 1)})
    assert locked.status_code == 429
    assert client.get(PROFILE).status_code == 302
    again = sign_in()
    assert again.post(VERIFY, {"token": token_for(device, 1)}).status_code == 429
    assert AuditEntry.objects.filter(action="auth.otp_failed", actor=member.user).count() == (
        OTP_FAILURE_LIMIT
    )


def test_fewer_wrong_tokens_than_the_limit_still_allow_the_right_one(
    member: Membership, settings: Settings
) -> None:
    """Four typos and then the right code: signed in."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0
    device, _ = enrol(sign_in())
    client = sign_in()
    for _ in range(OTP_FAILURE_LIMIT - 1):
        client.post(VERIFY, {"token": wrong_token(device)})
    assert client.post(VERIFY, {"token": token_for(device, 1)}).status_code == 302
    assert client.get(PROFILE).status_code == 200


def test_policy_for_a_role_forces_setup(member: Membership) -> None:
    """When an administrator requires 2FA for the role, members are sent to the setup page."""
    TwoFactorPolicy.objects.create(role=Role.DISCHARGE_NURSE, required=True)
    client = sign_in()
    for url in (reverse("home"), PROFILE, reverse("directory:mine")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == SETUP
    enrol(client)
    assert client.get(PROFILE).status_code == 200


def test_policy_for_another_role_does_not_apply() -> None:
    """A policy for doctors does not affect a prefecture's officer whose organisation holds
    no named records (no desk, no events, no programme): the password alone lets them in."""
    pref = make_org("神奈川県 医療課", OrgKind.PREFECTURE, prefecture_code="14")
    make_member(pref, Role.PREFECTURAL_OFFICER, username="otp-pref")
    TwoFactorPolicy.objects.create(role=Role.DOCTOR, required=True)
    client = sign_in("otp-pref")
    assert client.get(PROFILE).status_code == 200
    assert SESSION_KEY in client.session


def test_policy_cannot_exempt_a_role_that_reads_named_data(member: Membership) -> None:
    """Setting 2FA to optional for a role that reads named data is refused with the reason,
    and even a row that got in (written past the model) changes nothing."""
    with pytest.raises(ValidationError, match="任意にはできません"):
        TwoFactorPolicy.objects.create(role=Role.DISCHARGE_NURSE, required=False)
    TwoFactorPolicy.objects.bulk_create(
        [TwoFactorPolicy(role=Role.DISCHARGE_NURSE, required=False)]
    )
    client = sign_in()
    response = client.get(PROFILE)
    assert response.status_code == 302 and response["Location"] == SETUP


def test_unverified_user_does_not_see_member_only_facility_fields(member: Membership) -> None:
    """The facility detail page is redirected, so the liaison contact is not exposed."""
    facility = make_facility("二段階テスト苑", liaison_contact="連携室 直通 0466-00-0000")
    enrol(sign_in())
    client = sign_in()
    response = client.get(reverse("directory:detail", args=[facility.code]), follow=True)
    assert "0466-00-0000" not in response.content.decode()
