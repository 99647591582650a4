"""Re-seal every encrypted column with the first key of FIELD_ENCRYPTION_KEYS (ADR 0027).

A rotation: put the new key first in FIELD_ENCRYPTION_KEYS (keep the old one after it), run
this command, check that it reports nothing left, then drop the old key. It reads the raw
tokens, so it only touches values sealed with another key, and may be interrupted and run
again. Blind indexes use BLIND_INDEX_KEY and are not affected.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from renkei.lib import crypto
from renkei.lib.fields import EncryptedTextField

BATCH = 500


def encrypted_columns() -> list[tuple[Any, list[EncryptedTextField]]]:
    found = []
    for model in apps.get_models():
        fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if fields:
            found.append((model, fields))
    return found


def rotate(model: Any, fields: list[EncryptedTextField]) -> int:
    """Re-seal the rows of `model` that hold a value under an older key; returns how many."""
    table = connection.ops.quote_name(model._meta.db_table)
    pk = model._meta.pk.column
    columns = ", ".join(connection.ops.quote_name(f.column or f.name) for f in fields)
    last = None
    done = 0
    while True:
        with connection.cursor() as cursor:
            where = f"WHERE {connection.ops.quote_name(pk)} > %s " if last is not None else ""
            # Names come from the model's meta, quoted; the key is a parameter.
            cursor.execute(
                f"SELECT {connection.ops.quote_name(pk)}, {columns} FROM {table} {where}"  # noqa: S608
                f"ORDER BY {connection.ops.quote_name(pk)} LIMIT {BATCH}",
                [last] if last is not None else [],
            )
            rows = cursor.fetchall()
        if not rows:
            return done
        with transaction.atomic():
            for row in rows:
                last = row[0]
                stale = [
                    f
                    for f, token in zip(fields, row[1:], strict=True)
                    if token is not None and crypto.needs_rotation(token)
                ]
                if not stale:
                    continue
                obj = model._base_manager.filter(pk=last).only(*[f.attname for f in stale]).get()
                values = {f.attname: getattr(obj, f.attname) for f in stale}
                # QuerySet.update seals through the field, with the current key.
                model._base_manager.filter(pk=last).update(**values)
                done += 1


class Command(BaseCommand):
    help = "暗号化した項目を、FIELD_ENCRYPTION_KEYS の先頭の鍵で暗号化し直します"

    def handle(self, *args: Any, **options: Any) -> None:
        current = crypto.keyring().current
        total = 0
        for model, fields in encrypted_columns():
            n = rotate(model, fields)
            total += n
            self.stdout.write(f"{model._meta.label}: {n}件を鍵 {current} で再暗号化しました")
        self.stdout.write(self.style.SUCCESS(f"合計 {total}件"))
