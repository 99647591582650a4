"""Reads that may go to the read replica, and read-your-writes (ADR 0039).

With `DATABASE_REPLICA_URL` set, `ReplicaMiddleware` marks the requests that may read from the
replica — anonymous directory search and map points, directory exports, HSDS and FHIR reads —
and `ReplicaRouter` sends their reads there. Everything else, and every write, uses the
primary. Sessions, accounts, sign-in lock-outs and the job queue are always read from the
primary: a replica a second behind must never sign anyone out or hide a job.

Read-your-writes: a request that may have written (any POST, PUT, PATCH or DELETE that did not
fail) marks its client for `REPLICA_STICKY_SECONDS` — a cookie for browsers, a cache entry for
a signed-in user (API clients keep no cookies; CACHE_URL shares it across servers) — and that
client's reads stay on the primary until the replica has caught up.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import OperationalError, connections, models
from django.http import HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.urls import Resolver404, resolve

REPLICA = "replica"
COOKIE = "renkei_rw"
SAFE_METHODS = frozenset({"GET", "HEAD"})

# Read from the primary even during a replica request.
PRIMARY_ONLY_APPS = frozenset(
    {
        "sessions",
        "auth",
        "accounts",
        "axes",
        "otp_totp",
        "otp_static",
        "django_otp",
        "admin",
        "ops",
        "procrastinate",
    }
)

# Pages whose reads may come from the replica: (url name, anonymous only).
REPLICA_VIEWS: dict[str, bool] = {
    "directory:search": True,
    "directory:points": True,
    "directory:export": False,
}
# API paths whose GETs may come from the replica: (prefix, anonymous only).
REPLICA_PATHS: tuple[tuple[str, bool], ...] = (
    ("/api/v1/directory/facilities", True),
    ("/api/hsds/", False),
    ("/api/fhir/", False),
)

_reading_replica: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "renkei_reading_replica", default=False
)


def replica_configured() -> bool:
    return bool(settings.REPLICA_READS) and REPLICA in connections.settings


class ReplicaRouter:
    """Reads of a replica request go to the replica; nothing is ever written or migrated there."""

    def db_for_read(self, model: type[models.Model], **hints: Any) -> str | None:
        if _reading_replica.get() and model._meta.app_label not in PRIMARY_ONLY_APPS:
            return REPLICA
        return None

    def db_for_write(self, model: type[models.Model], **hints: Any) -> str | None:
        return None

    def allow_relation(self, obj1: models.Model, obj2: models.Model, **hints: Any) -> bool | None:
        # The replica holds the primary's rows: an object read there relates to one read here.
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return False if db == REPLICA else None


def sticky_key(user_id: object) -> str:
    return f"renkei:rw:{user_id}"


def _user_id(request: HttpRequest) -> object | None:
    user = getattr(request, "user", None)
    return user.pk if user is not None and user.is_authenticated else None


DOWN_KEY = "renkei:replica_down"
# After the replica failed a request (or the health check), reads stay on the primary this long.
DOWN_SECONDS = 30


def mark_down() -> None:
    cache.set(DOWN_KEY, 1, timeout=DOWN_SECONDS)


def may_read_replica(request: HttpRequest) -> bool:
    """Is this request one whose reads the replica may serve, for a client without fresh writes?"""
    if request.method not in SAFE_METHODS or COOKIE in request.COOKIES:
        return False
    if cache.get(DOWN_KEY):
        return False
    anonymous = _user_id(request) is None
    try:
        view_name = resolve(request.path_info).view_name
    except Resolver404:
        return False
    anonymous_only = REPLICA_VIEWS.get(view_name)
    if anonymous_only is None:
        for prefix, anon in REPLICA_PATHS:
            if request.path.startswith(prefix):
                anonymous_only = anon
                break
        else:
            return False
    if anonymous:
        return True
    # A signed-in user who wrote lately, from any device or API client, reads the primary.
    return not anonymous_only and not cache.get(sticky_key(_user_id(request)))


def mark_written(request: HttpRequest, response: HttpResponseBase) -> None:
    """After a request that may have written: this client reads from the primary for a while."""
    seconds = settings.REPLICA_STICKY_SECONDS
    response.set_cookie(
        COOKIE,
        "1",
        max_age=seconds,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    if (user_id := _user_id(request)) is not None:
        cache.set(sticky_key(user_id), 1, timeout=seconds)


class ReplicaMiddleware:
    """Placed after authentication (it needs request.user); does nothing without a replica."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not replica_configured():
            return self.get_response(request)
        if may_read_replica(request):
            token = _reading_replica.set(True)
            try:
                response = self.get_response(request)
            finally:
                _reading_replica.reset(token)
            if isinstance(response, StreamingHttpResponse) and not response.is_async:
                response.streaming_content = _on_replica(response.streaming_content)  # type: ignore[arg-type]  # not async
            return response
        response = self.get_response(request)
        if request.method not in SAFE_METHODS and response.status_code < 400:
            mark_written(request, response)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        """A replica that fails a request sends everyone's reads to the primary for a while
        (this request still fails: its view has already read half its data)."""
        if _reading_replica.get() and isinstance(exception, OperationalError):
            mark_down()


def _on_replica(chunks: Iterator[Any]) -> Iterator[Any]:
    """A streamed response reads as it is sent, after the view returned: keep it on the replica."""
    token = _reading_replica.set(True)
    try:
        yield from chunks
    finally:
        _reading_replica.reset(token)


def reading_replica() -> bool:
    return _reading_replica.get()
