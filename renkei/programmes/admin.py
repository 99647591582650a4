from __future__ import annotations

from django.contrib import admin

from renkei.programmes.models import FundingSource


@admin.register(FundingSource)
class FundingSourceAdmin(admin.ModelAdmin[FundingSource]):
    """財源 are data: an operator adds a prefecture's own fund here without a release."""

    list_display = ("name", "short_name", "sort_order", "is_active")
    list_editable = ("sort_order", "is_active")
