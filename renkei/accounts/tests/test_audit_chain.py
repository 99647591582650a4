"""The audit log is a hash chain: an edit around the ORM is found and named (issue 17 §4)."""

from __future__ import annotations

import logging
import time
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from renkei.accounts.audit_chain import Anchor, verify
from renkei.accounts.jobs import AuditChainBroken, verify_audit_chain
from renkei.accounts.models import AuditEntry, Membership, OrgKind, Role, audit_chain_content
from renkei.lib.chain import chain_digest
from renkei.testing import make_member, make_org, race

pytestmark = pytest.mark.django_db


@pytest.fixture
def member() -> Membership:
    org = make_org("藤沢テスト病院", OrgKind.HOSPITAL, municipality_code="142051")
    return make_member(org, Role.MSW, username="chain-msw")


@pytest.fixture
def entries(member: Membership) -> list[AuditEntry]:
    """Entries of every shape the log holds: with and without actor, IPv4 and IPv6 addresses
    (the latter in a form the database normalises), nested Japanese detail, a target."""
    rows = [
        AuditEntry.record("auth.login", actor=member.user, membership=member),
        AuditEntry.record("auth.login_failed", actor_label="誰か", detail={"known_user": False}),
        AuditEntry.record(
            "desk.consultation_viewed",
            actor=member.user,
            membership=member,
            target=member.organization,
            detail={"b": [1, 2.5, None, True], "a": {"氏名": "テスト 太郎", "n": 10**15}},
        ),
    ]
    for ip in ("192.0.2.7", "2001:0DB8:0000:0000:0000:0000:0000:0001"):
        e = AuditEntry(action="auth.logout", actor=member.user, ip=ip)
        e.save()
        rows.append(e)
    return rows


def edit_around_the_orm(sql: str, params: list[str | int]) -> None:
    """What someone with the table owner's rights could do: triggers off, edit, triggers on."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The test's own inserts leave deferred foreign-key checks pending.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE accounts_auditentry DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE accounts_auditentry ENABLE TRIGGER USER")


def test_an_untouched_log_verifies_after_reading_back(entries: list[AuditEntry]) -> None:
    """Digests are computed on what the database gives back (JSON key order, IPv6 form, time
    zone), so every stored entry verifies; the command reports the count and the anchor."""
    assert all(len(e.digest) == 64 for e in entries)
    assert len({e.digest for e in entries}) == len(entries)
    out = _run_verify()
    last = AuditEntry.objects.order_by("-id").first()
    assert last is not None
    assert f"{len(entries)}件、改ざんなし" in out
    assert f"{last.pk}:{last.digest}" in out


def test_each_entry_covers_the_previous_digest(entries: list[AuditEntry]) -> None:
    stored = list(AuditEntry.objects.order_by("id"))
    assert stored[0].digest == chain_digest("", audit_chain_content(stored[0]))
    for before, after in zip(stored, stored[1:], strict=False):
        assert after.digest == chain_digest(before.digest, audit_chain_content(after))


def test_an_edited_entry_is_named_and_the_command_fails(entries: list[AuditEntry]) -> None:
    victim = entries[1]
    edit_around_the_orm(
        "UPDATE accounts_auditentry SET actor_label = %s WHERE id = %s", ["別人", victim.pk]
    )
    with pytest.raises(CommandError, match=f"id={victim.pk} で切れています"):
        _run_verify()


def test_an_edited_time_or_address_is_found(entries: list[AuditEntry]) -> None:
    victim = entries[3]
    edit_around_the_orm(
        "UPDATE accounts_auditentry SET ip = %s WHERE id = %s", ["198.51.100.1", victim.pk]
    )
    assert verify().broken == victim


def test_a_removed_entry_breaks_the_next_one(entries: list[AuditEntry]) -> None:
    edit_around_the_orm("DELETE FROM accounts_auditentry WHERE id = %s", [entries[2].pk])
    assert verify().broken == entries[3]


def test_a_forged_entry_inserted_without_the_chain_is_found(
    entries: list[AuditEntry], member: Membership
) -> None:
    """A row inserted by raw SQL (which does not know the chain) is named."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounts_auditentry (at, actor_label, role, action, target_type,"
            " target_id, target_repr, detail, digest)"
            " VALUES (%s, 'x', '', 'auth.login', '', '', '', '{}', %s)",
            [entries[0].at, "0" * 64],
        )
    report = verify()
    assert report.broken is not None
    assert report.broken.pk > entries[-1].pk


