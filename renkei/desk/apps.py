from __future__ import annotations

from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "renkei.desk"
    verbose_name = "相談窓口"

    def ready(self) -> None:
        from renkei.accounts import menu, named
        from renkei.desk.models import consultation_readers

        menu.register(menu.Entry("desk:home", "相談窓口", order=20))
        named.register(
            named.NamedRead("desk.consultations", "氏名入りの相談記録", consultation_readers)
        )
