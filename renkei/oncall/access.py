"""How a request reaches one rota record: through the rotas the caller's organisation organises
or takes turns in. Everyone else gets the same 404 on every door."""

from __future__ import annotations

import uuid

from django.core import signing
from django.db.models import Q, QuerySet
from django.utils import timezone

from renkei.accounts.models import Membership
from renkei.lib.actions import NotFound, get_visible
from renkei.oncall.models import (
    FEED_SALT,
    BackupBedOffer,
    BackupBedRegistration,
    CooperatingInstitution,
    CoverSearch,
    CoverSearchRecipient,
    Rota,
    RotaMember,
    Shift,
    SwapRequest,
)

ROTA_NOT_FOUND = "当番表が見つかりません"


def visible_rota(m: Membership | None, code: uuid.UUID) -> Rota:
    return get_visible(
        Rota.objects.visible_to(m).select_related("organizer", "area"), ROTA_NOT_FOUND, code=code
    )


def visible_shift(m: Membership | None, code: uuid.UUID) -> Shift:
    return get_visible(
        Shift.objects.filter(rota__in=Rota.objects.visible_to(m)).select_related(
            "rota__organizer", "month", "member__organization"
        ),
        "当番枠が見つかりません",
        code=code,
    )


def visible_member(m: Membership | None, code: uuid.UUID) -> RotaMember:
    return get_visible(
        RotaMember.objects.filter(rota__in=Rota.objects.organised_by(m)).select_related(
            "rota", "organization"
        ),
        "参加機関が見つかりません",
        code=code,
    )


def visible_swap(m: Membership | None, code: uuid.UUID) -> SwapRequest:
    """The organiser and the two members concerned see a swap; nobody else."""
    if m is None:
        raise NotFound("交代の申し出が見つかりません")
    return get_visible(
        SwapRequest.objects.filter(
            Q(shift__rota__organizer_id=m.organization_id)
            | Q(from_member__organization_id=m.organization_id)
            | Q(to_member__organization_id=m.organization_id)
        ).select_related(
            "shift__rota__organizer",
            "shift__month",
            "from_member__organization",
            "to_member__organization",
        ),
        "交代の申し出が見つかりません",
        code=code,
    )


def feed_owner(token: str) -> Rota | RotaMember:
    """The rota or member a calendar link was signed for; a tampered link is a 404."""
    try:
        data = signing.loads(token, salt=FEED_SALT) if len(token) < 300 else None
    except signing.BadSignature:
        data = None
    if isinstance(data, dict) and isinstance(data.get("r"), int):
        found: Rota | RotaMember | None = Rota.objects.filter(pk=data["r"]).first()
    elif isinstance(data, dict) and isinstance(data.get("m"), int):
        found = (
            RotaMember.objects.filter(pk=data["m"], is_active=True).select_related("rota").first()
        )
    else:
        found = None
    if found is None:
        raise NotFound("カレンダーのリンクが無効です")
    return found


# Backup beds and 協力医療機関 (ADR 0047) ----------------------------------------------------------


def registrations_visible_to(m: Membership | None) -> QuerySet[BackupBedRegistration]:
    """The hospital's members while the consent that let the information reach it holds, and
    whoever may open the patient (the team within consent, a break-glass grant)."""
    from renkei.care.models import CARE_ROLES, Patient

    if m is None or m.role not in CARE_ROLES:
        return BackupBedRegistration.objects.none()
    today = timezone.localdate()
    hospital = (
        Q(hospital_id=m.organization_id, consent__revoked_at__isnull=True)
        & Q(consent__valid_from__lte=today)
        & (Q(consent__valid_until__isnull=True) | Q(consent__valid_until__gte=today))
    )
    team = Q(patient__in=Patient.objects.visible_to(m).values("pk"))
    return BackupBedRegistration.objects.filter(hospital | team)


def visible_registration(m: Membership | None, code: uuid.UUID) -> BackupBedRegistration:
    return get_visible(
        registrations_visible_to(m).select_related(
            "patient", "offer", "hospital", "clinic", "consent", "registered_by__user"
        ),
        "後方ベッドの登録が見つかりません",
        code=code,
    )


def own_offer(m: Membership | None, code: uuid.UUID) -> BackupBedOffer:
    if m is None:
        raise NotFound("後方ベッドの提供が見つかりません")
    return get_visible(
        BackupBedOffer.objects.filter(hospital_id=m.organization_id),
        "後方ベッドの提供が見つかりません",
        code=code,
    )


def visible_cooperation(m: Membership | None, code: uuid.UUID) -> CooperatingInstitution:
    """The care facility and its 協力医療機関 see the record; nobody else."""
    if m is None:
        raise NotFound("協力医療機関の記録が見つかりません")
    return get_visible(
        CooperatingInstitution.objects.filter(
            Q(facility_id=m.organization_id) | Q(institution_id=m.organization_id)
        ).select_related("facility", "institution"),
        "協力医療機関の記録が見つかりません",
        code=code,
    )


def searches_visible_to(m: Membership | None) -> QuerySet[CoverSearch]:
    """The requesting clinic's members who may open the patient, and the clinics it was sent to
    (they see the anonymous case only: the views never show them the patient)."""
    from renkei.care.models import Patient

    if m is None:
        return CoverSearch.objects.none()
    own = Q(requester_id=m.organization_id, patient__in=Patient.objects.visible_to(m).values("pk"))
    sent = Q(
        pk__in=CoverSearchRecipient.objects.filter(organization_id=m.organization_id).values(
            "search_id"
        )
    )
    return CoverSearch.objects.filter(own | sent)


def visible_search(m: Membership | None, code: uuid.UUID) -> CoverSearch:
    return get_visible(
        searches_visible_to(m).select_related("requester", "municipality", "requested_by__user"),
        "募集が見つかりません",
        code=code,
    )