def test_a_rewritten_chain_passes_alone_but_not_against_the_anchor(
    entries: list[AuditEntry],
) -> None:
    """Someone who recomputes every later digest after an edit gets a consistent chain; the
    anchor written the night before no longer matches, and the command says so."""
    anchor = verify().latest
    assert anchor is not None
    edit_around_the_orm(
        "UPDATE accounts_auditentry SET actor_label = %s WHERE id = %s", ["別人", entries[1].pk]
    )
    previous = ""
    for e in AuditEntry.objects.order_by("id"):
        previous = chain_digest(previous, audit_chain_content(e))
        edit_around_the_orm(
            "UPDATE accounts_auditentry SET digest = %s WHERE id = %s", [previous, e.pk]
        )
    assert verify().broken is None
    with pytest.raises(CommandError, match=f"アンカー {anchor.id}:"):
        _run_verify("--anchor", str(anchor))


def test_a_cut_end_is_found_against_the_anchor(entries: list[AuditEntry]) -> None:
    anchor = verify().latest
    assert anchor is not None
    _run_verify("--anchor", str(anchor))
    edit_around_the_orm("DELETE FROM accounts_auditentry WHERE id = %s", [entries[-1].pk])
    assert verify().broken is None
    assert verify([anchor]).lost_anchors == [anchor]


def test_a_malformed_anchor_is_refused_with_a_message() -> None:
    with pytest.raises(CommandError, match="ID:ハッシュ"):
        _run_verify("--anchor", "12:abc")


def test_bulk_insert_is_refused(member: Membership) -> None:
    with pytest.raises(PermissionDenied):
        AuditEntry.objects.bulk_create([AuditEntry(action="auth.login")])
    assert not AuditEntry.objects.exists()


def test_the_daily_job_logs_the_anchor(
    entries: list[AuditEntry], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="renkei.audit"):
        verify_audit_chain()
    last = AuditEntry.objects.order_by("-id").first()
    assert last is not None
    assert f"audit anchor {last.pk}:{last.digest}" in caplog.text


def test_the_daily_job_fails_loudly_on_a_broken_chain(
    entries: list[AuditEntry], caplog: pytest.LogCaptureFixture
) -> None:
    edit_around_the_orm(
        "UPDATE accounts_auditentry SET action = %s WHERE id = %s", ["x", entries[0].pk]
    )
    with pytest.raises(AuditChainBroken, match=f"id={entries[0].pk}"):
        verify_audit_chain()
    assert "audit chain broken" in caplog.text
    assert "audit anchor" not in caplog.text


def test_the_migration_chains_existing_entries(entries: list[AuditEntry]) -> None:
    """Entries written before the chain existed (no digest) are chained by migration 0003."""
    from importlib import import_module

    migration = import_module("renkei.accounts.migrations.0003_audit_hash_chain")
    edit_around_the_orm("UPDATE accounts_auditentry SET digest = ''", [])
    assert verify().broken == entries[0]
    editor = SimpleNamespace(connection=connection, execute=_execute)
    with transaction.atomic():
        migration.chain_existing(apps, editor)
    assert verify().ok
    # A statement the migration re-runs on PostgreSQL; here only the triggers' state matters.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'accounts_auditentry'::regclass"
                " AND NOT tgisinternal AND tgenabled = 'O'"
            )
            assert cursor.fetchone() == (2,)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_chain(member: Membership) -> None:
    """Eight threads, each writing entries in transactions that stay open a moment after the
    entry: without the lock two of them would chain to the same predecessor (a fork)."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers itself")

    def write(i: int) -> None:
        for n in range(5):
            with transaction.atomic():
                AuditEntry.record("auth.login", actor_label=f"w{i}-{n}")
                time.sleep(0.005)

    results = race(8, write)
    assert all(kind == "ok" for kind, _ in results), results
    assert AuditEntry.objects.count() == 40
    assert len(set(AuditEntry.objects.values_list("digest", flat=True))) == 40
    report = verify()
    assert report.broken is None and report.checked == 40
    times = list(AuditEntry.objects.order_by("id").values_list("at", flat=True))
    assert times == sorted(times)


@pytest.mark.postgres
def test_truncate_is_refused_on_postgresql(entries: list[AuditEntry]) -> None:
    """Even the owner's TRUNCATE (which row triggers never see) is refused by the statement
    trigger."""
    if connection.vendor != "postgresql":
        pytest.skip("the trigger exists on PostgreSQL")
    with (
        pytest.raises(Exception, match="TRUNCATE refused"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE accounts_auditentry CASCADE")
    assert AuditEntry.objects.count() == len(entries)


def _execute(sql: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql)


def _run_verify(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("verify_audit", *args, stdout=out)
    return out.getvalue()


def test_anchor_round_trips() -> None:
    anchor = Anchor(7, "a" * 64)
    assert Anchor.parse(str(anchor)) == anchor
