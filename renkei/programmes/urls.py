from __future__ import annotations

from django.urls import path

from renkei.programmes import views

app_name = "programmes"

urlpatterns = [
    path("", views.home, name="home"),
    path("tables/new/", views.table_edit, name="table_new"),
    path("tables/<uuid:code>/", views.table_detail, name="table"),
    path("tables/<uuid:code>/edit/", views.table_edit, name="table_edit"),
    path("tables/<uuid:code>/print/", views.table_print, name="table_print"),
    path("tables/<uuid:code>/export.<str:fmt>", views.table_export, name="table_export"),
    path("tables/<uuid:code>/rollover/", views.table_rollover, name="table_rollover"),
    path("tables/<uuid:table_code>/lines/new/", views.line_edit, name="line_new"),
    path("lines/<uuid:code>/", views.line_edit, name="line"),
    path("lines/<uuid:code>/delete/", views.line_delete, name="line_delete"),
    path("lines/<uuid:code>/budget/", views.budget_add, name="budget_add"),
    path("budget/<uuid:code>/delete/", views.budget_delete, name="budget_delete"),
    path("imports/new/", views.import_new, name="import_new"),
    path("imports/<uuid:code>/", views.import_detail, name="import"),
    path("bodies/new/", views.body_edit, name="body_new"),
    path("bodies/<uuid:code>/", views.body_detail, name="body"),
    path("bodies/<uuid:code>/edit/", views.body_edit, name="body_edit"),
    path("bodies/<uuid:code>/members/", views.member_add, name="member_add"),
    path("bodies/<uuid:code>/schedule/", views.schedule, name="schedule"),
    path("bodies/<uuid:body_code>/meetings/new/", views.meeting_edit, name="meeting_new"),
    path("members/<uuid:code>/remove/", views.member_remove, name="member_remove"),
    path("meetings/<uuid:code>/", views.meeting_detail, name="meeting"),
    path("meetings/<uuid:code>/edit/", views.meeting_edit, name="meeting_edit"),
    path("meetings/<uuid:code>/notice/", views.meeting_notice, name="meeting_notice"),
    path("meetings/<uuid:code>/attendance/", views.attendance, name="attendance"),
    path("meetings/<uuid:code>/decisions/", views.decision_add, name="decision_add"),
    path("meetings/<uuid:code>/materials/", views.material_add, name="material_add"),
    path("materials/<uuid:code>/", views.material_download, name="material"),
    path("materials/<uuid:code>/delete/", views.material_delete, name="material_delete"),
    path("issues/new/", views.issue_edit, name="issue_new"),
    path("issues/trace/", views.trace_print, name="trace_all"),
    path("issues/<uuid:code>/", views.issue_detail, name="issue"),
    path("issues/<uuid:code>/edit/", views.issue_edit, name="issue_edit"),
    path("issues/<uuid:code>/trace/", views.trace_print, name="trace"),
    path("issues/<uuid:issue_code>/measures/new/", views.measure_edit, name="measure_new"),
    path("measures/<uuid:code>/", views.measure_edit, name="measure"),
    path("measures/<uuid:code>/progress/", views.progress_add, name="progress_add"),
]
