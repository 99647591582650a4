from __future__ import annotations

from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "renkei.referrals"
    verbose_name = "入退院支援"
