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
    "oncall.bed_offer_saved": "後方ベッドの提供の登録・変更",
    "oncall.bed_registered": "後方ベッドへの患者の事前登録",
    "oncall.bed_decided": "後方ベッドの事前登録への回答",
    "oncall.bed_information_sent": "後方ベッド登録患者の情報交換",
    "oncall.bed_used": "後方ベッドの利用の記録",
    "oncall.bed_ended": "後方ベッドの登録の終了",
    "oncall.cooperation_saved": "協力医療機関の記録",
    "oncall.cooperation_confirmed": "協力医療機関との年1回の確認の記録",
    "oncall.cover_search_posted": "副主治医の募集",
    "oncall.cover_volunteered": "副主治医の募集への名乗り出",
    "oncall.cover_search_decided": "副主治医の募集の決定（取り決めの記録）",
    "oncall.cover_search_withdrawn": "副主治医の募集の取下げ",
    "oncall.cover_shared": "副主治医との診療情報・急変時の方針の共有の記録",
}


class OncallConfig(AppConfig):
    name = "renkei.oncall"
    verbose_name = "当番・急変時対応"

    def ready(self) -> None:
        from renkei.accounts import menu
        from renkei.accounts.models import AUDIT_ACTION_LABELS
        from renkei.care import panels
        from renkei.care.actions.emergency import register_contacts
        from renkei.oncall import cover, fhir
        from renkei.oncall.cover_views import chain_panel

        AUDIT_ACTION_LABELS.update(AUDIT_LABELS)
        AUDIT_ACTION_LABELS.update(
            {
                "oncall.cover_saved": "主治医・副主治医の取り決めの記録",
                "oncall.absence_recorded": "不在の記録",
            }
        )
        panels.register(chain_panel)
        fhir.register()
        register_contacts(cover.doctor_contacts)

        menu.register(
            menu.Entry(
                "oncall:home", "当番表", order=45, badge="renkei.oncall.views.pending_swaps_badge"
            )
        )
