"""Submit once (security R23): a form token or an Idempotency-Key replays the first result.

The key row is inserted in the same transaction as the work. A concurrent duplicate blocks on
the unique index until the first commits, then reads the stored response; if the first rolls
back (an error), the key is free again and a corrected resubmission runs.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction

from renkei.accounts.models import User
from renkei.lib.actions import Conflict
from renkei.referrals.models import IdempotencyKey

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_\-:.]{8,100}$")


class KeyReused(Conflict):
    """The same key was used for a different operation."""


def new_form_token() -> str:
    return secrets.token_urlsafe(18)


def valid_key(key: str) -> bool:
    return bool(KEY_PATTERN.match(key))


def run_once(
    user: User, key: str, scope: str, work: Callable[[], tuple[int, dict[str, Any]]]
) -> tuple[int, dict[str, Any], bool]:
    """Run `work` once per (user, key); return (status, body, replayed)."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotencyKey.objects.create(user=user, key=key, scope=scope)
        except IntegrityError:
            stored = IdempotencyKey.objects.get(user=user, key=key)
            if stored.scope != scope:
                raise KeyReused(
                    "このキーは別の操作に使われています。新しいキーを指定してください"
                ) from None
            return stored.status_code or 200, stored.response or {}, True
        status, body = work()
        record.status_code, record.response = status, body
        record.save(update_fields=["status_code", "response"])
        return status, body, False
