from __future__ import annotations

from django.urls import path

from renkei.care import views

app_name = "care"
urlpatterns = [
    path("", views.home, name="home"),
    path("new/", views.patient_new, name="new"),
    path("invitations/", views.invitation_list, name="invitations"),
    path(
        "invitations/<int:pk>/accept/",
        views.invitation_answer,
        {"answer": "accept"},
        name="accept",
    ),
    path(
        "invitations/<int:pk>/decline/",
        views.invitation_answer,
        {"answer": "decline"},
        name="decline",
    ),
    path("emergency/", views.break_glass, name="break_glass"),
    path("p/<uuid:code>/", views.patient, name="patient"),
    path("p/<uuid:code>/edit/", views.patient_edit, name="edit"),
    path("p/<uuid:code>/team/", views.team, name="team"),
    path("p/<uuid:code>/team/<int:pk>/end/", views.team_end, name="team_end"),
    path("p/<uuid:code>/access/", views.access_log, name="access_log"),
]
