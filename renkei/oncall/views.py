"""Rota screens: parse → authorise (access.py) → act (actions.py) → render."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.db import router
from django.db.models import Q, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from renkei.accounts.http import MemberRequest, RenkeiRequest, member_required
from renkei.accounts.menu import SQLCount
from renkei.accounts.models import Membership
from renkei.lib import exports
from renkei.lib.actions import ActionError
from renkei.lib.forms import input_from_form, refuse
from renkei.oncall import actions, ical
from renkei.oncall import now as now_
from renkei.oncall.access import (
    feed_owner,
    visible_member,
    visible_rota,
    visible_shift,
    visible_swap,
)
from renkei.oncall.calendar import month_days
from renkei.oncall.forms import (
    AssignForm,
    MemberForm,
    OverrideForm,
    RotaForm,
    RuleForm,
    SwapForm,
    UnavailableForm,
    member_choices,
)
from renkei.oncall.models import (
    Rota,
    RotaMonth,
    Shift,
    SwapRequest,
    SwapStatus,
)


def pending_swaps(m: Membership) -> QuerySet[SwapRequest]:
    """The menu's badge: swap requests waiting for this organisation's answer or approval
    (the menu counts it with the other entries' badges)."""
    return SwapRequest.objects.filter(
        Q(status=SwapStatus.REQUESTED, to_member__organization_id=m.organization_id)
        | Q(status=SwapStatus.ACCEPTED, shift__rota__organizer_id=m.organization_id)
    )


# The menu's badge: `pending_swaps(m).count()` written out (ADR 0060); pinned to it by
# tests/test_on_duty.py.
_PENDING_SWAPS = """SELECT COUNT(*) FROM oncall_swaprequest s
JOIN oncall_rotamember tm ON tm.id = s.to_member_id
JOIN oncall_shift sh ON sh.id = s.shift_id
JOIN oncall_rota r ON r.id = sh.rota_id
WHERE (s.status = %s AND tm.organization_id = %s)
OR (r.organizer_id = %s AND s.status = %s)"""


def pending_swaps_badge(m: Membership) -> SQLCount:
    org_id = m.organization_id
    return SQLCount(
        _PENDING_SWAPS,
        (SwapStatus.REQUESTED.value, org_id, org_id, SwapStatus.ACCEPTED.value),
        router.db_for_read(SwapRequest),
    )


def _month_param(request: RenkeiRequest) -> dt.date:
    value = request.GET.get("month", "")
    if actions.MONTH_RE.match(value):
        return actions.first_of(value)
    return timezone.localdate().replace(day=1)


@member_required
@require_GET
def home(request: MemberRequest) -> HttpResponse:
    m = request.membership
    rotas = list(Rota.objects.visible_to(m).select_related("organizer"))
    now = timezone.now()
    mine = (
        Shift.objects.published()
        .filter(member__organization_id=m.organization_id, ends_at__gt=now)
        .select_related("rota", "member")
        .order_by("starts_at")[:10]
    )
    waiting = SwapRequest.objects.filter(
        Q(status=SwapStatus.REQUESTED, to_member__organization_id=m.organization_id)
        | Q(status=SwapStatus.ACCEPTED, shift__rota__organizer_id=m.organization_id)
    ).select_related("shift__rota", "from_member__organization", "to_member__organization")
    return render(
        request,
        "oncall/home.html",
        {
            "rotas": rotas,
            "mine": mine,
            "waiting": waiting,
            "on_duty": actions.on_duty(rotas, now),
            "can_organise": m.organization.kind in actions.ORGANIZER_KINDS,
        },
    )


@member_required
@require_http_methods(["GET", "POST"])
def rota_edit(request: MemberRequest, code: uuid.UUID | None = None) -> HttpResponse:
    rota = visible_rota(request.membership, code) if code else None
    if rota is not None and rota.organizer_id != request.organization.pk:
        raise Http404
    if rota is None and request.organization.kind not in actions.ORGANIZER_KINDS:
        raise Http404
    initial: dict[str, Any] | None = None
    if rota is not None:
        initial = {
            n: getattr(rota, n)
            for n in (
                "name",
                "kind",
                "rotation",
                "gap_alert_hours",
                "members_swap_freely",
                "contact",
            )
        }
        initial["area_id"] = rota.area_id
        initial["municipality_codes"] = [mu.code for mu in rota.municipalities.all()]
    form = RotaForm(
        request.POST or None, initial=initial, prefecture_id=request.organization.prefecture_id
    )
    status = 200
    if request.method == "POST":
        data = input_from_form(form, actions.RotaInput)
        status = 400
        if data is not None:
            try:
                rota = actions.save_rota(
                    by=request.membership, data=data, rota=rota, request=request
                )
            except ActionError as e:
                status = refuse(request, form, e)
            else:
                messages.success(request, "当番表の設定を保存しました。")
                return redirect(rota)
    return render(request, "oncall/rota_form.html", {"form": form, "rota": rota}, status=status)


def _month_context(rota: Rota, first: dt.date) -> dict[str, Any]:
    month = RotaMonth.objects.filter(rota=rota, month=first).first()
    shifts = (
        list(month.shifts.select_related("member__organization").order_by("starts_at"))
        if month
        else []
    )
    by_day: dict[dt.date, list[Shift]] = {}
    for s in shifts:
        by_day.setdefault(s.day, []).append(s)
    days = [(d, by_day.get(d, [])) for d in month_days(first)]
    prev = (first - dt.timedelta(days=1)).replace(day=1)
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    counts: dict[str, int] = {}
    for s in shifts:
        if s.member is not None:
            counts[str(s.member)] = counts.get(str(s.member), 0) + 1
    return {
        "rota": rota,
        "first": first,
        "month": month,
        "month_param": f"{first:%Y-%m}",
        "days": days,
        "gaps": sum(1 for s in shifts if s.member_id is None),
        "shift_count": len(shifts),
        "counts": sorted(counts.items()),
        "prev": f"{prev:%Y-%m}",
        "next": f"{nxt:%Y-%m}",
    }


@member_required
@require_GET
def rota_detail(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    rota = visible_rota(request.membership, code)
    first = _month_param(request)
    ctx = _month_context(rota, first)
    organiser = rota.organizer_id == request.organization.pk
    if not organiser and not (ctx["month"] and ctx["month"].is_published):
        ctx.update(days=[], gaps=0, shift_count=0, counts=[])  # drafts are the organiser's
    own = [str(mm.code) for mm in rota.members.filter(organization=request.organization)]
    ctx.update(
        organiser=organiser,
        members=rota.members.select_related("organization"),
        rules=rota.rules.all(),
        member_form=MemberForm() if organiser else None,
        rule_form=RuleForm() if organiser else None,
        override_form=OverrideForm(rota=rota) if organiser else None,
        unavailable_form=UnavailableForm(
            choices=[c for c in member_choices(rota, "選んでください") if organiser or c[0] in own]
        )
        if organiser or own
        else None,
        own_members=own,
        feed_url=request.build_absolute_uri(reverse("oncall:feed", args=[rota.feed_token()])),
        member_feeds=[
            (mm, request.build_absolute_uri(reverse("oncall:feed", args=[mm.feed_token()])))
            for mm in rota.members.filter(organization=request.organization, is_active=True)
        ],
    )
    return render(request, "oncall/rota.html", ctx)


def _rota_form_post(
    request: MemberRequest,
    code: uuid.UUID,
    form_class: type[forms.Form],
    input_class: type[Any],
    act: Any,
    done: str,
    **form_kwargs: Any,
) -> HttpResponse:
    """The small forms of the rota page (member, rule, period, unavailable day): on a
    refusal the page is shown again with the form's input and the reason beside it."""
    rota = visible_rota(request.membership, code)
    if "choices" in form_kwargs and callable(form_kwargs["choices"]):
        form_kwargs["choices"] = form_kwargs["choices"](rota)
    if form_class in (OverrideForm, AssignForm):
        form_kwargs["rota"] = rota
    form = form_class(request.POST, **form_kwargs)
    extra = {"days": [form.data.get("day")]} if form_class is UnavailableForm else None
    data = input_from_form(form, input_class, extra)
    status = 400
    if data is not None:
        try:
            act(rota, by=request.membership, data=data, request=request)
        except ActionError as e:
            status = refuse(request, form, e)
        else:
            messages.success(request, done)
            return redirect(rota)
    ctx = _month_context(rota, timezone.localdate().replace(day=1))
    ctx.update(rota=rota, failed_form=form, failed_title=done.replace("しました。", ""))
    return render(request, "oncall/form_failed.html", ctx, status=status)


@member_required
@require_POST
def member_add(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    return _rota_form_post(
        request,
        code,
        MemberForm,
        actions.MemberInput,
        actions.add_member,
        "参加機関を追加しました。",
    )


@member_required
@require_POST
def rule_add(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    return _rota_form_post(
        request, code, RuleForm, actions.RuleInput, actions.add_rule, "当番枠の規則を追加しました。"
    )


@member_required
@require_POST
def period_override(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    return _rota_form_post(
        request,
        code,
        OverrideForm,
        actions.OverrideInput,
        actions.override_period,
        "期間の当番を変更しました。",
    )


@member_required
@require_POST
def unavailable_add(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    return _rota_form_post(
        request,
        code,
        UnavailableForm,
        actions.UnavailableInput,
        actions.mark_unavailable,
        "入れない日を登録しました。",
        choices=lambda rota: member_choices(rota, "選んでください"),
    )


@member_required
@require_POST
def member_remove(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    member = visible_member(request.membership, code)
    try:
        actions.remove_member(member, by=request.membership, request=request)
    except ActionError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, f"{member}を今後の当番から外しました。")
    return redirect(member.rota)


@member_required
@require_http_methods(["GET", "POST"])
def month_step(request: MemberRequest, code: uuid.UUID, step: str) -> HttpResponse:
    """作成 (draw the draft) and 公開 (publish): GET shows what will happen, POST does it."""
    rota = visible_rota(request.membership, code)
    if rota.organizer_id != request.organization.pk or step not in ("generate", "publish"):
        raise Http404
    month = request.POST.get("month") or request.GET.get("month") or ""
    try:
        data = actions.MonthInput(month=month)
    except Exception:
        messages.error(request, "月は 2026-12 の形で指定してください")
        return redirect(rota)
    first = actions.first_of(data.month)
    if request.method == "POST":
        try:
            if step == "generate":
                actions.generate_month(rota, by=request.membership, data=data, request=request)
                messages.success(request, f"{first:%Y年%-m月}の当番表（下書き）を作成しました。")
            else:
                actions.publish_month(rota, by=request.membership, data=data, request=request)
                messages.success(
                    request, f"{first:%Y年%-m月}の当番表を公開し、参加機関に知らせました。"
                )
        except ActionError as e:
            messages.error(request, e.message)
        return redirect(f"{rota.get_absolute_url()}?month={data.month}")
    ctx = _month_context(rota, first)
    ctx.update(step=step, member_count=rota.members.filter(is_active=True).count())
    return render(request, "oncall/month_confirm.html", ctx)


@member_required
@require_http_methods(["GET", "POST"])
def shift_detail(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    shift = visible_shift(request.membership, code)
    rota = shift.rota
    organiser = rota.organizer_id == request.organization.pk
    if not organiser and not shift.month.is_published:
        raise Http404
    on_duty_here = (
        shift.member is not None and shift.member.organization_id == request.organization.pk
    )
    assign_form = (
        AssignForm(
            initial={
                "member": str(shift.member.code) if shift.member else "",
                "version": shift.version,
            },
            rota=rota,
        )
        if organiser
        else None
    )
    swap_form = (
        SwapForm(rota=rota, exclude=str(shift.member.code) if shift.member else None)
        if on_duty_here
        else None
    )
    status = 200
    if request.method == "POST":
        status = 400
        if request.POST.get("do") == "assign" and organiser:
            assign_form = AssignForm(request.POST, rota=rota)
            data = input_from_form(assign_form, actions.AssignInput)
            if data is not None:
                try:
                    actions.assign_shift(shift, by=request.membership, data=data, request=request)
                except ActionError as e:
                    status = refuse(request, assign_form, e)
                else:
                    messages.success(request, "当番を変更しました。")
                    return redirect(f"{rota.get_absolute_url()}?month={shift.day:%Y-%m}")
        elif request.POST.get("do") == "swap" and on_duty_here:
            swap_form = SwapForm(
                request.POST, rota=rota, exclude=str(shift.member.code) if shift.member else None
            )
            swap_data = input_from_form(swap_form, actions.SwapInput)
            if swap_data is not None:
                try:
                    actions.request_swap(
                        shift, by=request.membership, data=swap_data, request=request
                    )
                except ActionError as e:
                    status = refuse(request, swap_form, e)
                else:
                    messages.success(request, "交代をお願いしました。相手の回答をお待ちください。")
                    return redirect("oncall:home")
        else:
            raise Http404
    return render(
        request,
        "oncall/shift.html",
        {
            "shift": shift,
            "rota": rota,
            "organiser": organiser,
            "assign_form": assign_form,
            "swap_form": swap_form,
            "swaps": shift.swaps.select_related(
                "from_member__organization", "to_member__organization"
            ),
        },
        status=status,
    )


@member_required
@require_http_methods(["GET", "POST"])
def swap_detail(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    swap = visible_swap(request.membership, code)
    org = request.organization.pk
    asked = swap.to_member.organization_id == org
    organiser = swap.shift.rota.organizer_id == org
    can_answer = swap.status == SwapStatus.REQUESTED and asked
    can_decide = swap.status == SwapStatus.ACCEPTED and organiser
    if request.method == "POST":
        accept = request.POST.get("accept") == "yes"
        # A step already taken goes to the action all the same, so the refusal is the
        # action's own reason, as the API's answer and decide say it.
        act = (
            actions.decide_swap
            if can_decide or (organiser and not asked)
            else actions.answer_swap
            if asked
            else None
        )
        if act is None:
            messages.error(
                request,
                "この申し出には回答できません（既に回答済みか、回答する立場ではありません）",
            )
            return redirect("oncall:swap", code=swap.code)
        try:
            swap = act(
                swap,
                by=request.membership,
                data=actions.SwapAnswerInput(accept=accept),
                request=request,
            )
        except ActionError as e:
            messages.error(request, e.message)
        else:
            messages.success(request, f"回答しました: {swap.get_status_display()}")
        return redirect("oncall:home")
    return render(
        request,
        "oncall/swap.html",
        {"swap": swap, "can_answer": can_answer, "can_decide": can_decide},
    )


@member_required
@require_GET
def now(request: MemberRequest) -> HttpResponse:
    """Who answers now, for an area: a phone-sized page for clinics, nurses and care staff.
    Published rotas covering the municipality are shown to every member organisation, as the
    printed rotas are posted today; drafts and the rota's settings stay with its members."""
    code = request.GET.get("municipality", "")
    municipality = now_.find_municipality(code, request.organization.municipality_id)
    moment = timezone.now()
    rotas = list(now_.covering(municipality)) if municipality else []
    choices = now_.municipality_choices(
        municipality.prefecture_id if municipality else request.organization.prefecture_id
    )
    return render(
        request,
        "oncall/now.html",
        {
            "municipality": municipality,
            "options": now_.selector_options(choices, municipality),
            "moment": moment,
            "on_duty": actions.on_duty(rotas, moment),
            "unknown": bool(code) and municipality is None,
        },
        status=400 if code and municipality is None else 200,
    )


@member_required
@require_GET
def rota_print(request: MemberRequest, code: uuid.UUID) -> HttpResponse:
    rota = visible_rota(request.membership, code)
    ctx = _month_context(rota, _month_param(request))
    if rota.organizer_id != request.organization.pk and not (
        ctx["month"] and ctx["month"].is_published
    ):
        raise Http404
    return render(request, "oncall/print.html", ctx)


@member_required
@require_GET
def rota_export(request: MemberRequest, code: uuid.UUID, fmt: str) -> HttpResponse:
    """The month as Excel or CSV, through the project's one export writer (no live formula)."""
    rota = visible_rota(request.membership, code)
    ctx = _month_context(rota, _month_param(request))
    if rota.organizer_id != request.organization.pk and not (
        ctx["month"] and ctx["month"].is_published
    ):
        raise Http404
    weekdays = "月火水木金土日"
    rows = [
        [
            day,
            weekdays[day.weekday()],
            s.holiday_name or s.get_day_type_display(),
            s.label,
            s.starts_at,
            s.ends_at,
            str(s.member) if s.member else "（空き）",
            s.member.phone if s.member else "",
        ]
        for day, shifts in ctx["days"]
        for s in shifts
    ]
    sheet = exports.Sheet(
        title=f"{ctx['first']:%Y-%m}",
        header=["日付", "曜日", "区分", "枠", "開始", "終了", "当番", "連絡先"],
        rows=rows,
        widths=[12, 6, 12, 10, 17, 17, 36, 16],
    )
    return exports.response(fmt, f"rota-{ctx['first']:%Y-%m}", sheet)


@require_GET
def feed(request: RenkeiRequest, token: str) -> HttpResponse:
    """The iCalendar feed a calendar app subscribes to: anyone with the signed link."""
    owner = feed_owner(token)
    return HttpResponse(ical.feed(owner), content_type="text/calendar; charset=utf-8")
