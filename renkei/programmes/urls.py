from __future__ import annotations

from django.urls import path

from renkei.programmes import issue_views, meeting_views, views

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
    path("lines/<uuid:code>/results/", views.line_results, name="line_results"),
    path("lines/<uuid:code>/contractors/", views.contractor_add, name="contractor_add"),
    path(
        "lines/<uuid:code>/contractors/<uuid:org>/remove/",
        views.contractor_remove,
        name="contractor_remove",
    ),
    path("lines/<uuid:code>/budget/", views.budget_add, name="budget_add"),
    path("budget/<uuid:code>/delete/", views.budget_delete, name="budget_delete"),
    path("imports/new/", views.import_new, name="import_new"),
    path("imports/<uuid:code>/", views.import_detail, name="import"),
    path("bodies/new/", meeting_views.body_edit, name="body_new"),
    path("bodies/<uuid:code>/", meeting_views.body_detail, name="body"),
    path("bodies/<uuid:code>/edit/", meeting_views.body_edit, name="body_edit"),
    path("bodies/<uuid:code>/members/", meeting_views.member_add, name="member_add"),
    path("bodies/<uuid:code>/schedule/", meeting_views.schedule, name="schedule"),
    path("bodies/<uuid:body_code>/meetings/new/", meeting_views.meeting_edit, name="meeting_new"),
    path("members/<uuid:code>/remove/", meeting_views.member_remove, name="member_remove"),
    path("meetings/<uuid:code>/", meeting_views.meeting_detail, name="meeting"),
    path("meetings/<uuid:code>/edit/", meeting_views.meeting_edit, name="meeting_edit"),
    path("meetings/<uuid:code>/notice/", meeting_views.meeting_notice, name="meeting_notice"),
    path("meetings/<uuid:code>/attendance/", meeting_views.attendance, name="attendance"),
    path("meetings/<uuid:code>/decisions/", meeting_views.decision_add, name="decision_add"),
    path("meetings/<uuid:code>/materials/", meeting_views.material_add, name="material_add"),
    path("materials/<uuid:code>/", meeting_views.material_download, name="material"),
    path("materials/<uuid:code>/delete/", meeting_views.material_delete, name="material_delete"),
    path("issues/new/", issue_views.issue_edit, name="issue_new"),
    path("issues/trace/", issue_views.trace_print, name="trace_all"),
    path("issues/<uuid:code>/", issue_views.issue_detail, name="issue"),
    path("issues/<uuid:code>/edit/", issue_views.issue_edit, name="issue_edit"),
    path("issues/<uuid:code>/trace/", issue_views.trace_print, name="trace"),
    path("issues/<uuid:issue_code>/measures/new/", issue_views.measure_edit, name="measure_new"),
    path("measures/<uuid:code>/", issue_views.measure_edit, name="measure"),
    path("measures/<uuid:code>/progress/", issue_views.progress_add, name="progress_add"),
]
