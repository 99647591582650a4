"""Model instances from rows of written SQL, as the ORM builds them (ADR 0060, 0069).

For statements written out because compiling their QuerySet cost more CPU than running them:
each model's columns listed in the order `ModelReader.build` reads them, its fields'
converters applied (SQLite returns dates, UUIDs and booleans as text and numbers; PostgreSQL as
Python values), then `Model.from_db`, so the instance is the one a QuerySet would have made.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections, models


@dataclass(frozen=True)
class ModelReader:
    model: type[models.Model]
    names: list[str]
    converters: list[list[tuple[Callable[..., Any], Any]]]

    def build(self, db: str, values: Sequence[Any], connection: Any) -> Any:
        converted = list(values)
        for i, fns in enumerate(self.converters):
            for fn, col in fns:
                converted[i] = fn(converted[i], col, connection)
        return self.model.from_db(db, self.names, converted)


@functools.cache
def reader(model: type[models.Model], vendor: str) -> ModelReader:
    """The model's reader for a backend, built once per process."""
    connection = next(c for c in connections.all() if c.vendor == vendor)
    fields = model._meta.concrete_fields
    return ModelReader(
        model,
        [f.attname for f in fields],
        [
            [
                (fn, f.cached_col)
                for fn in connection.ops.get_db_converters(f.cached_col)
                + f.get_db_converters(connection)
            ]
            for f in fields
        ],
    )


def columns(alias: str, model: type[models.Model]) -> str:
    """The model's columns under `alias`, in its reader's order."""
    return ", ".join(f'{alias}."{f.column}"' for f in model._meta.concrete_fields)
