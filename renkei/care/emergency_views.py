"""Screens for the emergency information sheet, its fridge print with the ambulance QR code,
the ambulance crew's one-time view, and the ACP record (ADR 0034)."""

from __future__ import annotations

import io
import uuid
from typing import Any

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from renkei.accounts.http import MemberRequest
from renkei.accounts.models import AuditEntry
from renkei.care.access import care_view, visible_patient
from renkei.care.actions import emergency as em
from renkei.care.forms import AcpForm, SheetForm, with_current_version
from renkei.care.models import (
    PARTNERS_REQUIRED,
    CareTeamMember,
    PartnerList,
    Patient,
    Resuscitation,
    partner_organizations,
)
from renkei.lib.actions import ActionError, NotFound, StaleVersion
from renkei.lib.forms import input_from_form, show_error, submit
from renkei.lib.mail import site_url


def _qr_svg(uri: str) -> str:
    buf = io.BytesIO()
    qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2).save(buf)
    svg = buf.getvalue().decode("utf-8")
    return svg[svg.index("<svg") :]


def _on_team(request: MemberRequest, p: Patient) -> bool:
    return (
        CareTeamMember.objects.current().filter(patient=p, membership=request.membership).exists()
    )


def _sheet_initial(sheet: Any) -> dict[str, Any]:
    if sheet is None:
        return {"version": 0}
    return {f: getattr(sheet, f) for f in em.SHEET_FIELDS} | {"version": sheet.version}


def _sheet_page(
    request: MemberRequest, p: Patient, form: SheetForm | None = None, status: int = 200
) -> HttpResponse:
    sheet = em.view_sheet(p, by=request.membership, request=request)
    return render(
        request,
        "care/emergency.html",
        {
            "p": p,
            "on_team": _on_team(request, p),
            "sheet": sheet,
            "doctors": em.doctor_contacts(p),
            "resuscitation_choices": Resuscitation.choices,
            "form": form or SheetForm(initial=_sheet_initial(sheet)),
            "active_codes": em.active_codes(p),
        },
        status=status,
    )


