from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from renkei.directory.models import Capability, Facility, ImportRun


@admin.register(Capability)
class CapabilityAdmin(admin.ModelAdmin[Capability]):
    list_display = ["code", "name", "group", "prefecture", "bit", "sort_order"]


@admin.register(Facility)
class FacilityAdmin(admin.ModelAdmin[Facility]):
    list_display = ["name", "kind", "municipality", "vacancy_status", "vacancy_confirmed_at"]
    list_filter = ["kind", "vacancy_status"]
    search_fields = ["name", "kana", "medical_id", "care_office_number"]
    raw_id_fields = ["municipality", "organization", "vacancy_confirmed_by", "info_updated_by"]
    filter_horizontal = ["capabilities"]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # The search and the matching read capability_mask, not the link table.
        form.instance.set_capabilities(form.instance.capabilities.all())


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin[ImportRun]):
    list_display = [
        "filename",
        "format",
        "status",
        "created",
        "updated",
        "unchanged",
        "rejected",
        "started_at",
    ]
