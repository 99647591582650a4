"""On PostgreSQL, refuse UPDATE and DELETE on the audit table even from raw SQL (security R09)."""

from __future__ import annotations

from typing import Any

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION renkei_audit_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'accounts_auditentry is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER accounts_auditentry_append_only
  BEFORE UPDATE OR DELETE ON accounts_auditentry
  FOR EACH ROW EXECUTE FUNCTION renkei_audit_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS accounts_auditentry_append_only ON accounts_auditentry;
DROP FUNCTION IF EXISTS renkei_audit_append_only();
"""


def forwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
