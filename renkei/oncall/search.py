"""The 副主治医 search through the placement network (issue 14 §2, ADR 0016), and what the cover
agreement produces for 往診時医療情報連携加算.

A 主治医 posts an anonymous case (area, disease group, age band, needs) to the clinics of the
patient's 二次医療圏; the free text is screened by the placement network's own screen
(renkei.referrals.screening) and the clinics are told through its recipients (doctors of each
clinic, renkei.referrals.notifications). Clinics volunteer as 主治医 or 副主治医; the requesting
doctor chooses one, and the pair becomes the patient's CoverAgreement.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from pydantic import Field

from renkei.accounts.models import AuditEntry, Membership, Organization, Role
from renkei.care.actions import require_on_team
from renkei.care.models import Patient
from renkei.lib.actions import ActionError, Conflict, Forbidden, notify
from renkei.lib.inputs import CalendarDate, Input, Phone, required
from renkei.lib.mail import site_url
from renkei.oncall.actions import Month, first_of
from renkei.oncall.cover import DOCTOR_KINDS, store_agreement
from renkei.oncall.models import (
    CoverAgreement,
    CoverRole,
    CoverSearch,
    CoverSearchRecipient,
    CoverShare,
    CoverVolunteer,
    DiseaseGroup,
    SearchStatus,
    VolunteerStatus,
)
from renkei.referrals.models import AgeBand
from renkei.referrals.notifications import emails_of
from renkei.referrals.screening import IdentifyingText, screen
from renkei.regions.models import Municipality

MAX_RECIPIENTS = 300


class SearchInput(Input):
    """The anonymous case: the 主治医's form and the API's body."""

    wanted: CoverRole = Field(CoverRole.SECONDARY, description="募集する役割")
    municipality: str = Field(..., pattern=r"^\d{6}$", description="患者の市区町村コード（6桁）")
    age_band: AgeBand | None = None
    disease_group: DiseaseGroup
    needs: str = Field(
        ..., min_length=1, max_length=500, description="必要な医療・ケア（氏名・住所などは不可）"
    )


class VolunteerInput(Input):
    role: CoverRole
    doctor: str = Field(..., min_length=1, max_length=60, description="担当医")
    phone: Annotated[Phone, required("連絡先電話を入力してください")]
    message: str = Field("", max_length=300)


class ChooseInput(Input):
    """The requesting doctor picks a volunteer; the pair starts on `valid_from`."""

    volunteer: uuid.UUID
    own_doctor: str = Field("", max_length=60, description="依頼した側の担当医")
    own_phone: Annotated[Phone, required("依頼した側の連絡先電話を入力してください")]
    valid_from: CalendarDate


class ShareInput(Input):
    month: Month
    shared_on: CalendarDate
    note: str = Field("", max_length=300, description="共有した内容（診療情報・急変時の方針）")


def _screen(text: str, field: str) -> str:
    try:
        return screen(text.strip())
    except IdentifyingText as e:
        raise ActionError(str(e), field=field) from e


def area_clinics(muni: Municipality, exclude: int) -> list[Organization]:
    """The clinics (and hospitals with home care) of the municipality's 二次医療圏 on the
    platform, or of the municipality alone where no 二次医療圏 is known."""
    area = muni.secondary_area or (muni.parent.secondary_area if muni.parent else None)
    munis = (
        Municipality.objects.in_area(area)
        if area is not None
        else Municipality.objects.filter(Q(pk=muni.pk) | Q(parent=muni))
    )
    return list(
        Organization.objects.filter(
            kind__in=DOCTOR_KINDS, is_active=True, municipality__in=munis
        ).exclude(pk=exclude)[: MAX_RECIPIENTS + 1]
    )


@transaction.atomic
def post_search(
    patient: Patient, *, by: Membership, data: SearchInput, request: HttpRequest | None = None
) -> CoverSearch:
    require_on_team(patient, by)
    if by.organization.kind not in DOCTOR_KINDS:
        raise Forbidden("副主治医を募集できるのは医療機関の方だけです")
    needs = _screen(data.needs, "needs")
    muni = (
        Municipality.objects.filter(code=data.municipality)
        .select_related("secondary_area", "parent__secondary_area")
        .first()
    )
    if muni is None:
        raise ActionError("市区町村コードが見つかりません", field="municipality")
    if CoverSearch.objects.filter(patient=patient, status=SearchStatus.OPEN).exists():
        raise Conflict("この患者の募集が既に出ています。先に取り下げるか決定してください")
    targets = area_clinics(muni, exclude=by.organization_id)
    if not targets:
        raise ActionError(
            "この地域にはネットワークに参加している医療機関がありません", field="municipality"
        )
    if len(targets) > MAX_RECIPIENTS:
        targets = targets[:MAX_RECIPIENTS]
    search = CoverSearch.objects.create(
        patient=patient,
        requester=by.organization,
        requested_by=by,
        wanted=data.wanted,
        municipality=muni,
        age_band=data.age_band or "",
        disease_group=data.disease_group,
        needs=needs,
    )
    now = timezone.now()
    CoverSearchRecipient.objects.bulk_create(
        [CoverSearchRecipient(search=search, organization=o, sent_at=now) for o in targets]
    )
    AuditEntry.record("oncall.cover_search_posted", by=by, target=patient, request=request)
    by_org = emails_of([o.pk for o in targets], [Role.DOCTOR])
    to = [e for o in targets for e in ([o.email] if o.email else []) + by_org.get(o.pk, [])]
    notify(
        to=list(dict.fromkeys(to)),
        subject=f"{search.get_wanted_display()}の募集（{muni.name}・{search.get_disease_group_display()}）",
        template="oncall_cover_search.txt",
        context={"search": search, "url": site_url(reverse("oncall:search", args=[search.code]))},
    )
    return search


@transaction.atomic
def volunteer(
    search: CoverSearch, *, by: Membership, data: VolunteerInput, request: HttpRequest | None = None
) -> CoverVolunteer:
    if not search.recipients.filter(organization_id=by.organization_id).exists():
        raise Forbidden("この募集を受け取った医療機関だけが名乗り出られます")
    search = CoverSearch.objects.select_for_update().get(pk=search.pk)
    if search.status != SearchStatus.OPEN:
        raise Conflict("この募集は締め切られています")
    message = _screen(data.message, "message") if data.message.strip() else ""
    try:
        with transaction.atomic():
            row = CoverVolunteer.objects.create(
                search=search,
                organization=by.organization,
                role=data.role,
                doctor=data.doctor,
                phone=data.phone,
                message=message,
                by=by,
            )
    except IntegrityError as e:
        raise Conflict("この募集には既に名乗り出ています") from e
    AuditEntry.record("oncall.cover_volunteered", by=by, target=search, request=request)
    notify(
        to=emails_of([search.requester_id], [Role.DOCTOR]).get(search.requester_id, [])
        + ([search.requested_by.user.email] if search.requested_by.user.email else []),
        subject=f"{by.organization.name}が{row.get_role_display()}に名乗り出ました",
        template="oncall_cover_volunteer.txt",
        context={
            "search": search,
            "row": row,
            "url": site_url(reverse("oncall:search", args=[search.code])),
        },
    )
    return row


@transaction.atomic
def choose(
    search: CoverSearch, *, by: Membership, data: ChooseInput, request: HttpRequest | None = None
) -> CoverAgreement:
    """The requesting doctor chooses; the pair becomes the patient's cover agreement."""
    if search.requester_id != by.organization_id:
        raise Forbidden("選べるのは募集した医療機関です")
    require_on_team(search.patient, by)
    search = (
        CoverSearch.objects.select_for_update()
        .select_related("patient", "municipality")
        .get(pk=search.pk)
    )
    if search.status != SearchStatus.OPEN:
        raise Conflict("この募集は既に決定・取下げ済みです")
    chosen = (
        search.volunteers.filter(code=data.volunteer, status=VolunteerStatus.OFFERED)
        .select_related("organization")
        .first()
    )
    if chosen is None:
        raise ActionError("名乗り出た医療機関から選んでください", field="volunteer")
    chosen.status = VolunteerStatus.CHOSEN
    chosen.save(update_fields=["status"])
    search.volunteers.exclude(pk=chosen.pk).update(status=VolunteerStatus.NOT_CHOSEN)
    search.status = SearchStatus.DECIDED
    search.decided_at = timezone.now()
    search.save(update_fields=["status", "decided_at"])
    own = {"doctor": data.own_doctor, "phone": data.own_phone}
    other = {"doctor": chosen.doctor, "phone": chosen.phone}
    # The volunteer takes the role it offered; the requesting clinic takes the other.
    if chosen.role == CoverRole.SECONDARY:
        primary, secondary, first, second = by.organization, chosen.organization, own, other
    else:
        primary, secondary, first, second = chosen.organization, by.organization, other, own
    agreement = store_agreement(
        search.patient,
        by=by,
        primary=primary,
        secondary=secondary,
        primary_doctor=first["doctor"],
        primary_phone=first["phone"],
        secondary_doctor=second["doctor"],
        secondary_phone=second["phone"],
        agreed_on=timezone.localdate(),
        municipality=search.municipality,
        valid_from=data.valid_from,
        valid_until=None,
    )
    AuditEntry.record("oncall.cover_search_decided", by=by, target=search.patient, request=request)
    notify(
        to=emails_of([chosen.organization_id], [Role.DOCTOR]).get(chosen.organization_id, []),
        subject=f"{by.organization.name}から{chosen.get_role_display()}をお願いされました",
        template="oncall_cover_chosen.txt",
        context={
            "search": search,
            "row": chosen,
            "requester": by.organization,
            "url": site_url(reverse("oncall:search", args=[search.code])),
        },
    )
    return agreement


