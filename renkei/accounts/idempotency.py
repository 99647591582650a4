"""Submit once (security R23): a form token or an Idempotency-Key replays the first result.

The one mechanism of every app. The key row is inserted in the same transaction as the work:
a concurrent duplicate blocks on the unique index until the first commits, then reads the
stored response; if the first rolls back (a refusal), the key is free again and a corrected
resubmission runs. A `fingerprint` of the request makes the same key with a different body a
conflict instead of a silent replay.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from renkei.accounts.models import IdempotencyKey, User
from renkei.lib.actions import Conflict

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_\-:.]{8,100}$")
REUSED = "このキーは別の操作に使われています。新しいキーを指定してください"


class KeyReused(Conflict):
    """The same key was used for another operation, or with another body."""


def new_form_token() -> str:
    return secrets.token_urlsafe(18)


def valid_key(key: str) -> bool:
    return bool(KEY_PATTERN.match(key))


def run_once(
    user: User | None,
    key: str,
    scope: str,
    work: Callable[[], tuple[int, dict[str, Any]]],
    *,
    fingerprint: str = "",
    mismatch: str = REUSED,
) -> tuple[int, dict[str, Any], bool]:
    """Run `work` once per key (per user, or per scope for anonymous callers).

    Returns (status, body, replayed). `body` must be JSON; it is what a replay returns.
    """
    owner = {"user": user} if user is not None else {"user__isnull": True, "scope": scope}
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotencyKey.objects.create(
                    user=user, key=key, scope=scope, fingerprint=fingerprint
                )
        except IntegrityError:
            stored = IdempotencyKey.objects.get(key=key, **owner)
            if stored.scope != scope:
                raise KeyReused(REUSED) from None
            if stored.fingerprint != fingerprint:
                raise KeyReused(mismatch) from None
            return stored.status_code or 200, stored.response or {}, True
        status, body = work()
        record.status_code, record.response = status, body
        record.save(update_fields=["status_code", "response"])
        return status, body, False


def purge(days: int = 7, now: dt.datetime | None = None) -> int:
    """Keys only matter while a retry is plausible; a week is plenty."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
