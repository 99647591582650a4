from __future__ import annotations

from django.urls import path

from renkei.desk import views

app_name = "desk"
urlpatterns = [
    path("", views.home, name="home"),
    path("resources/", views.resource_picker, name="resources"),
    path("<uuid:desk>/", views.dashboard, name="dashboard"),
    path("<uuid:desk>/consultations/", views.consultation_list, name="list"),
    path("<uuid:desk>/consultations/new/", views.consultation_new, name="new"),
    path("<uuid:desk>/consultations.<str:fmt>", views.export, name="export"),
    path("<uuid:desk>/topics/", views.topics, name="topics"),
    path("<uuid:desk>/tally/", views.tally, name="tally"),
    path("<uuid:desk>/tally.<str:fmt>", views.tally_export, name="tally_export"),
    path("<uuid:desk>/report/", views.report, name="report"),
    path("c/<uuid:code>/", views.consultation_detail, name="detail"),
    path("c/<uuid:code>/edit/", views.consultation_edit, name="edit"),
    path("c/<uuid:code>/confirm/", views.consultation_confirm, name="confirm"),
    path("c/<uuid:code>/followups/", views.followup_add, name="followup_add"),
    path("c/<uuid:code>/versions/<int:number>/", views.version_detail, name="version"),
    path("followups/<int:pk>/done/", views.followup_done, name="followup_done"),
]