@care_view
@require_http_methods(["GET", "POST"])
def emergency(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    p = visible_patient(request.membership, code)
    if request.method == "GET":
        return _sheet_page(request, p)
    form = SheetForm(request.POST)
    data = input_from_form(form, em.SheetInput)
    if data is None:
        return _sheet_page(request, p, form, status=400)
    try:
        em.save_sheet(p, by=request.membership, data=data, request=request)
    except ActionError as e:
        if isinstance(e, StaleVersion):
            form = with_current_version(SheetForm, request.POST, e)
        show_error(form, e)
        return _sheet_page(request, p, form, status=e.status)
    messages.success(
        request,
        "救急医療情報シートを保存しました。印刷したシートのQRコードは、常に最新の内容を表示します。",
    )
    return redirect("care:emergency", code=p.code)


@care_view
@require_GET
@never_cache
def emergency_print(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    """One A4 page for the fridge; each print carries a fresh one-time code."""
    p = visible_patient(request.membership, code)
    try:
        token = em.issue_ambulance_code(p, by=request.membership, request=request)
    except ActionError as e:
        messages.error(request, e.message)
        return redirect("care:emergency", code=p.code)
    url = site_url(reverse("care:ambulance", args=[token]))
    sheet = em.view_sheet(p, by=request.membership, what="emergency_print", request=request)
    response = render(
        request,
        "care/emergency_print.html",
        {
            "p": p,
            "sheet": sheet,
            "doctors": em.doctor_contacts(p),
            "resuscitation_choices": Resuscitation.choices,
            "qr": _qr_svg(url),
            "printed_on": timezone.localdate(),
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@care_view
@require_POST
def emergency_revoke(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    p = visible_patient(request.membership, code)
    try:
        n = em.revoke_ambulance_codes(p, by=request.membership, request=request)
    except ActionError as e:
        messages.error(request, e.message)
    else:
        messages.success(
            request, f"印刷済みのQRコード{n}件を無効にしました。シートを印刷し直してください。"
        )
    return redirect("care:emergency", code=p.code)


@never_cache
@require_GET
def ambulance(request: HttpRequest, token: str) -> HttpResponse:
    """The crew's view: no account, the code works once (then only in the same browser for a
    short while), and the team is told. Always the sheet as it is stored now."""
    if request.session.session_key is None:
        request.session["ambulance"] = True
        request.session.save()
    try:
        p, sheet = em.open_ambulance_view(
            token, session_key=request.session.session_key or "", request=request
        )
    except NotFound as e:
        return render(request, "care/ambulance_gone.html", {"message": e.message}, status=404)
    response = render(
        request,
        "care/ambulance.html",
        {
            "p": p,
            "sheet": sheet,
            "doctors": em.doctor_contacts(p),
            "resuscitation_choices": Resuscitation.choices,
            "now": timezone.now(),
        },
    )
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


# ACP ----------------------------------------------------------------------------------


def _acp_initial(latest: Any) -> dict[str, Any]:
    if latest is None:
        return {"discussed_on": timezone.localdate()}
    return {f: getattr(latest, f) for f in em.ACP_FIELDS} | {"base": latest.number}


def _acp_page(
    request: MemberRequest, p: Patient, form: AcpForm | None = None, status: int = 200
) -> HttpResponse:
    history = em.view_acp(p, by=request.membership, request=request)
    latest = history[0] if history else None
    labels = {f.name: f.verbose_name for f in type(latest)._meta.fields} if latest else {}
    return render(
        request,
        "care/acp.html",
        {
            "p": p,
            "on_team": _on_team(request, p),
            "latest": latest,
            "history": [(r, [labels.get(f, f) for f in r.changed]) for r in history],
            "form": form or AcpForm(initial=_acp_initial(latest)),
        },
        status=status,
    )


@care_view
@require_http_methods(["GET", "POST"])
def acp(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    p = visible_patient(request.membership, code)
    if request.method == "GET":
        return _acp_page(request, p)
    form = AcpForm(request.POST)
    done = submit(
        form,
        em.AcpInput,
        lambda data: em.save_acp(p, by=request.membership, data=data, request=request),
    )
    if (record := done.result) is None:
        return _acp_page(request, p, form, status=done.status)
    messages.success(request, f"人生会議の記録（第{record.number}版）を保存しました。")
    return redirect("care:acp", code=p.code)


# The published partner list (在宅医療情報連携加算) -----------------------------------------


@care_view
@require_http_methods(["GET", "POST"])
def partners(request: MemberRequest) -> HttpResponse:
    """The member's organisation's partner list: preview for members, publish for its admin."""
    m = request.membership
    org = m.organization
    listing = PartnerList.objects.filter(organization=org).first()
    if request.method == "POST":
        if not m.is_org_admin:
            messages.error(request, "公開・非公開を切り替えられるのは組織の管理者です。")
            return redirect("care:partners")
        publish = request.POST.get("published") == "1"
        PartnerList.objects.update_or_create(
            organization=org, defaults={"published": publish, "updated_by": m}
        )
        AuditEntry.record(
            "care.partner_list_published" if publish else "care.partner_list_withdrawn",
            request=request,
            membership=m,
            target=org,
        )
        messages.success(
            request, "連携先リストを公開しました。" if publish else "公開をやめました。"
        )
        return redirect("care:partners")
    return render(
        request,
        "care/partners.html",
        {
            "org": org,
            "partners": partner_organizations(org),
            "listing": listing,
            "required": PARTNERS_REQUIRED,
            "public_url": site_url(reverse("care:partners_public", args=[org.code])),
            "is_admin": m.is_org_admin,
        },
    )


@require_GET
def partners_public(request: HttpRequest, org: uuid.UUID) -> HttpResponse:
    """Public and printable; 404 until the organisation publishes it."""
    listing = (
        PartnerList.objects.filter(organization__code=org, published=True)
        .select_related("organization")
        .first()
    )
    if listing is None:
        raise Http404("公開されていません")
    return render(
        request,
        "care/partners_public.html",
        {
            "org": listing.organization,
            "partners": partner_organizations(listing.organization),
            "today": timezone.localdate(),
        },
    )
