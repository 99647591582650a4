from __future__ import annotations

from django.urls import path

from renkei.mentoring import views

app_name = "mentoring"
urlpatterns = [
    path("", views.home, name="home"),
    path("programs/new/", views.program_edit, name="program_new"),
    path("p/<uuid:code>/", views.program_detail, name="program"),
    path("p/<uuid:code>/edit/", views.program_edit, name="program_edit"),
    path("p/<uuid:code>/apply/", views.apply_public, name="apply"),
    path("p/<uuid:code>/applications/new/", views.application_new, name="application_new"),
    path("p/<uuid:code>/summary/", views.summary, name="summary"),
    path("p/<uuid:code>/summary.<str:fmt>", views.summary_export, name="summary_export"),
    path("a/<uuid:code>/", views.application_detail, name="application"),
    path("a/<uuid:code>/match/", views.application_match, name="match_decide"),
    path("a/<uuid:code>/cancel/", views.application_cancel, name="cancel"),
    path("m/<uuid:code>/", views.match_detail, name="match"),
    path("m/<uuid:code>/notice/", views.match_notice, name="notice"),
    path("mentors/", views.mentor_list, name="mentors"),
    path("mentors/new/", views.mentor_edit, name="mentor_new"),
    path("mentors/<uuid:code>/edit/", views.mentor_edit, name="mentor_edit"),
    path("r/<str:token>/", views.party_page, name="party"),
    path("r/<str:token>/notice/", views.party_notice, name="party_notice"),
]
