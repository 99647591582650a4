from __future__ import annotations

from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "renkei.directory"
    verbose_name = "医療・介護資源"
