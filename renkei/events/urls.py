from __future__ import annotations

from django.urls import path

from renkei.events import views

app_name = "events"

urlpatterns = [
    # Public
    path("", views.event_list, name="list"),
    path("<uuid:code>/", views.event_detail, name="detail"),
    path("<uuid:code>/apply/", views.apply, name="apply"),
    path("<uuid:code>/apply/row/", views.applicant_row, name="applicant_row"),
    path("<uuid:code>/flyer/", views.flyer, name="flyer"),
    path("<uuid:code>/fax/", views.fax_sheet, name="fax_sheet"),
    path("<uuid:code>/files/<int:pk>/", views.attachment, name="attachment"),
    path("a/<str:token>/", views.application, name="application"),
    path("f/<str:token>/", views.feedback, name="feedback"),
    # Organiser
    path("manage/", views.manage, name="manage"),
    path("manage/new/", views.event_create, name="create"),
    path("manage/tally/", views.year_tally, name="year_tally"),
    path("manage/tally.<str:fmt>", views.year_tally_export, name="year_tally_export"),
    path("manage/<uuid:code>/", views.manage_event, name="manage_event"),
    path("manage/<uuid:code>/edit/", views.event_edit, name="edit"),
    path("manage/<uuid:code>/attachments/", views.attachment_add, name="attachment_add"),
    path(
        "manage/<uuid:code>/attachments/<int:pk>/delete/",
        views.attachment_remove,
        name="attachment_remove",
    ),
    path(
        "manage/<uuid:code>/applicants.<str:fmt>",
        views.applicants_export,
        name="applicants_export",
    ),
    path("manage/<uuid:code>/tally.<str:fmt>", views.event_tally_export, name="tally_export"),
    path("manage/<uuid:code>/proxy/", views.proxy_apply, name="proxy_apply"),
    path(
        "manage/<uuid:code>/applicants/<uuid:applicant_code>/cancel/",
        views.organiser_cancel,
        name="organiser_cancel",
    ),
    path("manage/<uuid:code>/attendance/", views.attendance, name="attendance"),
    path(
        "manage/<uuid:code>/attendance/<uuid:applicant_code>/",
        views.attendance_toggle,
        name="attendance_toggle",
    ),
    path("manage/<uuid:code>/feedback/", views.feedback_manage, name="feedback_manage"),
]
