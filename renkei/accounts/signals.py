"""Audit every sign-in, failed sign-in and sign-out (security R08)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from renkei.accounts.models import AuditEntry, User


@receiver(user_logged_in)
def _logged_in(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    AuditEntry.record("auth.login", request=request, actor=user)


@receiver(user_logged_out)
def _logged_out(sender: Any, request: HttpRequest, user: User | None, **kwargs: Any) -> None:
    if user is not None:
        AuditEntry.record("auth.logout", request=request, actor=user)


@receiver(user_login_failed)
def _login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    username = str(credentials.get("username", ""))[:150]
    # The password is never logged; only the name that was tried.
    AuditEntry.record(
        "auth.login_failed", request=request, actor_label=username, detail={"username": username}
    )
