"""Backup-bed and 協力医療機関 screens (ADR 0047). Registrations carry patient data, so they sit
behind the second factor (care_view) and are fetched through access.visible_registration;
every screen that shows a patient audits the read as the patient page does."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.db.models import Count, Max
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from renkei.accounts.http import MemberRequest, member_required
from renkei.care import actions as care_actions
from renkei.care.access import care_view, visible_patient
from renkei.lib.actions import ActionError, NotFound
from renkei.lib.dates import fiscal_year
from renkei.lib.forms import input_from_form, show_error
from renkei.lib.inputs import Input
from renkei.oncall import bed_uses, beds
from renkei.oncall.access import (
    own_offer,
    registrations_visible_to,
    visible_cooperation,
    visible_registration,
)
from renkei.oncall.models import (
    BackupBedOffer,
    BackupBedRegistration,
    BackupBedUse,
    BedOutcome,
    BedScheme,
    CooperatingInstitution,
    RegistrationStatus,
)

In = TypeVar("In", bound=Input)
DATE = forms.DateInput({"type": "date"})


class OfferForm(forms.Form):
    scheme = forms.ChoiceField(label="制度", choices=BedScheme.choices)
    name = forms.CharField(label="名称（例: 県央医師会 後方ベッド確保事業）", max_length=100)
    phone = forms.CharField(label="入院依頼の連絡先電話", max_length=30)
    beds = forms.IntegerField(label="確保病床数", required=False)
    note = forms.CharField(label="受入れの条件など", max_length=300, required=False)
    is_active = forms.BooleanField(label="受付中", required=False, initial=True)


class RegisterForm(forms.Form):
    offer = forms.ChoiceField(label="登録する病院（後方ベッド）")
    summary = forms.CharField(
        label="事前に送る情報（病状・急変時の方針・服薬など）",
        max_length=2000,
        widget=forms.Textarea({"rows": 6}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["offer"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "選んでください")] + [
            (str(o.code), f"{o.hospital.name}（{o.get_scheme_display()}・{o.name}）")
            for o in BackupBedOffer.objects.filter(is_active=True).select_related("hospital")
        ]


class DecisionForm(forms.Form):
    accept = forms.TypedChoiceField(
        label="回答",
        choices=[("1", "受け入れる"), ("0", "お断りする")],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label="お断りの理由", max_length=200, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class ExchangeForm(forms.Form):
    summary = forms.CharField(
        label="共有する情報", max_length=2000, widget=forms.Textarea({"rows": 4})
    )


class UseForm(forms.Form):
    admitted_on = forms.DateField(label="受診・入院日", widget=DATE)
    outcome = forms.ChoiceField(label="転帰", choices=BedOutcome.choices)
    discharged_on = forms.DateField(label="退院日", required=False, widget=DATE)
    note = forms.CharField(label="メモ", max_length=300, required=False)


class CooperationForm(forms.Form):
    institution = forms.UUIDField(label="協力医療機関（登録済みなら組織コード）", required=False)
    name = forms.CharField(label="協力医療機関の名称", max_length=120, required=False)
    phone = forms.CharField(label="急変時の連絡先電話", max_length=30)
    valid_from = forms.DateField(label="協力の開始日", widget=DATE)
    valid_until = forms.DateField(label="協力の終了日", required=False, widget=DATE)


class ConfirmationForm(forms.Form):
    fiscal_year = forms.IntegerField(label="年度（西暦の開始年）")
    confirmed_on = forms.DateField(label="協力医療機関と確認した日", widget=DATE)
    filed_on = forms.DateField(label="自治体に届け出た日", required=False, widget=DATE)
    note = forms.CharField(
        label="確認した急変時の対応",
        max_length=500,
        required=False,
        widget=forms.Textarea({"rows": 3}),
    )


def _submit(form: forms.Form, model: type[In], act: Callable[[In], object]) -> tuple[bool, int]:
    """The HTML door: form → typed input → action; refusals land beside their field."""
    data = input_from_form(form, model)
    if data is None:
        return False, 400
    try:
        act(data)
    except ActionError as e:
        show_error(form, e)
        return False, e.status
    return True, 200


# Lists --------------------------------------------------------------------------------------


@care_view
@require_GET
def bed_list(request: MemberRequest) -> HttpResponse:
    """The hospital's registered patients with the last exchange (stale ones flagged) and its
    offers; a clinic's own registrations."""
    m = request.membership
    rows = list(
        registrations_visible_to(m)
        .filter(status__in=[RegistrationStatus.REQUESTED, RegistrationStatus.ACCEPTED])
        .select_related("patient", "hospital", "clinic", "offer")
        .annotate(use_count=Count("uses"), last_use=Max("uses__admitted_on"))
        .order_by("last_exchange_at")
    )
    for r in rows:
        care_actions.view_patient(r.patient, by=m, what="backup_bed_list", request=request)
    cutoff = beds.months_before(timezone.localdate(), beds.STALE_MONTHS)
    hospital_rows = [r for r in rows if r.hospital_id == m.organization_id]
    return render(
        request,
        "oncall/beds.html",
        {
            "hospital_rows": hospital_rows,
            "clinic_rows": [r for r in rows if r.hospital_id != m.organization_id],
            "offers": BackupBedOffer.objects.filter(hospital_id=m.organization_id),
            "is_hospital": m.organization.kind == "hospital",
            "uses_this_year": bed_uses.this_year_count(
                BackupBedUse.objects.filter(registration__hospital_id=m.organization_id)
            ),
            "cutoff": cutoff,
            "stale": sum(
                1 for r in hospital_rows if timezone.localdate(r.last_exchange_at) < cutoff
            ),
        },
    )


