from __future__ import annotations

from django.urls import path

from renkei.care import case_views, emergency_views, form_views, more_views, views

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
    path("from-case/<uuid:case>/", case_views.from_case, name="from_case"),
    path("p/<uuid:code>/", views.patient, name="patient"),
    path("p/<uuid:code>/edit/", views.patient_edit, name="edit"),
    path("p/<uuid:code>/team/", views.team, name="team"),
    path("p/<uuid:code>/team/<int:pk>/end/", views.team_end, name="team_end"),
    path("p/<uuid:code>/access/", views.access_log, name="access_log"),
    path("p/<uuid:code>/consents/", more_views.consents, name="consents"),
    path(
        "p/<uuid:code>/consents/<uuid:consent>/revoke/",
        more_views.consent_revoke,
        name="consent_revoke",
    ),
    path(
        "p/<uuid:code>/consents/<uuid:consent>/form/", more_views.consent_form, name="consent_form"
    ),
    path("p/<uuid:code>/provisions/", more_views.provisions, name="provisions"),
    path("p/<uuid:code>/posts/", more_views.post, name="post"),
    path("p/<uuid:code>/posts/<uuid:post>/read/", more_views.read, name="read"),
    path("p/<uuid:code>/print/", more_views.timeline_print, name="timeline_print"),
    path("p/<uuid:code>/since/", more_views.since, name="since"),
    path("p/<uuid:code>/emergency/", emergency_views.emergency, name="emergency"),
    path("p/<uuid:code>/emergency/print/", emergency_views.emergency_print, name="emergency_print"),
    path(
        "p/<uuid:code>/emergency/revoke-codes/",
        emergency_views.emergency_revoke,
        name="emergency_revoke",
    ),
    path("p/<uuid:code>/acp/", emergency_views.acp, name="acp"),
    path("p/<uuid:code>/forms/", form_views.forms, name="forms"),
    path("p/<uuid:code>/forms/<uuid:form>/", form_views.form_detail, name="form"),
    path("p/<uuid:code>/forms/<uuid:form>/edit/", form_views.form_edit, name="form_edit"),
    path("p/<uuid:code>/forms/<uuid:form>/send/", form_views.form_send, name="form_send"),
    path("p/<uuid:code>/forms/<uuid:form>/reply/", form_views.form_reply, name="form_reply"),
    path("p/<uuid:code>/forms/<uuid:form>/print/", form_views.form_print, name="form_print"),
    path("forms/", form_views.inbox, name="inbox"),
    path("e/<str:token>/", emergency_views.ambulance, name="ambulance"),
    path("partners/", emergency_views.partners, name="partners"),
    path("partners/<uuid:org>/", emergency_views.partners_public, name="partners_public"),
]
