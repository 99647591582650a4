"""Specialist dispatch (専門職員等派遣事業): a municipality asks, the prefecture matches one
specialist from its roster and confirms, both are told, the specialist reports through a
signed link, the prefecture records the fee. `yearly_counts` is the programme table's
「○人派遣」 by municipality and purpose.

A refusal is 400 for input not acceptable, 409 when the request has moved on (ADR 0023).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Annotated

from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from pydantic import AfterValidator, Field, model_validator

from renkei.accounts.models import AuditEntry, Membership, Organization, OrgKind
from renkei.courses.models import (
    DispatchPurpose,
    DispatchRequest,
    Specialist,
    SpecialistKind,
)
from renkei.events.actions.rules import Email, clipped, distinct
from renkei.lib.actions import ActionError, Conflict, Forbidden, NotFound, notify
from renkei.lib.inputs import CalendarDate, Input, TimeOfDay
from renkei.lib.mail import site_url
from renkei.regions.models import Municipality

Status = DispatchRequest.Status


def _prefecture_of(req_org: Organization) -> Organization:
    muni = req_org.municipality
    pref = (
        Organization.objects.filter(
            kind=OrgKind.PREFECTURE, prefecture_id=muni.prefecture_id, is_active=True
        )
        .order_by("pk")
        .first()
        if muni
        else None
    )
    if pref is None:
        raise ActionError(
            "派遣を調整する都道府県が登録されていません。運営事務局にご連絡ください。"
        )
    return pref


def _members_mail(org: Organization) -> list[str]:
    """Where an organisation is told: its own address, else its members'."""
    if org.email:
        return [org.email]
    return sorted(
        {
            m.user.email
            for m in Membership.objects.filter(organization=org).select_related("user")
            if m.user.email
        }
    )


# --- the roster --------------------------------------------------------------------------------


def _weekdays(values: list[int]) -> list[int]:
    return sorted(distinct(values))


class SpecialistInput(Input):
    name: Annotated[str, clipped(60)] = Field(min_length=1, max_length=60, description="氏名")
    kind: SpecialistKind
    affiliation: Annotated[str, clipped(120)] = Field("", max_length=120)
    email: Email
    areas: list[Annotated[str, Field(pattern=r"^[0-9]{6}$")]] = Field(
        default_factory=list, max_length=100, description="派遣できる市区町村コード（空は県内全域）"
    )
    weekdays: Annotated[list[Annotated[int, Field(ge=0, le=6)]], AfterValidator(_weekdays)] = Field(
        default_factory=list,
        max_length=7,
        description="派遣できる曜日 0=月〜6=日（空は問わない）",
        json_schema_extra={"uniqueItems": True},
    )
    availability_note: Annotated[str, clipped(200)] = Field("", max_length=200)


@transaction.atomic
def add_specialist(
    data: SpecialistInput, *, by: Membership, request: HttpRequest | None = None
) -> Specialist:
    if by.organization.kind != OrgKind.PREFECTURE:
        raise Forbidden("派遣専門職の名簿は都道府県が管理します。")
    areas = list(Municipality.objects.filter(code__in=data.areas))
    if len(areas) != len(set(data.areas)):
        raise ActionError("市区町村コードが見つかりません", field="areas")
    if any(a.prefecture_id != by.organization.prefecture_id for a in areas):
        raise ActionError("県外の市区町村は指定できません", field="areas")
    s = Specialist.objects.create(
        organization=by.organization, **data.model_dump(exclude={"areas"})
    )
    s.areas.set(areas)
    AuditEntry.record(
        "courses.specialist_added", by=by, target=s, request=request, detail={"kind": s.kind}
    )
    return s


# --- a municipality's request -----------------------------------------------------------------


class DispatchRequestInput(Input):
    date: CalendarDate = Field(description="希望日")
    starts: TimeOfDay
    ends: TimeOfDay
    purpose: DispatchPurpose
    kind: SpecialistKind = Field(description="希望する職種")
    venue: Annotated[str, clipped(200)] = Field(min_length=1, max_length=200, description="場所")
    detail: str = Field("", max_length=2000, description="内容・参加予定者など")

    @model_validator(mode="after")
    def _times(self) -> DispatchRequestInput:
        if self.ends <= self.starts:
            raise ValueError("終了時刻は開始時刻より後にしてください")
        return self


