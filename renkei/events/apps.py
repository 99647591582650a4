from __future__ import annotations

from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "renkei.events"
    verbose_name = "研修・普及啓発"

    def ready(self) -> None:
        from renkei.accounts import menu

        menu.register(menu.Entry("events:manage", "研修・イベント", order=30))
