from __future__ import annotations

from django.urls import path

from renkei.referrals import views

app_name = "referrals"

urlpatterns = [
    path("", views.home, name="home"),
    path("cases/", views.case_list, name="case_list"),
    path("cases/new/", views.case_new, name="case_new"),
    path("cases/<uuid:code>/", views.case_detail, name="case_detail"),
    path("cases/<uuid:code>/edit/", views.case_edit, name="case_edit"),
    path("cases/<uuid:code>/candidates/", views.candidates, name="candidates"),
    path(
        "cases/<uuid:code>/requests/<uuid:request_code>/confirm/",
        views.confirm,
        name="confirm",
    ),
    path("cases/<uuid:code>/withdraw/", views.case_withdraw, name="case_withdraw"),
    path("cases/<uuid:code>/assign/", views.case_assign, name="case_assign"),
    path("cases/<uuid:code>/handover/", views.handover, name="handover"),
    path("inbox/", views.inbox, name="inbox"),
    path("requests/<uuid:code>/", views.request_detail, name="request_detail"),
    path("requests/<uuid:code>/answer/", views.request_answer, name="request_answer"),
    path("requests/<uuid:code>/messages/", views.request_message, name="request_message"),
    path("requests/<uuid:code>/withdraw/", views.request_withdraw, name="request_withdraw"),
    path("admission/", views.admission, name="admission"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/export.<str:fmt>", views.dashboard_export, name="dashboard_export"),
    path("surveys/", views.survey_list, name="survey_list"),
    path("surveys/new/", views.survey_new, name="survey_new"),
    path("surveys/<uuid:code>/", views.survey_answer, name="survey_answer"),
    path("surveys/<uuid:code>/tally/", views.survey_tally, name="survey_tally"),
]