@transaction.atomic
def request_dispatch(
    data: DispatchRequestInput,
    *,
    by: Membership,
    request: HttpRequest | None = None,
    today: dt.date | None = None,
) -> DispatchRequest:
    org = by.organization
    if org.kind != OrgKind.MUNICIPALITY or org.municipality is None:
        raise Forbidden("専門職の派遣は市区町村から依頼します。")
    if data.date <= (today or timezone.localdate()):
        raise ActionError("希望日は明日以降にしてください", field="date")
    req = DispatchRequest.objects.create(
        requester=org,
        prefecture=_prefecture_of(org),
        municipality=org.municipality,
        requested_by=by.user,
        **data.model_dump(),
    )
    AuditEntry.record(
        "courses.dispatch_requested",
        by=by,
        target=req,
        request=request,
        detail={"purpose": req.purpose},
    )
    notify(
        to=_members_mail(req.prefecture),
        subject=f"専門職派遣の依頼（{req.municipality.name}・{req.get_purpose_display()}）",
        template="courses_dispatch_requested.txt",
        context={"req": req, "url": site_url(req.get_absolute_url())},
    )
    return req


def candidates(req: DispatchRequest) -> list[Specialist]:
    """Who may go: the kind asked for, covering the municipality (or the whole prefecture),
    free on that weekday, not already sent elsewhere that day."""
    busy = DispatchRequest.objects.filter(
        date=req.date, status__in=[Status.CONFIRMED, Status.REPORTED]
    ).exclude(pk=req.pk)
    qs = (
        Specialist.objects.organised_by(req.prefecture)
        .filter(active=True, kind=req.kind)
        .filter(Q(areas=req.municipality) | Q(areas__isnull=True))
        .exclude(dispatches__in=busy)
        .distinct()
        .order_by("name", "pk")
    )
    weekday = req.date.weekday()
    return [s for s in qs if not s.weekdays or weekday in s.weekdays]


class DispatchDecisionInput(Input):
    specialist: uuid.UUID | None = Field(
        None, description="派遣する専門職のcode（派遣できない場合は省略）"
    )
    note: Annotated[str, clipped(300)] = Field("", max_length=300, description="依頼元への連絡事項")


@transaction.atomic
def decide(
    req: DispatchRequest,
    data: DispatchDecisionInput,
    *,
    by: Membership,
    request: HttpRequest | None = None,
) -> DispatchRequest:
    """Confirm with a specialist (both sides told), or decline with a note."""
    if by.organization_id != req.prefecture_id:
        raise Forbidden("派遣の決定は都道府県が行います。")
    req = DispatchRequest.objects.select_for_update().get(pk=req.pk)
    if req.status != Status.REQUESTED:
        raise Conflict(f"この依頼は既に「{req.get_status_display()}」です。")
    now = timezone.now()
    if data.specialist is None:
        if not data.note:
            raise ActionError("派遣できない理由を入力してください", field="note")
        req.status = Status.DECLINED
    else:
        chosen = next((s for s in candidates(req) if s.code == data.specialist), None)
        if chosen is None:
            raise ActionError(
                "この専門職は派遣できません（職種・地域・曜日・同じ日の派遣を確認してください）",
                field="specialist",
            )
        req.status, req.specialist = Status.CONFIRMED, chosen
    req.answer_note, req.decided_at = data.note, now
    req.save(update_fields=["status", "specialist", "answer_note", "decided_at"])
    AuditEntry.record(
        "courses.dispatch_decided",
        by=by,
        target=req,
        request=request,
        detail={"status": req.status},
    )
    context = {"req": req, "url": site_url(req.get_absolute_url())}
    notify(
        to=_members_mail(req.requester),
        subject=f"専門職派遣の調整結果（{req.get_status_display()}）",
        template="courses_dispatch_decided.txt",
        context=context,
    )
    if req.specialist is not None:
        notify(
            to=[req.specialist.email],
            subject=f"派遣のお願い（{req.municipality.name} {req.date:%m/%d}）",
            template="courses_dispatch_specialist.txt",
            context=context | {"report_url": site_url(req.get_report_url())},
        )
    return req


