from __future__ import annotations

from typing import Any

from django.db import migrations


def load(apps: Any, schema_editor: Any) -> None:
    from renkei.directory.vocabulary import BASE_CAPABILITIES

    Capability = apps.get_model("directory", "Capability")
    for i, (code, name, group) in enumerate(BASE_CAPABILITIES):
        Capability.objects.create(code=code, name=name, group=group, bit=i, sort_order=i * 10)


def unload(apps: Any, schema_editor: Any) -> None:
    apps.get_model("directory", "Capability").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("directory", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
