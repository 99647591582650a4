"""request.user from the rows read with the session (ADR 0071) is the user, the device and
the session state that Django's AuthenticationMiddleware and django-otp's OTPMiddleware
gave, in every state, for both session engines; with one statement where they ran three."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.sessions.backends import cached_db, db
from django.core.cache import caches
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.middleware import OTPMiddleware
from django_otp.plugins.otp_static.models import StaticDevice

from renkei.accounts.middleware import SignedInMiddleware
from renkei.accounts.models import Role, Session, User
from renkei.accounts.sessions import cached_db as our_cached_db
from renkei.accounts.sessions import db as our_db
from renkei.testing import give_authenticator, make_member, make_org

pytestmark = pytest.mark.django_db

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
OLD_SECRET = "an-earlier-secret-key-of-this-test-only-0123456789"


class QuerySetStore(db.SessionStore):
    """Django's database engine on the same table: the row read by its QuerySet."""

    # The data's signing salt is the class's name: Django's and ours are all SessionStore.
    __qualname__ = "SessionStore"

    @classmethod
    def get_model_class(cls) -> Any:
        return Session


class QuerySetCachedStore(cached_db.SessionStore):
    __qualname__ = "SessionStore"

    @classmethod
    def get_model_class(cls) -> Any:
        return Session


ENGINES: dict[str, tuple[type, type, bool]] = {
    "db": (QuerySetStore, our_db.SessionStore, False),
    "cached_db, in the cache": (QuerySetCachedStore, our_cached_db.SessionStore, False),
    "cached_db, not in the cache": (QuerySetCachedStore, our_cached_db.SessionStore, True),
}


def _ok(request: HttpRequest) -> HttpResponse:
    return HttpResponse()


def old_request(store: Any) -> HttpRequest:
    """The two middlewares as settings listed them before ADR 0071."""
    request = RequestFactory().get("/")
    request.session = store
    AuthenticationMiddleware(_ok).process_request(request)
    OTPMiddleware(_ok)(request)
    return request


def new_request(store: Any) -> HttpRequest:
    request = RequestFactory().get("/")
    request.session = store
    SignedInMiddleware(_ok).process_request(request)
    return request


def reads(sql: str) -> bool:
    """A statement loading the session (its expiry condition: a flush's get-before-delete
    has none), a user or a device."""
    return sql.startswith("SELECT") and any(
        t in sql for t in ('expire_date" >', "accounts_user", "otp_totp_", "otp_static_")
    )


def outcome(request: HttpRequest, key: str | None) -> tuple[dict[str, Any], list[str]]:
    with CaptureQueriesContext(connection) as queries:
        user = request.user
        authenticated = user.is_authenticated
        verified = user.is_verified()  # type: ignore[union-attr]
        device = user.otp_device  # type: ignore[union-attr]
    session = request.session
    state = {
        "user": user.pk if authenticated else None,
        "anonymous": user.is_anonymous,
        "verified": verified,
        "device": (type(device).__name__, device.pk) if device is not None else None,
        "session key": (
            "none"
            if session.session_key is None
            else "kept"
            if session.session_key == key
            else "new"
        ),
        "data": dict(session.items()),
        "row kept": key is not None and Session.objects.filter(pk=key).exists(),
        "row of the key now": session.session_key is not None
        and Session.objects.filter(pk=session.session_key).exists(),
    }
    return state, [q["sql"] for q in queries]


def signed_in_session(store: type, user: User, device: Any = None, **data: Any) -> str:
    session = store()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = MODEL_BACKEND
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    if device is not None:
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    for name, value in data.items():
        session[name] = value
    session.save()
    key: str = session.session_key
    return key


@pytest.fixture
def people() -> dict[str, Any]:
    org = make_org("藤沢市民病院", municipality_code="142051")
    kaede = make_member(org, Role.MSW, username="kaede").user
    tsubaki = make_member(org, Role.MSW, username="tsubaki").user
    return {
        "kaede": kaede,
        "tsubaki": tsubaki,
        "totp": give_authenticator(kaede),
        "static": StaticDevice.objects.create(user=kaede, name="回復コード", confirmed=True),
        "other's": give_authenticator(tsubaki),
    }


def _set(key: str, **columns: Any) -> None:
    Session.objects.filter(pk=key).update(**columns)


