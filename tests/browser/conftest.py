"""Playwright driving Debian's Chromium against the live test server."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the
# test itself (building data) are still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("RENKEI_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _chromium_available() -> bool:
    return Path(CHROMIUM).exists() or shutil.which("chromium") is not None


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not _chromium_available():
        if os.environ.get("RENKEI_REQUIRE_BROWSER") == "1":
            pytest.fail(f"Chromium not found at {CHROMIUM} (RENKEI_REQUIRE_BROWSER=1)")
        pytest.skip("Chromium not installed: apt-get install chromium fonts-noto-cjk")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, live_server, settings):  # type: ignore[no-untyped-def]
    # No network here: a local placeholder tile keeps the map readable in screenshots.
    settings.TILE_URL = "/static/img/offline-tile.png"
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="ja-JP", timezone_id="Asia/Tokyo"
    )
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    yield pg
    context.close()


def screenshot(pg, name: str, full_page: bool = True) -> Path:  # type: ignore[no-untyped-def]
    """Save to docs/screenshots/ when RENKEI_SCREENSHOTS=1, otherwise to a scratch folder."""
    folder = (
        SCREENSHOTS
        if os.environ.get("RENKEI_SCREENSHOTS") == "1"
        else Path(os.environ.get("TMPDIR", "/tmp")) / "renkei-shots"
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    pg.screenshot(path=str(path), full_page=full_page)
    return path


@pytest.fixture(autouse=True)
def _authenticators() -> Iterator[None]:
    """Every account a browser test creates has an authenticator with the known test key, as
    the second factor is required for most roles: `second_factor(page)` then completes the
    verify step through the real form."""
    from django.db.models.signals import post_save

    from renkei.accounts.models import User
    from renkei.testing import give_authenticator

    def receiver(sender: type[User], instance: User, created: bool, **kwargs: object) -> None:
        if created:
            give_authenticator(instance)

    post_save.connect(receiver, sender=User, dispatch_uid="browser-authenticators")
    yield
    post_save.disconnect(sender=User, dispatch_uid="browser-authenticators")


def second_factor(pg) -> None:  # type: ignore[no-untyped-def]
    """After the password: type the test authenticator's code when asked.

    A code counts once (django-otp refuses a replay of the last step it accepted), so a second
    sign-in within the same 30 seconds types the next step's code, which the device's tolerance
    of one step accepts; past that it waits for the clock, as a person would."""
    import time

    from django.db.models import Max
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from renkei.testing import TEST_TOTP_KEY

    # The password step has answered once the page has left the login form.
    pg.wait_for_url(lambda url: "/accounts/login/" not in url)
    pg.wait_for_load_state()
    if "/accounts/2fa/verify/" not in pg.url:
        return
    used = TOTPDevice.objects.filter(key=TEST_TOTP_KEY).aggregate(t=Max("last_t"))["t"]
    totp = TOTP(bytes.fromhex(TEST_TOTP_KEY))
    while used is not None and used + 1 > totp.t() + 1:
        time.sleep(1)
        totp = TOTP(bytes.fromhex(TEST_TOTP_KEY))
    step = totp.t() if used is None else max(totp.t(), used + 1)
    totp.time = step * totp.step + totp.t0 + 1
    pg.get_by_label("確認コード").fill(f"{totp.token():06d}")
    pg.get_by_role("button", name="確認").click()
    pg.wait_for_url(lambda url: "/accounts/2fa/verify/" not in url)
    pg.wait_for_load_state()


def phone(browser):  # type: ignore[no-untyped-def]
    """A browser context the size of a phone (390×844), in Japanese and Japan time."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="ja-JP", timezone_id="Asia/Tokyo"
    )
    context.set_default_timeout(10_000)
    return context


def signed_in(context, live_server, m) -> None:  # type: ignore[no-untyped-def]
    """The member's session, past the password and the second factor (the tests of those
    pages sign in through them), as the browser context's cookie."""
    from django.conf import settings
    from django.test import Client

    from renkei.care.tests.conftest import verified

    client = verified(Client(), m)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )
