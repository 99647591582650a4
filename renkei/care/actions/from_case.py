"""A decided placement case becomes a patient here (issue 13 §4, last bullet).

The 入退院支援 case is anonymous (age band, sex, care level, needs, no name). When it is decided
and the patient consents to share with the receiving facility, the hospital enters the identity
once; what the case knew carries over (sex, care level, and its needs as the first post of the
timeline), a consent naming the facility's organisation is recorded, and the member of the
facility who confirmed the placement is invited to the team (accepted there, as every
invitation). Nothing is written back: the case stays anonymous. The link is kept on the patient
(one patient per case) and audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from pydantic import Field

from renkei.accounts.models import AuditEntry, Membership
from renkei.care.actions.consent import ConsentInput, record_consent
from renkei.care.actions.patients import NewPatientInput, PatientInput, create_patient
from renkei.care.actions.team import InviteInput, invite_member
from renkei.care.actions.timeline import PostInput, create_post
from renkei.care.models import CARE_ROLES, CareLevel, Category, ConsentScope, Patient, Sex, TeamRole
from renkei.lib.actions import ActionError, Conflict, Forbidden, get_visible
from renkei.lib.inputs import required
from renkei.referrals.models import (
    AgeBand,
    CaseStatus,
    Infection,
    PlacementCase,
    PlacementRequest,
    RequestStatus,
)

CASE_NOT_FOUND = "案件が見つかりません"
NOT_HOSPITAL = "患者として登録できるのは、案件を登録した医療機関の職員です"
NOT_DECIDED = "受入先が決定した案件だけを患者として登録できます"
NO_CONSENT = (
    "本人（または家族）の同意がなければ患者として登録できません。"
    "受入先との情報共有について同意を得てから登録してください。"
)
ALREADY = "この案件からは既に患者が登録されています"
AGE_MISMATCH = "生年月日が案件の年齢（{band}）と一致しません。生年月日を確認してください。"
NO_FACILITY_MEMBER = (
    "受入先で招待する職員が見つかりません。受入先の職員のログインIDを入力してください。"
)

PURPOSE = "退院後の在宅療養・施設での生活を支える医療・介護関係者の情報共有のため"

# referrals' care level (directory.CareLevel, an integer; empty while applying) → care's.
CARE_LEVELS = {
    None: CareLevel.PENDING,
    0: CareLevel.NONE,
    1: CareLevel.SUPPORT1,
    2: CareLevel.SUPPORT2,
    3: CareLevel.CARE1,
    4: CareLevel.CARE2,
    5: CareLevel.CARE3,
    6: CareLevel.CARE4,
    7: CareLevel.CARE5,
}
AGE_BANDS = {
    AgeBand.UNDER_40: (0, 39),
    AgeBand.AGE_40: (40, 64),
    AgeBand.AGE_95: (95, 200),
    **{band: (int(band.value), int(band.value) + 4) for band in AgeBand if band.value.isdigit()},
}


class FromCaseInput(PatientInput):
    """The identity, entered once; sex and care level come from the case."""

    sex: Sex = Field(Sex.UNKNOWN, description="空欄（unknown）なら案件の性別")
    care_level: CareLevel | None = Field(None, description="空欄なら案件の要介護度")  # type: ignore[assignment]
    consented: bool = Field(
        False, description="本人（または家族）が受入先との情報共有に同意している"
    )
    given_by: Annotated[
        str,
        Field(min_length=1, max_length=60),
        required("同意した人（本人、家族（続柄）など）を入力してください"),
    ]
    purpose: Annotated[
        str, Field(min_length=1, max_length=300), required("利用目的を入力してください")
    ] = PURPOSE
    facility_member: str = Field(
        "", max_length=150, description="招待する受入先の職員のログインID（空欄なら受入を決めた方）"
    )
    allow_duplicate: bool = Field(False, description="同じふりがな・生年月日の別の方として登録する")


def visible_case(m: Membership | None, code: object) -> PlacementCase:
    return get_visible(
        PlacementCase.objects.visible_to(m).select_related("placed_facility"),
        CASE_NOT_FOUND,
        code=code,
    )


def confirmed_request(case: PlacementCase) -> PlacementRequest | None:
    return (
        PlacementRequest.objects.filter(case=case, status=RequestStatus.CONFIRMED)
        .select_related("organization", "answered_by")
        .order_by("-answered_at", "-pk")
        .first()
    )


def check_case(case: PlacementCase, by: Membership) -> PlacementRequest:
    """The refusals that do not depend on what was typed (the form shows them up front)."""
    if case.hospital_id != by.organization_id or by.role not in CARE_ROLES:
        raise Forbidden(NOT_HOSPITAL)
    request = confirmed_request(case)
    if case.status != CaseStatus.DECIDED or request is None:
        raise ActionError(NOT_DECIDED)
    if Patient.objects.filter(placement_case=case.code).exists():
        raise Conflict(ALREADY)
    return request


def _age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _fits_band(case: PlacementCase, birth: dt.date) -> bool:
    low, high = AGE_BANDS[AgeBand(case.age_band)]
    days = {timezone.localdate(case.created_at), timezone.localdate()}
    return any(low <= _age_on(birth, day) <= high for day in days)


def _facility_member(request: PlacementRequest, username: str) -> Membership:
    users = (
        [username] if username else ([request.answered_by.username] if request.answered_by else [])
    )
    member = (
        Membership.objects.filter(
            organization=request.organization,
            user__username__in=users,
            user__is_active=True,
            is_active=True,
            role__in=CARE_ROLES,
        )
        .select_related("user", "organization")
        .first()
    )
    if member is None:
        raise ActionError(NO_FACILITY_MEMBER, field="facility_member")
    return member


def case_summary(case: PlacementCase) -> str:
    """What the anonymous case knew, as the first post of the timeline (no identity in it)."""
    needs = "、".join(c.name for c in case.required_capabilities.order_by("name")) or "なし"
    infections = "、".join(Infection(i).label for i in case.infections if i in Infection.values)
    lines = [
        "入退院支援の案件から引き継いだ情報です。",
        f"認知症高齢者の日常生活自立度: {case.get_dementia_display()}",
        f"必要な処置: {needs}",
        f"感染症: {infections or 'なし'}",
        f"同居者: {case.get_household_display()}",
        f"キーパーソン: {case.get_key_person_display()}"
        + (f"（{case.get_key_person_relation_display()}）" if case.key_person_relation else ""),
    ]
    if case.target_date:
        lines.append(f"退院・転院の目標日: {case.target_date:%Y-%m-%d}")
    if case.placed_facility is not None:
        lines.append(f"受入先: {case.placed_facility.name}")
    if case.note:
        lines.append(f"補足: {case.note}")
    return "\n".join(lines)[:4000]


@transaction.atomic
def patient_from_case(
    case: PlacementCase,
    *,
    by: Membership,
    data: FromCaseInput,
    request: HttpRequest | None = None,
) -> Patient:
    placement = check_case(case, by)
    if not data.consented:
        raise ActionError(NO_CONSENT, field="consented")
    if not _fits_band(case, data.birth_date):
        band = AgeBand(case.age_band).label
        raise ActionError(AGE_MISMATCH.format(band=band), field="birth_date")
    invitee = _facility_member(placement, data.facility_member)
    identity = data.model_dump(include=set(PatientInput.model_fields))
    identity["sex"] = data.sex if data.sex != Sex.UNKNOWN else Sex(case.sex)
    identity["care_level"] = data.care_level or CARE_LEVELS.get(case.care_level, CareLevel.PENDING)
    patient = create_patient(
        by=by,
        data=NewPatientInput(
            **identity, team_role=TeamRole.HOSPITAL_LIAISON, allow_duplicate=data.allow_duplicate
        ),
        request=request,
    )
    patient.placement_case = case.code
    patient.save(update_fields=["placement_case"])
    record_consent(
        patient,
        by=by,
        data=ConsentInput(
            scope=ConsentScope.ORGANIZATIONS,
            purpose=data.purpose,
            given_by=data.given_by,
            valid_from=timezone.localdate(),
            organizations=[placement.organization.code],
        ),
        request=request,
    )
    create_post(
        patient,
        by=by,
        data=PostInput(category=Category.CONTACT, body=case_summary(case)),
        request=request,
    )
    invite_member(
        patient,
        by=by,
        data=InviteInput(
            organization=placement.organization.code,
            username=invitee.user.username,
            team_role=TeamRole.CARE_PROVIDER,
        ),
        request=request,
    )
    AuditEntry.record(
        "care.patient_from_case",
        request=request,
        by=by,
        target=patient,
        detail={"case": str(case.code), "facility": str(placement.organization.code)},
    )
    return patient
