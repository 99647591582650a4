"""Writing without model instances: binary COPY inserts, UPDATE … FROM, ids from the sequence."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models.expressions import RawSQL
from django.utils import timezone

from renkei.directory.models import (
    Facility,
)

M = TypeVar("M", bound=models.Model)


class _Derived:
    """Stand-in for Facility.refresh_derived on the insert path, which builds no model instances."""

    __slots__ = (
        "name",
        "kana",
        "short_name",
        "corporation_name",
        "lat",
        "lng",
        "search_text",
        "geo_cell",
    )

    search_text: str
    geo_cell: int | None

    def __init__(self, values: dict[str, Any]) -> None:
        for k in ("name", "kana", "short_name", "corporation_name"):
            setattr(self, k, values.get(k) or "")
        self.lat, self.lng = values.get("lat"), values.get("lng")


def _derived(values: dict[str, Any]) -> dict[str, Any]:
    d = _Derived(values)
    Facility.refresh_derived(d)  # type: ignore[arg-type]
    return {"search_text": d.search_text, "geo_cell": d.geo_cell}


_PLAIN_FIELDS = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.FloatField,
    models.BooleanField,
    models.ForeignKey,
)


def _db_value(field: models.Field[Any, Any], value: Any, conn: Any) -> Any:
    return value if isinstance(field, _PLAIN_FIELDS) else field.get_db_prep_save(value, conn)


@dataclass
class _Built:
    """Rows for an INSERT, values ready for the driver (build_rows); written by insert_built."""

    model: type[models.Model]
    columns: list[str]
    values: list[list[Any]]
    types: list[str | None]


def insert_rows(model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    """Insert new rows without building model instances: COPY on PostgreSQL, executemany elsewhere.

    bulk_create spends most of its time instantiating models and preparing every field of every
    object; here plain values pass straight through and only UUID, date, time and JSON columns go
    through the field's own get_db_prep_save. Fields not given get their model default, and
    auto_now / auto_now_add fields the current time, as bulk_create would do.
    """
    insert_built(build_rows(model, rows))


def build_rows(
    model: type[models.Model], rows: list[dict[str, Any]], *, with_pk: bool = False
) -> _Built:
    """The values insert_rows writes, worked out without the database (with_pk: rows give "id")."""
    fields = [
        f
        for f in model._meta.concrete_fields
        if (with_pk or not f.primary_key)
        and not getattr(f, "generated", False)
        # A database default applies only when the column is left out of the INSERT.
        and not (f.has_db_default() and not f.has_default())
    ]
    conn = connections[DEFAULT_DB_ALIAS]  # the proxy object costs a lookup per attribute access
    now = timezone.now()
    index = {f.attname: i for i, f in enumerate(fields)}
    plain = [isinstance(f, _PLAIN_FIELDS) for f in fields]
    dynamic = [(i, f) for i, f in enumerate(fields) if f.has_default() and callable(f.default)]
    template: list[Any] = []
    for i, f in enumerate(fields):
        auto = getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        value = now if auto else None if (i, f) in dynamic else f.get_default()
        template.append(_db_value(f, value, conn))
    # uuid4 defaults in bulk: one os.urandom call instead of one per row.
    random_uuids = [i for i, f in dynamic if f.default is uuid.uuid4]
    dynamic = [(i, f) for i, f in dynamic if i not in random_uuids]
    entropy = os.urandom(16 * len(rows) * len(random_uuids))
    # Dates (source_date) repeat on every row; prepare each distinct value once.
    prepared: list[dict[Any, Any] | None] = [
        {} if isinstance(f, models.DateField) else None for f in fields
    ]
    values = []
    for n, row in enumerate(rows):
        v = template.copy()
        for k, i in enumerate(random_uuids):
            at = (n * len(random_uuids) + k) * 16
            u = uuid.UUID(bytes=entropy[at : at + 16], version=4)
            v[i] = fields[i].get_db_prep_save(u, conn)
        for i, f in dynamic:
            v[i] = f.get_db_prep_save(f.get_default(), conn)
        for name, value in row.items():
            i = index[name]
            if plain[i]:
                v[i] = value
            elif (memo := prepared[i]) is not None:
                if value not in memo:
                    memo[value] = fields[i].get_db_prep_save(value, conn)
                v[i] = memo[value]
            else:
                v[i] = fields[i].get_db_prep_save(value, conn)
        values.append(v)
    types = [f.db_type(conn) for f in fields]
    return _Built(model, [str(f.column) for f in fields], values, types)


# PostgreSQL types by Django's db_type, for binary COPY (psycopg needs the exact type names).
_BINARY_COPY_TYPES = {
    "bigint": "int8",
    "integer": "int4",
    "smallint": "int2",
    "boolean": "bool",
    "double precision": "float8",
    "text": "text",
    "uuid": "uuid",
    "date": "date",
    "timestamp with time zone": "timestamptz",
}


def _binary_types(types: list[str | None]) -> list[str] | None:
    """psycopg's names of the column types, or None if one has no plain binary form (jsonb)."""
    names = []
    for t in types:
        if t is None:
            return None
        if t.startswith("varchar("):
            names.append("varchar")
        elif t in _BINARY_COPY_TYPES:
            names.append(_BINARY_COPY_TYPES[t])
        else:
            return None
    return names


