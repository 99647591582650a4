"""Hash-chain the audit log and refuse TRUNCATE on it (issue 17 §4, ADR 0015).

Existing entries are chained in id order, with the same content function the model uses.
On PostgreSQL the append-only trigger is set aside for that one UPDATE (this migration runs
as the table's owner), and a statement-level trigger starts refusing TRUNCATE, which row
triggers never see.
"""

from __future__ import annotations

from typing import Any

import django.utils.timezone
from django.db import migrations, models

from renkei.accounts.models import audit_chain_content
from renkei.lib.chain import chain_digest

BATCH = 2000

# A test database may be emptied between transactional tests (Django's flush truncates every
# table): only there, and only when the flush itself asks for it in its own transaction
# (conftest.py), does TRUNCATE pass. A production database's name never starts with test_.
NO_TRUNCATE = """
CREATE OR REPLACE FUNCTION renkei_audit_no_truncate() RETURNS trigger AS $$
BEGIN
  IF left(current_database(), 5) = 'test_'
     AND current_setting('renkei.test_flush', true) = 'on' THEN
    RETURN NULL;
  END IF;
  RAISE EXCEPTION 'accounts_auditentry is append-only: TRUNCATE refused';
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE TRIGGER accounts_auditentry_no_truncate
  BEFORE TRUNCATE ON accounts_auditentry
  FOR EACH STATEMENT EXECUTE FUNCTION renkei_audit_no_truncate();
"""
# One round trip for the writer: take the chain lock, then read the latest digest. The read
# is a statement of its own in a VOLATILE function, so under READ COMMITTED it sees what the
# previous lock holder committed (AuditEntry._link).
CHAIN_HEAD = """
CREATE OR REPLACE FUNCTION renkei_audit_chain_head(lock_key bigint) RETURNS text AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(lock_key);
  RETURN COALESCE((SELECT digest FROM accounts_auditentry ORDER BY id DESC LIMIT 1), '');
END;
$$ LANGUAGE plpgsql VOLATILE;
"""
DROP_NO_TRUNCATE = """
DROP TRIGGER IF EXISTS accounts_auditentry_no_truncate ON accounts_auditentry;
DROP FUNCTION IF EXISTS renkei_audit_no_truncate();
DROP FUNCTION IF EXISTS renkei_audit_chain_head(bigint);
"""


def chain_existing(apps: Any, schema_editor: Any) -> None:
    entry_model = apps.get_model("accounts", "AuditEntry")
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:
        # ALTER TABLE refuses to run with deferred foreign-key checks pending.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        schema_editor.execute(
            "ALTER TABLE accounts_auditentry DISABLE TRIGGER accounts_auditentry_append_only"
        )
    previous = ""
    batch: list[tuple[str, int]] = []
    with schema_editor.connection.cursor() as cursor:
        for entry in entry_model.objects.order_by("id").iterator(chunk_size=BATCH):
            previous = chain_digest(previous, audit_chain_content(entry))
            batch.append((previous, entry.pk))
            if len(batch) >= BATCH:
                cursor.executemany("UPDATE accounts_auditentry SET digest = %s WHERE id = %s", batch)
                batch = []
        if batch:
            cursor.executemany("UPDATE accounts_auditentry SET digest = %s WHERE id = %s", batch)
    if postgres:
        schema_editor.execute(
            "ALTER TABLE accounts_auditentry ENABLE TRIGGER accounts_auditentry_append_only"
        )
        schema_editor.execute(NO_TRUNCATE)
        schema_editor.execute(CHAIN_HEAD)


def unchain(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_NO_TRUNCATE)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_audit_append_only")]
    operations = [
        migrations.AlterField(
            model_name="auditentry",
            name="at",
            field=models.DateTimeField(
                db_index=True, default=django.utils.timezone.now, editable=False, verbose_name="日時"
            ),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="digest",
            field=models.CharField(blank=True, editable=False, max_length=64, verbose_name="ハッシュ"),
        ),
        migrations.RunPython(chain_existing, unchain),
    ]
