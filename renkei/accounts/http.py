"""Typed requests and the access helpers every app's views and API use.

They live in accounts because they are about members and their sessions; renkei.lib imports no
app (docs/architecture.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    from renkei.accounts.models import Membership, Organization, User


class RenkeiRequest(HttpRequest):
    """Every request after the middleware: membership is None for the public."""

    membership: Membership | None
    organization: Organization | None
    htmx: HtmxDetails


class MemberRequest(RenkeiRequest):
    user: User
    membership: Membership
    organization: Organization


V = TypeVar("V", bound=Callable[..., HttpResponse])


def member_required(view: V) -> V:
    """Signed-in users with an active membership; others go to the login page."""

    @wraps(view)
    def wrapper(request: RenkeiRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if request.membership is None:
            return render(request, "errors/no_membership.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


# When the password was last entered in this session (sign-in or re-authentication), epoch s.
AUTHENTICATED_AT_KEY = "renkei_authenticated_at"


def authenticated_recently(request: HttpRequest) -> bool:
    at = request.session.get(AUTHENTICATED_AT_KEY)
    return isinstance(at, int) and 0 <= time.time() - at <= settings.REAUTH_SECONDS


def reauthentication(request: HttpRequest) -> HttpResponse | None:
    """None if the password was entered within REAUTH_SECONDS; else a redirect to the password
    prompt, which comes back to this URL.

    Changing the second factor and exporting personal data in bulk ask for it (security R07,
    ASVS 7.5.1): a session left open on a shared ward PC must not be enough for either.
    """
    if authenticated_recently(request):
        return None
    query = urlencode({"next": request.get_full_path()})
    return redirect(f"{reverse('accounts:reauth')}?{query}")


def recent_authentication_required(view: V) -> V:
    """reauthentication() before the view, for signed-in users (put it under member_required)."""

    @wraps(view)
    def wrapper(request: RenkeiRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated and (prompt := reauthentication(request)) is not None:
            return prompt
        return view(request, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def api_membership(request: HttpRequest) -> Membership:
    """The caller's active membership in an API handler; 403 for a user without one.

    SessionAuth has already refused anonymous callers, so what remains is a signed-in user
    whose organisation membership is missing or inactive.
    """
    from ninja.errors import HttpError

    membership: Membership | None = getattr(request, "membership", None)
    if membership is None:
        raise HttpError(403, "所属組織のある利用者だけが利用できます")
    return membership


def token_bearer() -> Any:
    """The API's side of ApiTokenMiddleware: the token it accepted, for the schema to document
    `Authorization: Bearer rk_…` beside the session (ADR 0044). Put it first in `auth=[…]`."""
    from ninja.security import HttpBearer

    class TokenBearer(HttpBearer):
        openapi_description = (
            "システム用APIトークン（rk_ で始まる）。組織の管理者が発行し、代理するメンバーと"
            "同じ範囲だけ読み取れます。範囲 care:read の GET 操作のみ。"
        )

        def authenticate(self, request: HttpRequest, token: str) -> Any:
            return getattr(request, "api_token", None)

    return TokenBearer()
