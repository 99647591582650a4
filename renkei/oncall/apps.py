from __future__ import annotations

from django.apps import AppConfig

AUDIT_LABELS = {
    "oncall.rota_saved": "当番表の設定",
    "oncall.member_added": "当番表への参加機関の追加",
    "oncall.member_removed": "当番表からの参加機関の除外",
    "oncall.rule_added": "当番枠の規則の追加",
    "oncall.unavailable_marked": "当番に入れない日の登録",
    "oncall.month_generated": "当番表（月）の下書き作成",
    "oncall.month_published": "当番表（月）の公開",
    "oncall.shift_assigned": "当番の変更",
    "oncall.period_overridden": "期間の当番の一括変更",
    "oncall.swap_requested": "当番交代の申し出",
    "oncall.swap_answered": "当番交代への回答",
    "oncall.swap_decided": "当番交代の承認・不承認",
}


class OncallConfig(AppConfig):
    name = "renkei.oncall"
    verbose_name = "当番・急変時対応"

    def ready(self) -> None:
        from renkei.accounts import menu
        from renkei.accounts.models import AUDIT_ACTION_LABELS
        from renkei.care import panels
        from renkei.care.actions.emergency import register_contacts
        from renkei.oncall import cover
        from renkei.oncall.cover_views import chain_panel

        AUDIT_ACTION_LABELS.update(AUDIT_LABELS)
        AUDIT_ACTION_LABELS.update(
            {
                "oncall.cover_saved": "主治医・副主治医の取り決めの記録",
                "oncall.absence_recorded": "不在の記録",
            }
        )
        panels.register(chain_panel)
        register_contacts(cover.doctor_contacts)

        menu.register(
            menu.Entry("oncall:home", "当番表", order=45, badge="renkei.oncall.views.pending_swaps")
        )
