"""Care screens: patient list, patient page, team, invitations, break-glass, access record.

Thin: parse the form into the action's input, fetch through renkei.care.access (404 for
outsiders, second factor first), call the action, render. Every page that shows a patient
calls an action that audits the read.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from renkei.accounts.http import MemberRequest
from renkei.accounts.models import AuditEntry
from renkei.care import actions, timeline_html
from renkei.care.access import (
    care_view,
    invitations,
    my_invitation,
    team_row,
    visible_patient,
)
from renkei.care.forms import BreakGlassForm, EndForm, InviteForm, NewPatientForm, PatientForm
from renkei.care.models import CareTeamMember, Patient, unread_counts
from renkei.lib.actions import ActionError
from renkei.lib.forms import input_from_form, submit


@care_view
@require_GET
def home(request: MemberRequest) -> HttpResponse:
    m = request.membership
    query = (request.GET.get("q") or "").strip()[:60]
    patients = actions.list_patients(by=m, query=query, request=request, brief=True)
    unread = unread_counts(m) if patients else {}
    rows = [(p, unread.get(p.pk, 0)) for p in patients]
    return render(
        request,
        "care/home.html",
        {
            "rows": rows,
            "rows_html": timeline_html.patient_rows(rows),
            "q": query,
            "invitation_count": len(invitations(m)),
        },
    )


@care_view
@require_http_methods(["GET", "POST"])
def patient_new(request: MemberRequest) -> HttpResponse:
    form = NewPatientForm(request.POST or None)
    status = 200
    if request.method == "POST":
        done = submit(
            form,
            actions.NewPatientInput,
            lambda data: actions.create_patient(by=request.membership, data=data, request=request),
        )
        if done.result is not None:
            messages.success(request, "患者を登録しました。")
            return redirect(done.result)
        status = done.status
    return render(request, "care/patient_form.html", {"form": form, "new": True}, status=status)


@care_view
@require_GET
def patient(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    from renkei.care.more_views import timeline_page

    return timeline_page(request, visible_patient(request.membership, code))


@care_view
@require_http_methods(["GET", "POST"])
def patient_edit(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    p = visible_patient(request.membership, code)
    actions.require_on_team(p, request.membership)
    if request.method == "POST":
        form = PatientForm(request.POST)
        done = submit(
            form,
            actions.PatientUpdate,
            lambda data: actions.update_patient(
                p, by=request.membership, data=data, request=request
            ),
        )
        if done.done:
            messages.success(request, "患者情報を更新しました。")
            return redirect(p)
        status = done.status
    else:
        actions.view_patient(p, by=request.membership, what="edit", request=request)
        form = PatientForm(initial={**actions.patient_values(p), "version": p.version})
        status = 200
    return render(request, "care/patient_form.html", {"form": form, "p": p}, status=status)


def _team_page(
    request: MemberRequest, p: Patient, form: InviteForm, status: int = 200
) -> HttpResponse:
    actions.view_patient(p, by=request.membership, what="team", request=request)
    rows = list(
        CareTeamMember.objects.filter(patient=p)
        .select_related("membership__user", "membership__organization", "invited_by__user")
        .order_by("status", "team_role", "pk")
    )
    for r in rows:
        r.removable = r.status in ("active", "invited") and actions.may_end(r, request.membership)  # type: ignore[attr-defined]
    return render(
        request,
        "care/team.html",
        {"p": p, "rows": rows, "form": form, "end_form": EndForm()},
        status=status,
    )


@care_view
@require_http_methods(["GET", "POST"])
def team(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    p = visible_patient(request.membership, code)
    if request.method == "GET":
        return _team_page(request, p, InviteForm())
    form = InviteForm(request.POST)
    done = submit(
        form,
        actions.InviteInput,
        lambda data: actions.invite_member(p, by=request.membership, data=data, request=request),
    )
    if not done.done:
        return _team_page(request, p, form, status=done.status)
    messages.success(request, "招待を送りました。相手の方が承諾するとチームに加わります。")
    return redirect("care:team", code=p.code)


@care_view
@require_POST
def team_end(request: MemberRequest, code: uuid.UUID, pk: int) -> HttpResponse:
    p = visible_patient(request.membership, code)
    row = team_row(p, pk)
    form = EndForm(request.POST)
    data = input_from_form(form, actions.EndInput)
    if data is None:
        # The input's own words, as the API answers them.
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, str(message))
        return redirect("care:team", code=p.code)
    try:
        actions.end_membership(row, by=request.membership, data=data, request=request)
    except ActionError as e:
        messages.error(request, e.message)
        return redirect("care:team", code=p.code)
    if row.membership_id == request.membership.pk:
        messages.success(request, "チームを離れました。")
        return redirect("care:home")
    messages.success(request, "メンバーを外しました。")
    return redirect("care:team", code=p.code)


@care_view
@require_GET
def invitation_list(request: MemberRequest) -> HttpResponse:
    return render(request, "care/invitations.html", {"rows": invitations(request.membership)})


@care_view
@require_POST
def invitation_answer(request: MemberRequest, pk: int, answer: str) -> HttpResponse:
    row = my_invitation(request.membership, pk)
    try:
        if answer == "accept":
            actions.accept_invitation(row, by=request.membership, request=request)
        else:
            actions.decline_invitation(row, by=request.membership, request=request)
    except ActionError as e:
        messages.error(request, e.message)
        return redirect("care:invitations")
    if answer == "accept":
        messages.success(request, "チームに参加しました。")
        return redirect(row.patient)
    messages.success(request, "招待を辞退しました。")
    return redirect("care:invitations")


@care_view
@require_http_methods(["GET", "POST"])
def break_glass(request: MemberRequest) -> HttpResponse:
    form = BreakGlassForm(request.POST or None)
    status = 200
    if request.method == "POST":
        done = submit(
            form,
            actions.BreakGlassInput,
            lambda data: actions.break_glass(by=request.membership, data=data, request=request),
        )
        if done.result is not None:
            messages.warning(
                request, "緊急時の閲覧を記録し、チームと管理者に通知しました（4時間有効）。"
            )
            return redirect(done.result[0])
        status = done.status
    return render(request, "care/break_glass.html", {"form": form}, status=status)


@care_view
@require_GET
def access_log(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    """閲覧記録: who opened the record, when, from which organisation (printable)."""
    p = visible_patient(request.membership, code)
    actions.view_patient(p, by=request.membership, what="access_log", request=request)
    entries = list(
        AuditEntry.objects.filter(target_type="care.Patient", target_id=str(p.code))
        .select_related("actor", "organization")
        .order_by("-at", "-id")[:1000]
    )
    return render(request, "care/access_log.html", {"p": p, "entries": entries})
