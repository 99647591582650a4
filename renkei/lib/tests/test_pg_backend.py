"""The PostgreSQL backend (renkei.lib.postgresql, ADR 0062): the health check skipped for a
connection used within DB_HEALTH_CHECK_IDLE_SECONDS, run (and a dead connection replaced)
after a longer idle; timestamps read by psycopg's C loader, the same values as Django's."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import close_old_connections, connection, connections
from django.test import override_settings

# `connection` is Django's proxy, looked up on every use. A module-level connections["default"]
# kept the wrapper it got at import: after a browser test had run in the same process,
# close_old_connections() worked on another one, and five of these tests failed.

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's backend"),
]


def _checks(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Every health check the connection runs, with its outcome."""
    done: list[bool] = []
    wrapper = type(connections["default"])
    real = wrapper.is_usable

    def counted(self: Any) -> bool:
        ok: bool = real(self)
        done.append(ok)
        return ok

    monkeypatch.setattr(wrapper, "is_usable", counted)
    return done


def _request_with_a_statement() -> None:
    """What a request does to its thread's connection: the start signal's look, a statement,
    the end signal's look."""
    close_old_connections()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 2")
        assert cursor.fetchone() == (2,)
    close_old_connections()


@override_settings(DB_HEALTH_CHECK_IDLE_SECONDS=60)
def test_a_connection_just_used_is_not_checked_again(monkeypatch: pytest.MonkeyPatch) -> None:
    _request_with_a_statement()
    checks = _checks(monkeypatch)
    for _ in range(3):
        _request_with_a_statement()
    assert checks == []


@override_settings(DB_HEALTH_CHECK_IDLE_SECONDS=60)
def test_an_idle_connection_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    _request_with_a_statement()
    connection.used_at -= 61  # type: ignore[attr-defined]
    checks = _checks(monkeypatch)
    _request_with_a_statement()
    assert checks == [True]


@override_settings(DB_HEALTH_CHECK_IDLE_SECONDS=0)
def test_zero_checks_every_request_as_django_does(monkeypatch: pytest.MonkeyPatch) -> None:
    _request_with_a_statement()
    checks = _checks(monkeypatch)
    _request_with_a_statement()
    _request_with_a_statement()
    assert checks == [True, True]


@override_settings(DB_HEALTH_CHECK_IDLE_SECONDS=60)
def test_a_connection_that_died_while_idle_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    _request_with_a_statement()
    old = connection.connection
    assert old is not None
    old.close()  # the server went away while the connection sat idle
    connection.used_at -= 61  # type: ignore[attr-defined]
    checks = _checks(monkeypatch)
    _request_with_a_statement()  # would raise on the dead connection without the check
    assert checks == [False]
    assert connection.connection is not old


@override_settings(DB_HEALTH_CHECK_IDLE_SECONDS=60)
def test_a_connection_that_died_just_after_use_fails_one_request_then_is_replaced() -> None:
    """The trade ADR 0062 makes: within the idle second a dead connection is not checked, its
    request fails, Django closes it at the request's end and the next request reconnects."""
    from django.db import OperationalError

    _request_with_a_statement()
    old = connection.connection
    assert old is not None
    # The server ends the session from outside (as a restart or failover would); nothing on
    # this side has noticed yet.
    import psycopg

    params = {**connection.get_connection_params(), "dbname": connection.settings_dict["NAME"]}
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [old.info.backend_pid])
    close_old_connections()  # the next request's start: used within the second, not checked
    with pytest.raises(OperationalError), connection.cursor() as cursor:
        cursor.execute("SELECT 2")
    close_old_connections()  # the request's end: errors occurred, unusable, closed
    _request_with_a_statement()
    assert connection.connection is not old


def test_timestamps_read_as_djangos_loader_reads_them() -> None:
    from django.db.backends.postgresql.psycopg_any import BaseTzLoader

    sent = dt.datetime(2026, 12, 7, 1, 2, 3, 456789, tzinfo=dt.UTC)
    statement = (
        "SELECT %s::timestamptz, '2026-03-01 09:30:00.5+09'::timestamptz,"
        " '1999-12-31 23:59:59+00'::timestamptz, NULL::timestamptz"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [sent])
        fast = cursor.fetchone()
        loader = cursor.cursor.adapters.get_loader(1184, 0)
        assert loader is not None and not issubclass(loader, BaseTzLoader), "not registered"
    # Django's own loader on a cursor of the same connection.
    with connection.cursor() as cursor:

        class UTCLoader(BaseTzLoader):  # type: ignore[misc]
            timezone = dt.UTC

        cursor.cursor.adapters.register_loader("timestamptz", UTCLoader)
        cursor.execute(statement, [sent])
        django = cursor.fetchone()
    assert fast == django
    assert fast[0] == sent
    assert fast[1] == dt.datetime(2026, 3, 1, 0, 30, 0, 500000, tzinfo=dt.UTC)
    assert all(v.tzinfo is dt.UTC for v in fast[:3])
    assert [v.isoformat() for v in fast[:3]] == [v.isoformat() for v in django[:3]]


def test_a_prepared_statement_whose_result_changed_type_closes_its_connection() -> None:
    """A migration run elsewhere changes a returned column's type: the prepared statement
    fails once, its connection is closed at once, and the next request prepares afresh."""
    import psycopg
    from django.db.utils import NotSupportedError

    from renkei.lib import prepared

    other = psycopg.connect(**connection.get_connection_params(), autocommit=True)
    try:
        other.execute("CREATE TABLE renkei_prepared_probe (x integer)")
        other.execute("INSERT INTO renkei_prepared_probe VALUES (1)")
        close_old_connections()
        with prepared.cursor(connection) as cursor:
            cursor.execute("SELECT x FROM renkei_prepared_probe")
            assert cursor.fetchone() == (1,)
        other.execute("ALTER TABLE renkei_prepared_probe ALTER x TYPE text")
        with pytest.raises(NotSupportedError), prepared.cursor(connection) as cursor:
            cursor.execute("SELECT x FROM renkei_prepared_probe")
        assert connection.connection is not None and connection.connection.closed
        close_old_connections()  # the request's end
        with prepared.cursor(connection) as cursor:
            cursor.execute("SELECT x FROM renkei_prepared_probe")
            assert cursor.fetchone() == ("1",)
    finally:
        close_old_connections()
        other.execute("DROP TABLE IF EXISTS renkei_prepared_probe")
        other.close()
