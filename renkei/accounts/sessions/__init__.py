"""The session, the signed-in user and the second-factor device in one statement (ADR 0071).

Every signed-in request used to read three rows through three compiled QuerySets: Django's
session (`SessionStore.load`), the user (`ModelBackend.get_user`) and django-otp's device
(`Device.from_persistent_id`), ~3 ms of CPU on each. Here:

- The session row (`accounts.Session`) carries the user's pk and the device's model and pk,
  copied from the data whenever the session is saved (`SignedInStore.create_model_instance`).
- Loading a session from the database is one written statement that also brings the user
  and the device those columns name (`read_session`); a session read from the cache
  (cached_db) brings the two with one statement by the ids in its data (`read_user`).
- `signed_in_user` is Django's `get_user` and django-otp's `_verify_user_sync` over those
  rows: the same checks in the same order (the session's expiry and signature by the store,
  the backend path, `user_can_authenticate`, the session hash and its fallbacks, the device's
  owner and confirmation). The decoded data decides which user and which device are meant;
  rows read for anything else are not used, and Django's or django-otp's own lookup runs.

Anything this does not recognise (another authentication backend, a persistent id that does
not name an installed device model) goes through Django's or django-otp's code unchanged.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.contrib import auth
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, load_backend
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser
from django.db import connections, router
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.middleware import OTPMiddleware
from django_otp.models import Device

from renkei.lib import prepared

if TYPE_CHECKING:
    from renkei.accounts.models import Session

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@dataclass(frozen=True)
class SignedIn:
    """The user and device rows read for a session: `user` is None when no user has the
    pk (deleted), `device` None when the named device is gone; `device_ref` is what was
    looked for ((model label, pk), or None when nothing was)."""

    user_pk: int | None
    user: Any
    device_ref: tuple[str, int] | None
    device: Any


@functools.cache
def device_models() -> tuple[type[Device], ...]:
    """The installed concrete device models, in a fixed order; once per process (walking the
    app registry three times a request was ~0.3 ms of a signed-in search's CPU)."""
    return tuple(
        sorted(
            (m for m in apps.get_models() if issubclass(m, Device)),
            key=lambda m: m.model_label(),
        )
    )


@functools.cache
def _labels() -> dict[str, type[Device]]:
    return {m.model_label(): m for m in device_models()}


def device_ref(persistent_id: Any) -> tuple[str, int] | None:
    """(model label, pk) of a django-otp persistent id, as `Device.from_persistent_id` reads
    it (legacy import paths normalised, the model name in any case); None for anything that
    does not name an installed device model."""
    if not isinstance(persistent_id, str):
        return None
    persistent_id = OTPMiddleware._normalize_persistent_id(persistent_id)
    label, _, pk = persistent_id.rpartition("/")
    app_label, _, model_name = label.partition(".")
    model = _labels().get(f"{app_label}.{model_name.lower()}")
    if model is None:
        return None
    try:
        return model.model_label(), int(pk)
    except ValueError:
        return None


def user_pk(data: dict[str, Any]) -> int | None:
    from django.contrib.auth import get_user_model

    value = data.get(SESSION_KEY)
    if value is None:
        return None
    try:
        pk = get_user_model()._meta.pk.to_python(value)
    except Exception:  # noqa: BLE001 - Django's get_user raises on it; the columns stay empty
        return None
    return pk if isinstance(pk, int) else None


def columns(data: dict[str, Any]) -> dict[str, Any]:
    """The session row's user and device columns for the session's data."""
    ref = device_ref(data.get(DEVICE_ID_SESSION_KEY)) if SESSION_KEY in data else None
    return {
        "user_pk": user_pk(data),
        "otp_device_model": ref[0] if ref else "",
        "otp_device_pk": ref[1] if ref else None,
    }


def _column_list(alias: str, model: Any) -> str:
    from renkei.lib import rows

    return rows.columns(alias, model)


@functools.cache
def _sql(vendor: str, kind: str) -> str:
    from django.contrib.auth import get_user_model

    from renkei.accounts.models import Session

    connection = next(c for c in connections.all() if c.vendor == vendor)
    qn = connection.ops.quote_name
    user: Any = get_user_model()
    session: Any = Session
    devices: list[Any] = list(device_models())
    selected = [_column_list("u", user)] + [_column_list(f"d{i}", m) for i, m in enumerate(devices)]
    user_pk_col = qn(user._meta.pk.column)
    if kind == "session":
        # The device columns name one model: a join on another model's table finds nothing.
        device_on = "s.{model} = %s AND d{i}.{pk} = s.{device_pk}"
        head = "SELECT {session}, {rest} FROM {table} s LEFT JOIN {user} u ON u.{upk} = s.{spk}"
        tail = " WHERE s.{key} = %s AND s.{expire} > %s"
    else:
        # The ids come as parameters: the pk is passed for the named model's table only.
        device_on = "d{i}.{pk} = %s"
        head = "SELECT {rest} FROM {user} u"
        tail = " WHERE u.{upk} = %s"
    joins = "".join(
        f" LEFT JOIN {qn(m._meta.db_table)} d{i} ON "
        + device_on.format(
            i=i,
            model=qn(session._meta.get_field("otp_device_model").column),
            pk=qn(m._meta.pk.column),
            device_pk=qn(session._meta.get_field("otp_device_pk").column),
        )
        for i, m in enumerate(devices)
    )
    return (head + joins + tail).format(
        session=_column_list("s", session),
        rest=", ".join(selected),
        table=qn(session._meta.db_table),
        user=qn(user._meta.db_table),
        upk=user_pk_col,
        spk=qn(session._meta.get_field("user_pk").column),
        key=qn(session._meta.pk.column),
        expire=qn(session._meta.get_field("expire_date").column),
    )


def _build(db: str, connection: Any, row: Any, models: list[Any], vendor: str) -> list[Any]:
    """The instances of `models` from consecutive column runs of `row` (None for a LEFT JOIN
    that found nothing: its primary key is NULL)."""
    from renkei.lib import rows

    built: list[Any] = []
    at = 0
    for model in models:
        reader = rows.reader(model, vendor)
        values = row[at : at + len(reader.names)]
        at += len(reader.names)
        found = values[reader.names.index(model._meta.pk.attname)] is not None
        built.append(reader.build(db, values, connection) if found else None)
    return built


def _signed_in(
    pk: int | None, ref: tuple[str, int] | None, user: Any, devices: list[Any]
) -> SignedIn:
    device = None
    if ref is not None:
        device = next((d for d in devices if d is not None and d.model_label() == ref[0]), None)
    return SignedIn(pk, user, ref, device)


def read_session(session_key: str) -> tuple[Session, SignedIn] | None:
    """The unexpired session row of `session_key` with the user and device its columns name,
    in one statement; None when there is no such session."""
    from django.contrib.auth import get_user_model

    from renkei.accounts.models import Session

    db = router.db_for_read(Session)
    connection = connections[db]
    vendor = connection.vendor
    devices = device_models()
    params: list[Any] = [m.model_label() for m in devices]
    params += [session_key, connection.ops.adapt_datetimefield_value(timezone.now())]
    with prepared.cursor(connection) as cursor:
        cursor.execute(_sql(vendor, "session"), params)
        row = cursor.fetchone()
    if row is None:
        return None
    session, user, *found = _build(
        db, connection, row, [Session, get_user_model(), *devices], vendor
    )
    ref = (
        (session.otp_device_model, session.otp_device_pk)
        if session.otp_device_model and session.otp_device_pk is not None
        else None
    )
    return session, _signed_in(session.user_pk, ref, user, found)


def read_user(pk: int, ref: tuple[str, int] | None) -> SignedIn:
    """The user of `pk` and the device of `ref` in one statement (the session itself came
    from the cache)."""
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    db = router.db_for_read(user_model)
    connection = connections[db]
    vendor = connection.vendor
    devices = device_models()
    params: list[Any] = [
        ref[1] if ref is not None and ref[0] == m.model_label() else None for m in devices
    ]
    with prepared.cursor(connection) as cursor:
        cursor.execute(_sql(vendor, "user"), [*params, pk])
        row = cursor.fetchone()
    if row is None:
        return SignedIn(pk, None, ref, None)
    user, *found = _build(db, connection, row, [user_model, *devices], vendor)
    return _signed_in(pk, ref, user, found)


class SignedInStore:
    """What the session engines (`.db`, `.cached_db`) add to Django's: the model with the
    user and device columns, written from the data; a load from the database brings the
    user and device rows along (`signed_in`)."""

    signed_in: SignedIn | None = None
    _session_key: str | None

    @classmethod
    def get_model_class(cls) -> Any:
        from renkei.accounts.models import Session

        return Session

    def _get_session_from_db(self) -> Any:
        self.signed_in = None
        found = read_session(self.session_key)  # type: ignore[attr-defined]
        if found is None:
            # As Django's: an unknown or expired key is never reused for a new session.
            self._session_key = None
            return None
        session, self.signed_in = found
        return session

    def create_model_instance(self, data: dict[str, Any]) -> Any:
        obj = super().create_model_instance(data)  # type: ignore[misc]
        for name, value in columns(data).items():
            setattr(obj, name, value)
        return obj

    async def acreate_model_instance(self, data: dict[str, Any]) -> Any:
        obj = await super().acreate_model_instance(data)  # type: ignore[misc]
        for name, value in columns(data).items():
            setattr(obj, name, value)
        return obj


def _rows_for(request: HttpRequest, pk: int, persistent_id: Any) -> SignedIn:
    """The rows of the user `pk` (and the session's device): those read with the session
    when they are that user's, else one statement for both."""
    signed_in: SignedIn | None = getattr(request.session, "signed_in", None)
    if signed_in is not None and signed_in.user_pk == pk:
        return signed_in
    signed_in = read_user(pk, device_ref(persistent_id) if persistent_id else None)
    request.session.signed_in = signed_in  # type: ignore[attr-defined]
    return signed_in


def get_user(request: HttpRequest) -> Any:
    """`django.contrib.auth.get_user` (Django 5.2), the user read with the session.

    Only ModelBackend's lookup is replaced (a backend with its own `get_user` is asked as
    Django asks it); `user_can_authenticate` is the backend's. The hash check and its
    fallbacks are Django's lines.
    """
    user: Any = None
    try:
        user_id = auth._get_user_session_key(request)  # type: ignore[attr-defined]
        backend_path = request.session[BACKEND_SESSION_KEY]
    except KeyError:
        pass
    else:
        from django.conf import settings

        if backend_path in settings.AUTHENTICATION_BACKENDS:
            backend = load_backend(backend_path)
            if (
                isinstance(backend, ModelBackend)
                and type(backend).get_user is ModelBackend.get_user
            ):
                found = _rows_for(request, user_id, request.session.get(DEVICE_ID_SESSION_KEY)).user
                user = found if found is not None and backend.user_can_authenticate(found) else None
            else:
                user = backend.get_user(user_id)
            # Verify the session
            if hasattr(user, "get_session_auth_hash"):
                session_hash = request.session.get(HASH_SESSION_KEY)
                if not session_hash:
                    session_hash_verified = False
                else:
                    session_auth_hash = user.get_session_auth_hash()
                    session_hash_verified = constant_time_compare(session_hash, session_auth_hash)
                if not session_hash_verified:
                    # If the current secret does not verify the session, try
                    # with the fallback secrets and stop when a matching one is
                    # found.
                    if session_hash and any(
                        constant_time_compare(session_hash, fallback_auth_hash)
                        for fallback_auth_hash in user.get_session_auth_fallback_hash()
                    ):
                        request.session.cycle_key()
                        request.session[HASH_SESSION_KEY] = session_auth_hash
                    else:
                        request.session.flush()
                        user = None

    return user or AnonymousUser()


def signed_in_user(request: HttpRequest) -> Any:
    """request.user: Django's AuthenticationMiddleware and django-otp's OTPMiddleware in one
    (django-otp 1.7 `_verify_user_sync`), the device read with the session and the user."""
    if hasattr(request, "_cached_user"):
        return request._cached_user
    user = get_user(request)
    OTPMiddleware._init_user_fields(user)
    if user.is_authenticated:
        persistent_id = request.session.get(DEVICE_ID_SESSION_KEY)
        device = None
        if persistent_id:
            ref = device_ref(persistent_id)
            signed_in = getattr(request.session, "signed_in", None)
            if ref is not None and signed_in is not None and signed_in.device_ref == ref:
                device = signed_in.device
            else:
                device = Device.from_persistent_id(
                    OTPMiddleware._normalize_persistent_id(persistent_id)
                )
        user.otp_device = OTPMiddleware._finalize_device(request, user, device)
    request._cached_user = user  # type: ignore[attr-defined]
    return user
