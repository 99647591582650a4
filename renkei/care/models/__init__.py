"""The care app's models, split by subject (each file under 800 lines)."""

from __future__ import annotations

from renkei.care.models.consent import (
    Consent,
    ConsentScope,
    ProvisionBasis,
    ProvisionRecord,
    shares_with,
)
from renkei.care.models.emergency import (
    AMBULANCE_WINDOW,
    AcpRecord,
    AmbulanceCode,
    EmergencySheet,
    Resuscitation,
)
from renkei.care.models.forms import (
    ADMISSION_INFO_DAYS,
    FormKind,
    SharedForm,
    SharedFormVersion,
    admission_timeliness,
)
from renkei.care.models.partners import (
    PARTNERS_REQUIRED,
    PartnerList,
    partner_organizations,
)
from renkei.care.models.patients import (
    BREAK_GLASS_HOURS,
    BREAK_GLASS_ROLES,
    CARE_ROLES,
    BreakGlassGrant,
    CareLevel,
    CareTeamMember,
    MemberStatus,
    Patient,
    Sex,
    TeamRole,
    kana_birth_key,
    number_key,
    unread_badge,
)
from renkei.care.models.timeline import Category, Post, PostRead, unread_counts, unread_total

__all__ = [
    "ADMISSION_INFO_DAYS",
    "FormKind",
    "SharedForm",
    "SharedFormVersion",
    "admission_timeliness",
    "PARTNERS_REQUIRED",
    "PartnerList",
    "partner_organizations",
    "AMBULANCE_WINDOW",
    "AcpRecord",
    "AmbulanceCode",
    "EmergencySheet",
    "Resuscitation",
    "BREAK_GLASS_HOURS",
    "BREAK_GLASS_ROLES",
    "CARE_ROLES",
    "BreakGlassGrant",
    "CareLevel",
    "CareTeamMember",
    "Category",
    "Consent",
    "ConsentScope",
    "MemberStatus",
    "Patient",
    "Post",
    "PostRead",
    "ProvisionBasis",
    "ProvisionRecord",
    "Sex",
    "TeamRole",
    "kana_birth_key",
    "number_key",
    "shares_with",
    "unread_badge",
    "unread_counts",
    "unread_total",
]
