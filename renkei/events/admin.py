from __future__ import annotations

from django.contrib import admin

from renkei.events.models import Applicant, Application, Event, Feedback, Lecturer


class LecturerInline(admin.TabularInline[Lecturer, Event]):
    model = Lecturer
    extra = 0


@admin.register(Event)
class EventAdmin(admin.ModelAdmin[Event]):
    list_display = ["title", "kind", "organization", "starts_at", "capacity", "published"]
    list_filter = ["kind", "published"]
    search_fields = ["title"]
    raw_id_fields = ["organization", "municipality", "created_by"]
    inlines = [LecturerInline]


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin[Application]):
    list_display = ["event", "office_name", "status", "source", "created_at"]
    list_filter = ["status", "source"]
    raw_id_fields = ["event"]
    exclude = ["cancel_token"]


@admin.register(Applicant)
class ApplicantAdmin(admin.ModelAdmin[Applicant]):
    list_display = ["event", "position", "occupation", "status", "attended"]
    list_filter = ["status", "occupation", "attended"]
    raw_id_fields = ["event", "application"]


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin[Feedback]):
    list_display = ["event", "satisfaction", "usefulness", "created_at"]
    raw_id_fields = ["event", "applicant"]
