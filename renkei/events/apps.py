from __future__ import annotations

from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "renkei.events"
    verbose_name = "研修・普及啓発"