def insert_built(built: _Built) -> None:
    if not built.values:
        return
    qn = connection.ops.quote_name
    table = qn(built.model._meta.db_table)
    columns = ", ".join(qn(c) for c in built.columns)
    values = built.values
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Binary COPY where every column has a plain binary form: no text to escape, and
            # formatting the rows was an eighth of a first import's Python time.
            binary = _binary_types(built.types)
            fmt = " WITH (FORMAT BINARY)" if binary else ""
            # The raw psycopg cursor: its errors become Django's (IntegrityError) here.
            with (
                connection.wrap_database_errors,
                cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN{fmt}") as copy,
            ):
                if binary:
                    copy.set_types(binary)
                for v in values:
                    copy.write_row(v)
        else:
            placeholders = ", ".join(["%s"] * len(built.columns))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", values)  # noqa: S608  names from code, values bound as parameters


def reserve_ids(model: type[models.Model], n: int) -> list[int] | None:
    """n new primary keys from the table's sequence (PostgreSQL), None where there is none.

    Rows inserted with known keys need no query to read their keys back, and a batch can be
    worked out completely before it is written (_import_pipelined).
    """
    if connection.vendor != "postgresql":
        return None
    if n == 0:
        return []
    with connection.cursor() as cursor:
        # The sequence is looked up once (OFFSET 0 keeps the subquery from being flattened):
        # pg_get_serial_sequence() per id made this query ten times slower.
        cursor.execute(
            "SELECT nextval(s.seq) FROM (SELECT pg_get_serial_sequence(%s, %s)::regclass"
            " AS seq OFFSET 0) s, generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, n],
        )
        return [r[0] for r in cursor.fetchall()]


