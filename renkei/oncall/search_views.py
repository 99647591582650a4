"""副主治医 search screens and the 往診時医療情報連携加算 print (ADR 0016). The requesting clinic
reaches its searches through the patient (second factor, audited); the clinics it was sent to
see the anonymous case only."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from renkei.accounts.http import MemberRequest, member_required
from renkei.care import actions as care_actions
from renkei.care.access import care_view, visible_patient
from renkei.lib.actions import ActionError, NotFound
from renkei.oncall import search as actions
from renkei.oncall.access import searches_visible_to, visible_search
from renkei.oncall.beds_views import DATE, _submit
from renkei.oncall.models import CoverRole, CoverSearch, DiseaseGroup, SearchStatus
from renkei.referrals.models import AgeBand


class SearchForm(forms.Form):
    wanted = forms.ChoiceField(label="募集する役割", choices=CoverRole.choices, initial="secondary")
    municipality = forms.CharField(label="患者の市区町村コード（6桁）", max_length=6)
    age_band = forms.ChoiceField(
        label="年代", choices=[("", "（書かない）"), *AgeBand.choices], required=False
    )
    disease_group = forms.ChoiceField(label="疾患群", choices=DiseaseGroup.choices)
    needs = forms.CharField(
        label="必要な医療・ケア（氏名・住所・電話など個人を特定する情報は書かないでください）",
        max_length=500,
        widget=forms.Textarea({"rows": 4}),
    )

    def clean_age_band(self) -> str | None:
        return self.cleaned_data["age_band"] or None


class VolunteerForm(forms.Form):
    role = forms.ChoiceField(label="引き受ける役割", choices=CoverRole.choices)
    doctor = forms.CharField(label="担当医", max_length=60)
    phone = forms.CharField(label="連絡先電話", max_length=30)
    message = forms.CharField(label="ひとこと（任意）", max_length=300, required=False)


class ChooseForm(forms.Form):
    volunteer = forms.UUIDField(widget=forms.HiddenInput)
    own_doctor = forms.CharField(label="自院の担当医", max_length=60, required=False)
    own_phone = forms.CharField(label="自院の連絡先電話", max_length=30)
    valid_from = forms.DateField(label="開始日", widget=DATE)


class ShareForm(forms.Form):
    month = forms.CharField(label="対象月（YYYY-MM）", max_length=7)
    shared_on = forms.DateField(label="共有した日", widget=DATE)
    note = forms.CharField(label="共有した内容", max_length=300, required=False)


@care_view
@require_http_methods(["GET", "POST"])
def new_search(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    m = request.membership
    p = visible_patient(m, code)
    status = 200
    form = SearchForm(request.POST or None)
    if request.method == "POST":
        made: list[CoverSearch] = []
        ok, status = _submit(
            form,
            actions.SearchInput,
            lambda d: made.append(actions.post_search(p, by=m, data=d, request=request)),
        )
        if ok:
            messages.success(request, "地域の医療機関に募集を送りました。")
            return redirect("oncall:search", code=made[0].code)
    else:
        care_actions.view_patient(p, by=m, what="cover_search_form", request=request)
    return render(request, "oncall/search_form.html", {"p": p, "form": form}, status=status)


@member_required
@require_GET
def search_list(request: MemberRequest) -> HttpResponse:
    m = request.membership
    rows = (
        searches_visible_to(m)
        .filter(Q(status=SearchStatus.OPEN) | Q(requester_id=m.organization_id))
        .select_related("requester", "municipality")
        .order_by("-created_at")[:100]
    )
    return render(request, "oncall/searches.html", {"rows": rows})


def _search_page(
    request: MemberRequest, s: CoverSearch, status: int = 200, **forms_: forms.Form
) -> HttpResponse:
    m = request.membership
    mine = s.requester_id == m.organization_id
    if mine:
        care_actions.view_patient(s.patient, by=m, what="cover_search", request=request)
    volunteers = s.volunteers.select_related("organization")
    context: dict[str, Any] = {
        "s": s,
        "mine": mine,
        "volunteers": volunteers if mine else volunteers.filter(organization_id=m.organization_id),
        "volunteer_form": forms_.get("volunteer") or VolunteerForm(),
        "choose_form": forms_.get("choose")
        or ChooseForm(initial={"valid_from": timezone.localdate()}),
        "already": volunteers.filter(organization_id=m.organization_id).exists(),
    }
    return render(request, "oncall/search.html", context, status=status)


@member_required
@require_GET
def search_detail(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    s = visible_search(request.membership, code)
    if s.requester_id == request.membership.organization_id:
        return _requester_only(request, s)
    return _search_page(request, s)


@care_view
def _requester_only(request: MemberRequest, s: CoverSearch) -> HttpResponse:
    # The requesting side sees the patient behind the case: second factor first.
    return _search_page(request, s)


@member_required
@require_POST
def search_step(request: MemberRequest, code: uuid.UUID, step: str) -> HttpResponse:
    s = visible_search(request.membership, code)
    if s.requester_id == request.membership.organization_id:
        return _requester_step(request, s, step)
    return _step(request, s, step)


@care_view
def _requester_step(request: MemberRequest, s: CoverSearch, step: str) -> HttpResponse:
    # The requesting side acts on the patient behind the case: second factor first, as the
    # API asks of it (api_care_membership).
    return _step(request, s, step)


def _step(request: MemberRequest, s: CoverSearch, step: str) -> HttpResponse:
    m = request.membership
    if step == "withdraw":
        try:
            actions.withdraw(s, by=m, request=request)
        except ActionError as e:
            messages.error(request, e.message)
        else:
            messages.success(request, "募集を取り下げました。")
        return redirect("oncall:search", code=s.code)
    form: forms.Form
    if step == "volunteer":
        form = VolunteerForm(request.POST)
        ok, status = _submit(
            form,
            actions.VolunteerInput,
            lambda d: actions.volunteer(s, by=m, data=d, request=request),
        )
        done = "名乗り出ました。依頼元の回答を待ちます。"
    elif step == "choose":
        if s.requester_id != m.organization_id:
            raise NotFound("募集が見つかりません")
        form = ChooseForm(request.POST)
        ok, status = _submit(
            form, actions.ChooseInput, lambda d: actions.choose(s, by=m, data=d, request=request)
        )
        done = "決定し、主治医・副主治医の取り決めを記録しました。"
        if ok:
            messages.success(request, done)
            return redirect(reverse("oncall:cover_print", args=[s.patient.code]))
    else:
        raise NotFound("操作が見つかりません")
    if ok:
        messages.success(request, done)
        return redirect("oncall:search", code=s.code)
    return _search_page(request, s, status, **{step: form})


@care_view
@require_http_methods(["GET", "POST"])
def cover_print(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    """A4 for the patient: the cover clinic's name, phone and person in charge, and the monthly
    record that the information and the plan for deterioration were shared."""
    m = request.membership
    p = visible_patient(m, code)
    agreement = actions.current_agreement(p)
    status = 200
    form = ShareForm(
        request.POST or None,
        initial={"month": f"{timezone.localdate():%Y-%m}", "shared_on": timezone.localdate()},
    )
    if request.method == "POST":
        ok, status = _submit(
            form,
            actions.ShareInput,
            lambda d: actions.record_share(p, by=m, data=d, request=request),
        )
        if ok:
            messages.success(request, "共有を記録しました。")
            return redirect("oncall:cover_print", code=p.code)
    else:
        care_actions.view_patient(p, by=m, what="cover_print", request=request)
    return render(
        request,
        "oncall/cover_print.html",
        {
            "p": p,
            "a": agreement,
            "shares": actions.shares_of(agreement) if agreement else [],
            "form": form,
            "today": timezone.localdate(),
        },
        status=status,
    )
