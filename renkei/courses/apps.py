from __future__ import annotations

from django.apps import AppConfig

AUDIT_LABELS = {
    "courses.course_created": "研修コースの作成",
    "courses.attendance_marked": "研修（日程）の出席の記録",
    "courses.certificates_issued": "修了証の発行",
    "courses.certificate_revoked": "修了証の取消",
    "courses.round_viewed": "研修の回の受講者一覧の閲覧",
    "courses.completers_exported": "修了者一覧の書き出し",
}


class CoursesConfig(AppConfig):
    name = "renkei.courses"
    verbose_name = "研修コース・専門職派遣・普及啓発資料"

    def ready(self) -> None:
        from renkei.accounts import menu
        from renkei.accounts.models import AUDIT_ACTION_LABELS

        AUDIT_ACTION_LABELS.update(AUDIT_LABELS)
        menu.register(menu.Entry("courses:manage", "研修コース", order=31))
