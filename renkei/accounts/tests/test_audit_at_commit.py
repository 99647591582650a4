"""Audit entries are chained at COMMIT (ADR 0066): the chain keeps ADR 0015's guarantees while a
writer that has recorded its entry no longer holds the other writers up until it commits."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import DatabaseError, connection, transaction

from renkei.accounts.audit_chain import verify
from renkei.accounts.models import AUDIT_CHAIN_LOCK, AuditEntry
from renkei.lib.precommit import before_commit
from renkei.testing import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers itself; entries are written where recorded")


def chain_lock_holders() -> int:
    """Sessions of this database holding or waiting for the chain's advisory lock (pg_locks
    splits the key, and lists every database's: other test databases share the server)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND classid = %s AND objid = %s",
            [AUDIT_CHAIN_LOCK >> 32, AUDIT_CHAIN_LOCK & 0xFFFFFFFF],
        )
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


def inserted(entry: AuditEntry) -> bool:
    return not entry._state.adding


def test_an_entry_is_chained_and_written_at_commit() -> None:
    with transaction.atomic():
        entry = AuditEntry.record("auth.login", actor_label="遅延 太郎")
        # Not inserted yet: no id, no digest.
        assert inserted(entry) is False and entry.digest == ""
        assert chain_lock_holders() == 0
        assert not AuditEntry.objects.exists()
    assert inserted(entry) is True
    stored = AuditEntry.objects.get()
    assert len(stored.digest) == 64
    assert (stored.pk, stored.digest, stored.at) == (entry.pk, entry.digest, entry.at)
    assert verify().broken is None


def test_entries_of_a_rolled_back_transaction_or_savepoint_are_not_written() -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        AuditEntry.record("auth.login", actor_label="rolled back")
        raise RuntimeError
    with transaction.atomic():
        AuditEntry.record("auth.login", actor_label="kept before")
        try:
            with transaction.atomic():
                AuditEntry.record("auth.login", actor_label="savepoint rolled back")
                raise RuntimeError
        except RuntimeError:
            pass
        AuditEntry.record("auth.logout", actor_label="kept after")
    labels = list(AuditEntry.objects.order_by("id").values_list("actor_label", flat=True))
    assert labels == ["kept before", "kept after"]
    assert verify().broken is None and verify().checked == 2


def test_an_entry_cannot_be_saved_twice_before_commit() -> None:
    with pytest.raises(Exception, match="変更できません"), transaction.atomic():
        entry = AuditEntry.record("auth.login", actor_label="twice")
        entry.save()
    assert not AuditEntry.objects.exists()


def test_a_failing_hook_commits_nothing_and_leaves_the_connection_usable() -> None:
    def fail() -> None:
        raise ValueError("hook")

    with pytest.raises(ValueError, match="hook"), transaction.atomic():
        AuditEntry.record("auth.login", actor_label="not committed")
        assert before_commit(fail)
    assert not AuditEntry.objects.exists()
    with transaction.atomic():
        AuditEntry.record("auth.login", actor_label="next")
    assert AuditEntry.objects.count() == 1


def test_a_failing_insert_at_commit_rolls_the_transaction_back() -> None:
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.record("auth.login", actor_label="ok")
        # Longer than the column: refused by the database only at the insert, i.e. at COMMIT.
        AuditEntry.record("x" * 61, actor_label="too long")
    assert not AuditEntry.objects.exists()


def test_a_writer_still_at_work_after_recording_holds_nobody_up() -> None:
    """Writer A records its entry and then goes on working in its transaction; writer B records
    and commits meanwhile. Chained where recorded (ADR 0015 as first written), B waited for A's
    commit; chained at COMMIT, B is done first and the chain is still one, in commit order."""
    recorded, b_done = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def a() -> None:
        try:
            with transaction.atomic():
                AuditEntry.record("auth.login", actor_label="A")
                recorded.set()
                b_done.wait(timeout=10)
        except BaseException as e:  # noqa: BLE001 - asserted below
            errors.append(e)
        finally:
            connection.close()

    def b() -> None:
        try:
            recorded.wait(timeout=10)
            with transaction.atomic():
                AuditEntry.record("auth.login", actor_label="B")
            b_done.set()
        except BaseException as e:  # noqa: BLE001 - asserted below
            errors.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert b_done.is_set() and time.monotonic() - started < 10
    assert list(AuditEntry.objects.order_by("id").values_list("actor_label", flat=True)) == [
        "B",
        "A",
    ]
    assert verify().broken is None and verify().checked == 2


def test_many_writers_with_work_after_recording_keep_one_chain() -> None:
    """Eight threads, each recording two entries per transaction with work between and after:
    one chain, no fork, no gap, times in chain order."""

    def write(i: int) -> None:
        for n in range(5):
            with transaction.atomic():
                AuditEntry.record("auth.login", actor_label=f"w{i}-{n}-a")
                time.sleep(0.003)
                AuditEntry.record("auth.logout", actor_label=f"w{i}-{n}-b")
                time.sleep(0.003)

    results = race(8, write)
    assert all(kind == "ok" for kind, _ in results), results
    rows = list(AuditEntry.objects.order_by("id").values_list("actor_label", "digest", "at"))
    assert len(rows) == 80 and len({d for _, d, _ in rows}) == 80
    # A transaction's two entries are written together at its commit, one after the other.
    for first, second in zip(rows[::2], rows[1::2], strict=True):
        assert first[0].endswith("-a") and second[0] == first[0][:-1] + "b"
    report = verify()
    assert report.broken is None and report.checked == 80
    times = [at for _, _, at in rows]
    assert times == sorted(times)


@pytest.mark.django_db(transaction=False)
def test_under_a_test_cases_transaction_entries_are_written_where_recorded() -> None:
    """A test case's transaction never commits: there the entry is written at once, so tests
    read what they recorded (and the deferral is tested above, in committed transactions)."""
    with transaction.atomic():
        entry = AuditEntry.record("auth.login", actor_label="now")
        assert entry.pk is not None
    assert not before_commit(lambda: None)
