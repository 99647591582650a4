from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

# The rows the migrations leave (regions, capabilities, topics, funding sources, content types,
# permissions), copied on PostgreSQL once the test database is set up, for the flush to put back.
SNAPSHOT_SCHEMA = "renkei_test_snapshot"
_snapshot: dict[str, str] = {}  # table -> INSERT … SELECT restoring its rows
_changed: dict[str, str] = {}  # table -> SELECT true when its rows differ from the copy's
# Tables whose own triggers refuse DELETE (the audit log), each with every table that references
# it, directly or not: TRUNCATE, which must take those along, empties them.
_truncated_together: dict[str, list[str]] = {}


@pytest.fixture(autouse=True, scope="session")
def _flush_may_empty_the_audit_log() -> Iterator[None]:
    """On PostgreSQL a trigger refuses TRUNCATE of the audit log (ADR 0015), and transactional
    tests are emptied with one TRUNCATE of every table. In a test database, and in the flush's
    own transaction only, the trigger lets it pass (accounts migration 0003).

    In the same transaction the flush puts back the migrations' rows from the snapshot
    (`django_db_setup` below): one INSERT … SELECT per table, where reloading them through the
    ORM (two thousand municipalities, a statement each) took seconds per transactional test,
    and post_migrate then finds its content types and permissions in place. Foreign keys are
    deferred to the commit (Django creates them DEFERRABLE INITIALLY DEFERRED), so the order of
    the inserts does not matter."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    plain = DatabaseOperations.sql_flush

    def sql_flush(self: DatabaseOperations, style: Any, tables: Any, **kwargs: Any) -> list[str]:
        if not _snapshot or kwargs.get("reset_sequences") or kwargs.get("allow_cascade"):
            statements = plain(self, style, tables, **kwargs)
            if statements:
                statements.insert(0, "SELECT set_config('renkei.test_flush', 'on', true);")
                statements += [_snapshot[t] for t in tables if t in _snapshot]
            return statements
        return _flush_what_changed(self.connection, list(tables))

    DatabaseOperations.sql_flush = sql_flush  # type: ignore[method-assign]
    yield
    DatabaseOperations.sql_flush = plain  # type: ignore[method-assign]


def _flush_what_changed(connection: Any, tables: list[str]) -> list[str]:
    """The flush's statements for only the tables a test left rows in, and the migrations' tables
    whose rows now differ from the snapshot: one TRUNCATE of all 139 tables (and their 650
    indexes) took seconds per transactional test, most of it for tables nobody wrote to. The
    dirty ones are emptied with DELETE (their foreign keys are deferred to the commit, so the
    order does not matter), the audit log and what references it with TRUNCATE, which its
    trigger lets pass in a test database's flush; then the snapshot's rows come back. The
    database ends as Django's full flush leaves it: each table either empty or as migrated."""
    quote = connection.ops.quote_name
    checks: list[str] = []
    params: list[str] = []
    for table in tables:
        test = _changed.get(table) or f"EXISTS (SELECT FROM {quote(table)})"  # noqa: S608
        checks.append(f"SELECT %s WHERE {test}")  # noqa: S608
        params.append(table)
    if not checks:
        return []
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(checks), params)
        dirty = {table for (table,) in cursor.fetchall()}
    if not dirty:
        return []
    truncated = sorted({t for d in dirty for t in _truncated_together.get(d, [])})
    statements = ["SELECT set_config('renkei.test_flush', 'on', true);"]
    if truncated:
        statements.append(f"TRUNCATE {', '.join(quote(t) for t in truncated)};")
    statements += [
        f"DELETE FROM {quote(t)};"  # noqa: S608
        for t in tables
        if t in dirty and t not in truncated
    ]
    return statements + [_snapshot[t] for t in tables if t in dirty and t in _snapshot]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> None:
    """pytest-django's setup, then on PostgreSQL a copy of every table the migrations filled,
    in a schema of its own (not on the search path: Django's introspection and the flush do not
    see it)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    # Table and column names come from the models and the catalogue, quoted: no input reaches
    # this SQL (hence the noqa S608s).
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {SNAPSHOT_SCHEMA} CASCADE")
        cursor.execute(f"CREATE SCHEMA {SNAPSHOT_SCHEMA}")
        for table in connection.introspection.django_table_names(only_existing=True):
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT EXISTS (SELECT FROM {quoted})")  # noqa: S608
            if not cursor.fetchone()[0]:
                continue
            # Stored generated columns are computed again on insert, not copied.
            cursor.execute(
                "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0"
                " AND NOT attisdropped AND attgenerated = '' ORDER BY attnum",
                [quoted],
            )
            columns = ", ".join(connection.ops.quote_name(c) for (c,) in cursor.fetchall())
            copy = f"{SNAPSHOT_SCHEMA}.{quoted}"
            cursor.execute(f"CREATE TABLE {copy} AS SELECT {columns} FROM {quoted}")  # noqa: S608
            rows = cursor.rowcount
            _snapshot[table] = f"INSERT INTO {quoted} ({columns}) SELECT {columns} FROM {copy};"  # noqa: S608
            # Rows compared as text: a count and one side's difference suffice (keys are
            # unique), and text has an equality where some column types have none.
            _changed[table] = (
                f"((SELECT count(*) FROM {quoted}) <> {rows} OR EXISTS ("  # noqa: S608
                f"SELECT ROW({columns})::text FROM {quoted}"
                f" EXCEPT SELECT ROW({columns})::text FROM {copy}))"
            )
        # A row trigger on DELETE (tgtype bit 8) that is no constraint's: the audit log's
        # append-only guard. Such a table, with every table referencing it, is truncated.
        cursor.execute(
            "SELECT DISTINCT tgrelid::regclass::text FROM pg_trigger"
            " WHERE NOT tgisinternal AND tgtype & 1 = 1 AND tgtype & 8 = 8"
        )
        guarded = [name.strip('"') for (name,) in cursor.fetchall()]
        cursor.execute(
            "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint"
            " WHERE contype = 'f'"
        )
        referenced_by: dict[str, set[str]] = {}
        for referencing, referenced in cursor.fetchall():
            referenced_by.setdefault(referenced.strip('"'), set()).add(referencing.strip('"'))
        for table in guarded:
            together, todo = {table}, [table]
            while todo:
                for referencing in referenced_by.get(todo.pop(), set()) - together:
                    together.add(referencing)
                    todo.append(referencing)
            for member in together:
                _truncated_together[member] = sorted(together)


@pytest.fixture(scope="session")
def _migrate_once(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """Under xdist, the run's first worker migrates its test database and the others copy it
    (tests/migrate_once.py): the migrations ran once per worker, ~28 s of CPU each."""
    worker = getattr(request.config, "workerinput", {}).get("workerid")
    if not worker:
        yield
        return
    from tests.migrate_once import migrating_once

    # The workers' temporary directories share this parent, one per run.
    with migrating_once(tmp_path_factory.getbasetemp().parent, worker):
        yield


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The xdist controller, its workers done: drop the run's migrated copy (PostgreSQL)."""
    if not session.config.pluginmanager.has_plugin("dsession"):
        return
    from django.conf import settings

    if not settings.configured:
        return
    from django.db import connection
    from pytest_django.plugin import blocking_manager_key

    from tests.migrate_once import drop_copy

    with session.config.stash[blocking_manager_key].unblock():
        drop_copy(connection)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix: None, _migrate_once: None
) -> None:
    """A second alias, `replica`, mirroring the test database (TEST MIRROR), for the tests of
    the read-replica router (renkei/lib/tests/test_replica.py). Nothing reads through it
    unless a test turns REPLICA_READS on. On PostgreSQL, commits that do not wait for fsync."""
    from django.conf import settings

    default = settings.DATABASES["default"]
    if settings.ON_POSTGRESQL:
        # A commit of the test database's connections returns without waiting for the WAL to
        # reach the disk: durability after a crash of the server is not under test, and every
        # statement of a transactional test (and every migration) commits on its own.
        options = default.setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c synchronous_commit=off".strip()
    settings.DATABASES.setdefault(
        "replica", {**default, "TEST": {**default.get("TEST", {}), "MIRROR": "default"}}
    )


