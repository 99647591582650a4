"""Searches whose cost does not grow with the whole table (issue 12, ADR 0040).

- facility_search_idx gains `kind` (second key column): a radius search by kind is answered
  from the index alone instead of reading the table; facility_cell_kind_idx, its prefix, goes.
- PostgreSQL: renkei_bigrams(text), the distinct two-character substrings of a text, and a GIN
  index on renkei_bigrams(search_text), so that a name search (`q=`, already normalised: width,
  kana and case folded) finds its candidates from the index instead of scanning every row.
  Bigrams, not pg_trgm: Japanese names are searched by two characters (「中央」, 「佐藤」), which
  trigrams cannot index, and pg_trgm's word splitting depends on the database's locale.
- PostgreSQL: autovacuum visits the facility table after 2 % of its rows changed (default 20 %),
  so that the daily vacancy updates do not leave the visibility map stale and the radius
  search's index-only scan reading the heap (bench/pages_bench.py --churn).
"""

from __future__ import annotations

from typing import Any

from django.db import migrations, models

# The pairs starting at odd positions, then those at even ones (regexp_replace marks the end of
# each pair with a space; the text has none: normalize_search drops whitespace). One expression,
# so PostgreSQL inlines it (into the index's expression and the query's alike) and runs it as C,
# about four times faster than a loop over substr(); a trailing single character and empty
# strings come along and do no harm (needles ask for pairs only; GIN drops duplicates).
BIGRAMS_FUNCTION = r"""
CREATE OR REPLACE FUNCTION renkei_bigrams(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
$$ SELECT string_to_array(regexp_replace(t, '(..)', '\1 ', 'g') || ' '
                          || regexp_replace(substr(t, 2), '(..)', '\1 ', 'g'), ' ') $$
"""
BIGRAM_INDEX = (
    "CREATE INDEX IF NOT EXISTS facility_name_bigram_idx ON directory_facility"
    " USING gin (renkei_bigrams(search_text))"
)
AUTOVACUUM = (
    "ALTER TABLE directory_facility SET (autovacuum_vacuum_scale_factor = 0.02,"
    " autovacuum_vacuum_threshold = 1000, autovacuum_analyze_scale_factor = 0.02,"
    " autovacuum_vacuum_insert_scale_factor = 0.05)"
)


def forwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in (BIGRAMS_FUNCTION, BIGRAM_INDEX, AUTOVACUUM, "ANALYZE directory_facility"):
        schema_editor.execute(sql)


def backwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS facility_name_bigram_idx")
    schema_editor.execute("DROP FUNCTION IF EXISTS renkei_bigrams(text)")
    schema_editor.execute(
        "ALTER TABLE directory_facility RESET (autovacuum_vacuum_scale_factor,"
        " autovacuum_vacuum_threshold, autovacuum_analyze_scale_factor,"
        " autovacuum_vacuum_insert_scale_factor)"
    )


class Migration(migrations.Migration):
    dependencies = [("directory", "0005_importrun_heartbeat")]

    operations = [
        migrations.RemoveIndex(model_name="facility", name="facility_cell_kind_idx"),
        migrations.RemoveIndex(model_name="facility", name="facility_search_idx"),
        migrations.AddIndex(
            model_name="facility",
            index=models.Index(
                fields=[
                    "geo_cell",
                    "kind",
                    "vacancy_status",
                    "capability_mask",
                    "lat",
                    "lng",
                    "is_active",
                    "id",
                ],
                name="facility_search_idx",
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
