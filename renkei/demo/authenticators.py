"""The demo's authenticators: every demo login that must use a second factor gets a TOTP
device whose secret is derived from its name and printed on its line of the logins table, so a
tester adds it to an authenticator app (demo only; never in production; ADR 0043)."""

from __future__ import annotations

import base64
import hashlib

from django_otp.plugins.otp_totp.models import TOTPDevice

from renkei.accounts.models import TwoFactorPolicy, User

DEVICE_NAME = "デモ"


def totp_key(username: str) -> str:
    """The demo's published TOTP secret of a login (hex, as django-otp stores it)."""
    return hashlib.sha256(f"renkei-demo-totp:{username}".encode()).hexdigest()[:40]


def totp_secret(username: str) -> str:
    """The same secret in base32, as authenticator apps take it."""
    return base64.b32encode(bytes.fromhex(totp_key(username))).decode()


def give_device(user: User) -> None:
    TOTPDevice.objects.get_or_create(
        user=user, name=DEVICE_NAME, defaults={"key": totp_key(user.username), "confirmed": True}
    )


def ensure_authenticators(usernames: list[str]) -> dict[str, str]:
    """A demo device for each login that needs the second factor; their base32 secrets.

    A login whose tester enrolled an app of their own keeps it and shows no secret."""
    secrets: dict[str, str] = {}
    for user in User.objects.filter(username__in=usernames, is_active=True):
        if not TwoFactorPolicy.required_for(user):
            continue
        devices = TOTPDevice.objects.filter(user=user, confirmed=True)
        if devices.exclude(name=DEVICE_NAME).exists():
            continue
        give_device(user)
        secrets[user.username] = totp_secret(user.username)
    return secrets


def demo_secrets(usernames: list[str]) -> dict[str, str]:
    """The printed secret of each login that still has its demo device (the table's column)."""
    with_device = TOTPDevice.objects.filter(
        user__username__in=usernames, user__is_active=True, name=DEVICE_NAME, confirmed=True
    ).values_list("user__username", "key")
    return {u: totp_secret(u) for u, key in with_device if key == totp_key(u)}
