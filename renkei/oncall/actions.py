"""Rota workflows: each takes one typed input, runs in one transaction, is audited, and tells the
members it touches by e-mail through the job queue. The screens and /api/v1/oncall/ call these."""

from __future__ import annotations

import datetime as dt
import functools
import re
import uuid
from collections.abc import Callable, Iterable
from typing import Annotated, Concatenate, ParamSpec, TypeVar

from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from pydantic import AfterValidator, Field

from renkei.accounts.models import AuditEntry, Membership, Organization, OrgKind
from renkei.lib.actions import (
    ActionError,
    Conflict,
    Forbidden,
    NotFound,
    bump_version,
    full_clean,
    notify,
)
from renkei.lib.inputs import CalendarDate, Input, Phone, TimeOfDay, required
from renkei.lib.mail import site_url
from renkei.oncall import calendar
from renkei.oncall import now as now_
from renkei.oncall.models import (
    OPEN_SWAPS,
    DayType,
    MonthStatus,
    Rota,
    RotaKind,
    RotaMember,
    RotaMonth,
    Rotation,
    Shift,
    ShiftRule,
    SwapRequest,
    SwapStatus,
    Unavailability,
)
from renkei.regions.models import Municipality, SecondaryArea

ORGANIZER_KINDS = (
    OrgKind.MEDICAL_ASSOCIATION,
    OrgKind.MUNICIPALITY,
    OrgKind.PREFECTURE,
    OrgKind.COORDINATION_CENTER,
    OrgKind.HOSPITAL,
)
MEMBER_KINDS = (OrgKind.CLINIC, OrgKind.HOSPITAL, OrgKind.DENTAL, OrgKind.VISITING_NURSE)
P = ParamSpec("P")
R = TypeVar("R")
MONTH_RE = re.compile(r"^(20\d\d)-(0[1-9]|1[0-2])$")


def _month(value: str) -> str:
    if not MONTH_RE.match(value):
        raise ValueError("月は 2026-12 の形で指定してください")
    return value


Month = Annotated[
    str,
    AfterValidator(_month),
    Field(
        description="対象月（YYYY-MM）",
        examples=["2026-12"],
        # The schema states the rule the validator applies, so clients and fuzzers agree.
        json_schema_extra={"pattern": MONTH_RE.pattern},
    ),
]


def first_of(month: str) -> dt.date:
    year, mon = month.split("-")
    return dt.date(int(year), int(mon), 1)


# Inputs -------------------------------------------------------------------------------------


class RotaInput(Input):
    """The rota's settings: the organiser's form and the API's body."""

    name: str = Field(
        ..., min_length=1, max_length=100, description="名称（例: 県央医師会 夜間・休日当番）"
    )
    kind: RotaKind = RotaKind.NIGHT_HOLIDAY
    rotation: Rotation = Rotation.DAILY
    area_id: int | None = Field(None, ge=1, le=2**31 - 1, description="二次医療圏のid")
    municipality_codes: list[str] = Field(
        default_factory=list, max_length=100, description="対象の市区町村コード（6桁）"
    )
    gap_alert_hours: int = Field(72, ge=1, le=24 * 60)
    members_swap_freely: bool = False
    contact: str = Field("", max_length=200)


class MemberInput(Input):
    organization: uuid.UUID = Field(..., description="参加する医療機関（組織コード）")
    doctor: str = Field("", max_length=60)
    phone: Annotated[Phone, required("当番時の連絡先電話を入力してください")]
    sort_order: int = Field(0, ge=0, le=999)


class RuleInput(Input):
    day_type: DayType
    label: str = Field(..., min_length=1, max_length=30, description="枠の名前（例: 夜間）")
    # Japan time without an offset: a time with one was stored as given (a 500 on PostgreSQL).
    start: TimeOfDay
    end: Annotated[
        TimeOfDay, Field(description="終了。開始以前の時刻なら翌日（同じ時刻なら24時間）")
    ]


class MonthInput(Input):
    month: Month


