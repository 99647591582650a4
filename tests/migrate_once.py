"""One migration per test run under pytest-xdist: the first worker to need a test database
migrates it as before and leaves a copy; every other worker copies that instead of migrating.

Each worker migrated a database of its own (`test_…_gw0`, `_gw1`), ~28 s of CPU apiece and the
same on SQLite, while the migrations' work is the same every time. The copy is PostgreSQL's
`CREATE DATABASE … TEMPLATE` of a database named `<test name>_migrated`, or on SQLite a file the
first worker's in-memory database is backed up into, restored into each other worker's. The
migrations still run from an empty database once per run, in the first worker, which is what
proves that they apply from scratch. `--reuse-db`, a database without migrations and a run
without xdist keep Django's own path.

The workers of a run share the parent of their temporary directories: the first to create the
claim file there migrates; the others wait for its `done` (or `failed`, and then migrate
themselves). The xdist controller drops the PostgreSQL copy when the run ends (`drop_copy`).
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.backends.base.creation import BaseDatabaseCreation

# A worker waits this long for another to migrate (at load 30 a migration took ~4 minutes),
# then migrates its own database.
WAIT_SECONDS = 1800


def copy_name(test_name: str, worker: str) -> str:
    """The PostgreSQL copy's name: the test database's without the worker's suffix."""
    base = test_name.removesuffix(f"_{worker}") if worker else test_name
    return f"{base}_migrated"


def _claim(shared: Path, alias: str) -> bool:
    try:
        os.close(
            os.open(shared / f"migrated-{alias}.claim", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        )
    except FileExistsError:
        return False
    return True


def _wait_for_copy(shared: Path, alias: str) -> bool:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if (shared / f"migrated-{alias}.done").exists():
            return True
        if (shared / f"migrated-{alias}.failed").exists():
            return False
        time.sleep(0.2)
    return False


def _leave_copy(creation: BaseDatabaseCreation, shared: Path, worker: str) -> None:
    connection = creation.connection
    if connection.vendor == "sqlite":
        target = sqlite3.connect(shared / f"migrated-{connection.alias}.sqlite3")
        try:
            connection.ensure_connection()
            connection.connection.backup(target)
        finally:
            target.close()
        return
    # A template must have no session open on it while it is copied.
    connection.close()
    name = copy_name(connection.settings_dict["NAME"], worker)
    quote = connection.ops.quote_name
    with creation._nodb_cursor() as cursor:  # type: ignore[attr-defined]
        cursor.execute(f"DROP DATABASE IF EXISTS {quote(name)}")
        cursor.execute(
            f"CREATE DATABASE {quote(name)} TEMPLATE {quote(connection.settings_dict['NAME'])}"
        )
    connection.ensure_connection()


def _take_copy(creation: BaseDatabaseCreation, shared: Path, worker: str, serialize: bool) -> str:
    """What `create_test_db` does, with the copy's contents in place of `migrate`."""
    connection = creation.connection
    test = connection.settings_dict["TEST"]
    if connection.vendor == "postgresql":
        # Django's CREATE DATABASE takes TEST["TEMPLATE"] (and drops an old database first).
        original = test.get("TEMPLATE")
        test["TEMPLATE"] = copy_name(creation._get_test_db_name(), worker)
        try:
            creation._create_test_db(verbosity=0, autoclobber=True, keepdb=False)
        finally:
            test["TEMPLATE"] = original
    name = creation._get_test_db_name()
    connection.close()
    settings.DATABASES[connection.alias]["NAME"] = name
    connection.settings_dict["NAME"] = name
    connection.ensure_connection()
    if connection.vendor == "sqlite":
        source = sqlite3.connect(shared / f"migrated-{connection.alias}.sqlite3")
        try:
            source.backup(connection.connection)
        finally:
            source.close()
    if serialize:
        connection._test_serialized_contents = creation.serialize_db_to_string()  # type: ignore[attr-defined]
    return name


@contextmanager
def migrating_once(shared: Path, worker: str) -> Iterator[None]:
    """Within it, test databases of this worker are created from the run's one migration."""
    plain: Callable[..., str] = BaseDatabaseCreation.create_test_db

    def create_test_db(
        self: BaseDatabaseCreation,
        verbosity: int = 1,
        autoclobber: bool = False,
        serialize: bool = True,
        keepdb: bool = False,
    ) -> str:
        connection = self.connection
        if (
            keepdb
            or connection.vendor not in ("postgresql", "sqlite")
            or connection.settings_dict["TEST"].get("MIGRATE") is False
        ):
            return plain(self, verbosity, autoclobber, serialize, keepdb)
        alias = connection.alias
        if _claim(shared, alias):
            try:
                name = plain(self, verbosity, autoclobber, serialize, keepdb)
                _leave_copy(self, shared, worker)
            except BaseException:
                (shared / f"migrated-{alias}.failed").touch()
                raise
            (shared / f"migrated-{alias}.done").touch()
            return name
        if not _wait_for_copy(shared, alias):
            return plain(self, verbosity, autoclobber, serialize, keepdb)
        return _take_copy(self, shared, worker, serialize)

    BaseDatabaseCreation.create_test_db = create_test_db  # type: ignore[method-assign]
    try:
        yield
    finally:
        BaseDatabaseCreation.create_test_db = plain  # type: ignore[method-assign]


def drop_copy(connection: Any) -> None:
    """The xdist controller, once its workers are done: drop the PostgreSQL copy (its name is
    the controller's test database name, which has no worker suffix)."""
    if connection.vendor != "postgresql":
        return
    name = copy_name(connection.creation._get_test_db_name(), "")
    quote = connection.ops.quote_name
    with connection.creation._nodb_cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {quote(name)}")
