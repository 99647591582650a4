"""renkei_name_terms (migrations 0009, 0010): the bigrams plus the kind's term, computed from
a body that names renkei_bigrams with its schema, so that a restored backup (pg_restore's empty
search_path) can build the index on it."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the function is PostgreSQL's"),
]


def test_terms_are_the_bigrams_and_the_kind() -> None:
    with connection.cursor() as cursor:
        for text in ("さくらの里", "ｻｸﾗ", "a", "中央クリニック", "ab", "x" * 41):
            cursor.execute(
                "SELECT renkei_name_terms(%s, 'tokuyo') = renkei_bigrams(%s) || '#tokuyo'::text",
                [text, text],
            )
            assert cursor.fetchone() == (True,), text


def test_terms_resolve_with_an_empty_search_path() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT renkei_name_terms('さくらの里', 'tokuyo')")
        expected = cursor.fetchone()
        cursor.execute("SET LOCAL search_path = ''")
        cursor.execute("SELECT public.renkei_name_terms('さくらの里', 'tokuyo')")
        assert cursor.fetchone() == expected
