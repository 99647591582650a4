"""Cover chain screens (ADR 0036): the chain on the patient page and its own page, the 主治医's
agreement form and a clinic's absences. Patients are fetched through renkei.care.access, so the
chain is scoped exactly like the patient (outsiders 404, second factor first, reads audited)."""

from __future__ import annotations

import datetime as dt
import uuid

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from renkei.accounts.http import MemberRequest
from renkei.care import actions as care_actions
from renkei.care.access import care_view, visible_patient
from renkei.care.models import Patient
from renkei.lib.actions import ActionError
from renkei.lib.forms import input_from_form, show_error
from renkei.oncall import cover
from renkei.oncall.models import Absence


class CoverForm(forms.Form):
    primary_doctor = forms.CharField(label="主治医の氏名", max_length=60, required=False)
    primary_phone = forms.CharField(label="主治医の連絡先電話", max_length=30)
    night_arrangement = forms.CharField(
        label="夜間の体制（例: 院長携帯に転送）", max_length=200, required=False
    )
    night_phone = forms.CharField(label="夜間の連絡先電話", max_length=30, required=False)
    secondary = forms.UUIDField(label="副主治医の医療機関（組織コード）", required=False)
    secondary_doctor = forms.CharField(label="副主治医の氏名", max_length=60, required=False)
    secondary_phone = forms.CharField(label="副主治医の連絡先電話", max_length=30, required=False)
    agreed_on = forms.DateField(
        label="副主治医が引き受けた日", required=False, widget=forms.DateInput({"type": "date"})
    )
    municipality = forms.CharField(label="患者の市区町村コード（6桁）", max_length=6)
    valid_from = forms.DateField(label="開始日", widget=forms.DateInput({"type": "date"}))
    valid_until = forms.DateField(
        label="終了日", required=False, widget=forms.DateInput({"type": "date"})
    )


class AbsenceForm(forms.Form):
    doctor = forms.CharField(label="医師（空欄なら医療機関全体）", max_length=60, required=False)
    starts_at = forms.DateTimeField(
        label="開始", widget=forms.DateTimeInput({"type": "datetime-local"})
    )
    ends_at = forms.DateTimeField(
        label="終了", widget=forms.DateTimeInput({"type": "datetime-local"})
    )
    note = forms.CharField(label="理由", max_length=100, required=False)


def chain_panel(request: HttpRequest, patient: Patient) -> str:
    """The patient page's panel (registered in OncallConfig.ready); the page audited the read."""
    steps = cover.cover_chain(patient)
    return render_to_string(
        "oncall/_chain.html",
        {"p": patient, "steps": steps, "moment": timezone.now(), "panel": True},
        request=request,
    )


def _moment(request: MemberRequest) -> dt.datetime:
    raw = (request.GET.get("at") or "").strip()
    try:
        moment = dt.datetime.fromisoformat(raw) if raw else timezone.now()
    except ValueError:
        return timezone.now()
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


@care_view
@require_GET
def chain(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    p = visible_patient(request.membership, code)
    care_actions.view_patient(p, by=request.membership, what="cover_chain", request=request)
    moment = _moment(request)
    return render(
        request,
        "oncall/chain.html",
        {"p": p, "steps": cover.cover_chain(p, moment), "moment": moment},
    )


@care_view
@require_http_methods(["GET", "POST"])
def cover_edit(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    p = visible_patient(request.membership, code)
    status = 200
    if request.method == "POST":
        form = CoverForm(request.POST)
        data = input_from_form(form, cover.CoverInput)
        status = 400
        if data is not None:
            try:
                cover.save_cover(p, by=request.membership, data=data, request=request)
            except ActionError as e:
                show_error(form, e)
                status = e.status
            else:
                messages.success(request, "主治医・副主治医の取り決めを記録しました。")
                return redirect(reverse("oncall:chain", args=[p.code]))
    else:
        care_actions.view_patient(p, by=request.membership, what="cover_edit", request=request)
        form = CoverForm(initial={"valid_from": timezone.localdate()})
    return render(request, "oncall/cover_form.html", {"p": p, "form": form}, status=status)


@care_view
@require_http_methods(["GET", "POST"])
def absences(request: MemberRequest) -> HttpResponse:
    m = request.membership
    status = 200
    form = AbsenceForm(request.POST or None)
    if request.method == "POST":
        data = input_from_form(form, cover.AbsenceInput)
        status = 400
        if data is not None:
            try:
                cover.record_absence(by=m, data=data, request=request)
            except ActionError as e:
                show_error(form, e)
                status = e.status
            else:
                messages.success(request, "不在を記録しました。")
                return redirect("oncall:absences")
    rows = Absence.objects.filter(
        organization_id=m.organization_id, ends_at__gt=timezone.now()
    ).order_by("starts_at")
    return render(request, "oncall/absences.html", {"form": form, "rows": rows}, status=status)
