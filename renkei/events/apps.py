from __future__ import annotations

from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "renkei.events"
    verbose_name = "研修・普及啓発"

    def ready(self) -> None:
        from renkei.accounts import menu, named
        from renkei.events.models import applicant_readers

        menu.register(menu.Entry("events:manage", "研修・イベント", order=30))
        named.register(
            named.NamedRead("events.applicants", "研修・講座の申込者", applicant_readers)
        )
