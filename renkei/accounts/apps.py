from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "renkei.accounts"
    verbose_name = "組織・利用者"

    def ready(self) -> None:
        from django.db.models import Q

        from renkei.accounts import (
            named,
            signals,  # noqa: F401  (connects auth audit receivers)
        )
        from renkei.accounts.models import AUDIT_ROLES

        # The audit log names who looked at which records; an organisation's administrator
        # chooses who reads its named records and so may always read them.
        named.register(
            named.NamedRead(
                "accounts.audit_log",
                "監査ログ",
                lambda: Q(role__in=AUDIT_ROLES),
                roles=AUDIT_ROLES,
            )
        )
        named.register(
            named.NamedRead("accounts.org_admin", "組織の管理者", lambda: Q(is_org_admin=True))
        )
