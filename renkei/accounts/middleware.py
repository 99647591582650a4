from __future__ import annotations

import functools
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, router
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from renkei.lib import prepared

if TYPE_CHECKING:
    from renkei.accounts.models import Membership

SESSION_MEMBERSHIP_KEY = "renkei_membership"
SESSION_STARTED_KEY = "renkei_started"
SESSION_REFRESHED_KEY = "renkei_refreshed"

# Records a request was refused (renkei.lib.actions.refused_read), kept until the response is
# ready: the view's transaction, which the 404 rolls back, must not take the audit entry along.
pending_refusals: ContextVar[list[Any] | None] = ContextVar("renkei_refusals", default=None)


class SignedInMiddleware(AuthenticationMiddleware):
    """request.user, lazily, as Django's AuthenticationMiddleware followed by django-otp's
    OTPMiddleware set it, from the rows the session was read with: one statement for the
    session, the user and the device instead of three QuerySets (ADR 0071). A request with
    no session cookie reads nothing, as before; a bearer token replaces request.user before
    it is evaluated (ApiTokenMiddleware), so its session is never read.

    A subclass of Django's so that the admin's check for it holds.
    """

    def process_request(self, request: HttpRequest) -> None:
        from renkei.accounts.sessions import signed_in_user

        if not hasattr(request, "session"):
            raise ImproperlyConfigured("SignedInMiddleware needs SessionMiddleware before it.")
        request.user = SimpleLazyObject(functools.partial(signed_in_user, request))  # type: ignore[assignment]
        request.auser = functools.partial(_auser, request)


async def _auser(request: HttpRequest) -> Any:
    from asgiref.sync import sync_to_async

    from renkei.accounts.sessions import signed_in_user

    return await sync_to_async(signed_in_user)(request)


async def _known_user(user: Any) -> Any:
    return user


def _act_as(request: HttpRequest, user: Any) -> None:
    """request.user and request.auser both stand for this user: an async caller must not see
    the session's user that SignedInMiddleware put behind request.auser."""
    request.user = user
    request.auser = functools.partial(_known_user, user)


class SessionLifetimeMiddleware:
    """Absolute session lifetime (security R06); the idle timeout is the cookie age.

    The start time is written at sign-in (accounts.signals); a session without one gets it on
    its first request so that old sessions are bounded as well.

    The idle timer restarts when the session is written. Writing it on every request cost
    every read an UPDATE (three statements with its transaction), so a signed-in session is
    written when its last write is SESSION_REFRESH_SECONDS old (ADR 0054): it then expires at
    most SESSION_COOKIE_AGE after the last request, and no later.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # A token request ignores the session it came with (ApiTokenMiddleware, ADR 0044).
        if getattr(request, "api_token", None) is None and request.user.is_authenticated:
            started = request.session.get(SESSION_STARTED_KEY)
            now = int(time.time())
            if started is None:
                request.session[SESSION_STARTED_KEY] = now
            elif now - int(started) > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
                return redirect_to_login(request.get_full_path())
            refreshed = request.session.get(SESSION_REFRESHED_KEY)
            if refreshed is None or now - int(refreshed) >= settings.SESSION_REFRESH_SECONDS:
                request.session[SESSION_REFRESHED_KEY] = now
        return self.get_response(request)


def _token_refusal(request: HttpRequest, status: int, message: str) -> HttpResponse:
    from django.contrib.auth.models import AnonymousUser

    # The session is ignored for a token request, refused or not: what runs after this
    # (outer middleware, the access log) must not take the cookie's user for the caller.
    _act_as(request, AnonymousUser())
    if request.path.startswith("/api/fhir/"):
        body: dict[str, Any] = {
            "resourceType": "OperationOutcome",
            "issue": [
                {
                    "severity": "error",
                    "code": {401: "login", 429: "throttled"}.get(status, "forbidden"),
                    "diagnostics": message,
                    "details": {"text": message},
                }
            ],
        }
        response = JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
        response["Content-Type"] = "application/fhir+json; charset=utf-8"
    else:
        response = JsonResponse(
            {"detail": message}, status=status, json_dumps_params={"ensure_ascii": False}
        )
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="renkei"'
    response["Cache-Control"] = "no-store"
    return response


class ApiTokenMiddleware:
    """`Authorization: Bearer rk_…` stands for the member the token acts for (ADR 0044).

    Only the read operations of the token's scopes are reachable. The token wins over a
    session cookie sent alongside: the session is neither read nor refreshed for that request
    (this middleware runs before SessionLifetimeMiddleware, which skips token requests), so a
    stale cookie in a client's jar neither redirects a system to the sign-in page nor makes
    it act as the cookie's user. The token stands for the second factor of the administrator
    who issued it and of the member who approved it.

    Failed attempts (unknown, wrong secret, expired, revoked, awaiting approval, member
    inactive) are audited with the prefix only and counted per client address and per prefix
    (RATE_LIMITS `token_failure`, `token_failure_prefix`): past either limit, further wrong
    attempts get 429 without an audit line, while a right token still works (neither a stale
    token on the same host nor whoever learns a prefix from a screen can shut a system out).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # META, not request.headers: that mapping of every header was ~2 % of a JSON search.
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer":
            return self.get_response(request)
        from renkei.accounts import tokens
        from renkei.lib import ratelimit

        raw = raw.strip()
        scope = tokens.scope_for(request.path)
        if scope is None:
            if not raw.startswith("rk_"):
                return self.get_response(request)
            return _token_refusal(request, 403, "このAPIトークンでは利用できない画面・操作です")
        try:
            # Looked up before any limit: a system's right token works whatever a stale
            # one sent from the same address (a rotated gateway's old cron job) has spent.
            token = tokens.authenticate(raw)
        except tokens.TokenRefused as e:
            return _token_failed(request, raw, ratelimit.by_ip(request), e)
        if not token.has_scope(scope):
            return _token_refusal(request, 403, "このAPIトークンの範囲に含まれない操作です")
        if request.method not in ("GET", "HEAD"):
            return _token_refusal(
                request,
                403,
                "APIトークンでは読み取りだけができます（書き込みはログインして行ってください）",
            )
        user = token.membership.user
        user.otp_device = None  # type: ignore[attr-defined]
        user.is_verified = lambda: True  # type: ignore[attr-defined]
        _act_as(request, user)
        request.api_token = token  # type: ignore[attr-defined]
        tokens.mark_used(token, request)
        return self.get_response(request)


