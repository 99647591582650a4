from __future__ import annotations

from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "renkei.desk"
    verbose_name = "相談窓口"
