from __future__ import annotations

from django.db import migrations

# Shared topic categories every desk starts with; desks add their own beside these.
DEFAULT_TOPICS = [
    "在宅医・かかりつけ医の紹介",
    "訪問看護",
    "介護サービス・施設",
    "入退院・転院の調整",
    "医療処置・服薬",
    "認知症",
    "精神疾患",
    "看取り・ACP（人生会議）",
    "急変時の対応",
    "費用・制度",
    "家族の介護負担",
    "関係機関との連携",
    "その他",
]


def add_topics(apps, schema_editor):
    Topic = apps.get_model("desk", "Topic")
    for i, name in enumerate(DEFAULT_TOPICS, start=1):
        Topic.objects.get_or_create(desk=None, name=name, defaults={"sort_order": i * 10})


def remove_topics(apps, schema_editor):
    Topic = apps.get_model("desk", "Topic")
    Topic.objects.filter(desk=None, name__in=DEFAULT_TOPICS).delete()


class Migration(migrations.Migration):
    dependencies = [("desk", "0001_initial")]
    operations = [migrations.RunPython(add_topics, remove_topics)]
