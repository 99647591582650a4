"""Shared topic categories every desk starts with (migration 0002 holds a frozen copy)."""

from __future__ import annotations

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


def ensure_default_topics() -> None:
    """Put the shared topics back after a transactional test flushed the migration's rows."""
    from renkei.desk.models import Topic

    for i, name in enumerate(DEFAULT_TOPICS, start=1):
        Topic.objects.get_or_create(desk=None, name=name, defaults={"sort_order": i * 10})
