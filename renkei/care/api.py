"""/api/v1/care/: the same actions, inputs and getters as the screens.

Only current team members (within the consent) or a break-glass grant reach a patient; others
get 404. A second factor is required (403 without). Every read is audited.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.core.paginator import Page
from django.http import HttpRequest
from ninja import Path, Query, Router, Schema, Status
from ninja.security import SessionAuth

from renkei.accounts.http import token_bearer
from renkei.accounts.models import Membership
from renkei.care import actions
from renkei.care.access import (
    api_care_membership,
    invitations,
    my_invitation,
    team_row,
    visible_consent,
    visible_form,
    visible_patient,
    visible_post,
)
from renkei.care.actions import consent as consent_actions
from renkei.care.actions import emergency as em
from renkei.care.actions import forms as fa
from renkei.care.actions import from_case as fc
from renkei.care.actions import timeline as tl
from renkei.care.models import (
    AcpRecord,
    CareLevel,
    CareTeamMember,
    Consent,
    EmergencySheet,
    Patient,
    Post,
    ProvisionRecord,
    Resuscitation,
    SharedForm,
    unread_counts,
)
from renkei.care.schemas import (
    AcpOut,
    ConsentOut,
    DoctorContactOut,
    FormOut,
    FormRow,
    InvitationOut,
    PatientOut,
    PatientRow,
    PostOut,
    ProvisionOut,
    SheetOut,
    SinceOut,
    TeamMemberOut,
    TimelineOut,
)
from renkei.lib.api import READ_ERRORS, WRITE_ERRORS, act, errors

router = Router(tags=["care"], auth=SessionAuth())
# Reads also take a system's API token (ADR 0044); writes stay session-only.
READ_AUTH = [token_bearer(), SessionAuth()]


RowId = Path(..., ge=1, le=2**31 - 1)  # type: ignore[type-arg]


class ListQuery(Schema):
    q: str = ""


@router.get(
    "/patients",
    auth=READ_AUTH,
    response={200: list[PatientRow], **errors(403)},
    summary="担当患者の一覧",
)
def list_patients(request: HttpRequest, filters: Query[ListQuery]) -> list[PatientRow]:
    m = api_care_membership(request)
    patients = actions.list_patients(by=m, query=filters.q[:60], request=request, brief=True)
    unread = unread_counts(m) if patients else {}
    return [
        PatientRow(
            code=p.code,
            name=p.name,
            kana=p.kana,
            age=p.age(),
            care_level=CareLevel(p.care_level),
            unread=unread.get(p.pk, 0),
        )
        for p in patients
    ]


@router.post("/patients", response={201: PatientOut, **WRITE_ERRORS}, summary="患者を登録する")
def create_patient(request: HttpRequest, payload: actions.NewPatientInput) -> Status[Patient]:
    m = api_care_membership(request)
    p = actions.create_patient(by=m, data=payload, request=request)
    return Status(201, p)


@router.post(
    "/placement-cases/{case}/patient",
    response={201: PatientOut, **WRITE_ERRORS},
    summary="受入先が決定した入退院支援の案件から患者を登録する（同意が必要、案件は匿名のまま）",
)
def patient_from_case(
    request: HttpRequest, case: uuid.UUID, payload: fc.FromCaseInput
) -> Status[Patient]:
    m = api_care_membership(request)
    p = fc.patient_from_case(fc.visible_case(m, case), by=m, data=payload, request=request)
    return Status(201, p)


@router.get(
    "/patients/{code}",
    auth=READ_AUTH,
    response={200: PatientOut, **READ_ERRORS},
    summary="患者の基本情報（監査）",
)
def get_patient(request: HttpRequest, code: uuid.UUID) -> Patient:
    m = api_care_membership(request)
    return act(request, m, visible_patient, code, actions.view_patient)


@router.put(
    "/patients/{code}", response={200: PatientOut, **WRITE_ERRORS}, summary="基本情報を更新"
)
def update_patient(
    request: HttpRequest, code: uuid.UUID, payload: actions.PatientUpdate
) -> Patient:
    m = api_care_membership(request)
    return act(request, m, visible_patient, code, actions.update_patient, payload)


@router.get(
    "/patients/{code}/team",
    auth=READ_AUTH,
    response={200: list[TeamMemberOut], **READ_ERRORS},
    summary="ケアチーム（監査）",
)
def get_team(request: HttpRequest, code: uuid.UUID) -> list[CareTeamMember]:
    m = api_care_membership(request)
    p = visible_patient(m, code)
    actions.view_patient(p, by=m, what="team", request=request)
    return list(
        CareTeamMember.objects.filter(patient=p)
        .select_related("membership__user", "membership__organization")
        .order_by("pk")
    )


@router.post(
    "/patients/{code}/team",
    response={201: TeamMemberOut, **WRITE_ERRORS},
    summary="他の組織の方をチームに招待する（同意の範囲内）",
)
def invite(
    request: HttpRequest, code: uuid.UUID, payload: actions.InviteInput
) -> Status[CareTeamMember]:
    m = api_care_membership(request)
    row = act(request, m, visible_patient, code, actions.invite_member, payload)
    return Status(201, team_row(row.patient, row.pk))


@router.post(
    "/patients/{code}/team/{member_id}/end",
    response={200: TeamMemberOut, **WRITE_ERRORS},
    summary="チームを離れる・メンバーを外す",
)
def end_member(
    request: HttpRequest,
    code: uuid.UUID,
    payload: actions.EndInput,
    member_id: int = RowId,
) -> CareTeamMember:
    m = api_care_membership(request)
    row = team_row(visible_patient(m, code), member_id)
    actions.end_membership(row, by=m, data=payload, request=request)
    return team_row(row.patient, row.pk)


@router.get(
    "/invitations",
    auth=READ_AUTH,
    response={200: list[InvitationOut], **errors(403)},
    summary="届いた招待",
)
def list_invitations(request: HttpRequest) -> list[CareTeamMember]:
    return invitations(api_care_membership(request))


@router.post(
    "/invitations/{invitation_id}/accept",
    response={200: TeamMemberOut, **WRITE_ERRORS},
    summary="招待を承諾する",
)
def accept(request: HttpRequest, invitation_id: int = RowId) -> CareTeamMember:
    m = api_care_membership(request)
    row = actions.accept_invitation(my_invitation(m, invitation_id), by=m, request=request)
    return team_row(row.patient, row.pk)


@router.post(
    "/invitations/{invitation_id}/decline",
    response={200: InvitationOut, **WRITE_ERRORS},
    summary="招待を辞退する",
)
def decline(request: HttpRequest, invitation_id: int = RowId) -> CareTeamMember:
    m = api_care_membership(request)
    return actions.decline_invitation(my_invitation(m, invitation_id), by=m, request=request)


class BreakGlassOut(Schema):
    patients: list[uuid.UUID]
    hours: int


@router.post(
    "/break-glass",
    response={201: BreakGlassOut, **WRITE_ERRORS},
    summary="緊急時の閲覧（理由を記録し、チームと管理者に通知）",
)
def break_glass(request: HttpRequest, payload: actions.BreakGlassInput) -> Status[BreakGlassOut]:
    from renkei.care.models import BREAK_GLASS_HOURS

    m = api_care_membership(request)
    found = actions.break_glass(by=m, data=payload, request=request)
    return Status(201, BreakGlassOut(patients=[p.code for p in found], hours=BREAK_GLASS_HOURS))


# Consent and provision records ------------------------------------------------------


@router.get(
    "/patients/{code}/consents",
    auth=READ_AUTH,
    response={200: list[ConsentOut], **READ_ERRORS},
    summary="情報共有の同意（監査）",
)
def list_consents(request: HttpRequest, code: uuid.UUID) -> list[Consent]:
    m = api_care_membership(request)
    p = visible_patient(m, code)
    actions.view_patient(p, by=m, what="consents", request=request)
    return consent_actions.consents_of(p)


@router.post(
    "/patients/{code}/consents",
    response={201: ConsentOut, **WRITE_ERRORS},
    summary="同意を記録する（同意書のスキャンは画面から添付）",
)
def record_consent(
    request: HttpRequest, code: uuid.UUID, payload: consent_actions.ConsentInput
) -> Status[Consent]:
    m = api_care_membership(request)
    c = consent_actions.record_consent(
        visible_patient(m, code), by=m, data=payload, request=request
    )
    return Status(201, visible_consent(c.patient, c.code))


@router.post(
    "/patients/{code}/consents/{consent}/revoke",
    response={200: ConsentOut, **WRITE_ERRORS},
    summary="同意を撤回する（次の閲覧から反映）",
)
def revoke_consent(
    request: HttpRequest, code: uuid.UUID, consent: uuid.UUID, payload: consent_actions.RevokeInput
) -> Consent:
    m = api_care_membership(request)
    c = visible_consent(visible_patient(m, code), consent)
    consent_actions.revoke_consent(c, by=m, data=payload, request=request)
    return visible_consent(c.patient, c.code)


@router.get(
    "/patients/{code}/provisions",
    auth=READ_AUTH,
    response={200: list[ProvisionOut], **READ_ERRORS},
    summary="第三者提供の記録（第29条、監査）",
)
def list_provisions(request: HttpRequest, code: uuid.UUID) -> list[ProvisionRecord]:
    m = api_care_membership(request)
    p = visible_patient(m, code)
    actions.view_patient(p, by=m, what="provisions", request=request)
    return list(ProvisionRecord.objects.filter(patient=p).select_related("recipient"))


def _by_a_person(request: HttpRequest) -> bool:
    """A system reading with an API token (ADR 0044) reads for the member, but no one has seen
    the posts or the form: it leaves the read receipts and unread badges to the member's eyes."""
    return getattr(request, "api_token", None) is None