@pytest.fixture(autouse=True)
def _fast_hashes_and_mail(settings: Any) -> None:
    # For speed: Argon2 is the production hasher; tests check that separately.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # Jobs run in the test's process after commit, inline, on PostgreSQL too; a test that
    # wants the queue and a worker opts in (renkei/lib/tests/test_jobs_procrastinate.py).
    settings.JOBS_BACKEND = "immediate"
    settings.JOBS_IMMEDIATE_THREADS = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _reference_data(request: pytest.FixtureRequest) -> None:
    """Transactional tests flush the database, including the regions and capabilities that the
    data migrations loaded; put them back so every test sees the same reference data. (On
    PostgreSQL the flush itself restores them from the snapshot, and these find them there.)"""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not (
        marker.kwargs.get("transaction") or "live_server" in request.fixturenames
    ):
        return
    request.getfixturevalue("transactional_db")
    from renkei.desk.vocabulary import ensure_default_topics
    from renkei.programmes.models import ensure_funding_sources
    from renkei.testing import ensure_reference_data

    ensure_reference_data()
    ensure_default_topics()
    ensure_funding_sources()


@pytest.fixture(autouse=True)
def _fresh_capability_vocabulary() -> Iterator[None]:
    """The process-wide capability vocabulary (and the search form's option lists, the on-duty
    page's municipalities) must not carry one test's rows into the next (rolled back or flushed
    without a save signal)."""
    from renkei.directory.models import forget_vocabulary
    from renkei.directory.views import forget_filter_choices
    from renkei.oncall.now import forget_choices

    forget_vocabulary()
    forget_filter_choices()
    forget_choices()
    yield
    forget_vocabulary()
    forget_filter_choices()
    forget_choices()


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    """Rate-limit counters live in the (per-process) cache: one test's requests must not count
    against the next."""
    from django.core.cache import cache

    cache.clear()
