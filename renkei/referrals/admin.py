"""Read-mostly admin: workflow changes go through actions.py (audited), not through these forms."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from renkei.referrals.models import (
    PlacementCase,
    PlacementRequest,
    Survey,
    SurveyResponse,
)


class ReadOnly(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PlacementCase)
class PlacementCaseAdmin(ReadOnly):
    list_display = ["code", "hospital", "status", "age_band", "sex", "residence", "created_at"]
    list_filter = ["status"]
    search_fields = ["code"]


@admin.register(PlacementRequest)
class PlacementRequestAdmin(ReadOnly):
    list_display = ["code", "case", "facility", "status", "sent_at", "answered_at"]
    list_filter = ["status"]


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin[Survey]):
    list_display = ["title", "owner", "opens_on", "closes_on"]
    raw_id_fields = ["owner", "created_by"]


@admin.register(SurveyResponse)
class SurveyResponseAdmin(ReadOnly):
    list_display = ["survey", "organization", "satisfaction", "minutes_before", "minutes_now"]
