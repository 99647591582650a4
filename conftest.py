from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(autouse=True, scope="session")
def _flush_may_empty_the_audit_log() -> Iterator[None]:
    """On PostgreSQL a trigger refuses TRUNCATE of the audit log (ADR 0015), and transactional
    tests are emptied with one TRUNCATE of every table. In a test database, and in the flush's
    own transaction only, the trigger lets it pass (accounts migration 0003)."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    plain = DatabaseOperations.sql_flush

    def sql_flush(self: DatabaseOperations, *args: Any, **kwargs: Any) -> list[str]:
        statements = plain(self, *args, **kwargs)
        if statements:
            statements.insert(0, "SELECT set_config('renkei.test_flush', 'on', true);")
        return statements

    DatabaseOperations.sql_flush = sql_flush  # type: ignore[method-assign]
    yield
    DatabaseOperations.sql_flush = plain  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """A second alias, `replica`, mirroring the test database (TEST MIRROR), for the tests of
    the read-replica router (renkei/lib/tests/test_replica.py). Nothing reads through it
    unless a test turns REPLICA_READS on."""
    from django.conf import settings

    default = settings.DATABASES["default"]
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
    data migrations loaded; put them back so every test sees the same reference data."""
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