@transaction.atomic
def withdraw(
    req: DispatchRequest, *, by: Membership, request: HttpRequest | None = None
) -> DispatchRequest:
    if by.organization_id != req.requester_id:
        raise Forbidden("依頼の取下げは依頼した市区町村が行います。")
    req = DispatchRequest.objects.select_for_update().get(pk=req.pk)
    if req.status not in (Status.REQUESTED, Status.CONFIRMED):
        raise Conflict(f"この依頼は既に「{req.get_status_display()}」です。")
    was = req.specialist
    req.status = Status.WITHDRAWN
    req.save(update_fields=["status"])
    AuditEntry.record("courses.dispatch_withdrawn", by=by, target=req, request=request)
    to = _members_mail(req.prefecture) + ([was.email] if was else [])
    notify(
        to=to,
        subject=f"専門職派遣の依頼の取下げ（{req.municipality.name} {req.date:%m/%d}）",
        template="courses_dispatch_withdrawn.txt",
        context={"req": req},
    )
    return req


class DispatchReportInput(Input):
    report: str = Field(min_length=1, max_length=4000, description="実施内容・所感")
    participants: int = Field(ge=0, le=10000, description="参加者数")


@transaction.atomic
def file_report(
    req: DispatchRequest,
    data: DispatchReportInput,
    *,
    by: Membership | None = None,
    request: HttpRequest | None = None,
    today: dt.date | None = None,
) -> DispatchRequest:
    """By the specialist's link (by=None), or by the prefecture on their behalf."""
    if by is not None and by.organization_id != req.prefecture_id:
        raise Forbidden("実施報告は派遣した専門職か都道府県が登録します。")
    req = DispatchRequest.objects.select_for_update().get(pk=req.pk)
    if req.status != Status.CONFIRMED:
        raise Conflict(f"この依頼は「{req.get_status_display()}」のため、報告できません。")
    if (today or timezone.localdate()) < req.date:
        raise ActionError("実施報告は派遣日以降に提出してください。")
    req.report, req.participants = data.report, data.participants
    req.status, req.reported_at = Status.REPORTED, timezone.now()
    req.save(update_fields=["report", "participants", "status", "reported_at"])
    AuditEntry.record(
        "courses.dispatch_reported",
        by=by,
        target=req,
        request=request,
        actor_label="" if by else "派遣専門職",
        detail={"participants": data.participants},
    )
    return req


class FeeInput(Input):
    fee: int = Field(ge=0, le=10_000_000, description="謝金（円）")


@transaction.atomic
def record_fee(
    req: DispatchRequest, data: FeeInput, *, by: Membership, request: HttpRequest | None = None
) -> DispatchRequest:
    if by.organization_id != req.prefecture_id:
        raise Forbidden("謝金は都道府県が記録します。")
    req = DispatchRequest.objects.select_for_update().get(pk=req.pk)
    if req.status != Status.REPORTED:
        raise Conflict("謝金は実施報告の後に記録します。")
    req.fee, req.fee_recorded_at = data.fee, timezone.now()
    req.save(update_fields=["fee", "fee_recorded_at"])
    AuditEntry.record(
        "courses.dispatch_fee_recorded",
        by=by,
        target=req,
        request=request,
        detail={"fee": data.fee},
    )
    return req


def by_token(token: str) -> DispatchRequest:
    code = DispatchRequest.code_from_token(token)
    if code is None:
        raise NotFound("派遣の依頼が見つかりません")
    req = (
        DispatchRequest.objects.select_related("municipality", "specialist", "requester")
        .filter(code=code)
        .first()
    )
    if req is None:
        raise NotFound("派遣の依頼が見つかりません")
    return req


# --- reminders (renkei.courses.jobs) -------------------------------------------------------------

REMIND_DAYS_BEFORE = 3