def _token_limited(request: HttpRequest, wait: int) -> HttpResponse:
    from renkei.lib import ratelimit

    response = _token_refusal(request, 429, ratelimit.MESSAGE.format(wait=ratelimit.wait_ja(wait)))
    response["Retry-After"] = str(wait)
    return response


def _token_failed(request: HttpRequest, raw: str, address: str, e: Any) -> HttpResponse:
    """A refused token: counted, audited while within the limits (a scanner cannot fill the
    log: at most `token_failure` lines per address per window), then 401 or 429."""
    from django.contrib.auth.models import AnonymousUser

    from renkei.accounts import tokens
    from renkei.accounts.models import AuditEntry
    from renkei.lib import ratelimit

    # The session is ignored for a token request, refused or not: the audit line must not
    # name the cookie's user as the one who tried.
    _act_as(request, AnonymousUser())
    prefix = tokens.prefix_of(raw)
    waits = [ratelimit.hit("token_failure", address)]
    if prefix is not None:
        waits.append(ratelimit.hit("token_failure_prefix", prefix))
    wait = max((w for w in waits if w is not None), default=None)
    if wait is not None:
        return _token_limited(request, wait)
    token = e.token
    AuditEntry.record(
        "accounts.token_refused",
        request=request,
        membership=token.membership if token is not None else None,
        target=token,
        actor_label="APIトークン",
        detail={"prefix": prefix, "reason": e.reason, "path": request.path[:200]},
    )
    return _token_refusal(request, 401, e.message)


_ACTING = """SELECT {columns} FROM {membership} m
JOIN {organization} o ON o.{org_pk} = m.{m_org}
LEFT JOIN {municipality} mu ON mu.{mu_pk} = o.{o_mu}
LEFT JOIN {prefecture} p ON p.{p_pk} = o.{o_p}
WHERE m.{m_user} = %s AND m.{m_active} = %s AND o.{o_active} = %s
ORDER BY CASE WHEN m.{m_pk} = %s THEN 0 ELSE 1 END, m.{m_pk} LIMIT 1"""


@functools.cache
def _acting_sql(vendor: str) -> str:
    from renkei.accounts.models import Membership, Organization
    from renkei.lib import rows
    from renkei.regions.models import Municipality, Prefecture

    connection = next(c for c in connections.all() if c.vendor == vendor)
    qn = connection.ops.quote_name

    def col(model: Any, name: str) -> str:
        return qn(model._meta.get_field(name).column)

    return _ACTING.format(
        columns=", ".join(
            rows.columns(a, m)
            for a, m in (
                ("m", Membership),
                ("o", Organization),
                ("mu", Municipality),
                ("p", Prefecture),
            )
        ),
        membership=qn(Membership._meta.db_table),
        organization=qn(Organization._meta.db_table),
        municipality=qn(Municipality._meta.db_table),
        prefecture=qn(Prefecture._meta.db_table),
        org_pk=col(Organization, Organization._meta.pk.name),
        mu_pk=col(Municipality, Municipality._meta.pk.name),
        p_pk=col(Prefecture, Prefecture._meta.pk.name),
        m_pk=col(Membership, Membership._meta.pk.name),
        m_org=col(Membership, "organization"),
        m_user=col(Membership, "user"),
        m_active=col(Membership, "is_active"),
        o_mu=col(Organization, "municipality"),
        o_p=col(Organization, "prefecture"),
        o_active=col(Organization, "is_active"),
    )