def update_rows(
    model: type[models.Model],
    names: list[str],
    rows: list[tuple[int, dict[str, Any]]],
    *,
    increment: tuple[str, ...] = (),
) -> None:
    """UPDATE the named fields of rows by primary key, without model instances.

    bulk_update's CASE WHEN per field is quadratic in the batch size. On PostgreSQL the new
    values are copied into a temporary table and applied with one UPDATE … FROM; elsewhere one
    executemany. Fields in ``increment`` are raised by one in SQL, so concurrent bumps are not
    lost; auto_now fields are set to the current time.
    """
    if not rows:
        return
    conn = connections[DEFAULT_DB_ALIAS]
    qn = connection.ops.quote_name
    fields = [f for n in names if isinstance(f := model._meta.get_field(n), models.Field)]
    auto = [f for f in model._meta.concrete_fields if getattr(f, "auto_now", False)]
    now = [_db_value(f, timezone.now(), conn) for f in auto]
    table, pk = qn(model._meta.db_table), qn(str(model._meta.pk.column))
    columns = [qn(str(f.column)) for f in fields]
    values = [[key, *(_db_value(f, row[f.attname], conn) for f in fields)] for key, row in rows]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            tmp = qn(f"_renkei_update_{model._meta.db_table}")
            cursor.execute(f"DROP TABLE IF EXISTS {tmp}")
            cursor.execute(
                f"CREATE TEMP TABLE {tmp} ON COMMIT DROP AS "  # noqa: S608  names from code, values bound as parameters
                f"SELECT {pk}, {', '.join(columns)} FROM {table} WITH NO DATA"
            )
            with (
                connection.wrap_database_errors,
                cursor.cursor.copy(f"COPY {tmp} ({pk}, {', '.join(columns)}) FROM STDIN") as copy,
            ):
                for v in values:
                    copy.write_row(v)
            sets = [f"{c} = t.{c}" for c in columns]
            sets += [f"{qn(n)} = f.{qn(n)} + 1" for n in increment]
            sets += [f"{qn(str(f.column))} = %s" for f in auto]
            cursor.execute(
                f"UPDATE {table} AS f SET {', '.join(sets)} FROM {tmp} AS t WHERE f.{pk} = t.{pk}",  # noqa: S608  names from code, values bound as parameters
                now,
            )
        else:
            sets = [f"{c} = %s" for c in columns]
            sets += [f"{qn(n)} = {qn(n)} + 1" for n in increment]
            sets += [f"{qn(str(f.column))} = %s" for f in auto]
            cursor.executemany(
                f"UPDATE {table} SET {', '.join(sets)} WHERE {pk} = %s",  # noqa: S608  names from code, values bound as parameters
                [[*v[1:], *now, v[0]] for v in values],
            )


def _in(model: type[M], field: str, values: Iterable[Any]) -> models.QuerySet[M]:
    """model.objects.filter(field__in=values), as one array parameter on PostgreSQL, unordered.

    A 2,000-element IN list costs more to build and to bind than the lookup itself. Every
    caller builds a dict of the rows, so the model's ordering (Facility's kana, name) would
    only add a sort to every batch's lookup.
    """
    values = list(values)
    manager = model._default_manager.order_by()
    if connection.vendor != "postgresql":
        return manager.filter(**{f"{field}__in": values})
    qn = connection.ops.quote_name
    f = model._meta.get_field(field)
    column = str(f.column) if isinstance(f, models.Field) else field
    return manager.filter(
        RawSQL(  # noqa: S611  names from code, values bound as parameters
            f"{qn(model._meta.db_table)}.{qn(column)} = ANY(%s)",
            (values,),
            output_field=models.BooleanField(),
        )
    )


def _plan_new_facilities(
    new: list[tuple[str, dict[str, Any]]], key_field: str
) -> tuple[dict[str, int] | None, Callable[[], dict[str, int]]]:
    """The INSERT of facilities keyed by their official identifier: their ids, if known now
    (reserved on PostgreSQL, so the rows are built here), and a save() that writes them and
    returns the ids by identifier."""
    ids = reserve_ids(Facility, len(new))
    if ids is None:
        return None, lambda: _create_facilities(new, key_field)
    by_key = {key: pk for (key, _), pk in zip(new, ids, strict=True)}
    built = build_rows(
        Facility,
        [{"id": by_key[key], key_field: key, **cur, **_derived(cur)} for key, cur in new],
        with_pk=True,
    )

    def save() -> dict[str, int]:
        insert_built(built)
        return by_key

    return by_key, save


def _create_facilities(new: list[tuple[str, dict[str, Any]]], key_field: str) -> dict[str, int]:
    """Insert facilities keyed by their official identifier; their new ids by identifier."""
    insert_rows(Facility, [{key_field: key, **cur, **_derived(cur)} for key, cur in new])
    return dict(_in(Facility, key_field, [key for key, _ in new]).values_list(key_field, "id"))


def _facility_updates(
    changed: list[tuple[int, dict[str, Any], dict[str, Any]]],
) -> list[tuple[int, dict[str, Any]]]:
    return [(pk, {**cur, **_derived({**extra, **cur})}) for pk, cur, extra in changed]


def _update_facilities(updates: list[tuple[int, dict[str, Any]]], fields: tuple[str, ...]) -> None:
    """Write only the official fields; version is bumped so an open edit form sees the change."""
    update_rows(Facility, [*fields, "search_text", "geo_cell"], updates, increment=("version",))