# Timeline ---------------------------------------------------------------------------


@router.get(
    "/patients/{code}/posts",
    auth=READ_AUTH,
    response={200: TimelineOut, **errors(400), **READ_ERRORS},
    summary="タイムライン（新しい順、返信と既読つき、監査、表示分は既読になる）",
)
def list_posts(
    request: HttpRequest, code: uuid.UUID, filters: Query[tl.TimelineQuery]
) -> Page[Post]:
    m = api_care_membership(request)
    return tl.timeline(
        visible_patient(m, code),
        by=m,
        query=filters,
        request=request,
        mark_read=_by_a_person(request),
    )


@router.post(
    "/patients/{code}/posts", response={201: PostOut, **WRITE_ERRORS}, summary="投稿・返信する"
)
def create_post(request: HttpRequest, code: uuid.UUID, payload: tl.PostInput) -> Status[Post]:
    m = api_care_membership(request)
    post = act(request, m, visible_patient, code, tl.create_post, payload)
    post.read_by = list(  # type: ignore[attr-defined]
        post.reads.order_by("read_at", "pk").values_list("user__username", flat=True)
    )
    return Status(201, post)


class ReadOut(Schema):
    post: uuid.UUID
    read: bool


@router.post(
    "/patients/{code}/posts/{post}/read",
    response={200: ReadOut, **WRITE_ERRORS},
    summary="投稿を既読にする",
)
def read_post(request: HttpRequest, code: uuid.UUID, post: uuid.UUID) -> ReadOut:
    m = api_care_membership(request)
    p = visible_patient(m, code)
    tl.mark_read(visible_post(p, post), by=m, request=request)
    return ReadOut(post=post, read=True)