def acting_membership(user_id: int, chosen: Any) -> Membership | None:
    """The membership a signed-in user acts in: the one chosen in the session (the
    organisation switcher) while it and its organisation are active, else the first active
    one; with its organisation, municipality and prefecture.

    What `Membership.objects.filter(user=…, is_active=True, organization__is_active=True)
    .select_related("organization", "organization__municipality", "organization__prefecture")`
    gave, first by `pk=chosen` then by pk, as one written statement (ADR 0069): compiling
    those QuerySets on every signed-in request cost more CPU than the API search they
    preceded. test_acting_membership pins it to them case by case.
    """
    from renkei.accounts.models import Membership, Organization
    from renkei.lib import rows
    from renkei.regions.models import Municipality, Prefecture

    db = router.db_for_read(Membership)
    connection = connections[db]
    readers = [
        rows.reader(m, connection.vendor)
        for m in (Membership, Organization, Municipality, Prefecture)
    ]
    with prepared.cursor(connection) as cursor:
        cursor.execute(
            _acting_sql(connection.vendor), [user_id, True, True, int(chosen) if chosen else None]
        )
        row = cursor.fetchone()
    if row is None:
        return None
    built: list[Any] = []
    at = 0
    for reader in readers:
        values = row[at : at + len(reader.names)]
        at += len(reader.names)
        # A LEFT JOIN that found nothing: every column NULL, the primary key too.
        found = values[reader.names.index(reader.model._meta.pk.attname)] is not None
        built.append(reader.build(db, values, connection) if found else None)
    membership, organization, municipality, prefecture = built
    organization.municipality = municipality
    organization.prefecture = prefecture
    membership.organization = organization
    assert isinstance(membership, Membership)
    return membership


class MembershipMiddleware:
    """Sets request.membership and request.organization (None for the public)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        membership = None
        if (token := getattr(request, "api_token", None)) is not None:
            membership = token.membership
        elif request.user.is_authenticated and request.user.is_active:
            membership = acting_membership(
                request.user.pk, request.session.get(SESSION_MEMBERSHIP_KEY)
            )
            if membership is not None:
                # The membership's user is the signed-in user: no second query for it.
                membership.user = request.user
        request.membership = membership  # type: ignore[attr-defined]
        request.organization = membership.organization if membership else None  # type: ignore[attr-defined]
        refused: list[Any] = []
        token = pending_refusals.set(refused)
        try:
            response = self.get_response(request)
        finally:
            pending_refusals.reset(token)
        if refused:
            from renkei.accounts.models import AuditEntry

            for record in refused:
                AuditEntry.record(
                    "access.refused",
                    request=request,
                    target=record,
                    detail={"path": request.path[:200], "status": response.status_code},
                )
        return response


class TwoFactorRequiredMiddleware:
    """Users with a device, or whose role requires it, must pass TOTP before anything else.

    Only the sign-in flow itself and the public read-only APIs are reachable while the second
    factor is pending, and there the request is treated as the public's: a password alone
    must not unlock member-only fields anywhere (security R03).
    """

    ALLOWED_PREFIXES = (
        "/accounts/login/",
        "/accounts/logout/",
        "/accounts/2fa/",
        # Setting up the second factor long after the password asks for it again (R07).
        "/accounts/reauth/",
        "/accounts/password/",
        "/static/",
        "/api/hsds/",
        "/api/fhir/",
    )

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and not user.is_verified():  # type: ignore[attr-defined]
            from django_otp import user_has_device

            from renkei.accounts.models import TwoFactorPolicy

            pending = None
            if user_has_device(user):
                query = urlencode({"next": request.get_full_path()})
                pending = f"{reverse('accounts:otp_verify')}?{query}"
            elif TwoFactorPolicy.required_for(user):
                pending = reverse("accounts:otp_setup")
            if pending is not None:
                if request.path.startswith("/api/v1/"):
                    # A program cannot follow a redirect to a setup page: say why, as JSON.
                    return JsonResponse(
                        {"detail": "二要素認証を完了してからご利用ください"},
                        status=403,
                        json_dumps_params={"ensure_ascii": False},
                    )
                if not request.path.startswith(self.ALLOWED_PREFIXES):
                    return redirect(pending)
                request.membership = None  # type: ignore[attr-defined]
                request.organization = None  # type: ignore[attr-defined]
        return self.get_response(request)
