"""The client's address, as every count by address (lock-out, rate limits, audit) sees it.

Kept apart from renkei.accounts.http so that models can import it before the apps are loaded.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or behind one of TRUSTED_PROXIES the address that
    proxy put last into X-Forwarded-For (the one it saw; earlier entries are the client's word).

    Lock-outs, rate limits and the audit log all count by it; without TRUSTED_PROXIES behind a
    proxy every request would come from the proxy's address.
    """
    remote: str | None = request.META.get("REMOTE_ADDR") or None
    trusted: frozenset[str] = settings.TRUSTED_PROXIES
    if remote is None or remote not in trusted:
        return remote
    header = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
    forwarded = [a.strip() for a in header.split(",")]
    for address in reversed([a for a in forwarded if a]):
        if address not in trusted:
            return address[:45]
    return remote
