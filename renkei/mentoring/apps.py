from __future__ import annotations

from django.apps import AppConfig


class MentoringConfig(AppConfig):
    name = "renkei.mentoring"
    verbose_name = "同行研修"

    def ready(self) -> None:
        from renkei.accounts import menu

        menu.register(menu.Entry("mentoring:home", "同行研修", order=40))
