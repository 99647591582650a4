from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

SESSION_MEMBERSHIP_KEY = "renkei_membership"
SESSION_STARTED_KEY = "renkei_started"


class SessionLifetimeMiddleware:
    """Absolute session lifetime (security R06); the idle timeout is the cookie age."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            started = request.session.get(SESSION_STARTED_KEY)
            now = int(time.time())
            if started is None:
                request.session[SESSION_STARTED_KEY] = now
            elif now - int(started) > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
                return redirect(f"{reverse('accounts:login')}?next={request.path}")
        return self.get_response(request)


class MembershipMiddleware:
    """Sets request.membership and request.organization (None for the public)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from renkei.accounts.models import Membership

        membership = None
        if request.user.is_authenticated and request.user.is_active:
            qs = Membership.objects.filter(
                user=request.user, is_active=True, organization__is_active=True
            ).select_related(
                "organization", "organization__municipality", "organization__prefecture"
            )
            chosen = request.session.get(SESSION_MEMBERSHIP_KEY)
            membership = (qs.filter(pk=chosen).first() if chosen else None) or qs.order_by(
                "pk"
            ).first()
        request.membership = membership  # type: ignore[attr-defined]
        request.organization = membership.organization if membership else None  # type: ignore[attr-defined]
        return self.get_response(request)


class TwoFactorRequiredMiddleware:
    """Users with a device, or whose role requires it, must pass TOTP before anything else."""

    ALLOWED_PREFIXES = ("/accounts/", "/static/", "/api/hsds/", "/api/fhir/")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and not request.path.startswith(self.ALLOWED_PREFIXES):
            from django_otp import user_has_device

            from renkei.accounts.models import TwoFactorPolicy

            if not user.is_verified():  # type: ignore[attr-defined]
                if user_has_device(user):
                    return redirect(
                        f"{reverse('accounts:otp_verify')}?next={request.get_full_path()}"
                    )
                if TwoFactorPolicy.required_for(user):
                    return redirect(reverse("accounts:otp_setup"))
        return self.get_response(request)
