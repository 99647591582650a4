from __future__ import annotations

import importlib

import pytest

from renkei.desk.models import Topic
from renkei.desk.vocabulary import DEFAULT_TOPICS

pytestmark = pytest.mark.django_db


def test_migration_and_vocabulary_agree() -> None:
    """The data migration's frozen list is the vocabulary the builders restore."""
    migration = importlib.import_module("renkei.desk.migrations.0002_default_topics")
    assert migration.DEFAULT_TOPICS == DEFAULT_TOPICS
    assert list(Topic.objects.filter(desk=None).values_list("name", flat=True)) == DEFAULT_TOPICS
