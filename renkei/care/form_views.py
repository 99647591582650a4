"""Screens for the shared forms (ADR 0046): the patient's forms, a draft's edit page, the
form as sent (with its receipts, the sending and the reply), the A4 print, and the inbox."""

from __future__ import annotations

import uuid
from typing import Any

import pydantic
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from renkei.accounts.http import MemberRequest
from renkei.care.access import care_view, visible_form, visible_patient
from renkei.care.actions import forms as fa
from renkei.care.form_kinds import CONTENT_MODELS, printable
from renkei.care.forms import (
    NewFormForm,
    ReplyForm,
    SendForm,
    content_form_class,
    with_current_version,
)
from renkei.care.models import CareTeamMember, Patient, SharedForm
from renkei.lib.actions import ActionError, StaleVersion
from renkei.lib.forms import form_field, input_from_form, show_error, submit
from renkei.lib.inputs import errors_of


def _on_team(request: MemberRequest, p: Patient) -> bool:
    return (
        CareTeamMember.objects.current().filter(patient=p, membership=request.membership).exists()
    )


def _list_page(
    request: MemberRequest, p: Patient, form: NewFormForm, status: int = 200
) -> HttpResponse:
    found = fa.view_forms(p, by=request.membership, request=request)
    return render(
        request,
        "care/forms.html",
        {"p": p, "on_team": _on_team(request, p), "forms": found, "form": form},
        status=status,
    )


@care_view
@require_http_methods(["GET", "POST"])
def forms(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    p = visible_patient(request.membership, code)
    if request.method == "GET":
        return _list_page(request, p, NewFormForm())
    form = NewFormForm(request.POST)
    done = submit(
        form,
        fa.NewFormInput,
        lambda data: fa.create_form(p, by=request.membership, data=data, request=request),
    )
    if (created := done.result) is None:
        return _list_page(request, p, form, status=done.status)
    messages.success(request, "記録から下書きを作りました。内容を確認・追記して保存してください。")
    return redirect("care:form_edit", code=p.code, form=created.code)


def _edit_page(
    request: MemberRequest, sf: SharedForm, form: Any, status: int = 200
) -> HttpResponse:
    content = fa.view_form(sf, by=request.membership, request=request)
    from renkei.care.form_kinds import SECTIONS

    return render(
        request,
        "care/form_edit.html",
        {
            "p": sf.patient,
            "on_team": True,
            "sf": sf,
            "form": form,
            "sections": [(t, [form[n] for n in names]) for t, names in SECTIONS[sf.kind]],
            "content": content,
        },
        status=status,
    )


def _initial(sf: SharedForm) -> dict[str, Any]:
    values = fa.content_of(sf).model_dump()
    return values | {"admission_date": sf.admission_date, "version": sf.version}


@care_view
@require_http_methods(["GET", "POST"])
def form_edit(request: MemberRequest, code: uuid.UUID, form: uuid.UUID) -> HttpResponse:
    p = visible_patient(request.membership, code)
    sf = visible_form(request.membership, p, form)
    FormClass = content_form_class(sf.kind)
    if request.method == "GET":
        if sf.sender_id != request.membership.organization_id:
            return redirect("care:form", code=p.code, form=sf.code)
        return _edit_page(request, sf, FormClass(initial=_initial(sf)))
    bound = FormClass(request.POST)
    content = input_from_form(bound, CONTENT_MODELS[sf.kind], extra={"kind": sf.kind})
    if content is None:
        return _edit_page(request, sf, bound, status=400)
    try:
        data = fa.FormSaveInput(
            content=content,
            admission_date=bound.cleaned_data.get("admission_date"),
            version=bound.cleaned_data.get("version"),
        )
    except pydantic.ValidationError as e:
        for field, message in errors_of(e):
            bound.add_error(form_field(bound, field), message)
        return _edit_page(request, sf, bound, status=400)
    try:
        fa.save_form(sf, by=request.membership, data=data, request=request)
    except ActionError as e:
        if isinstance(e, StaleVersion):
            bound = with_current_version(FormClass, request.POST, e)
        show_error(bound, e)
        return _edit_page(request, sf, bound, status=e.status)
    messages.success(request, f"第{sf.version}版として保存しました。")
    return redirect("care:form", code=p.code, form=sf.code)


def _detail_page(
    request: MemberRequest,
    sf: SharedForm,
    *,
    send_form: SendForm | None = None,
    reply_form: ReplyForm | None = None,
    status: int = 200,
) -> HttpResponse:
    m = request.membership
    content = fa.view_form(sf, by=m, request=request)
    is_sender = sf.sender_id == m.organization_id
    orgs = fa.recipients(sf) if is_sender else []
    initial = {"version": sf.version, "recipient": str(sf.recipient.code) if sf.recipient else ""}
    return render(
        request,
        "care/form_detail.html",
        {
            "p": sf.patient,
            "on_team": _on_team(request, sf.patient),
            "sf": sf,
            "content": content,
            "sections": printable(content),
            "is_sender": is_sender,
            "is_recipient": sf.recipient_id == m.organization_id and not is_sender,
            "send_form": send_form or SendForm(orgs=orgs, initial=initial),
            "orgs": orgs,
            "reply_form": reply_form or ReplyForm(),
            "history": list(sf.versions.select_related("saved_by__user")) if is_sender else [],
        },
        status=status,
    )


@care_view
@require_GET
def form_detail(request: MemberRequest, code: uuid.UUID, form: uuid.UUID) -> HttpResponse:
    p = visible_patient(request.membership, code)
    return _detail_page(request, visible_form(request.membership, p, form))


@care_view
@require_POST
def form_send(request: MemberRequest, code: uuid.UUID, form: uuid.UUID) -> HttpResponse:
    p = visible_patient(request.membership, code)
    sf = visible_form(request.membership, p, form)
    bound = SendForm(request.POST, orgs=fa.recipients(sf))
    done = submit(
        bound,
        fa.SendInput,
        lambda data: fa.send_form(sf, by=request.membership, data=data, request=request),
    )
    if not done.done:
        return _detail_page(request, sf, send_form=bound, status=done.status)
    messages.success(request, "送付しました。相手が開くと「受領済み」と表示されます。")
    return redirect("care:form", code=p.code, form=sf.code)


@care_view
@require_POST
def form_reply(request: MemberRequest, code: uuid.UUID, form: uuid.UUID) -> HttpResponse:
    p = visible_patient(request.membership, code)
    sf = visible_form(request.membership, p, form)
    bound = ReplyForm(request.POST)
    done = submit(
        bound,
        fa.ReplyInput,
        lambda data: fa.reply_form(sf, by=request.membership, data=data, request=request),
    )
    if not done.done:
        return _detail_page(request, sf, reply_form=bound, status=done.status)
    messages.success(request, "返信しました。")
    return redirect("care:form", code=p.code, form=sf.code)


@care_view
@require_GET
@never_cache
def form_print(request: MemberRequest, code: uuid.UUID, form: uuid.UUID) -> HttpResponse:
    """A4, laid out like the paper form, for those who still FAX it."""
    p = visible_patient(request.membership, code)
    sf = visible_form(request.membership, p, form)
    content = fa.view_form(sf, by=request.membership, request=request)
    response = render(
        request,
        "care/form_print.html",
        {"p": p, "sf": sf, "content": content, "sections": printable(content)},
    )
    response["Cache-Control"] = "no-store"
    return response


@care_view
@require_GET
def inbox(request: MemberRequest) -> HttpResponse:
    found = fa.inbox(by=request.membership, request=request)
    return render(request, "care/form_inbox.html", {"forms": found})
