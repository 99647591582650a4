from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "renkei.accounts"
    verbose_name = "組織・利用者"

    def ready(self) -> None:
        from renkei.accounts import signals  # noqa: F401  (connects auth audit receivers)
