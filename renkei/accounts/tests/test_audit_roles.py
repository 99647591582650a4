"""Least privilege on PostgreSQL (issue 17 §4): the app role of docs/operations.md can append
to the audit log but not truncate it, alter it or drop its triggers; an edit made by the owner
with the triggers disabled is named by verify_audit.

The grants are read from docs/operations.md, so the documented SQL is the tested SQL.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from renkei.accounts.models import AuditEntry

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

DOC = Path(settings.BASE_DIR) / "docs" / "operations.md"


def documented_grants() -> str:
    text = DOC.read_text(encoding="utf-8")
    block = re.search(
        r"<!-- app-role-grants -->\s*```sql\n(.*?)```\s*<!-- /app-role-grants -->", text, re.S
    )
    assert block, "docs/operations.md lost its app-role grants block"
    return block.group(1)


@pytest.fixture
def app_role() -> Iterator[str]:
    """A role set up exactly as the documentation says, with this test database as `renkei`
    and the test's (owning) user as `renkei_owner`. Created in the test's transaction, so it is
    gone again afterwards."""
    if connection.vendor != "postgresql":
        pytest.skip("roles and grants are PostgreSQL's")
    role = f"renkei_app_test_{os.getpid()}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, current_database()")
        owner, database = cursor.fetchone()
        cursor.execute(f'CREATE ROLE "{role}" NOLOGIN')
        sql = (
            documented_grants()
            .replace("renkei_app", f'"{role}"')
            .replace("renkei_owner", f'"{owner}"')
            .replace("DATABASE renkei", f'DATABASE "{database}"')
        )
        cursor.execute(sql)
    yield role


def as_role(role: str, sql: str) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f'SET LOCAL ROLE "{role}"')
        cursor.execute(sql)
        # Releasing a savepoint keeps SET LOCAL until the test's transaction ends.
        cursor.execute("RESET ROLE")


@pytest.mark.parametrize(
    ("sql", "refusal"),
    [
        ("TRUNCATE accounts_auditentry", "permission denied"),
        ("ALTER TABLE accounts_auditentry DISABLE TRIGGER USER", "must be owner"),
        ("DROP TRIGGER accounts_auditentry_append_only ON accounts_auditentry", "must be owner"),
        ("DROP TRIGGER accounts_auditentry_no_truncate ON accounts_auditentry", "must be owner"),
        ("UPDATE accounts_auditentry SET action = 'x'", "permission denied"),
        ("DELETE FROM accounts_auditentry", "permission denied"),
        ("UPDATE desk_consultationversion SET reason = 'x'", "permission denied"),
    ],
)
def test_the_app_role_cannot_rewrite_the_log(app_role: str, sql: str, refusal: str) -> None:
    AuditEntry.record("auth.login", actor_label="before")
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with pytest.raises(DatabaseError, match=refusal):
        as_role(app_role, sql)
    assert AuditEntry.objects.filter(actor_label="before", action="auth.login").count() == 1


def test_the_app_role_appends_and_verifies_and_an_owner_edit_is_named(app_role: str) -> None:
    """As the app role: entries are written (the chain lock included) and verify. Then the
    owner disables the triggers and edits one entry: verify_audit, run as the app role,
    names it and fails."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f'SET LOCAL ROLE "{app_role}"')
        entries = [AuditEntry.record("auth.login", actor_label=f"app{i}") for i in range(3)]
        call_command("verify_audit", stdout=StringIO())
        cursor.execute("RESET ROLE")
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE accounts_auditentry DISABLE TRIGGER USER")
        cursor.execute(
            "UPDATE accounts_auditentry SET actor_label = 'someone else' WHERE id = %s",
            [entries[1].pk],
        )
        cursor.execute("ALTER TABLE accounts_auditentry ENABLE TRIGGER USER")
    with (
        pytest.raises(CommandError, match=f"id={entries[1].pk} で切れています"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f'SET LOCAL ROLE "{app_role}"')
        call_command("verify_audit")


def test_migrate_connects_with_the_migration_credentials() -> None:
    """With DATABASE_MIGRATE_URL set, `migrate` signs in with it (here: an owner that cannot be
    reached), not with DATABASE_URL."""
    if connection.vendor != "postgresql":
        pytest.skip("DATABASE_MIGRATE_URL is for PostgreSQL")
    env = {
        **os.environ,
        "DATABASE_MIGRATE_URL": "postgres://renkei_no_such_owner:x@127.0.0.1:1/"
        + str(connection.settings_dict["NAME"]),
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/"
        + str(connection.settings_dict["NAME"]),
    }
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--check"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrate.returncode != 0
    assert "127.0.0.1" in migrate.stderr and "port 1" in migrate.stderr


def test_a_migration_url_for_another_database_is_refused() -> None:
    env = {
        **os.environ,
        "DATABASE_URL": "postgres://app@127.0.0.1:5432/renkei",
        "DATABASE_MIGRATE_URL": "postgres://owner@127.0.0.1:5432/other",
    }
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE',"
            " 'renkei.settings'); django.setup()",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode != 0
    assert "must name the database of DATABASE_URL" in run.stderr