class AssignInput(Input):
    member: uuid.UUID | None = Field(None, description="当番にする参加機関。null で空き枠")
    version: int | None = Field(None, description="楽観的ロック: 読み込んだ時点の version")


class OverrideInput(Input):
    """The organiser puts one member on every published or draft shift of a period."""

    member: uuid.UUID | None
    start: CalendarDate
    end: CalendarDate


class UnavailableInput(Input):
    member: uuid.UUID
    days: list[CalendarDate] = Field(..., min_length=1, max_length=62)
    note: str = Field("", max_length=100)


class SwapInput(Input):
    to_member: uuid.UUID = Field(..., description="代わりに入ってもらう参加機関")
    note: str = Field("", max_length=200)


class SwapAnswerInput(Input):
    accept: bool


# Helpers ------------------------------------------------------------------------------------


def require_organiser(rota: Rota, by: Membership) -> None:
    if rota.organizer_id != by.organization_id:
        raise Forbidden("当番表を編集できるのは主催者だけです")


def organiser_action(fn: Callable[Concatenate[Rota, P], R]) -> Callable[Concatenate[Rota, P], R]:
    """An organiser's write on a rota: one transaction, refused (403) to anyone else before
    anything is read or written."""

    @functools.wraps(fn)
    @transaction.atomic
    def run(rota: Rota, /, *args: P.args, **kwargs: P.kwargs) -> R:
        by = kwargs["by"]
        assert isinstance(by, Membership)
        require_organiser(rota, by)
        return fn(rota, *args, **kwargs)

    return run


def _emails(orgs: Iterable[Organization]) -> list[str]:
    """Each organisation's address and its active members' addresses, once each."""
    seen: dict[str, None] = {}
    for org in orgs:
        if org.email:
            seen.setdefault(org.email)
        for m in org.memberships.filter(is_active=True).select_related("user"):
            if m.user.email:
                seen.setdefault(m.user.email)
    return list(seen)


def _tell(
    orgs: Iterable[Organization], subject: str, template: str, path: str, **context: object
) -> None:
    """Mail the organisations (and their members) about a rota, with a link to `path`."""
    notify(
        to=_emails(orgs),
        subject=subject,
        template=template,
        context={**context, "url": site_url(path)},
    )


def _member(rota: Rota, code: uuid.UUID | None, field: str = "member") -> RotaMember | None:
    if code is None:
        return None
    found = rota.members.filter(code=code, is_active=True).select_related("organization").first()
    if found is None:
        raise ActionError("この当番表の参加機関ではありません", field=field)
    return found


def _editable_month(rota: Rota, day: dt.date) -> RotaMonth:
    month, _ = RotaMonth.objects.get_or_create(rota=rota, month=day.replace(day=1))
    return month


# Rotas, members, rules ----------------------------------------------------------------------


@transaction.atomic
def save_rota(
    *,
    by: Membership,
    data: RotaInput,
    rota: Rota | None = None,
    request: HttpRequest | None = None,
) -> Rota:
    if rota is None:
        if by.organization.kind not in ORGANIZER_KINDS:
            raise Forbidden("当番表を作れるのは医師会・市区町村・病院・連携支援センターです")
        rota = Rota(organizer=by.organization)
    else:
        require_organiser(rota, by)
    area = None
    if data.area_id is not None:
        area = SecondaryArea.objects.filter(pk=data.area_id).first()
        if area is None:
            raise ActionError("二次医療圏が見つかりません", field="area_id")
    munis = list(Municipality.objects.filter(code__in=data.municipality_codes))
    if len(munis) != len(set(data.municipality_codes)):
        raise ActionError("市区町村コードに不明なものがあります", field="municipality_codes")
    for name in ("name", "kind", "rotation", "gap_alert_hours", "members_swap_freely", "contact"):
        setattr(rota, name, getattr(data, name))
    rota.area = area
    full_clean(rota, exclude=["organizer"])
    rota.save()
    rota.municipalities.set(munis)
    AuditEntry.record(
        "oncall.rota_saved", by=by, target=rota, request=request, detail={"name": rota.name}
    )
    return rota


