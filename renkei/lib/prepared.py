"""Statements that PostgreSQL parses and plans once per connection (ADRs 0011, 0080).

A statement whose text does not change with its values (ids as parameters, lists as one array
parameter: `facility_sql.among`) can be prepared: PostgreSQL keeps its plan for the connection
and skips the planner on later runs. For the short statements every member page runs (the
session, the membership, the menu's badges) planning cost several times the execution: the
badges' statement ~1.6 ms to plan and ~0.1 ms to run (docs/benchmarks.md, session 14).

Only where the plan does not depend on the values: an index lookup by key is the same for every
key. Off with DB_PREPARED_SEARCH (behind a pooler that cannot keep prepared statements), and on
SQLite, where this is Django's own cursor.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper


def cursor(connection: BaseDatabaseWrapper) -> Any:
    """A cursor of `connection` that prepares what it runs, where the backend can."""
    prepared = getattr(connection, "prepared_cursor", None)
    if prepared is None or not settings.DB_PREPARED_SEARCH:
        return connection.cursor()
    return prepared()
