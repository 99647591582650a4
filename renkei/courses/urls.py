from __future__ import annotations

from django.urls import path

from renkei.courses import dispatch_views, setup_views, views

app_name = "courses"

urlpatterns = [
    # Public
    path("", views.course_list, name="list"),
    path("<uuid:code>/", views.course_detail, name="detail"),
    path("<uuid:code>/<int:number>/apply/", views.apply, name="apply"),
    path("progress/<str:token>/", views.progress, name="progress"),
    # Employers (members)
    path("staff/", views.staff, name="staff"),
    # Organiser
    path("manage/", views.manage, name="manage"),
    path("manage/tally/", views.year_tally, name="year_tally"),
    path("manage/tally.<str:fmt>", views.year_tally_export, name="year_tally_export"),
    path("manage/new/", setup_views.course_new, name="course_new"),
    path("manage/<uuid:code>/", views.manage_course, name="manage_course"),
    path("manage/<uuid:code>/edit/", setup_views.course_edit, name="course_edit"),
    path("manage/<uuid:code>/delete/", setup_views.course_delete, name="course_delete"),
    path("manage/<uuid:code>/rounds/new/", setup_views.round_new, name="round_new"),
    path("manage/<uuid:code>/<int:number>/edit/", setup_views.round_edit, name="round_edit"),
    path("manage/<uuid:code>/<int:number>/delete/", setup_views.round_delete, name="round_delete"),
    path(
        "manage/<uuid:code>/<int:number>/sessions/new/",
        setup_views.session_new,
        name="session_new",
    ),
    path(
        "manage/<uuid:code>/<int:number>/sessions/<uuid:session>/edit/",
        setup_views.session_edit,
        name="session_edit",
    ),
    path(
        "manage/<uuid:code>/<int:number>/sessions/<uuid:session>/delete/",
        setup_views.session_delete,
        name="session_delete",
    ),
    path("manage/<uuid:code>/<int:number>/", views.manage_round, name="manage_round"),
    path("manage/<uuid:code>/<int:number>/proxy/", views.proxy_apply, name="proxy_apply"),
    path(
        "manage/<uuid:code>/<int:number>/applicants/<uuid:applicant>/cancel/",
        views.organiser_cancel,
        name="organiser_cancel",
    ),
    path(
        "manage/<uuid:code>/<int:number>/sessions/<uuid:session>/",
        views.session_attendance,
        name="session",
    ),
    path(
        "manage/<uuid:code>/<int:number>/sessions/<uuid:session>/sheet/",
        views.session_sheet,
        name="session_sheet",
    ),
    path(
        "manage/<uuid:code>/<int:number>/certificates/",
        views.certificates_print,
        name="certificates",
    ),
    path(
        "manage/<uuid:code>/<int:number>/certificates/issue/",
        views.certificates_issue,
        name="certificates_issue",
    ),
    path(
        "manage/<uuid:code>/<int:number>/completers.<str:fmt>",
        views.completers_export,
        name="completers_export",
    ),
]

urlpatterns += [
    path("dispatch/", dispatch_views.dispatch_list, name="dispatch"),
    path("dispatch/new/", dispatch_views.dispatch_new, name="dispatch_new"),
    path("dispatch/specialists/", dispatch_views.specialists, name="specialists"),
    path(
        "dispatch/specialists/<uuid:code>/toggle/",
        dispatch_views.specialist_toggle,
        name="specialist_toggle",
    ),
    path("dispatch/r/<str:token>/", dispatch_views.dispatch_report, name="dispatch_report"),
    path("dispatch/<uuid:code>/", dispatch_views.dispatch_detail, name="dispatch_detail"),
]
