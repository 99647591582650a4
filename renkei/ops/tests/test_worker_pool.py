"""The job worker's connection pool checks a connection only after it was idle (ADR 0083)."""

from __future__ import annotations

import asyncio
from io import StringIO
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from procrastinate.contrib.django import app
from procrastinate.contrib.django.django_connector import DjangoConnector
from psycopg_pool import AsyncConnectionPool

from renkei.lib import jobs


class FakeConnection:
    pass


@pytest.fixture
def checks(monkeypatch: Any) -> list[Any]:
    """The connections psycopg_pool's own check was run on."""
    done: list[Any] = []

    async def check_connection(conn: Any) -> None:
        done.append(conn)

    monkeypatch.setattr(AsyncConnectionPool, "check_connection", staticmethod(check_connection))
    return done


@pytest.fixture
def clock(monkeypatch: Any) -> list[float]:
    now = [1000.0]
    # This module's clock only (asyncio.run reads the real one).
    monkeypatch.setattr("renkei.lib.jobs.time", SimpleNamespace(monotonic=lambda: now[0]))
    return now


def test_a_connection_is_checked_only_when_handed_out_long_enough_ago(
    checks: list[Any], clock: list[float], settings: Any
) -> None:
    settings.DB_HEALTH_CHECK_IDLE_SECONDS = 1
    conn, other = FakeConnection(), FakeConnection()
    asyncio.run(jobs.check_when_idle(conn))
    assert checks == [conn]  # never handed out before
    clock[0] += 0.5
    asyncio.run(jobs.check_when_idle(conn))
    asyncio.run(jobs.check_when_idle(other))
    assert checks == [conn, other]  # conn was in use half a second ago
    clock[0] += 0.9
    asyncio.run(jobs.check_when_idle(conn))
    assert checks == [conn, other]  # 0.9 s since its last hand-out
    clock[0] += 1.0
    asyncio.run(jobs.check_when_idle(conn))
    assert checks == [conn, other, conn]


def test_zero_seconds_checks_every_hand_out(
    checks: list[Any], clock: list[float], settings: Any
) -> None:
    settings.DB_HEALTH_CHECK_IDLE_SECONDS = 0
    conn = FakeConnection()
    for _ in range(3):
        asyncio.run(jobs.check_when_idle(conn))
    assert checks == [conn, conn, conn]


def test_the_worker_connector_is_procrastinates_with_this_check() -> None:
    from procrastinate.contrib.django import utils

    connector = jobs.worker_connector()
    pool = asyncio.run(connector._create_pool(connector._pool_args))
    assert pool._check is jobs.check_when_idle
    assert pool._configure is jobs._autocommit
    assert pool.kwargs == utils.connector_params("default")
    # What Procrastinate's own worker connector opens, but for autocommit and the check.
    theirs = DjangoConnector().get_worker_connector()
    assert connector._pool_args == theirs._pool_args  # type: ignore[attr-defined]


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="Procrastinate needs PostgreSQL")
def test_run_worker_runs_procrastinate_on_it(monkeypatch: Any, settings: Any) -> None:
    settings.JOBS_BACKEND = "procrastinate"
    seen: list[Any] = []

    def procrastinate_command(name: str, *args: Any) -> None:
        seen.append((name, args, vars(app.connector).get("get_worker_connector")))

    connector = app.connector
    assert isinstance(connector, DjangoConnector)
    monkeypatch.setattr(
        "renkei.ops.management.commands.run_worker.call_command", procrastinate_command
    )
    try:
        call_command("run_worker", "--", "-p", "0.5", stdout=StringIO())
    finally:
        vars(connector).pop("get_worker_connector", None)
    assert seen == [("procrastinate", ("worker", "-p", "0.5"), jobs.worker_connector)]
