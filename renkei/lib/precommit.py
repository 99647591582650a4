"""Work that must be in the transaction but as late as possible: just before its COMMIT (ADR 0066).

The audit log's writers take turns on one lock from the moment they chain an entry until they
commit (ADR 0015); chaining the entries at COMMIT rather than where an action records them keeps
the turn to the inserts and the commit itself, whatever the action does after recording.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction


def before_commit(func: Callable[[], None], using: str | None = None) -> bool:
    """Run `func` inside the current transaction just before it commits; False if there is no such
    moment, and then nothing is registered (the caller does the work now).

    No such moment: outside a transaction (autocommit), on a backend without the hook (SQLite),
    or under a test case's transaction, which is rolled back rather than committed. A rollback,
    or a rollback to a savepoint opened before the registration, drops `func`.
    """
    connection = transaction.get_connection(using)
    hooks = getattr(connection, "run_before_commit", None)
    if hooks is None or not connection.in_atomic_block or not connection.atomic_blocks:
        return False
    if getattr(connection.atomic_blocks[0], "_from_testcase", False):
        return False
    hooks.append((set(connection.savepoint_ids), func))
    return True
