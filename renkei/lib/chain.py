"""Hash chains: each row's digest covers its content and the previous row's digest.

A row altered afterwards no longer matches its digest, and every later digest depends on it,
so a quiet edit of history shows up when the chain is walked (security R12 真正性). The
consultation versions use it; any append-only log can (the audit log).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

T = TypeVar("T")


def chain_digest(previous: str, content: Mapping[str, Any]) -> str:
    """SHA-256 of the content and the previous digest ("" for the first row), as hex.

    The content is serialised as sorted JSON, so the digest does not depend on dict order;
    it must hold only JSON values (dates as ISO strings).
    """
    payload = json.dumps({"previous": previous, **content}, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def first_broken(
    rows: Iterable[T], *, content: Callable[[T], Mapping[str, Any]], digest: Callable[[T], str]
) -> T | None:
    """The first row (in chain order) whose stored digest does not match, or None."""
    previous = ""
    for row in rows:
        stored = digest(row)
        if chain_digest(previous, content(row)) != stored:
            return row
        previous = stored
    return None
