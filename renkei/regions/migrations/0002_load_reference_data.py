from __future__ import annotations

from typing import Any

from django.db import migrations


def load(apps: Any, schema_editor: Any) -> None:
    from renkei.regions.loader import load_regions

    load_regions(apps)


def unload(apps: Any, schema_editor: Any) -> None:
    apps.get_model("regions", "Municipality").objects.update(parent=None)
    for name in ("Municipality", "SecondaryArea", "Prefecture"):
        apps.get_model("regions", name).objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("regions", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