@transaction.atomic
def withdraw(
    search: CoverSearch, *, by: Membership, request: HttpRequest | None = None
) -> CoverSearch:
    if search.requester_id != by.organization_id:
        raise Forbidden("取り下げられるのは募集した医療機関です")
    search = CoverSearch.objects.select_for_update().get(pk=search.pk)
    if search.status != SearchStatus.OPEN:
        raise Conflict("この募集は既に決定・取下げ済みです")
    search.status = SearchStatus.WITHDRAWN
    search.decided_at = timezone.now()
    search.save(update_fields=["status", "decided_at"])
    AuditEntry.record("oncall.cover_search_withdrawn", by=by, target=search, request=request)
    return search


# 往診時医療情報連携加算 -------------------------------------------------------------------------


@transaction.atomic
def record_share(
    patient: Patient,
    *,
    by: Membership,
    data: ShareInput,
    request: HttpRequest | None = None,
) -> CoverShare:
    """The month's record that the information and the plan for deterioration were shared
    with the cover clinic; either clinic of the pair records it (once a month, updatable).
    The patient's current agreement is found here, so both doors refuse its absence alike."""
    agreement = current_agreement(patient)
    if agreement is None:
        raise ActionError("主治医・副主治医の取り決めが記録されていません")
    if by.organization_id not in (agreement.primary_id, agreement.secondary_id):
        raise Forbidden("記録できるのは主治医・副主治医の医療機関です")
    require_on_team(agreement.patient, by)
    if agreement.secondary_id is None:
        raise ActionError("副主治医が決まっていない取り決めです")
    month = first_of(data.month)
    if data.shared_on > timezone.localdate():
        raise ActionError("共有した日に未来の日付は入力できません", field="shared_on")
    if data.shared_on.replace(day=1) != month:
        raise ActionError("共有した日が対象月の中にありません", field="shared_on")
    row, _ = CoverShare.objects.update_or_create(
        agreement=agreement,
        month=month,
        defaults={"shared_on": data.shared_on, "note": data.note, "by": by},
    )
    AuditEntry.record("oncall.cover_shared", by=by, target=agreement.patient, request=request)
    return row


def current_agreement(patient: Patient) -> CoverAgreement | None:
    return (
        CoverAgreement.objects.active(timezone.localdate())
        .filter(patient=patient)
        .select_related("primary", "secondary", "municipality")
        .first()
    )


def shares_of(agreement: CoverAgreement, months: int = 12) -> list[CoverShare]:
    since = timezone.localdate().replace(day=1) - dt.timedelta(days=31 * (months - 1))
    return list(agreement.shares.filter(month__gte=since.replace(day=1)).order_by("month"))
