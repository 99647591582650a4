from __future__ import annotations

from django.apps import AppConfig

AUDIT_LABELS = {
    "care.partner_list_published": "連携先一覧の公開",
    "care.partner_list_withdrawn": "連携先一覧の公開停止",
    "care.patient_created": "患者の登録",
    "care.patient_updated": "患者情報の更新",
    "care.patient_from_case": "入退院支援の案件からの患者登録",
    "care.patient_viewed": "患者情報の閲覧",
    "care.patients_listed": "患者一覧の閲覧",
    "care.break_glass": "緊急時の閲覧",
    "care.team_invited": "ケアチームへの招待",
    "care.team_joined": "ケアチームへの参加",
    "care.team_declined": "ケアチームへの招待の辞退",
    "care.team_left": "ケアチームからの離脱",
    "care.team_removed": "ケアチームからの除外",
    "care.consent_recorded": "同意の記録",
    "care.consent_revoked": "同意の撤回",
    "care.consent_form_viewed": "同意書の閲覧",
    "care.post_created": "タイムラインへの投稿",
    "care.emergency_sheet_saved": "救急医療情報シートの更新",
    "care.acp_saved": "人生会議（ACP）記録の更新",
    "care.form_created": "連携様式の作成",
    "care.form_saved": "連携様式の保存",
    "care.form_sent": "連携様式の送付",
    "care.form_received": "連携様式の受領（開封）",
    "care.form_replied": "連絡票への返信",
    "care.provisions_purged": "第三者提供記録の削除（保存期間満了）",
}


class CareConfig(AppConfig):
    name = "renkei.care"
    verbose_name = "多職種連携（患者情報共有）"

    def ready(self) -> None:
        from django.db.models import Q

        from renkei.accounts import menu, named
        from renkei.accounts.models import AUDIT_ACTION_LABELS
        from renkei.care.models.patients import CARE_ROLES

        AUDIT_ACTION_LABELS.update(AUDIT_LABELS)
        from renkei.accounts import tokens
        from renkei.care.fhir import RESOURCES
        from renkei.lib import fhir

        # fhir:read opens these types, and no other app's (ADR 0044).
        tokens.register_fhir_types([kind for kind, _ in RESOURCES])
        for kind, params in RESOURCES:
            fhir.register(
                kind,
                params,
                "患者情報共有（ログインと二要素認証、または範囲 fhir:read のAPIトークン"
                "（Authorization: Bearer）が必要。チームの範囲のみ）",
            )
        menu.register(
            menu.Entry(
                "care:home",
                "患者情報共有",
                order=50,
                badge="renkei.care.models.unread_badge",
                visible="renkei.care.models.patients.may_use_care",
            )
        )
        # Any of the care professions may open a patient (on the team, or break-glass).
        named.register(
            named.NamedRead(
                "care.patients", "患者情報", lambda: Q(role__in=CARE_ROLES), roles=CARE_ROLES
            )
        )