def _claim(req: DispatchRequest, marker: str, now: dt.datetime) -> bool:
    """Mark the reminder sent, unless another run did or the request moved on: once only."""
    return (
        DispatchRequest.objects.filter(
            pk=req.pk, status=Status.CONFIRMED, **{f"{marker}__isnull": True}
        ).update(**{marker: now})
        == 1
    )


def send_reminders(today: dt.date | None = None) -> int:
    """REMIND_DAYS_BEFORE a confirmed dispatch, remind the specialist and the municipality,
    once. The mail names the date, place and purpose; the request's free text (which may
    name a case) stays on the page behind the sign-in. Returns how many were reminded."""
    today = today or timezone.localdate()
    due = DispatchRequest.objects.filter(
        status=Status.CONFIRMED,
        reminded_at__isnull=True,
        date__gt=today,
        date__lte=today + dt.timedelta(days=REMIND_DAYS_BEFORE),
    ).select_related("municipality", "specialist", "requester", "prefecture")
    sent = 0
    for req in due:
        with transaction.atomic():
            if not _claim(req, "reminded_at", timezone.now()):
                continue
            context = {"req": req, "url": site_url(req.get_absolute_url())}
            subject = f"派遣日のお知らせ（{req.municipality.name} {req.date:%m/%d}）"
            notify(
                to=_members_mail(req.requester),
                subject=subject,
                template="courses_dispatch_reminder.txt",
                context=context,
            )
            if req.specialist is not None:
                notify(
                    to=[req.specialist.email],
                    subject=subject,
                    template="courses_dispatch_reminder_specialist.txt",
                    context=context | {"report_url": site_url(req.get_report_url())},
                )
            sent += 1
    return sent


def send_report_reminders(today: dt.date | None = None) -> int:
    """The day after a dispatch whose report is not in, remind the specialist once."""
    today = today or timezone.localdate()
    due = DispatchRequest.objects.filter(
        status=Status.CONFIRMED,
        report_reminded_at__isnull=True,
        specialist__isnull=False,
        date__lt=today,
    ).select_related("municipality", "specialist", "prefecture")
    sent = 0
    for req in due:
        with transaction.atomic():
            if req.specialist is None or not _claim(req, "report_reminded_at", timezone.now()):
                continue
            notify(
                to=[req.specialist.email],
                subject=f"実施報告のお願い（{req.municipality.name} {req.date:%m/%d}）",
                template="courses_dispatch_report_reminder.txt",
                context={"req": req, "report_url": site_url(req.get_report_url())},
            )
            sent += 1
    return sent


# --- the year's count --------------------------------------------------------------------------


@dataclass(frozen=True)
class DispatchCounts:
    fiscal_year: int
    total: int  # 派遣人数: confirmed or reported dispatches, one specialist each
    by_municipality: list[tuple[str, int]]
    by_purpose: list[tuple[str, int]]
    by_kind: list[tuple[str, int]]
    fees: int


def dispatched(owner: Organization | Municipality, fy: int) -> QuerySet[DispatchRequest]:
    qs = DispatchRequest.objects.in_fiscal_year(fy).filter(
        status__in=[Status.CONFIRMED, Status.REPORTED]
    )
    if isinstance(owner, Municipality):
        return qs.filter(Q(municipality=owner) | Q(municipality__parent=owner))
    return qs.visible_to(owner)


def yearly_counts(owner: Organization | Municipality, fy: int) -> DispatchCounts:
    """「県全域：96人派遣」: a prefecture's (or a municipality's) dispatches in the year."""
    rows = list(dispatched(owner, fy).values_list("municipality__name", "purpose", "kind", "fee"))
    purposes, kinds = dict(DispatchPurpose.choices), dict(SpecialistKind.choices)
    return DispatchCounts(
        fiscal_year=fy,
        total=len(rows),
        by_municipality=Counter(r[0] for r in rows).most_common(),
        by_purpose=[(purposes[k], n) for k, n in Counter(r[1] for r in rows).most_common()],
        by_kind=[(kinds[k], n) for k, n in Counter(r[2] for r in rows).most_common()],
        fees=sum(r[3] or 0 for r in rows),
    )