# Emergency information sheet and ACP (ADR 0034) ----------------------------------------


def _sheet_out(p: Patient, sheet: EmergencySheet | None) -> SheetOut:
    values = (
        {f: getattr(sheet, f) for f in em.SHEET_FIELDS if f != "resuscitation"} if sheet else {}
    )
    return SheetOut(
        **values,
        resuscitation=Resuscitation(sheet.resuscitation) if sheet and sheet.resuscitation else None,
        key_person=p.key_person,
        emergency_contacts=p.emergency_contacts,
        doctors=[DoctorContactOut(**vars(d)) for d in em.doctor_contacts(p)],
        version=sheet.version if sheet else 0,
        updated_at=sheet.updated_at if sheet else None,
    )


@router.get(
    "/patients/{code}/emergency-sheet",
    auth=READ_AUTH,
    response={200: SheetOut, **READ_ERRORS},
    summary="救急医療情報シート（監査）",
)
def get_sheet(request: HttpRequest, code: uuid.UUID) -> SheetOut:
    m = api_care_membership(request)
    p = visible_patient(m, code)
    return _sheet_out(p, em.view_sheet(p, by=m, request=request))


@router.put(
    "/patients/{code}/emergency-sheet",
    response={200: SheetOut, **WRITE_ERRORS},
    summary="救急医療情報シートを保存する（version で競合を検出）",
)
def put_sheet(request: HttpRequest, code: uuid.UUID, payload: em.SheetInput) -> SheetOut:
    m = api_care_membership(request)
    p = visible_patient(m, code)
    return _sheet_out(p, em.save_sheet(p, by=m, data=payload, request=request))


@router.get(
    "/patients/{code}/acp",
    auth=READ_AUTH,
    response={200: list[AcpOut], **READ_ERRORS},
    summary="人生会議（ACP）の記録、新しい版から（監査）",
)
def list_acp(request: HttpRequest, code: uuid.UUID) -> list[AcpRecord]:
    m = api_care_membership(request)
    return act(request, m, visible_patient, code, em.view_acp)


@router.post(
    "/patients/{code}/acp",
    response={201: AcpOut, **WRITE_ERRORS},
    summary="人生会議の新しい版を記録する（base が最新でなければ 409）",
)
def create_acp(request: HttpRequest, code: uuid.UUID, payload: em.AcpInput) -> Status[AcpRecord]:
    m = api_care_membership(request)
    p = visible_patient(m, code)
    record = em.save_acp(p, by=m, data=payload, request=request)
    return Status(
        201,
        AcpRecord.objects.select_related("recorded_by__user", "recorded_by__organization").get(
            pk=record.pk
        ),
    )


# Shared forms (ADR 0046) ------------------------------------------------------------


