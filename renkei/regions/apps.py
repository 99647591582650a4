from __future__ import annotations

from django.apps import AppConfig


class RegionsConfig(AppConfig):
    name = "renkei.regions"
    verbose_name = "地域"
