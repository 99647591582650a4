"""Setting up desks is a system administrator's job; case records never appear here."""

from __future__ import annotations

from django.contrib import admin

from renkei.desk.models import Desk, Topic


@admin.register(Desk)
class DeskAdmin(admin.ModelAdmin[Desk]):
    list_display = ["name", "organization", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "organization__name"]
    raw_id_fields = ["organization"]
    filter_horizontal = ["contractors", "municipalities"]


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin[Topic]):
    list_display = ["name", "desk", "sort_order", "is_active"]
    list_filter = ["is_active"]
    raw_id_fields = ["desk"]
