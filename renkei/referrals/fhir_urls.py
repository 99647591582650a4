"""/api/fhir/ routes of the placement network (included before the directory's)."""

from __future__ import annotations

from django.urls import path

from renkei.referrals import fhir_views

app_name = "referrals_fhir"

urlpatterns = [
    path("ServiceRequest", fhir_views.service_request_search, name="service_request_search"),
    path("ServiceRequest/<uuid:code>", fhir_views.service_request_read, name="service_request"),
    path("Task", fhir_views.task_search, name="task_search"),
    path("Task/<uuid:code>", fhir_views.task_read, name="task"),
]
