"""Django's PostgreSQL backend, with the connection's health check skipped when the
connection has just been used, and timestamps read by psycopg's C loader (ADR 0062).

Django's CONN_HEALTH_CHECKS sends `SELECT 1` before the first statement of every request that
reuses a connection. Under load a server thread's connection ran a statement a few
milliseconds earlier: there the check is a round trip, a statement for PostgreSQL to parse and
run, and about 0.1 ms of Python on a search that costs 1.5 ms in all (docs/benchmarks.md).
A connection idle for longer than DB_HEALTH_CHECK_IDLE_SECONDS is checked as before; one that
broke since its last use, within that time, fails its request once (a 500, as a failure in the
middle of a request would) and is closed for the next one (Django closes a connection on which
an error occurred when the request ends).

Django reads `timestamptz` values with a Python subclass of psycopg's loader that parses the
text in Python and sets the tzinfo to the connection's time zone. When that zone is UTC (USE_TZ
without a database TIME_ZONE: Django sets the session's TimeZone to UTC), psycopg's own C loader
gives the same values, with `datetime.timezone.utc` as tzinfo, in a tenth of the time: a search
page of twenty rows spent ~0.1 ms in the Python one (docs/benchmarks.md).

`prepared_cursor()` (ADRs 0011, 0080): a cursor that has PostgreSQL parse and plan each of its
statements once per connection, for the statements of fixed text that every page runs.

`run_before_commit` (renkei.lib.precommit, ADR 0066): work run inside the transaction by
`_commit`, in registration order. Hooks are kept like Django's own on_commit callbacks: with the
savepoints open when they were registered, so that rolling back to one of those savepoints drops
them; a rollback or a closed connection drops them all.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import psycopg
from django.conf import settings
from django.db.backends.postgresql import base
from psycopg import postgres, pq

_TIMESTAMPTZ_OID = postgres.types["timestamptz"].oid
# psycopg's loader as registered globally: the C one with psycopg[binary] or psycopg[c].
_PSYCOPG_TIMESTAMPTZ = psycopg.adapters.get_loader(_TIMESTAMPTZ_OID, pq.Format.TEXT)


class UTCTimestamptzLoader(psycopg.adapt.Loader):
    """psycopg's own timestamptz loader (C) under the `timezone` attribute Django's cursors
    compare with theirs (the C class cannot be subclassed). On a connection whose TimeZone is
    UTC it gives what Django's loader gives."""

    timezone = dt.UTC

    def __init__(self, oid: int, context: Any = None) -> None:
        super().__init__(oid, context)
        assert _PSYCOPG_TIMESTAMPTZ is not None
        self.load = _PSYCOPG_TIMESTAMPTZ(oid, context).load  # type: ignore[method-assign]

    def load(self, data: Any) -> Any:  # replaced per instance by the C loader's
        raise NotImplementedError


class PreparingCursor(base.ServerBindingCursor):
    """Django's server-side-binding cursor for psycopg, preparing every statement it runs.

    Django turns psycopg's automatic preparation off (prepare_threshold None) for the sake of
    connection poolers; this cursor prepares explicitly. For a statement whose text does not
    change with its values, PostgreSQL then parses and plans it once per connection (after
    five custom plans it keeps the generic one if that costs no more).
    """

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        try:
            return super().execute(query, params, prepare=True)  # type: ignore[misc]
        except psycopg.errors.FeatureNotSupported:
            # "cached plan must not change result type": a migration run from another
            # connection changed the type of a column a prepared statement returns, and every
            # statement this connection prepared may be as stale. Closed, not kept: this
            # request fails as on a broken connection, and the next one gets a new connection
            # instead of the same error on every page until DB_CONN_MAX_AGE.
            self.connection.close()  # type: ignore[attr-defined]
            raise

    def _convert_query(self, query: Any, params: Any = None) -> Any:
        # psycopg records the statement it sent (which Django's query log reads) only
        # when it is not prepared; record it either way.
        self._query = converted = super()._convert_query(query, params)  # type: ignore[misc]
        return converted


class DatabaseWrapper(base.DatabaseWrapper):
    # When a cursor was last created on this connection: a statement was about to run on it.
    used_at: float = float("-inf")
    health_check_done: bool  # Django's, set in __init__ (untyped in the stubs)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.run_before_commit: list[tuple[set[str], Callable[[], None]]] = []

    def _commit(self) -> None:
        hooks, self.run_before_commit = self.run_before_commit, []
        try:
            for _, func in hooks:
                func()
        except BaseException:
            # Atomic rolls back after a DatabaseError from commit() but not after other errors,
            # and then turns autocommit back on, which psycopg refuses inside a transaction: roll
            # back here so that nothing of a half-run hook can commit either way.
            if self.connection is not None:
                with contextlib.suppress(Exception):
                    self.connection.rollback()
            raise
        super()._commit()  # type: ignore[misc]

    def _rollback(self) -> None:
        self.run_before_commit = []
        super()._rollback()  # type: ignore[misc]

    def savepoint_rollback(self, sid: str) -> None:
        super().savepoint_rollback(sid)
        self.run_before_commit = [(s, f) for s, f in self.run_before_commit if sid not in s]

    def close(self) -> None:
        self.run_before_commit = []
        super().close()

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        connection = super().get_new_connection(conn_params)
        if self.timezone is dt.UTC and _PSYCOPG_TIMESTAMPTZ is not None:
            connection.adapters.register_loader(_TIMESTAMPTZ_OID, UTCTimestamptzLoader)
        return connection

    def create_cursor(self, name: Any = None) -> Any:
        self.used_at = time.monotonic()
        return super().create_cursor(name)

    def prepared_cursor(self) -> Any:
        """`cursor()`, but every statement run through it is prepared (PreparingCursor);
        the same health check, thread check, error wrapping and query log as Django's."""
        self.close_if_health_check_failed()
        self.ensure_connection()
        with self.wrap_database_errors:
            self.used_at = time.monotonic()
            self.validate_thread_sharing()
            cursor_class: Any = PreparingCursor  # psycopg's cursor, untyped in Django's stubs
            raw = cursor_class(self.connection)
            return self.make_debug_cursor(raw) if self.queries_logged else self.make_cursor(raw)

    def close_if_health_check_failed(self) -> None:
        if (
            self.connection is not None
            # psycopg already knows (an error on a raw cursor sets no errors_occurred).
            and not self.connection.closed
            and not self.health_check_done
            and not self.errors_occurred
            and time.monotonic() - self.used_at < settings.DB_HEALTH_CHECK_IDLE_SECONDS
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()