@member_required
@require_http_methods(["GET", "POST"])
def offer_edit(request: MemberRequest, code: uuid.UUID | None = None) -> HttpResponse:
    m = request.membership
    offer = own_offer(m, code) if code else None
    status = 200
    if request.method == "POST":
        form = OfferForm(request.POST)
        ok, status = _submit(
            form,
            beds.OfferInput,
            lambda d: beds.save_offer(by=m, data=d, offer=offer, request=request),
        )
        if ok:
            messages.success(request, "後方ベッドの提供を保存しました。")
            return redirect("oncall:beds")
    elif offer is not None:
        form = OfferForm(
            initial={
                k: getattr(offer, k)
                for k in ("scheme", "name", "phone", "beds", "note", "is_active")
            }
        )
    else:
        form = OfferForm()
    return render(request, "oncall/offer_form.html", {"form": form, "offer": offer}, status=status)


@care_view
@require_http_methods(["GET", "POST"])
def register(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    m = request.membership
    p = visible_patient(m, code)
    status = 200
    current = beds.open_registration(p)
    if request.method == "POST":
        form = RegisterForm(request.POST)
        ok, status = _submit(
            form,
            beds.RegisterInput,
            lambda d: beds.register_patient(p, by=m, data=d, request=request),
        )
        if ok:
            messages.success(request, "後方ベッドの事前登録を依頼しました。病院の回答を待ちます。")
            return redirect(reverse("oncall:chain", args=[p.code]))
    else:
        care_actions.view_patient(p, by=m, what="backup_bed_form", request=request)
        form = RegisterForm()
    return render(
        request,
        "oncall/bed_register.html",
        {"p": p, "form": form, "current": current},
        status=status,
    )


# One registration ---------------------------------------------------------------------------


def _detail(
    request: MemberRequest, reg: BackupBedRegistration, status: int = 200, **forms_: forms.Form
) -> HttpResponse:
    m = request.membership
    care_actions.view_patient(reg.patient, by=m, what="backup_bed", request=request)
    hospital = beds.is_hospital_side(reg, m)
    context: dict[str, Any] = {
        "reg": reg,
        "p": reg.patient,
        "hospital": hospital,
        "exchanges": reg.exchanges.select_related("by__user", "by__organization"),
        "uses": reg.uses.all(),
        "decision_form": forms_.get("decide") or DecisionForm(initial={"version": reg.version}),
        "exchange_form": forms_.get("exchange") or ExchangeForm(),
        "use_form": forms_.get("use") or UseForm(),
        "stale": timezone.localdate(reg.last_exchange_at)
        < beds.months_before(timezone.localdate(), beds.STALE_MONTHS),
    }
    return render(request, "oncall/bed.html", context, status=status)


@care_view
@require_GET
def bed_detail(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    return _detail(request, visible_registration(request.membership, code))


@care_view
@require_POST
def bed_step(request: MemberRequest, code: uuid.UUID, step: str) -> HttpResponse:
    m = request.membership
    reg = visible_registration(m, code)
    done = {
        "decide": "回答しました。",
        "exchange": "情報を送りました。",
        "use": "利用を記録しました。",
        "end": "登録を終了しました。",
    }
    if step not in done:
        raise NotFound("操作が見つかりません")
    form: forms.Form
    if step == "end":
        try:
            beds.end_registration(reg, by=m, request=request)
        except ActionError as e:
            messages.error(request, e.message)
            return _detail(request, reg, status=e.status)
        messages.success(request, done[step])
        return redirect("oncall:bed", code=reg.code)
    if step == "decide":
        form = DecisionForm(request.POST)
        ok, status = _submit(
            form,
            beds.DecisionInput,
            lambda d: beds.decide_registration(reg, by=m, data=d, request=request),
        )
    elif step == "exchange":
        form = ExchangeForm(request.POST)
        ok, status = _submit(
            form,
            beds.ExchangeInput,
            lambda d: beds.send_information(reg, by=m, data=d, request=request),
        )
    else:
        form = UseForm(request.POST)
        ok, status = _submit(
            form, beds.BedUseInput, lambda d: beds.record_use(reg, by=m, data=d, request=request)
        )
    if ok:
        messages.success(request, done[step])
        return redirect("oncall:bed", code=reg.code)
    reg.refresh_from_db()
    return _detail(request, reg, status, **{step: form})


# 協力医療機関 ---------------------------------------------------------------------------------


@member_required
@require_http_methods(["GET", "POST"])
def cooperation(request: MemberRequest) -> HttpResponse:
    m = request.membership
    status = 200
    form = CooperationForm(request.POST or None, initial={"valid_from": timezone.localdate()})
    if request.method == "POST":
        ok, status = _submit(
            form,
            beds.CooperationInput,
            lambda d: beds.save_cooperation(by=m, data=d, request=request),
        )
        if ok:
            messages.success(request, "協力医療機関を記録しました。")
            return redirect("oncall:cooperation")
    today = timezone.localdate()
    missing = set(beds.cooperations_missing_confirmation(today).values_list("pk", flat=True))
    own = list(
        CooperatingInstitution.objects.filter(facility_id=m.organization_id)
        .select_related("institution")
        .prefetch_related("confirmations")
    )
    for c in own:
        c.missing = c.pk in missing  # type: ignore[attr-defined]
    return render(
        request,
        "oncall/cooperation.html",
        {
            "form": form,
            "own": own,
            "partners": CooperatingInstitution.objects.filter(
                institution_id=m.organization_id
            ).select_related("facility"),
            "fiscal_year": fiscal_year(today),
            "is_facility": m.organization.kind in beds.CARE_FACILITY_KINDS,
            "confirm_form": ConfirmationForm(initial={"fiscal_year": fiscal_year(today)}),
        },
        status=status,
    )


@member_required
@require_http_methods(["GET", "POST"])
def confirm(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    m = request.membership
    coop = visible_cooperation(m, code)
    status = 200
    form = ConfirmationForm(
        request.POST or None, initial={"fiscal_year": fiscal_year(timezone.localdate())}
    )
    if request.method == "POST":
        ok, status = _submit(
            form,
            beds.ConfirmationInput,
            lambda d: beds.record_confirmation(coop, by=m, data=d, request=request),
        )
        if ok:
            messages.success(request, "年1回の確認を記録しました。")
            return redirect("oncall:cooperation")
    return render(
        request,
        "oncall/confirmation_form.html",
        {"coop": coop, "form": form, "rows": coop.confirmations.all()},
        status=status,
    )