@organiser_action
def add_member(
    rota: Rota, *, by: Membership, data: MemberInput, request: HttpRequest | None = None
) -> RotaMember:
    org = Organization.objects.filter(code=data.organization, is_active=True).first()
    if org is None or org.kind not in MEMBER_KINDS:
        raise ActionError("参加できる医療機関が見つかりません", field="organization")
    if rota.members.filter(organization=org, doctor=data.doctor).exists():
        raise Conflict("この医療機関（担当医）は既に参加しています", field="organization")
    member = RotaMember.objects.create(
        rota=rota,
        organization=org,
        doctor=data.doctor,
        phone=data.phone,
        sort_order=data.sort_order,
    )
    AuditEntry.record(
        "oncall.member_added", by=by, target=rota, request=request, detail={"member": str(member)}
    )
    return member


@transaction.atomic
def remove_member(
    member: RotaMember, *, by: Membership, request: HttpRequest | None = None
) -> None:
    """Stops future turns; past and published shifts stay as they were worked."""
    require_organiser(member.rota, by)
    member.is_active = False
    member.save(update_fields=["is_active"])
    AuditEntry.record(
        "oncall.member_removed",
        by=by,
        target=member.rota,
        request=request,
        detail={"member": str(member)},
    )


@organiser_action
def add_rule(
    rota: Rota, *, by: Membership, data: RuleInput, request: HttpRequest | None = None
) -> ShiftRule:
    rule = ShiftRule.objects.create(rota=rota, **data.model_dump())
    AuditEntry.record(
        "oncall.rule_added", by=by, target=rota, request=request, detail={"rule": str(rule)}
    )
    return rule


@transaction.atomic
def mark_unavailable(
    rota: Rota, *, by: Membership, data: UnavailableInput, request: HttpRequest | None = None
) -> int:
    """Members mark their own days; the organiser may mark anyone's."""
    member = _member(rota, data.member)
    assert member is not None
    if rota.organizer_id != by.organization_id and member.organization_id != by.organization_id:
        raise NotFound("参加機関が見つかりません")
    made = 0
    for day in sorted(set(data.days)):
        _, created = Unavailability.objects.get_or_create(
            member=member, day=day, defaults={"note": data.note}
        )
        made += created
    AuditEntry.record(
        "oncall.unavailable_marked",
        by=by,
        target=rota,
        request=request,
        detail={"member": str(member), "days": len(data.days)},
    )
    return made


# Months -------------------------------------------------------------------------------------


def _last_member_before(rota: Rota, first: dt.date) -> int | None:
    last = (
        Shift.objects.filter(rota=rota, day__lt=first, member__isnull=False)
        .order_by("-starts_at")
        .values_list("member_id", flat=True)
        .first()
    )
    return last


@organiser_action
def generate_month(
    rota: Rota, *, by: Membership, data: MonthInput, request: HttpRequest | None = None
) -> RotaMonth:
    """Draw the month as a draft from the rules, holidays and unavailable days; a draft is
    drawn again from scratch, a published month is refused (change its shifts instead)."""
    Rota.objects.select_for_update().filter(pk=rota.pk).first()
    first = first_of(data.month)
    month, _ = RotaMonth.objects.get_or_create(rota=rota, month=first)
    if month.is_published:
        raise Conflict("公開済みの月は作り直せません。個々の枠を変更してください", field="month")
    rules = list(rota.rules.all())
    if not rules:
        raise ActionError("当番枠の規則がありません。先に規則を登録してください", field="month")
    members = list(rota.members.filter(is_active=True).values_list("pk", flat=True))
    if not members:
        raise ActionError("参加機関がありません。先に参加機関を登録してください", field="month")
    planned = calendar.plan_month(first, rules)
    off = Unavailability.objects.filter(
        member__rota=rota, day__gte=first, day__lt=first + dt.timedelta(days=32)
    ).values_list("member_id", "day")
    who = calendar.assign(
        planned,
        members,
        list(off),
        rotation=rota.rotation,
        start_after=_last_member_before(rota, first),
    )
    month.shifts.all().delete()
    Shift.objects.bulk_create(
        Shift(
            rota=rota,
            month=month,
            day=p.day,
            day_type=p.day_type,
            holiday_name=p.holiday_name,
            label=p.rule.label,
            starts_at=p.starts_at,
            ends_at=p.ends_at,
            member_id=m,
        )
        for p, m in zip(planned, who, strict=True)
    )
    gaps = who.count(None)
    AuditEntry.record(
        "oncall.month_generated",
        by=by,
        target=month,
        request=request,
        detail={"shifts": len(planned), "gaps": gaps},
    )
    return month