# Each state: (set the world up once, make one session of it with a store) → the session key
# (None: no cookie). A state is made twice, for the old and the new path.
def states(p: dict[str, Any]) -> dict[str, Callable[[type], str | None]]:
    kaede, totp = p["kaede"], p["totp"]

    def tampered(store: type) -> str:
        key = signed_in_session(store, kaede, totp)
        row = Session.objects.get(pk=key)
        _set(key, session_data=row.session_data[:-4] + "AAAA")
        return key

    def expired(store: type) -> str:
        key = signed_in_session(store, kaede, totp)
        _set(key, expire_date=timezone.now() - dt.timedelta(seconds=1))
        return key

    def other_columns(store: type) -> str:
        key = signed_in_session(store, kaede, totp)
        # Columns naming someone the signed data does not: the data decides.
        _set(key, user_pk=p["tsubaki"].pk, otp_device_pk=p["other's"].pk)
        return key

    def rotated(store: type) -> str:
        with override_settings(SECRET_KEY=OLD_SECRET):
            old_hash = kaede.get_session_auth_hash()
        return signed_in_session(store, kaede, totp, **{HASH_SESSION_KEY: old_hash})

    return {
        "no cookie": lambda store: None,
        "unknown key": lambda store: "k" * 32,
        "verified with the authenticator": lambda store: signed_in_session(store, kaede, totp),
        "verified with a recovery code": lambda store: signed_in_session(store, kaede, p["static"]),
        "password only": lambda store: signed_in_session(store, kaede),
        "expired": expired,
        "tampered": tampered,
        "no hash": lambda store: signed_in_session(store, kaede, totp, **{HASH_SESSION_KEY: ""}),
        "a hash of another password": lambda store: signed_in_session(
            store, kaede, totp, **{HASH_SESSION_KEY: "0" * 64}
        ),
        "a hash under a rotated secret": rotated,
        "another backend": lambda store: signed_in_session(
            store, kaede, totp, **{BACKEND_SESSION_KEY: "renkei.nowhere.Backend"}
        ),
        "another user's device": lambda store: signed_in_session(store, kaede, p["other's"]),
        "a device of an uninstalled plug-in": lambda store: signed_in_session(
            store, kaede, None, **{DEVICE_ID_SESSION_KEY: "otp_email.emaildevice/1"}
        ),
        "a legacy persistent id": lambda store: signed_in_session(
            store,
            kaede,
            None,
            **{DEVICE_ID_SESSION_KEY: f"django_otp.plugins.otp_totp.models.TOTPDevice/{totp.pk}"},
        ),
        "columns naming someone else": other_columns,
    }


def compare(engine: str, name: str, make_state: Callable[[type], str | None]) -> None:
    old_store, new_store, evict = ENGINES[engine]
    got = []
    for store, make in ((old_store, old_request), (new_store, new_request)):
        key = make_state(new_store)  # the session as the new engine writes it
        if evict and key is not None:
            caches["default"].delete(cached_db.KEY_PREFIX + key)
        got.append(outcome(make(store(key)), key))
    (old, old_sql), (new, new_sql) = got
    assert new == old, (engine, name)
    old_reads = [s for s in old_sql if reads(s)]
    new_reads = [s for s in new_sql if reads(s)]
    bound = 2 if name == "columns naming someone else" else 1
    assert len(new_reads) <= bound, (engine, name, new_reads)
    # Every other statement (a flush's DELETE, cycle_key's INSERT) is the same kind.
    assert [s.split()[0] for s in new_sql if not reads(s)] == [
        s.split()[0] for s in old_sql if not reads(s)
    ], (engine, name)
    if name == "verified with the authenticator":
        # The session, the user and the device: three statements before, one now.
        assert len(old_reads) == (2 if engine == "cached_db, in the cache" else 3)
        assert len(new_reads) == 1


@pytest.mark.parametrize("engine", list(ENGINES))
def test_every_state_gives_what_django_and_django_otp_gave(
    engine: str, people: dict[str, Any]
) -> None:
    for name, make_state in states(people).items():
        with override_settings(SECRET_KEY_FALLBACKS=[OLD_SECRET]):
            compare(engine, name, make_state)


@pytest.mark.parametrize("engine", list(ENGINES))
def test_states_of_the_user_and_the_device_rows(engine: str, people: dict[str, Any]) -> None:
    """A user made inactive or deleted, a device unconfirmed or deleted, a password changed:
    the rows change under a session that was signed in."""
    kaede, totp = people["kaede"], people["totp"]

    def verified(store: type) -> str:
        return signed_in_session(store, kaede, totp)

    totp.confirmed = False
    totp.save()
    compare(engine, "unconfirmed device", verified)
    totp.confirmed = True
    totp.save()

    store = ENGINES[engine][1]

    def made_before(device: Any) -> Callable[[type], str | None]:
        """Two sessions (old path, new path) signed in before the change that follows."""
        keys = iter([signed_in_session(store, kaede, device) for _ in range(2)])
        return lambda store: next(keys)

    before = made_before(totp)
    kaede.set_password("an-entirely-new-password-7")
    kaede.save()
    compare(engine, "a password changed after sign-in", before)

    User.objects.filter(pk=kaede.pk).update(is_active=False)
    compare(engine, "inactive user", verified)
    User.objects.filter(pk=kaede.pk).update(is_active=True)

    static = people["static"]
    before = made_before(static)
    static.delete()
    compare(engine, "device deleted", before)

    before = made_before(totp)
    User.objects.filter(pk=kaede.pk).delete()
    compare(engine, "deleted user", before)


