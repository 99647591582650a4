"""facility_name_bigram_idx also holds each facility's kind: a name search by kind reads only
the facilities of that kind from the table (issue 12, ADR 0072).

`q=さくら&kind=tokuyo` took 166 ms at 2,500,000 facilities: the bigram index gave every
facility whose name holds さくら (one in twelve), and the kind was checked on each of their rows
in the table, which at that share is most of the table's pages; 2 % of them were kept. The
index's expression is now renkei_name_terms(search_text, kind): the name's bigrams plus one term
"#<kind>" (no bigram has more than two characters, so the two cannot meet), and the search asks
for the kind's term together with the bigrams. The index answers both and only the matching
rows are read. A search without a kind asks for the bigrams alone, as before.

PostgreSQL only, like the index it replaces (0006). Built CONCURRENTLY under another name, then
the old index dropped and the new one renamed, so that writes to the facility table are not
held during the build (as 0008). A build that fails midway leaves an INVALID
facility_name_terms_new, which IF NOT EXISTS would keep: drop it
(DROP INDEX CONCURRENTLY facility_name_terms_new) and migrate again.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

# An SQL function of one expression, like renkei_bigrams, so that PostgreSQL inlines it in the
# index's expression and in the query's alike. Not STRICT: appending to an array is not, and
# PostgreSQL inlines a STRICT function only when its body is (both columns are NOT NULL).
TERMS_FUNCTION = r"""
CREATE OR REPLACE FUNCTION renkei_name_terms(t text, kind text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT renkei_bigrams(t) || ('#' || kind) $$
"""
TERMS_INDEX = (
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS facility_name_terms_new ON directory_facility"
    " USING gin (renkei_name_terms(search_text, kind))"
)
BIGRAM_INDEX = (
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS facility_name_bigrams_old ON directory_facility"
    " USING gin (renkei_bigrams(search_text))"
)


def forwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(TERMS_FUNCTION)
    schema_editor.execute(TERMS_INDEX)
    schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS facility_name_bigram_idx")
    schema_editor.execute("ALTER INDEX facility_name_terms_new RENAME TO facility_name_bigram_idx")
    # The planner's estimate of a name-and-kind search comes from the statistics of the
    # index's expression, which only ANALYZE collects.
    schema_editor.execute("ANALYZE directory_facility")


def backwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(BIGRAM_INDEX)
    schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS facility_name_bigram_idx")
    schema_editor.execute(
        "ALTER INDEX facility_name_bigrams_old RENAME TO facility_name_bigram_idx"
    )
    schema_editor.execute("DROP FUNCTION IF EXISTS renkei_name_terms(text, text)")
    schema_editor.execute("ANALYZE directory_facility")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction
    dependencies = [("directory", "0008_name_walk_index")]

    operations = [migrations.RunPython(forwards, backwards, atomic=False)]
