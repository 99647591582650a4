"""Deterministic builders shared by the tests and the demo seed. No randomness here."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable
from typing import Any

from django.db import connection
from django.utils import timezone

from renkei.accounts.models import Membership, Organization, OrgKind, Role, User
from renkei.directory.models import Capability, Facility, VacancyStatus
from renkei.regions.models import Municipality, Prefecture

DEMO_PASSWORD = "renkei-demo-2026"


def ensure_reference_data() -> None:
    """Reload what the data migrations of the lower layers (regions, the directory's
    capabilities) provide, after a transactional test flushed it. Each feature app restores
    its own (the root conftest calls them), so that this module imports none of them."""
    from django.apps import apps

    from renkei.directory.vocabulary import BASE_CAPABILITIES
    from renkei.regions.loader import load_regions

    if not Prefecture.objects.exists():
        load_regions(apps)
    if not Capability.objects.exists():
        for i, (code, name, group) in enumerate(BASE_CAPABILITIES):
            Capability.objects.create(code=code, name=name, group=group, bit=i, sort_order=i * 10)


def municipality(code: str) -> Municipality:
    return Municipality.objects.select_related("parent", "prefecture").get(code=code)


def prefecture(code: str = "14") -> Prefecture:
    return Prefecture.objects.get(code=code)


def capabilities(*codes: str) -> list[Capability]:
    found = {c.code: c for c in Capability.objects.filter(code__in=codes)}
    missing = [c for c in codes if c not in found]
    if missing:
        raise LookupError(f"unknown capabilities: {missing}")
    return [found[c] for c in codes]


def make_org(
    name: str,
    kind: str = OrgKind.HOSPITAL,
    *,
    municipality_code: str | None = None,
    prefecture_code: str | None = None,
    **extra: Any,
) -> Organization:
    muni = municipality(municipality_code) if municipality_code else None
    pref = prefecture(prefecture_code) if prefecture_code else (muni.prefecture if muni else None)
    return Organization.objects.create(
        name=name, kind=kind, municipality=muni, prefecture=pref, **extra
    )


def make_user(
    username: str, *, password: str = DEMO_PASSWORD, display_name: str = "", email: str = ""
) -> User:
    user = User(
        username=username,
        display_name=display_name or username,
        email=email or f"{username}@example.jp",
    )
    user.set_password(password)
    user.save()
    return user


def make_member(
    org: Organization,
    role: str = Role.MSW,
    *,
    username: str | None = None,
    password: str = DEMO_PASSWORD,
    display_name: str = "",
    is_org_admin: bool = False,
) -> Membership:
    user = make_user(username or f"{org.pk}-{role}", password=password, display_name=display_name)
    return Membership.objects.create(
        user=user, organization=org, role=role, is_org_admin=is_org_admin
    )


def make_facility(
    name: str,
    kind: str = "tokuyo",
    *,
    municipality_code: str = "142051",
    lat: float | None = 35.3389,
    lng: float | None = 139.4911,
    kana: str = "",
    capability_codes: Iterable[str] = (),
    vacancy: str = VacancyStatus.UNKNOWN,
    vacancy_count: int | None = None,
    confirmed_days_ago: float | None = None,
    organization: Organization | None = None,
    service_municipality_codes: Iterable[str] = (),
    now: dt.datetime | None = None,
    **fields: Any,
) -> Facility:
    muni = municipality(municipality_code)
    confirmed = None
    if confirmed_days_ago is not None:
        confirmed = (now or timezone.now()) - dt.timedelta(days=confirmed_days_ago)
    f = Facility.objects.create(
        name=name,
        kana=kana,
        kind=kind,
        municipality=muni,
        address=fields.pop("address", f"{muni.name}本町1-1-1"),
        lat=lat,
        lng=lng,
        vacancy_status=vacancy,
        vacancy_count=vacancy_count,
        vacancy_confirmed_at=confirmed,
        organization=organization,
        **fields,
    )
    codes = list(capability_codes)
    if codes:
        f.set_capabilities(capabilities(*codes))
    if service_municipality_codes:
        f.service_municipalities.set(
            Municipality.objects.filter(code__in=list(service_municipality_codes))
        )
    return f


def make_member_with_password_hash(
    org: Organization,
    role: str,
    *,
    username: str,
    password_hash: str,
    display_name: str = "",
    is_org_admin: bool = False,
) -> Membership:
    """make_member for many accounts that share one password: hash it once with make_password.

    Argon2 is slow on purpose (a third of a second per hash), which would dominate the demo seed.
    """
    user = User.objects.create(
        username=username,
        display_name=display_name or username,
        email=f"{username}@example.jp",
        password=password_hash,
    )
    return Membership.objects.create(
        user=user, organization=org, role=role, is_org_admin=is_org_admin
    )


def age_password_entry(client: Any, seconds: int) -> None:
    """Make a test client's session look as if its password was entered `seconds` earlier (R07)."""
    from renkei.accounts.http import AUTHENTICATED_AT_KEY

    session = client.session
    session[AUTHENTICATED_AT_KEY] -= seconds
    session.save()


# A known authenticator secret for tests (hex, as django-otp stores it): a test that signs in
# through the real forms computes the current code from it (`totp_code`).
TEST_TOTP_KEY = "3132333435363738393031323334353637383930"


def give_authenticator(user: User, key: str = TEST_TOTP_KEY, name: str = "認証アプリ") -> Any:
    """A confirmed TOTP device with a known key, as after the user enrolled."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name=name, defaults={"key": key, "confirmed": True}
    )
    return device


def totp_code(key: str = TEST_TOTP_KEY) -> str:
    """The code an authenticator app shows now for `key`."""
    from django_otp.oath import totp

    return f"{totp(bytes.fromhex(key)):06d}"


def sign_in(client: Any, who: User | Membership) -> Any:
    """A test client signed in with the password and the second factor, as after the real
    verify step (the second factor is required for every role that reads named data)."""
    from django_otp import DEVICE_ID_SESSION_KEY

    user = who.user if isinstance(who, Membership) else who
    device = give_authenticator(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def pass_second_factor(client: Any, user: User) -> Any:
    """After a password sign-in through the form: the verify step with the current code of a
    known authenticator (given to the user if they have none)."""
    from django.urls import reverse

    give_authenticator(user)
    response = client.post(reverse("accounts:otp_verify"), {"token": totp_code()})
    assert response.status_code == 302, response.content[:500]
    return client


def race(n: int, work: Callable[[int], Any]) -> list[tuple[str, Any]]:
    """Run work(0..n-1) in n threads started at the same instant; collect ('ok'|'err', value)."""
    barrier = threading.Barrier(n)
    results: list[tuple[str, Any]] = [("err", None)] * n

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = ("ok", work(i))
        except Exception as e:  # noqa: BLE001 - every outcome is recorded and asserted on
            results[i] = ("err", e)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results
