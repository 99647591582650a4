"""facility_name_walk_idx: the common word's walk in id order reads narrow index tuples instead
of the table (issue 12, ADR 0059).

A name search for a word near the planner's crossover walks the primary key in id order and
tests search_text on each row (ADR 0040's amendment): at 2,500,000 facilities that deformed
~24,000 rows of ~400 bytes for ひまわり. With (id) INCLUDE (is_active, search_text) the walk is
an index-only scan. PostgreSQL only (the walk, strpos() and INCLUDE are PostgreSQL's), declared
here like facility_name_bigram_idx; SQLite would get a copy of its primary key.

Built CONCURRENTLY, outside a transaction: at national size the build takes seconds to
minutes, and a plain CREATE INDEX would hold every write to the facility table (vacancy
reports, an import) for as long. A build that fails midway leaves an INVALID index, which
IF NOT EXISTS would then keep: drop it (DROP INDEX CONCURRENTLY facility_name_walk_idx) and
migrate again.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

NAME_WALK_INDEX = (
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS facility_name_walk_idx ON directory_facility"
    " (id) INCLUDE (is_active, search_text)"
)


def forwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(NAME_WALK_INDEX)


def backwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS facility_name_walk_idx")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction
    dependencies = [("directory", "0007_vacancy_search_index")]

    operations = [migrations.RunPython(forwards, backwards, atomic=False)]
