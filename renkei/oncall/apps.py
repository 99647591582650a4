from __future__ import annotations

from django.apps import AppConfig


class OncallConfig(AppConfig):
    name = "renkei.oncall"
    verbose_name = "当番・急変時対応"

    def ready(self) -> None:
        from renkei.accounts import menu
        from renkei.accounts.models import AUDIT_ACTION_LABELS
        from renkei.care import panels
        from renkei.oncall.cover_views import chain_panel

        AUDIT_ACTION_LABELS.update(
            {
                "oncall.cover_saved": "主治医・副主治医の取り決めの記録",
                "oncall.absence_recorded": "不在の記録",
            }
        )
        panels.register(chain_panel)

        menu.register(
            menu.Entry("oncall:home", "当番表", order=45, badge="renkei.oncall.views.pending_swaps")
        )
