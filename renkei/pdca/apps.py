from __future__ import annotations

from django.apps import AppConfig

AUDIT_LABELS = {
    "pdca.survey_sent": "市町村調査の送付",
    "pdca.response_saved": "市町村調査の回答（下書き保存）",
    "pdca.response_submitted": "市町村調査の回答の提出",
    "pdca.value_entered": "指標の値の入力",
    "pdca.compute_started": "指標の算出の開始",
    "pdca.population_imported": "65歳以上人口の取込み（住民基本台帳）",
}


class PdcaConfig(AppConfig):
    name = "renkei.pdca"
    label = "pdca"
    verbose_name = "調査・指標（PDCA）"

    def ready(self) -> None:
        from renkei.accounts import menu
        from renkei.accounts.models import AUDIT_ACTION_LABELS

        AUDIT_ACTION_LABELS.update(AUDIT_LABELS)
        from renkei.pdca import fhir

        fhir.register()
        menu.register(
            menu.Entry(
                "pdca:home",
                "調査・指標",
                order=65,
                visible="renkei.pdca.access.is_government",
            )
        )
