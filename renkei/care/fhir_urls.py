"""/api/fhir/ routes of care-team sharing (Task is shared with the placement network and
routed by renkei.fhir_routes)."""

from __future__ import annotations

from django.urls import path

from renkei.care import fhir

app_name = "care_fhir"

urlpatterns = [
    path("Patient", fhir.patient_search, name="patient_search"),
    path("Patient/<str:id>", fhir.patient_read, name="patient"),
    path("CareTeam", fhir.care_team_search, name="care_team_search"),
    path("CareTeam/<str:id>", fhir.care_team_read, name="care_team"),
    path("Consent", fhir.consent_search, name="consent_search"),
    path("Consent/<str:id>", fhir.consent_read, name="consent"),
    path("Communication", fhir.communication_search, name="communication_search"),
    path("Communication/<str:id>", fhir.communication_read, name="communication"),
    path("DocumentReference", fhir.document_search, name="document_search"),
    path("DocumentReference/<str:id>", fhir.document_read, name="document"),
    path("AuditEvent", fhir.audit_event_search, name="audit_event_search"),
    path("AuditEvent/<str:id>", fhir.audit_event_read, name="audit_event"),
]
