from __future__ import annotations

from typing import Any

from django.db import migrations

# Copied, not imported: a migration keeps the rows it was written with.
SOURCES = [
    ("地域医療介護総合確保基金（医療分）", "基金（医療）"),
    ("地域医療介護総合確保基金（介護分）", "基金（介護）"),
    ("地域医療再生基金", "再生基金"),
    ("地域支援事業交付金", "地域支援事業"),
    ("国庫補助金", "国庫"),
    ("一般財源", "一般財源"),
    ("その他", "その他"),
]


def load(apps: Any, schema_editor: Any) -> None:
    FundingSource = apps.get_model("programmes", "FundingSource")
    for i, (name, short) in enumerate(SOURCES):
        FundingSource.objects.get_or_create(
            name=name, defaults={"short_name": short, "sort_order": (i + 1) * 10}
        )


class Migration(migrations.Migration):
    dependencies = [("programmes", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
