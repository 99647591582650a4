from __future__ import annotations

from django.apps import AppConfig


class MentoringConfig(AppConfig):
    name = "renkei.mentoring"
    verbose_name = "同行研修"