def _form_out(form: SharedForm, m: Membership, content: Any) -> SharedForm:
    """The instance with what FormOut reads beside the columns: the version shown and its
    items (the recipient sees what was sent)."""
    form.shown_version = fa.shown_version(form, m)  # type: ignore[attr-defined]
    form.content = content  # type: ignore[attr-defined]
    return form


def _form_step(
    request: HttpRequest,
    code: uuid.UUID,
    form: uuid.UUID,
    step: Callable[[SharedForm, Membership], object],
    *,
    as_shown: bool = False,
) -> SharedForm:
    """A write on one form: fetch it (404 outside), run the action, answer with the form as
    read again (as the caller sees it when `as_shown`: a recipient sees what was sent)."""
    m = api_care_membership(request)
    p = visible_patient(m, code)
    step(visible_form(m, p, form), m)
    sf = visible_form(m, p, form)
    return _form_out(sf, m, fa.content_of(sf, fa.shown_version(sf, m) if as_shown else None))


@router.get(
    "/patients/{code}/forms",
    auth=READ_AUTH,
    response={200: list[FormRow], **READ_ERRORS},
    summary="連携様式の一覧（自組織が作成・受信したもの、監査）",
)
def list_forms(request: HttpRequest, code: uuid.UUID) -> list[SharedForm]:
    m = api_care_membership(request)
    return act(request, m, visible_patient, code, fa.view_forms)


@router.post(
    "/patients/{code}/forms",
    response={201: FormOut, **WRITE_ERRORS},
    summary="連携様式の下書きを記録から作る",
)
def create_form(
    request: HttpRequest, code: uuid.UUID, payload: fa.NewFormInput
) -> Status[SharedForm]:
    m = api_care_membership(request)
    p = visible_patient(m, code)
    form = fa.create_form(p, by=m, data=payload, request=request)
    sf = visible_form(m, p, form.code)
    return Status(201, _form_out(sf, m, fa.content_of(sf)))


@router.get(
    "/patients/{code}/forms/{form}",
    auth=READ_AUTH,
    response={200: FormOut, **READ_ERRORS},
    summary="連携様式（監査。送付先の最初の閲覧が受領になる）",
)
def get_form(request: HttpRequest, code: uuid.UUID, form: uuid.UUID) -> SharedForm:
    m = api_care_membership(request)
    sf = visible_form(m, visible_patient(m, code), form)
    content = fa.view_form(sf, by=m, request=request, receipt=_by_a_person(request))
    return _form_out(sf, m, content)


@router.put(
    "/patients/{code}/forms/{form}",
    response={200: FormOut, **WRITE_ERRORS},
    summary="連携様式の新しい版を保存する（version が古ければ 409）",
)
def save_form(
    request: HttpRequest, code: uuid.UUID, form: uuid.UUID, payload: fa.FormSaveInput
) -> SharedForm:
    return _form_step(
        request, code, form, lambda sf, m: fa.save_form(sf, by=m, data=payload, request=request)
    )


@router.post(
    "/patients/{code}/forms/{form}/send",
    response={200: FormOut, **WRITE_ERRORS},
    summary="チームの他の組織へ送付する（同意の範囲内、第29条の記録）",
)
def send_form(
    request: HttpRequest, code: uuid.UUID, form: uuid.UUID, payload: fa.SendInput
) -> SharedForm:
    return _form_step(
        request, code, form, lambda sf, m: fa.send_form(sf, by=m, data=payload, request=request)
    )


@router.post(
    "/patients/{code}/forms/{form}/reply",
    response={200: FormOut, **WRITE_ERRORS},
    summary="連絡票に返信する（送付先の組織）",
)
def reply_form(
    request: HttpRequest, code: uuid.UUID, form: uuid.UUID, payload: fa.ReplyInput
) -> SharedForm:
    return _form_step(
        request,
        code,
        form,
        lambda sf, m: fa.reply_form(sf, by=m, data=payload, request=request),
        as_shown=True,
    )


@router.get(
    "/forms/inbox",
    auth=READ_AUTH,
    response={200: list[FormRow], **errors(403)},
    summary="自組織に届いた連携様式（新しい順、200件まで）",
)
def form_inbox(request: HttpRequest) -> list[SharedForm]:
    return fa.inbox(by=api_care_membership(request), request=request)


@router.get(
    "/patients/{code}/since",
    auth=READ_AUTH,
    response={200: SinceOut, **READ_ERRORS},
    summary="前回の訪問から（自分の最後の記録より後の他のメンバーの記録、監査）",
)
def since_last_visit(request: HttpRequest, code: uuid.UUID) -> tl.Changes:
    m = api_care_membership(request)
    return act(request, m, visible_patient, code, tl.changes_since_last_visit)
