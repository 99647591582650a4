from __future__ import annotations

from django.urls import path

from renkei.events.views import manage, public

app_name = "events"

urlpatterns = [
    # Public
    path("", public.event_list, name="list"),
    path("<uuid:code>/", public.event_detail, name="detail"),
    path("<uuid:code>/apply/", public.apply, name="apply"),
    path("<uuid:code>/apply/row/", public.applicant_row, name="applicant_row"),
    path("<uuid:code>/flyer/", public.flyer, name="flyer"),
    path("<uuid:code>/fax/", public.fax_sheet, name="fax_sheet"),
    path("<uuid:code>/files/<int:pk>/", public.attachment, name="attachment"),
    path("a/<str:token>/", public.application, name="application"),
    path("p/<str:token>/", public.applicant, name="applicant"),
    path("f/<str:token>/", public.feedback, name="feedback"),
    # Organiser
    path("manage/", manage.manage, name="manage"),
    path("manage/new/", manage.event_create, name="create"),
    path("manage/tally/", manage.year_tally, name="year_tally"),
    path("manage/tally.<str:fmt>", manage.year_tally_export, name="year_tally_export"),
    path("manage/<uuid:code>/", manage.manage_event, name="manage_event"),
    path("manage/<uuid:code>/edit/", manage.event_edit, name="edit"),
    path("manage/<uuid:code>/attachments/", manage.attachment_add, name="attachment_add"),
    path(
        "manage/<uuid:code>/attachments/<int:pk>/delete/",
        manage.attachment_remove,
        name="attachment_remove",
    ),
    path(
        "manage/<uuid:code>/applicants.<str:fmt>",
        manage.applicants_export,
        name="applicants_export",
    ),
    path("manage/<uuid:code>/tally.<str:fmt>", manage.event_tally_export, name="tally_export"),
    path("manage/<uuid:code>/proxy/", manage.proxy_apply, name="proxy_apply"),
    path(
        "manage/<uuid:code>/applicants/<uuid:applicant_code>/cancel/",
        manage.organiser_cancel,
        name="organiser_cancel",
    ),
    path("manage/<uuid:code>/attendance/", manage.attendance, name="attendance"),
    path(
        "manage/<uuid:code>/attendance/<uuid:applicant_code>/",
        manage.attendance_toggle,
        name="attendance_toggle",
    ),
    path("manage/<uuid:code>/feedback/", manage.feedback_manage, name="feedback_manage"),
]
