"""Rate limits (security R05): public forms, password reset, search and export answer 429.

Fixed windows counted in Django's cache. The default cache is per server process, so with
several processes a limit is per process; CACHE_URL=redis://… shares the counts (README).
Limits are settings (RATE_LIMITS), "count/unit" with unit s, m, h or d.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from renkei.lib.clientip import client_ip

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MESSAGE = "短い時間に多くの操作が行われたため、一時的に受け付けを止めています。{wait}後にもう一度お試しください。"


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        count, _, unit = text.strip().partition("/")
        if not count.isdigit() or unit not in UNITS:
            raise ValueError(f"rate limit {text!r}: write it as count/unit, unit one of s m h d")
        return cls(int(count), UNITS[unit])


def rate(scope: str) -> Rate:
    return Rate.parse(settings.RATE_LIMITS[scope])


def _name(scope: str, key: str, window: int) -> str:
    if len(key) > 64 or not key.isascii() or not key.isprintable() or " " in key:
        # Keys come from what was typed (an e-mail address to reset): memcached and Redis
        # refuse long or spaced keys, and a megabyte of them must not be stored as one.
        key = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return f"renkei:rl:{scope}:{key}:{window}"


def hit(scope: str, key: str) -> int | None:
    """Count one request of `key` in `scope`: None while within the limit, else the seconds
    until the window ends (for Retry-After)."""
    r = rate(scope)
    now = time.time()
    window = int(now // r.seconds)
    name = _name(scope, key, window)
    # add() is atomic: the first request of a window creates the counter, the rest increment.
    count = 1 if cache.add(name, 1, r.seconds + 1) else cache.incr(name)
    if count <= r.count:
        return None
    return max(1, int((window + 1) * r.seconds - now))


def waiting(scope: str, key: str) -> int | None:
    """Whether `key` is over the scope's rate in this window, without counting a request: the
    seconds until the window ends, or None. For limits that count only failures."""
    r = rate(scope)
    now = time.time()
    window = int(now // r.seconds)
    count = cache.get(_name(scope, key, window)) or 0
    if count <= r.count:
        return None
    return max(1, int((window + 1) * r.seconds - now))


def wait_ja(seconds: int) -> str:
    return f"{seconds}秒" if seconds < 120 else f"{-(-seconds // 60)}分"


def too_many(request: HttpRequest, retry_after: int) -> HttpResponse:
    """429 with Retry-After: JSON under /api/, otherwise a page."""
    message = MESSAGE.format(wait=wait_ja(retry_after))
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=429)
    else:
        response = render(request, "errors/rate_limited.html", {"message": message}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


class RateLimited(Exception):
    """Raised by API handlers over a limit; renkei.api turns it into a 429 with Retry-After."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(MESSAGE.format(wait=wait_ja(retry_after)))
        self.retry_after = retry_after


def check(
    request: HttpRequest, scope: str, key: Callable[[HttpRequest], str] | None = None
) -> None:
    """For API handlers: count the request, RateLimited when over the scope's rate."""
    if (wait := hit(scope, (key or by_ip)(request))) is not None:
        raise RateLimited(wait)


def by_ip(request: HttpRequest) -> str:
    return client_ip(request) or "unknown"


def by_user_or_ip(request: HttpRequest) -> str:
    """A signed-in user counts alone (the staff of a hospital or city hall behind one NAT
    address do not share one allowance); anonymous clients count per address."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"u{user.pk}"
    return by_ip(request)


V = TypeVar("V", bound=Callable[..., HttpResponse])


def rate_limited(
    scope: str,
    key: Callable[[HttpRequest], str] = by_ip,
    methods: Iterable[str] = ("GET", "POST"),
) -> Callable[[V], V]:
    """Refuse requests of these methods over the scope's rate with 429, before the view runs."""
    counted = frozenset(methods)

    def decorate(view: V) -> V:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method in counted and (wait := hit(scope, key(request))) is not None:
                return too_many(request, wait)
            return view(request, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