@organiser_action
def publish_month(
    rota: Rota, *, by: Membership, data: MonthInput, request: HttpRequest | None = None
) -> RotaMonth:
    """From now on the month answers "who is on duty" and reaches the members' calendars."""
    month = (
        RotaMonth.objects.select_for_update().filter(rota=rota, month=first_of(data.month)).first()
    )
    if month is None or not month.shifts.exists():
        raise ActionError("この月の当番表はまだ作成されていません", field="month")
    if month.is_published:
        raise Conflict("この月は既に公開されています", field="month")
    month.status = MonthStatus.PUBLISHED
    month.published_at = timezone.now()
    month.published_by = by.user
    month.save(update_fields=["status", "published_at", "published_by"])
    gaps = month.shifts.gaps().count()
    AuditEntry.record(
        "oncall.month_published", by=by, target=month, request=request, detail={"gaps": gaps}
    )
    orgs = Organization.objects.filter(
        rota_memberships__rota=rota, rota_memberships__is_active=True
    ).distinct()
    _tell(
        orgs,
        f"{rota.name} {first_of(data.month):%Y年%-m月}の当番表を公開しました",
        "oncall_published.txt",
        f"{rota.get_absolute_url()}?month={data.month}",
        rota=rota,
        month=month,
        gaps=gaps,
    )
    return month


# Shifts -------------------------------------------------------------------------------------


def _tell_about_change(shift: Shift, before: RotaMember | None, after: RotaMember | None) -> None:
    if not shift.month.is_published:
        return  # drafts are nobody's duty yet
    _tell(
        [m.organization for m in (before, after) if m is not None],
        f"当番の変更: {shift.day:%-m月%-d日} {shift.label}",
        "oncall_changed.txt",
        f"{shift.rota.get_absolute_url()}?month={shift.day:%Y-%m}",
        shift=shift,
        before=before,
        after=after,
        rota=shift.rota,
    )


@transaction.atomic
def assign_shift(
    shift: Shift, *, by: Membership, data: AssignInput, request: HttpRequest | None = None
) -> Shift:
    require_organiser(shift.rota, by)
    member = _member(shift.rota, data.member)
    before = shift.member
    bump_version(shift, data.version)
    shift.member = member
    shift.gap_alerted_at = None if member is None else shift.gap_alerted_at
    shift.save(update_fields=["member", "gap_alerted_at"])
    AuditEntry.record(
        "oncall.shift_assigned",
        by=by,
        target=shift,
        request=request,
        detail={"before": str(before or "空き"), "after": str(member or "空き")},
    )
    _tell_about_change(shift, before, member)
    return shift


@organiser_action
def override_period(
    rota: Rota, *, by: Membership, data: OverrideInput, request: HttpRequest | None = None
) -> int:
    """One member covers every shift that starts within [start, end] (a doctor's holiday,
    a clinic closing for a week): returns how many shifts changed."""
    if data.end < data.start:
        raise ActionError("終了日は開始日以降にしてください", field="end")
    if (data.end - data.start).days > 62:
        raise ActionError("一度に変更できるのは62日までです", field="end")
    member = _member(rota, data.member)
    changed = 0
    shifts = (
        # Lock the shifts only: PostgreSQL refuses FOR UPDATE on the nullable side of the outer
        # join to a shift's member (an empty shift has none).
        Shift.objects.select_for_update(of=("self",))
        .filter(rota=rota, day__gte=data.start, day__lte=data.end)
        .select_related("member__organization", "month")
    )
    for s in shifts:
        if s.member_id == (member.pk if member else None):
            continue
        before = s.member
        s.member = member
        s.version += 1
        s.save(update_fields=["member", "version"])
        _tell_about_change(s, before, member)
        changed += 1
    AuditEntry.record(
        "oncall.period_overridden",
        by=by,
        target=rota,
        request=request,
        detail={
            "start": data.start.isoformat(),
            "end": data.end.isoformat(),
            "member": str(member or "空き"),
            "shifts": changed,
        },
    )
    return changed


