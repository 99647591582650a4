"""The care workflows, split by subject; both doors import them from here."""

from __future__ import annotations

from renkei.care.actions.patients import (
    BreakGlassInput,
    NewPatientInput,
    PatientInput,
    PatientUpdate,
    audit_read,
    break_glass,
    create_patient,
    list_patients,
    patient_values,
    require_on_team,
    update_patient,
    view_patient,
)
from renkei.care.actions.team import (
    EndInput,
    InviteInput,
    accept_invitation,
    decline_invitation,
    end_membership,
    invite_member,
    may_end,
)

__all__ = [
    "BreakGlassInput",
    "EndInput",
    "InviteInput",
    "NewPatientInput",
    "PatientInput",
    "PatientUpdate",
    "accept_invitation",
    "audit_read",
    "break_glass",
    "create_patient",
    "decline_invitation",
    "end_membership",
    "invite_member",
    "list_patients",
    "may_end",
    "patient_values",
    "require_on_team",
    "update_patient",
    "view_patient",
]

from renkei.care.actions import consent, emergency, forms, timeline  # noqa: E402

__all__ += ["consent", "emergency", "forms", "timeline"]
