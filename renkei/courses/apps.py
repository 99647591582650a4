from __future__ import annotations

from django.apps import AppConfig

AUDIT_LABELS = {
    "courses.course_created": "研修コースの作成",
    "courses.course_updated": "研修コースの変更",
    "courses.course_deleted": "研修コースの削除",
    "courses.round_added": "研修の回の追加",
    "courses.round_updated": "研修の回の変更",
    "courses.round_deleted": "研修の回の削除",
    "courses.session_added": "研修の日程の追加",
    "courses.session_updated": "研修の日程の変更",
    "courses.session_deleted": "研修の日程の削除",
    "courses.proxy_applied": "研修の回への申込の代理入力（FAX・郵送・電話）",
    "courses.cancelled": "研修の回の申込の取消",
    "courses.attendance_marked": "研修（日程）の出席の記録",
    "courses.session_sheet_printed": "研修（日程）の出席簿の印刷",
    "courses.certificates_issued": "修了証の発行",
    "courses.certificate_revoked": "修了証の取消",
    "courses.round_viewed": "研修の回の受講者一覧の閲覧",
    "courses.completers_exported": "修了者一覧の書き出し",
    "courses.specialist_added": "派遣専門職の名簿への追加",
    "courses.dispatch_requested": "専門職派遣の依頼",
    "courses.dispatch_decided": "専門職派遣の決定・見送り",
    "courses.dispatch_withdrawn": "専門職派遣の依頼の取下げ",
    "courses.dispatch_reported": "専門職派遣の実施報告",
    "courses.dispatch_fee_recorded": "専門職派遣の謝金の記録",
    "courses.material_version_added": "資料（版）の公開",
}


class CoursesConfig(AppConfig):
    name = "renkei.courses"
    verbose_name = "研修コース・専門職派遣・普及啓発資料"

    def ready(self) -> None:
        from renkei.accounts import menu
        from renkei.accounts.models import AUDIT_ACTION_LABELS
        from renkei.courses.models import round_owners
        from renkei.events.models import register_owner

        AUDIT_ACTION_LABELS.update(AUDIT_LABELS)
        register_owner(round_owners)
        menu.register(menu.Entry("courses:manage", "研修コース", order=31))
        menu.register(menu.Entry("courses:dispatch", "専門職派遣", order=32))
        menu.register(menu.Entry("materials:manage", "資料の公開", order=33))
