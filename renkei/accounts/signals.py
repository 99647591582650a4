"""Audit every sign-in, failed sign-in, lock-out and sign-out (security R08)."""

from __future__ import annotations

import time
from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from renkei.accounts.http import AUTHENTICATED_AT_KEY
from renkei.accounts.middleware import SESSION_REFRESHED_KEY, SESSION_STARTED_KEY, pending_refusals
from renkei.accounts.models import AuditEntry, Membership, User
from renkei.lib.actions import refused_read


def _default_membership(user: User | None) -> Membership | None:
    """The membership the session will act in by default (same rule as MembershipMiddleware).

    At sign-in the middleware has not run for this user yet, so the organisation of the
    audit row is looked up here.
    """
    if user is None:
        return None
    return (
        Membership.objects.filter(user=user, is_active=True, organization__is_active=True)
        .select_related("organization")
        .order_by("pk")
        .first()
    )


@receiver(user_logged_in)
def _logged_in(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        # The absolute lifetime counts from the password sign-in, not the first page view.
        now = int(time.time())
        request.session[SESSION_STARTED_KEY] = request.session[AUTHENTICATED_AT_KEY] = now
        # The sign-in writes the session anyway: the idle timer starts here, and the first
        # page after it need not write again (ADR 0054).
        request.session[SESSION_REFRESHED_KEY] = now
    AuditEntry.record(
        "auth.login", request=request, actor=user, membership=_default_membership(user)
    )


@receiver(user_logged_out)
def _logged_out(sender: Any, request: HttpRequest, user: User | None, **kwargs: Any) -> None:
    if user is not None:
        AuditEntry.record("auth.logout", request=request, actor=user)


def _attempted_user(username: str) -> User | None:
    return User.objects.filter(username=username).first() if username else None


@receiver(user_login_failed)
def _login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    username = str(credentials.get("username", ""))[:150]
    # The password is never logged; only the name that was tried. The actor stays empty
    # because whoever typed it is unknown, but the account's organisation is recorded so
    # that its auditors see attacks on their accounts.
    target = _attempted_user(username)
    AuditEntry.record(
        "auth.login_failed",
        request=request,
        actor_label=username,
        membership=_default_membership(target),
        detail={"username": username, "known_user": target is not None},
    )


@receiver(user_locked_out)
def _locked_out(
    sender: Any, request: HttpRequest | None = None, username: str | None = None, **kwargs: Any
) -> None:
    name = str(username or "")[:150]
    AuditEntry.record(
        "auth.locked_out",
        request=request,
        actor_label=name,
        membership=_default_membership(_attempted_user(name)),
        detail={"username": name},
    )


@receiver(refused_read)
def _refused_read(sender: type[Any], lookup: dict[str, Any], **kwargs: Any) -> None:
    """A record that exists was refused to its caller (a 404 to an outsider): keep who tried
    which record. Written once the response is ready (MembershipMiddleware), outside the
    transaction the refusal rolls back; outside a request, at once."""
    record = sender._base_manager.filter(**lookup).first()
    if record is None:
        return
    pending = pending_refusals.get()
    if pending is None:
        AuditEntry.record("access.refused", target=record)
    else:
        pending.append(record)
