"""renkei_name_terms (0009) names renkei_bigrams with its schema, so that a restored backup can
build its index.

pg_restore runs with an empty search_path, and the index on renkei_name_terms(search_text, kind)
is built after the functions are restored: PostgreSQL inlines the function to build it, and its
body's unqualified renkei_bigrams(t) was then not found, so the restore drill failed. The body now
calls it as <schema>.renkei_bigrams(t), the schema the migration runs in: the same function, so
the inlined expression is the same tree as before (a session that cached the index's expression
still matches it to its queries), the index stays valid and nothing is rebuilt. (Writing
renkei_bigrams's expression into the body instead changed the inlined tree, and the migrating
session's queries no longer used the index.) PostgreSQL only, like 0009.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

QUALIFIED = r"""
CREATE OR REPLACE FUNCTION renkei_name_terms(t text, kind text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT {schema}.renkei_bigrams(t) || ('#' || kind) $$
"""
CALLING_BIGRAMS = r"""
CREATE OR REPLACE FUNCTION renkei_name_terms(t text, kind text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT renkei_bigrams(t) || ('#' || kind) $$
"""


def forwards(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_schema()")
            (schema,) = cursor.fetchone()
        schema_editor.execute(QUALIFIED.format(schema=connection.ops.quote_name(schema)))


def backwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CALLING_BIGRAMS)


class Migration(migrations.Migration):
    dependencies = [("directory", "0009_name_kind_terms_index")]

    operations = [migrations.RunPython(forwards, backwards)]
