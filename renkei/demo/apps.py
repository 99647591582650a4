from __future__ import annotations

from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo region and the `seed_demo` command. It depends on every feature app; nothing
    depends on it."""

    name = "renkei.demo"
    verbose_name = "デモデータ"
