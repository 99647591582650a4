"""`manage.py migrate` as the owner role when DATABASE_MIGRATE_URL is set (ADR 0015).

The web servers and workers connect as an app role that owns no table; schema changes, and
the triggers that keep the audit log append-only, belong to the owner role, whose credentials
only this command uses.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db import DEFAULT_DB_ALIAS, connections

CREDENTIALS = ("USER", "PASSWORD", "HOST", "PORT")


class Command(DjangoMigrate):
    def handle(self, *args: Any, **options: Any) -> None:
        owner = getattr(settings, "MIGRATION_DATABASE", None)
        if not owner or options["database"] != DEFAULT_DB_ALIAS:
            super().handle(*args, **options)
            return
        connection = connections[DEFAULT_DB_ALIAS]
        saved = {key: connection.settings_dict[key] for key in CREDENTIALS}
        connection.close()
        connection.settings_dict.update({key: owner[key] for key in CREDENTIALS})
        try:
            super().handle(*args, **options)
        finally:
            connection.close()
            connection.settings_dict.update(saved)
