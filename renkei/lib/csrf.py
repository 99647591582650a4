"""The templates' `csrf_token`, as Django's context processor gives it, with its random
characters drawn from one read of the system's random source (ADR 0077).

Django's get_token() draws the cookie's secret (for a visitor without one) and the mask of
every token through get_random_string(): secrets.choice() per character, and SystemRandom
reads os.urandom() on every call, so a page for a new visitor made ~66 system calls. The
layout prints the token into every page (htmx's X-CSRFToken header), so every anonymous page
paid it: 7 % of the HTML search page's CPU under cProfile (docs/benchmarks.md, session 13).

Here each string of 32 characters comes from one os.urandom() read, by rejection sampling:
a byte below 248 (= 4 × 62) maps to one of the 62 characters, uniformly, as secrets.choice
does; larger bytes are dropped. The secret, the cookie flags in request.META, the masking
and the token's format are Django's, so Django's CsrfViewMiddleware checks these tokens
unchanged (renkei/lib/tests/test_csrf_token.py posts one back through it). Everything else
(the middleware, rotate_token at sign-in, the cookie) is Django's own.
"""

from __future__ import annotations

import os
from typing import Any

from django.http import HttpRequest
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.utils.functional import SimpleLazyObject

_CHARS = CSRF_ALLOWED_CHARS
_INDEX = {c: i for i, c in enumerate(_CHARS)}
_LIMIT = 256 - 256 % len(_CHARS)  # 248: bytes from here up would favour the first characters


def random_chars(length: int = CSRF_SECRET_LENGTH) -> str:
    """`length` characters of CSRF_ALLOWED_CHARS, each uniform and independent (as
    get_random_string), from os.urandom."""
    out: list[str] = []
    while len(out) < length:
        # 3 % of bytes are dropped: a few spare ones make a second read rare.
        for b in os.urandom(length - len(out) + 8):
            if b < _LIMIT:
                out.append(_CHARS[b % len(_CHARS)])
                if len(out) == length:
                    break
    return "".join(out)


def get_token(request: HttpRequest) -> str:
    """django.middleware.csrf.get_token, with random_chars for the new secret and the mask."""
    meta = request.META
    if "CSRF_COOKIE" in meta:
        secret = meta["CSRF_COOKIE"]
    else:
        secret = random_chars()
        meta["CSRF_COOKIE"] = secret
    # As Django: the cookie is sent (again) whenever a token was handed out.
    meta["CSRF_COOKIE_NEEDS_UPDATE"] = True
    mask = random_chars()
    n = len(_CHARS)
    cipher = "".join(_CHARS[(_INDEX[s] + _INDEX[m]) % n] for s, m in zip(secret, mask, strict=True))
    return mask + cipher


def csrf(request: HttpRequest) -> dict[str, Any]:
    """Context processor: `csrf_token`, lazily, in place of Django's built-in one (listed
    after it, so this one's value is the one templates see)."""
    return {"csrf_token": SimpleLazyObject(lambda: get_token(request))}
