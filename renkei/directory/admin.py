from __future__ import annotations

from django.contrib import admin

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