# Swaps --------------------------------------------------------------------------------------


@transaction.atomic
def request_swap(
    shift: Shift, *, by: Membership, data: SwapInput, request: HttpRequest | None = None
) -> SwapRequest:
    """The member on duty asks another member to take the shift."""
    if shift.member is None or shift.member.organization_id != by.organization_id:
        raise Forbidden("交代を申し出られるのは、この枠の当番の医療機関です")
    if not shift.month.is_published:
        raise ActionError("公開前の当番表では交代を申し出られません（主催者が直接変更します）")
    if shift.ends_at <= timezone.now():
        raise ActionError("終わった当番は交代できません")
    to = _member(shift.rota, data.to_member, "to_member")
    assert to is not None
    if to.pk == shift.member_id:
        raise ActionError("自分自身とは交代できません", field="to_member")
    if shift.swaps.filter(status__in=OPEN_SWAPS).exists():
        raise Conflict("この枠には回答待ちの交代の申し出があります")
    swap = SwapRequest.objects.create(
        shift=shift, from_member=shift.member, to_member=to, note=data.note, requested_by=by.user
    )
    AuditEntry.record(
        "oncall.swap_requested", by=by, target=swap, request=request, detail={"to": str(to)}
    )
    _tell(
        [to.organization],
        f"当番交代のお願い: {shift.day:%-m月%-d日} {shift.label}",
        "oncall_swap_requested.txt",
        reverse("oncall:swap", args=[swap.code]),
        swap=swap,
        shift=shift,
    )
    return swap


def _apply_swap(swap: SwapRequest) -> None:
    shift = Shift.objects.select_for_update().select_related("month", "rota").get(pk=swap.shift_id)
    if shift.member_id != swap.from_member_id:
        raise Conflict("当番が既に変更されているため、この交代は成立しません")
    shift.member = swap.to_member
    shift.version += 1
    shift.save(update_fields=["member", "version"])
    swap.status = SwapStatus.DONE
    _tell_about_change(shift, swap.from_member, swap.to_member)


@transaction.atomic
def answer_swap(
    swap: SwapRequest, *, by: Membership, data: SwapAnswerInput, request: HttpRequest | None = None
) -> SwapRequest:
    """The asked member accepts or declines; accepted, it is done at once where the rota lets
    members swap on their own, otherwise it waits for the organiser."""
    swap = (
        SwapRequest.objects.select_for_update()
        .select_related(
            "shift__rota", "shift__month", "from_member__organization", "to_member__organization"
        )
        .get(pk=swap.pk)
    )
    if swap.to_member.organization_id != by.organization_id:
        raise Forbidden("回答できるのは、交代を頼まれた医療機関です")
    if swap.status != SwapStatus.REQUESTED:
        raise Conflict("この申し出には既に回答済みです")
    swap.decided_at = timezone.now()
    if not data.accept:
        swap.status = SwapStatus.DECLINED
    elif swap.shift.rota.members_swap_freely:
        _apply_swap(swap)
    else:
        swap.status = SwapStatus.ACCEPTED
    swap.save(update_fields=["status", "decided_at"])
    AuditEntry.record(
        "oncall.swap_answered",
        by=by,
        target=swap,
        request=request,
        detail={"accept": data.accept, "status": swap.status},
    )
    _tell(
        [swap.from_member.organization]
        + ([swap.shift.rota.organizer] if swap.status == SwapStatus.ACCEPTED else []),
        f"当番交代の回答: {swap.get_status_display()}",
        "oncall_swap_answered.txt",
        reverse("oncall:swap", args=[swap.code]),
        swap=swap,
        shift=swap.shift,
    )
    return swap


