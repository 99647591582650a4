"""Meeting bodies and their meetings: members, the year's schedule, attendance, decisions,
materials and notices. Same shape as views.py: read (access.py), submit, answer."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from renkei.accounts.http import MemberRequest, RenkeiRequest, member_required
from renkei.lib.actions import ActionError
from renkei.lib.forms import refuse
from renkei.programmes import access, actions
from renkei.programmes.forms import (
    AttendanceForm,
    BodyForm,
    DecisionForm,
    MaterialForm,
    MeetingForm,
    MemberForm,
    ScheduleForm,
)
from renkei.programmes.models import MeetingBody
from renkei.programmes.views import (
    confirm_page,
    flash_errors,
    form_page,
    initial_of,
    org_choices,
    post_small,
    this_year,
)


def _parents(request: MemberRequest, body: MeetingBody | None) -> list[tuple[str, str]]:
    qs = MeetingBody.objects.editable_by(request.membership)
    if body is not None:
        qs = qs.exclude(pk=body.pk)
    return [(str(b.code), str(b)) for b in qs]


@member_required
@require_http_methods(["GET", "POST"])
def body_edit(request: MemberRequest, code: uuid.UUID | None = None) -> HttpResponse:
    body = access.visible_body(request.membership, code, edit=True) if code else None
    if body is None and not access.sees_programmes(request.membership):
        raise Http404
    initial = None
    if body is not None:
        initial = initial_of(
            body, actions.BodyInput, parent=str(body.parent.code) if body.parent else ""
        )
    return form_page(
        request,
        BodyForm(request.POST or None, initial=initial, parents=_parents(request, body)),
        actions.BodyInput,
        lambda d: actions.save_body(by=request.membership, data=d, body=body, request=request),
        template="programmes/body_form.html",
        context={"body": body},
        done="会議体を保存しました。",
    )


def _year_param(request: RenkeiRequest) -> int:
    value = request.GET.get("year", "")
    if value.isdigit() and 2000 <= int(value) <= 2100:
        return int(value)
    return this_year()


@member_required
@require_GET
def body_detail(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    body = access.visible_body(request.membership, code)
    can_edit = access.can_edit(request.membership, body.owner_id)
    year = _year_param(request)
    meetings = list(body.meetings.filter(fiscal_year=year).annotate(n_materials=Count("materials")))
    return render(
        request,
        "programmes/body.html",
        {
            "body": body,
            "can_edit": can_edit,
            "members": body.members.filter(is_active=True).select_related("organization"),
            "meetings": meetings,
            "children": body.children.all(),
            "year": year,
            "years": sorted(
                set(body.meetings.values_list("fiscal_year", flat=True)) | {this_year()},
                reverse=True,
            ),
            "member_form": MemberForm(orgs=org_choices(request)) if can_edit else None,
            "schedule_form": ScheduleForm(initial={"fiscal_year": year}, around=this_year())
            if can_edit
            else None,
        },
    )


@member_required
@require_POST
def member_add(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    body = access.visible_body(request.membership, code, edit=True)
    post_small(
        request,
        MemberForm(request.POST, orgs=org_choices(request)),
        actions.BodyMemberInput,
        lambda d: actions.add_member(body, by=request.membership, data=d, request=request),
        "構成員を追加しました。",
    )
    return redirect(body)


@member_required
@require_POST
def member_remove(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    member = access.visible_member(request.membership, code)
    actions.remove_member(member, by=request.membership, request=request)
    messages.success(request, "構成員を外しました。")
    return redirect(member.body)


@member_required
@require_POST
def schedule(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    body = access.visible_body(request.membership, code, edit=True)
    form = ScheduleForm(request.POST, around=this_year())
    post_small(
        request,
        form,
        actions.ScheduleInput,
        lambda d: actions.plan_year(body, by=request.membership, data=d, request=request),
        "年間の開催予定を作りました。",
    )
    year = form.cleaned_data.get("fiscal_year") if form.is_valid() else None
    return redirect(f"{body.get_absolute_url()}?year={year or this_year()}")


@member_required
@require_http_methods(["GET", "POST"])
def meeting_edit(
    request: MemberRequest, body_code: uuid.UUID | None = None, code: uuid.UUID | None = None
) -> HttpResponse:
    meeting = access.visible_meeting(request.membership, code, edit=True) if code else None
    if meeting is not None:
        body = meeting.body
        initial = initial_of(meeting, actions.MeetingInput)
    elif body_code is not None:
        body = access.visible_body(request.membership, body_code, edit=True)
        initial = {
            "fiscal_year": this_year(),
            "number": body.meetings.filter(fiscal_year=this_year()).count() + 1,
        }
    else:
        raise Http404
    return form_page(
        request,
        MeetingForm(request.POST or None, initial=initial, around=this_year()),
        actions.MeetingInput,
        lambda d: actions.save_meeting(
            body, by=request.membership, data=d, meeting=meeting, request=request
        ),
        template="programmes/meeting_form.html",
        context={"meeting": meeting, "body": body},
        done="会議を保存しました。",
    )


@member_required
@require_GET
def meeting_detail(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    meeting = access.visible_meeting(request.membership, code)
    can_edit = access.can_edit(request.membership, meeting.body.owner_id)
    members = list(meeting.body.members.filter(is_active=True).select_related("organization"))
    current = {a.member_id: a for a in meeting.attendance.all()}
    return render(
        request,
        "programmes/meeting.html",
        {
            "meeting": meeting,
            "body": meeting.body,
            "can_edit": can_edit,
            "attendance": [(mm, current.get(mm.pk)) for mm in members],
            "attendance_form": AttendanceForm(members=members, current=current)
            if can_edit
            else None,
            "decisions": meeting.decisions.all(),
            "materials": meeting.materials.all(),
            "issues": meeting.issues.all(),
            "decision_form": DecisionForm() if can_edit else None,
            "material_form": MaterialForm() if can_edit else None,
        },
    )


@member_required
@require_POST
def attendance(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    meeting = access.visible_meeting(request.membership, code, edit=True)
    form = AttendanceForm(
        request.POST, members=list(meeting.body.members.filter(is_active=True)), current={}
    )
    post_small(
        request,
        form,
        actions.MeetingAttendanceInput,
        lambda d: actions.record_attendance(
            meeting, by=request.membership, data=d, request=request
        ),
        "出欠を記録しました。",
        {"rows": form.rows() if form.is_valid() else []},
    )
    return redirect(meeting)


@member_required
@require_POST
def decision_add(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    meeting = access.visible_meeting(request.membership, code, edit=True)
    post_small(
        request,
        DecisionForm(request.POST),
        actions.MeetingDecisionInput,
        lambda d: actions.add_decision(meeting, by=request.membership, data=d, request=request),
        "決定事項を記録しました。",
    )
    return redirect(meeting)


@member_required
@require_POST
def material_add(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    meeting = access.visible_meeting(request.membership, code, edit=True)
    form = MaterialForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            actions.add_material(
                meeting,
                by=request.membership,
                title=form.cleaned_data["title"],
                upload=form.cleaned_data["file"],
                request=request,
            )
        except ActionError as e:
            refuse(request, form, e)
        else:
            messages.success(request, "資料を追加しました。")
            return redirect(meeting)
    flash_errors(request, form)
    return redirect(meeting)


@member_required
@require_GET
def material_download(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    material = access.visible_material(request.membership, code)
    try:
        with material.file.open("rb") as handle:
            content = handle.read()
    except FileNotFoundError:
        raise Http404 from None
    # Materials are at most 10 MB (MATERIAL_MAX_BYTES): read whole, sent as a download.
    response = HttpResponse(content, content_type=material.content_type)
    response["Content-Disposition"] = content_disposition_header(True, material.filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@member_required
@require_POST
def material_delete(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    material = access.visible_material(request.membership, code, edit=True)
    meeting = material.meeting
    actions.remove_material(material, by=request.membership, request=request)
    messages.success(request, "資料を削除しました。")
    return redirect(meeting)


@member_required
@require_http_methods(["GET", "POST"])
def meeting_notice(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    """Confirm first: the page names who will be told."""
    meeting = access.visible_meeting(request.membership, code, edit=True)
    members = list(meeting.body.members.filter(is_active=True).select_related("organization"))
    return confirm_page(
        request,
        lambda: actions.send_notice(meeting, by=request.membership, request=request),
        lambda sent: f"開催通知を{sent}通送りました。",
        template="programmes/notice_confirm.html",
        context={"meeting": meeting, "members": [(mm, mm.notice_address()) for mm in members]},
        then=lambda _: meeting,
    )
