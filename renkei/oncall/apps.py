from __future__ import annotations

from django.apps import AppConfig


class OncallConfig(AppConfig):
    name = "renkei.oncall"
    verbose_name = "当番・急変時対応"

    def ready(self) -> None:
        from renkei.accounts import menu

        menu.register(
            menu.Entry("oncall:home", "当番表", order=45, badge="renkei.oncall.views.pending_swaps")
        )