@transaction.atomic
def decide_swap(
    swap: SwapRequest, *, by: Membership, data: SwapAnswerInput, request: HttpRequest | None = None
) -> SwapRequest:
    swap = (
        SwapRequest.objects.select_for_update()
        .select_related(
            "shift__rota", "shift__month", "from_member__organization", "to_member__organization"
        )
        .get(pk=swap.pk)
    )
    require_organiser(swap.shift.rota, by)
    if swap.status != SwapStatus.ACCEPTED:
        raise Conflict("主催者の承認待ちの申し出ではありません")
    swap.decided_at = timezone.now()
    if data.accept:
        _apply_swap(swap)
    else:
        swap.status = SwapStatus.REJECTED
    swap.save(update_fields=["status", "decided_at"])
    AuditEntry.record(
        "oncall.swap_decided", by=by, target=swap, request=request, detail={"approve": data.accept}
    )
    if swap.status == SwapStatus.REJECTED:
        _tell(
            [swap.from_member.organization, swap.to_member.organization],
            "当番交代は承認されませんでした",
            "oncall_swap_answered.txt",
            reverse("oncall:swap", args=[swap.code]),
            swap=swap,
            shift=swap.shift,
        )
    return swap


# Gaps ---------------------------------------------------------------------------------------


def alert_gaps(now: dt.datetime | None = None) -> int:
    """Tell each organiser, once per shift, about published shifts with nobody on duty that
    start within the rota's alert window. The conditional UPDATE claims each shift, so two
    workers never send twice."""
    now = now or timezone.now()
    sent = 0
    candidates = (
        Shift.objects.published()
        .gaps()
        .filter(gap_alerted_at__isnull=True, starts_at__gt=now)
        .select_related("rota__organizer")
        .order_by("starts_at")
    )
    for shift in candidates[:500]:
        if shift.starts_at > now + dt.timedelta(hours=shift.rota.gap_alert_hours):
            continue
        with transaction.atomic():
            claimed = Shift.objects.filter(
                pk=shift.pk, gap_alerted_at__isnull=True, member__isnull=True
            ).update(gap_alerted_at=now)
            if not claimed:
                continue
            _tell(
                [shift.rota.organizer],
                f"当番の空き枠: {shift.day:%-m月%-d日} {shift.label}",
                "oncall_gap.txt",
                reverse("oncall:shift", args=[shift.code]),
                shift=shift,
                rota=shift.rota,
            )
            sent += 1
    return sent


# A shift lasts at most a day (ShiftRule.span: an end at or before the start is the next day's),
# so a shift on at a moment started less than this before it: the bound keeps the lookup to the
# index's last few rows of each rota instead of its whole history.
LONGEST_SHIFT = dt.timedelta(hours=24)


def on_duty(
    rotas: Iterable[Rota], moment: dt.datetime
) -> list[tuple[Rota, Shift | None, Shift | None]]:
    """For each rota: the published shift at `moment` (None when nobody) and the next one.

    One statement for all the rotas (`now.shifts_now_and_next`): per rota, the earliest
    published shift covering the moment and the first published shift starting at or after its
    end (or after the moment when none covers it). Swaps and overrides are already written into
    the shifts' members."""
    rotas = list(rotas)
    if not rotas:
        return []
    now: dict[int, Shift] = {}
    nxt: dict[int, Shift] = {}
    for shift in now_.shifts_now_and_next([r.pk for r in rotas], moment, LONGEST_SHIFT):
        # A next shift starts after the moment (at or after the current one's end, or after
        # the moment when nothing covers it: one starting at the moment would cover it).
        (now if shift.starts_at <= moment else nxt)[shift.rota_id] = shift
    return [(r, now.get(r.pk), nxt.get(r.pk)) for r in rotas]


def member_of(rota: Rota, m: Membership) -> Q:
    return Q(rota=rota, organization_id=m.organization_id)
