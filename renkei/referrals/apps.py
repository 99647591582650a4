from __future__ import annotations

from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "renkei.referrals"
    verbose_name = "入退院支援"

    def ready(self) -> None:
        from renkei.accounts import menu

        menu.register(
            menu.Entry(
                "referrals:home",
                "入退院支援",
                order=10,
                badge="renkei.referrals.models.unread_badge",
            )
        )
