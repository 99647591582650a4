from __future__ import annotations

from django.apps import AppConfig


class MentoringConfig(AppConfig):
    name = "renkei.mentoring"
    verbose_name = "同行研修"

    def ready(self) -> None:
        from renkei.accounts import menu, named
        from renkei.mentoring.models import application_readers

        menu.register(menu.Entry("mentoring:home", "同行研修", order=40))
        named.register(
            named.NamedRead("mentoring.applications", "同行研修の申込者", application_readers)
        )
