"""A point for every municipality of Japan (regions/data/municipality-points.json, ADR 0041), so
that distance and postal-code searches work outside Kanagawa and Iwate."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def load(apps: Any, schema_editor: Any) -> None:
    from renkei.regions.loader import load_points

    load_points(apps)


class Migration(migrations.Migration):
    dependencies = [("regions", "0002_load_reference_data")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