def test_the_columns_follow_the_data_at_every_save(people: dict[str, Any]) -> None:
    kaede, totp = people["kaede"], people["totp"]
    store = our_db.SessionStore()
    store["anything"] = 1
    store.save()
    row = Session.objects.get(pk=store.session_key)
    assert (row.user_pk, row.otp_device_model, row.otp_device_pk) == (None, "", None)
    store[SESSION_KEY] = str(kaede.pk)
    store.save()
    row.refresh_from_db()
    assert (row.user_pk, row.otp_device_model, row.otp_device_pk) == (kaede.pk, "", None)
    store[DEVICE_ID_SESSION_KEY] = totp.persistent_id
    store.save()
    row.refresh_from_db()
    assert (row.user_pk, row.otp_device_model, row.otp_device_pk) == (
        kaede.pk,
        "otp_totp.totpdevice",
        totp.pk,
    )
    store.cycle_key()
    row = Session.objects.get(pk=store.session_key)
    assert (row.user_pk, row.otp_device_pk) == (kaede.pk, totp.pk)


def test_sessions_signed_by_djangos_engines_still_open() -> None:
    """The data's signature is salted with the store's class name: ours are Django's."""
    assert our_db.SessionStore().key_salt == db.SessionStore().key_salt
    assert our_cached_db.SessionStore().key_salt == cached_db.SessionStore().key_salt


def test_the_user_is_read_as_the_default_manager_reads_it() -> None:
    """ModelBackend reads `_default_manager.get(pk=…)`; the written statement reads the
    table: the same only while the default manager filters nothing."""
    assert "WHERE" not in str(User._default_manager.all().query)


def test_a_signed_in_request_reads_the_session_user_and_device_once(
    people: dict[str, Any],
) -> None:
    """Through the whole stack: one statement for the three, then the membership's."""
    from renkei.testing import sign_in

    client = sign_in(Client(), people["kaede"])
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/accounts/profile/").status_code == 200
    sql = [q["sql"] for q in queries]
    session_reads = [s for s in sql if "accounts_session" in s and s.startswith("SELECT")]
    assert len(session_reads) == 1
    assert "accounts_user" in session_reads[0] and "otp_totp_totpdevice" in session_reads[0]
    # Neither ModelBackend's QuerySet nor django-otp's.
    assert not any('WHERE "accounts_user"."id" =' in s for s in sql)
    assert not any('WHERE "otp_totp_totpdevice"."id" =' in s for s in sql)


@pytest.mark.parametrize("path", ["/", "/directory/", "/api/v1/directory/facilities?q=さくら"])
def test_a_public_request_without_a_cookie_reads_no_session(path: str) -> None:
    client = Client()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    assert "sessionid" not in response.cookies
    assert not any("accounts_session" in q["sql"] or "accounts_user" in q["sql"] for q in queries)


def test_the_upgrade_carries_open_sessions_over(people: dict[str, Any]) -> None:
    """Migration 0007 moves the sessions open in django_session to accounts.Session with
    their columns, so nobody is signed out by the deploy; expired ones are dropped."""
    import importlib
    from types import SimpleNamespace

    from django.apps import apps
    from django.contrib.sessions.models import Session as DjangoSession

    kaede, totp = people["kaede"], people["totp"]
    open_ = db.SessionStore()  # Django's engine, on django_session
    open_[SESSION_KEY] = str(kaede.pk)
    open_[DEVICE_ID_SESSION_KEY] = totp.persistent_id
    open_.save()
    gone = db.SessionStore()
    gone["x"] = 1
    gone.save()
    DjangoSession.objects.filter(pk=gone.session_key).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )
    migration = importlib.import_module("renkei.accounts.migrations.0007_session")
    migration.carry_over(apps, SimpleNamespace(connection=connection))
    row = Session.objects.get(pk=open_.session_key)
    assert (row.user_pk, row.otp_device_model, row.otp_device_pk) == (
        kaede.pk,
        "otp_totp.totpdevice",
        totp.pk,
    )
    assert our_db.SessionStore(open_.session_key).load() == dict(open_.items())
    assert not Session.objects.filter(pk=gone.session_key).exists()
    assert not DjangoSession.objects.exists()
