from __future__ import annotations

from django.apps import AppConfig

AUDIT_LABELS = {
    "programmes.table_saved": "事業一覧の保存",
    "programmes.table_rolled_over": "事業一覧の翌年度への引き継ぎ",
    "programmes.line_saved": "事業の保存",
    "programmes.line_removed": "事業の削除",
    "programmes.results_entered": "事業の実績の入力",
    "programmes.contractor_saved": "事業の受託者の設定",
    "programmes.contractor_removed": "事業の受託者の解除",
    "programmes.budget_saved": "予算（財源別）の保存",
    "programmes.budget_removed": "予算（財源別）の削除",
    "programmes.import_started": "事業一覧の取込み（開始）",
    "programmes.import_finished": "事業一覧の取込み（完了）",
    "programmes.body_saved": "会議体の保存",
    "programmes.member_saved": "会議体の構成員の保存",
    "programmes.member_removed": "会議体の構成員の除外",
    "programmes.meeting_saved": "会議の保存",
    "programmes.meeting_notice_sent": "会議の開催通知",
    "programmes.attendance_saved": "会議の出欠の記録",
    "programmes.decision_saved": "会議の決定事項の記録",
    "programmes.material_added": "会議資料の追加",
    "programmes.material_removed": "会議資料の削除",
    "programmes.issue_saved": "課題の保存",
    "programmes.countermeasure_saved": "対応策の保存",
    "programmes.progress_noted": "対応策の進捗の記録",
}


class ProgrammesConfig(AppConfig):
    name = "renkei.programmes"
    verbose_name = "事業管理（事業一覧・会議・課題）"

    def ready(self) -> None:
        from renkei.accounts import menu
        from renkei.accounts.models import AUDIT_ACTION_LABELS

        AUDIT_ACTION_LABELS.update(AUDIT_LABELS)
        menu.register(
            menu.Entry(
                "programmes:home",
                "事業管理",
                order=60,
                visible="renkei.programmes.access.sees_programmes",
            )
        )
