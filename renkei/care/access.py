"""How a request reaches one care record: scoped to the membership, 404 for everyone else,
and only after the second factor (ADR 0032).

The screens and the API fetch through these and nothing else.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from renkei.accounts.http import api_membership, member_required
from renkei.accounts.models import Membership
from renkei.care.models import (
    CareTeamMember,
    Consent,
    MemberStatus,
    Patient,
    Post,
    SharedForm,
)
from renkei.lib.actions import Forbidden, get_visible

PATIENT_NOT_FOUND = "患者が見つかりません"
TWO_FACTOR_REQUIRED = (
    "患者情報を扱うには二要素認証が必要です。プロフィールから二要素認証を設定してください。"
)

V = TypeVar("V", bound=Callable[..., HttpResponse])


def verified(request: HttpRequest) -> bool:
    is_verified = getattr(request.user, "is_verified", None)
    return bool(is_verified and is_verified())


def care_view(view: V) -> V:
    """member_required, then the second factor: a password alone never opens a patient."""

    @member_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not verified(request):
            from django_otp import user_has_device

            if user_has_device(request.user):
                query = urlencode({"next": request.get_full_path()})
                return redirect(f"{reverse('accounts:otp_verify')}?{query}")
            return redirect("accounts:otp_setup")
        return view(request, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def api_care_membership(request: HttpRequest) -> Membership:
    m = api_membership(request)
    if not verified(request):
        raise Forbidden(TWO_FACTOR_REQUIRED)
    return m


def visible_patient(m: Membership | None, code: uuid.UUID) -> Patient:
    return get_visible(
        Patient.objects.select_related("owner").visible_one(m, code), PATIENT_NOT_FOUND, code=code
    )


def team_row(patient: Patient, pk: int) -> CareTeamMember:
    return get_visible(
        CareTeamMember.objects.filter(patient=patient).select_related(
            "patient", "membership__user", "membership__organization"
        ),
        "メンバーが見つかりません",
        pk=pk,
    )


def my_invitation(m: Membership, pk: int) -> CareTeamMember:
    return get_visible(
        CareTeamMember.objects.filter(membership=m, status=MemberStatus.INVITED).select_related(
            "patient", "invited_by__user", "invited_by__organization"
        ),
        "招待が見つかりません",
        pk=pk,
    )


def invitations(m: Membership) -> list[CareTeamMember]:
    return list(
        CareTeamMember.objects.filter(membership=m, status=MemberStatus.INVITED)
        .select_related("patient", "invited_by__user", "invited_by__organization")
        .order_by("-invited_at")
    )


def visible_consent(patient: Patient, code: uuid.UUID) -> Consent:
    return get_visible(
        Consent.objects.filter(patient=patient).select_related("patient"),
        "同意の記録が見つかりません",
        code=code,
    )


def visible_post(patient: Patient, code: uuid.UUID) -> Post:
    return get_visible(Post.objects.filter(patient=patient), "投稿が見つかりません", code=code)


def visible_form(m: Membership, patient: Patient, code: uuid.UUID) -> SharedForm:
    """A shared form of a patient the member may open: drafted by their organisation or sent
    to it. Other team members get 404 like outsiders: the form is addressed."""
    return get_visible(
        SharedForm.objects.filter(patient=patient)
        .for_org(m)
        .select_related("patient", "sender", "recipient", "read_by__user", "replied_by__user"),
        "様式が見つかりません",
        code=code,
    )
