"""Placement workflows: transactional, audited, with e-mails sent after commit.

Each function takes the acting Membership and re-checks that it may act (the views and the
API also scope their lookups, but an action must be safe whoever calls it). Failures raise
ActionError (400), NotFound (404, the actor may not even know the object exists) or
Conflict (409, the state moved on: already decided, withdrawn, expired).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from renkei.accounts.models import AuditEntry, Membership, User
from renkei.directory.models import Capability, Facility
from renkei.referrals import notifications
from renkei.referrals.models import (
    Answer,
    CaseEvent,
    CaseStatus,
    DeclineReason,
    EventKind,
    HandoverKind,
    HandoverMethod,
    HandoverRecord,
    PlacementCase,
    PlacementRequest,
    RequestMessage,
    RequestStatus,
    Survey,
    SurveyResponse,
    WithdrawalReason,
)
from renkei.referrals.screening import IdentifyingText, screen
from renkei.regions.models import Municipality

MAX_REQUESTS_PER_SEND = 100
MAX_DEADLINE_DAYS = 30
MAX_INTERVIEW_DATES = 5

CASE_FIELDS = [
    "age_band",
    "sex",
    "care_level",
    "dementia",
    "infections",
    "residence",
    "destinations",
    "radius_km",
    "budget_monthly",
    "target_date",
    "household",
    "key_person",
    "key_person_relation",
    "note",
]


class ActionError(ValueError):
    status = 400


class NotFound(ActionError):
    status = 404


class Conflict(ActionError):
    status = 409


def _is_hospital_member(case: PlacementCase, by: Membership) -> bool:
    return case.hospital_id == by.organization_id


def _require_hospital(case: PlacementCase, by: Membership) -> None:
    if not _is_hospital_member(case, by):
        raise NotFound("案件が見つかりません")


def _require_receiver(req: PlacementRequest, by: Membership) -> None:
    if req.organization_id != by.organization_id:
        raise NotFound("依頼が見つかりません")


def _validation_message(e: ValidationError) -> str:
    if hasattr(e, "message_dict"):
        return " ".join(m for msgs in e.message_dict.values() for m in msgs)
    return " ".join(e.messages)


def _screen(text: str) -> str:
    try:
        return screen(text)
    except IdentifyingText as e:
        raise ActionError(str(e)) from e


def _event(
    case: PlacementCase,
    kind: str,
    by: Membership | None,
    text: str = "",
    *,
    req: PlacementRequest | None = None,
    at: dt.datetime | None = None,
    detail: dict[str, Any] | None = None,
) -> CaseEvent:
    return CaseEvent(
        case=case,
        request=req,
        kind=kind,
        actor=by.user if by else None,
        organization=by.organization if by else None,
        text=text[:300],
        at=at or timezone.now(),
        detail=detail or {},
    )


def _audit(
    action: str,
    by: Membership,
    target: Any,
    request: HttpRequest | None,
    detail: dict[str, Any] | None = None,
) -> None:
    AuditEntry.record(
        action, request=request, actor=by.user, membership=by, target=target, detail=detail
    )


def _bump(case: PlacementCase, expected_version: int | None) -> None:
    qs = PlacementCase.objects.filter(pk=case.pk)
    if expected_version is not None:
        qs = qs.filter(version=expected_version)
    if qs.update(version=F("version") + 1) != 1:
        raise Conflict(
            "他の方が先にこの案件を更新しました。最新の内容を確認してから、もう一度保存してください。"
        )
    case.refresh_from_db(fields=["version"])


# Cases -----------------------------------------------------------------------


@transaction.atomic
def create_case(
    *,
    by: Membership,
    fields: dict[str, Any],
    capabilities: Iterable[Capability] = (),
    desired_municipalities: Iterable[Municipality] = (),
    draft: bool = False,
    request: HttpRequest | None = None,
) -> PlacementCase:
    if by.organization.is_government:
        raise ActionError(
            "行政の所属では案件を登録できません。医療機関・事業所の所属で操作してください"
        )
    unknown = set(fields) - set(CASE_FIELDS)
    if unknown:
        raise ActionError(f"登録できない項目があります: {', '.join(sorted(unknown))}")
    now = timezone.now()
    case = PlacementCase(
        hospital=by.organization,
        created_by=by.user,
        assignee=by.user,
        status=CaseStatus.DRAFT if draft else CaseStatus.SEARCHING,
        registered_at=None if draft else now,
        **fields,
    )
    try:
        case.full_clean(exclude=["hospital", "created_by", "assignee"])
    except ValidationError as e:
        raise ActionError(_validation_message(e)) from e
    case.save()
    case.required_capabilities.set(list(capabilities))
    case.desired_municipalities.set(list(desired_municipalities))
    CaseEvent.objects.create(
        case=case,
        kind=EventKind.CREATED,
        actor=by.user,
        organization=by.organization,
        text="下書きとして保存" if draft else "案件を登録",
    )
    _audit("referrals.case_created", by, case, request)
    return case


@transaction.atomic
def update_case(
    case: PlacementCase,
    *,
    by: Membership,
    fields: dict[str, Any],
    capabilities: Iterable[Capability] | None = None,
    desired_municipalities: Iterable[Municipality] | None = None,
    register: bool = False,
    expected_version: int | None = None,
    request: HttpRequest | None = None,
) -> PlacementCase:
    _require_hospital(case, by)
    case = PlacementCase.objects.select_for_update().get(pk=case.pk)
    if not case.is_open:
        raise Conflict("決定・取下げ済みの案件は変更できません")
    _bump(case, expected_version)
    unknown = set(fields) - set(CASE_FIELDS)
    if unknown:
        raise ActionError(f"変更できない項目があります: {', '.join(sorted(unknown))}")
    changed = [name for name, value in fields.items() if getattr(case, name) != value]
    for name, value in fields.items():
        setattr(case, name, value)
    if register and case.status == CaseStatus.DRAFT:
        case.status = CaseStatus.SEARCHING
        case.registered_at = timezone.now()
        changed.append("status")
    try:
        case.full_clean(exclude=["hospital", "created_by", "assignee"])
    except ValidationError as e:
        raise ActionError(_validation_message(e)) from e
    case.save()
    if capabilities is not None:
        caps = list(capabilities)
        if {c.pk for c in caps} != set(case.required_capabilities.values_list("pk", flat=True)):
            changed.append("required_capabilities")
        case.required_capabilities.set(caps)
    if desired_municipalities is not None:
        munis = list(desired_municipalities)
        if {m.pk for m in munis} != set(case.desired_municipalities.values_list("pk", flat=True)):
            changed.append("desired_municipalities")
        case.desired_municipalities.set(munis)
    if changed:
        labels = {
            f.name: str(f.verbose_name)
            for f in PlacementCase._meta.get_fields()
            if hasattr(f, "verbose_name")
        }
        _event(
            case,
            EventKind.UPDATED,
            by,
            "変更: " + "、".join(labels.get(n, n) for n in changed),
            detail={"fields": changed},
        ).save()
        _audit("referrals.case_updated", by, case, request, {"fields": changed})
    return case


@transaction.atomic
def assign_case(
    case: PlacementCase, *, by: Membership, to: User, request: HttpRequest | None = None
) -> PlacementCase:
    """A colleague of the same hospital picks the case up."""
    _require_hospital(case, by)
    if not Membership.objects.filter(
        user=to, organization_id=case.hospital_id, is_active=True
    ).exists():
        raise ActionError("担当者は同じ医療機関の職員から選んでください")
    case = PlacementCase.objects.select_for_update().get(pk=case.pk)
    if case.assignee_id == to.pk:
        return case
    case.assignee = to
    case.save(update_fields=["assignee", "updated_at"])
    _event(case, EventKind.ASSIGNED, by, f"担当: {to}").save()
    _audit("referrals.case_assigned", by, case, request, {"assignee": to.get_username()})
    return case


@transaction.atomic
def withdraw_case(
    case: PlacementCase,
    *,
    by: Membership,
    reason: str,
    request: HttpRequest | None = None,
) -> PlacementCase:
    _require_hospital(case, by)
    if reason not in WithdrawalReason.values:
        raise ActionError("取下げの理由を選んでください")
    case = PlacementCase.objects.select_for_update().get(pk=case.pk)
    if not case.is_open:
        raise Conflict("この案件はすでに決定または取下げ済みです")
    now = timezone.now()
    case.status = CaseStatus.WITHDRAWN
    case.withdrawn_at = now
    case.withdrawal_reason = reason
    case.save(update_fields=["status", "withdrawn_at", "withdrawal_reason", "updated_at"])
    closed = _withdraw_open_requests(case, by, "案件の取下げ", now)
    events = [_event(case, EventKind.CASE_WITHDRAWN, by, case.get_withdrawal_reason_display())]
    CaseEvent.objects.bulk_create(events)
    _audit("referrals.case_withdrawn", by, case, request, {"reason": reason})
    if closed:
        notifications.withdrawn(closed)
    return case


def _withdraw_open_requests(
    case: PlacementCase,
    by: Membership,
    note: str,
    now: dt.datetime,
    exclude_pk: int | None = None,
) -> list[int]:
    # A facility that declined has closed its side already: it keeps its answer, and no notice.
    still_open = [s for s in RequestStatus.open() if s != RequestStatus.DECLINED]
    qs = PlacementRequest.objects.filter(case=case, status__in=still_open)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    ids = list(qs.select_for_update().values_list("pk", flat=True))
    if not ids:
        return []
    PlacementRequest.objects.filter(pk__in=ids).update(
        status=RequestStatus.WITHDRAWN,
        withdrawn_at=now,
        withdrawal_note=note,
        unread_by_facility=True,
    )
    CaseEvent.objects.bulk_create(
        [
            CaseEvent(
                case=case,
                request_id=pk,
                kind=EventKind.REQUEST_WITHDRAWN,
                actor=by.user,
                organization=by.organization,
                text=note,
                at=now,
            )
            for pk in ids
        ]
    )
    return ids


# Requests --------------------------------------------------------------------


@transaction.atomic
def send_requests(
    case: PlacementCase,
    *,
    by: Membership,
    facilities: Iterable[Facility],
    deadline: dt.datetime,
    request: HttpRequest | None = None,
) -> list[PlacementRequest]:
    """Send one case to many facilities at once: one bulk insert, one audit row."""
    _require_hospital(case, by)
    targets = list({f.pk: f for f in facilities}.values())
    if not targets:
        raise ActionError("依頼先の施設を1つ以上選んでください")
    if len(targets) > MAX_REQUESTS_PER_SEND:
        raise ActionError(f"一度に依頼できるのは{MAX_REQUESTS_PER_SEND}施設までです")
    now = timezone.now()
    if deadline <= now:
        raise ActionError("回答期限は現在より後の日時にしてください")
    if deadline > now + dt.timedelta(days=MAX_DEADLINE_DAYS):
        raise ActionError(f"回答期限は{MAX_DEADLINE_DAYS}日以内にしてください")
    receivers = {f.pk: f.organization_id for f in targets if f.is_active}
    outside = [f.name for f in targets if receivers.get(f.pk) is None]
    if outside:
        raise ActionError(
            "ネットワークに参加していない施設には依頼を送れません（電話等でご連絡ください）: "
            + "、".join(outside[:5])
        )
    case = PlacementCase.objects.select_for_update().get(pk=case.pk)
    if case.status == CaseStatus.DRAFT:
        raise ActionError("下書きの案件は依頼できません。先に登録してください")
    if not case.is_open:
        raise Conflict("決定・取下げ済みの案件からは依頼できません")
    already = set(
        PlacementRequest.objects.filter(
            case=case, facility_id__in=[f.pk for f in targets]
        ).values_list("facility_id", flat=True)
    )
    new = [f for f in targets if f.pk not in already]
    if not new:
        raise Conflict("選んだ施設にはすでに依頼済みです")
    created = PlacementRequest.objects.bulk_create(
        [
            PlacementRequest(
                case=case,
                facility=f,
                organization_id=int(receivers[f.pk] or 0),
                sent_at=now,
                sent_by=by.user,
                deadline=deadline,
                unread_by_facility=True,
            )
            for f in new
        ]
    )
    if not all(r.pk for r in created):
        # Databases without RETURNING on bulk insert: fetch the rows just written.
        created = list(
            PlacementRequest.objects.filter(case=case, facility_id__in=[f.pk for f in new])
        )
    CaseEvent.objects.bulk_create(
        [_event(case, EventKind.SENT, by, r.facility.name, req=r, at=now) for r in created]
    )
    if case.status != CaseStatus.REQUESTING:
        case.status = CaseStatus.REQUESTING
        case.save(update_fields=["status", "updated_at"])
    _audit(
        "referrals.requests_sent",
        by,
        case,
        request,
        {"facilities": [str(f.code) for f in new], "skipped": len(targets) - len(new)},
    )
    notifications.new_requests([r.pk for r in created])
    return created


def _lock_request(req: PlacementRequest) -> PlacementRequest:
    return PlacementRequest.objects.select_for_update().select_related("case").get(pk=req.pk)


def mark_read(req: PlacementRequest, *, by: Membership) -> bool:
    """The receiving facility opened the request; idempotent, no lock needed."""
    if req.organization_id != by.organization_id:
        return False
    now = timezone.now()
    changed = PlacementRequest.objects.filter(pk=req.pk, status=RequestStatus.SENT).update(
        status=RequestStatus.READ, read_at=now, unread_by_facility=False
    )
    if changed:
        _event(req.case, EventKind.READ, by, req.facility.name, req=req, at=now).save()
        req.refresh_from_db(fields=["status", "read_at", "unread_by_facility"])
        return True
    if req.unread_by_facility:
        PlacementRequest.objects.filter(pk=req.pk).update(unread_by_facility=False)
        req.unread_by_facility = False
    return False


def mark_seen_by_hospital(case: PlacementCase, *, by: Membership) -> int:
    if case.hospital_id != by.organization_id:
        return 0
    return PlacementRequest.objects.filter(case=case, unread_by_hospital=True).update(
        unread_by_hospital=False
    )


@transaction.atomic
def answer_request(
    req: PlacementRequest,
    *,
    by: Membership,
    answer: str,
    decline_reason: str = "",
    conditions: str = "",
    interview_dates: Iterable[dt.datetime] = (),
    note: str = "",
    request: HttpRequest | None = None,
) -> PlacementRequest:
    _require_receiver(req, by)
    if answer not in Answer.values:
        raise ActionError("回答を選んでください")
    dates = sorted(interview_dates)
    if answer == Answer.DECLINED and decline_reason not in DeclineReason.values:
        raise ActionError("受入不可の理由を選んでください")
    if answer == Answer.CONDITIONAL and not conditions.strip():
        raise ActionError("条件付きで可の場合は、条件を入力してください")
    if answer == Answer.INTERVIEW and not dates:
        raise ActionError("面談希望の場合は、候補日時を1つ以上入力してください")
    if len(dates) > MAX_INTERVIEW_DATES:
        raise ActionError(f"面談の候補日時は{MAX_INTERVIEW_DATES}つまでです")
    if answer == Answer.DECLINED and decline_reason == DeclineReason.OTHER and not note.strip():
        raise ActionError("理由が「その他」の場合は、補足を入力してください")
    conditions = _screen(conditions.strip())
    note = _screen(note.strip())
    req = _lock_request(req)
    if req.status == RequestStatus.CONFIRMED:
        raise Conflict("この依頼はすでに受入決定済みです")
    if req.status == RequestStatus.WITHDRAWN:
        raise Conflict("この依頼は取り下げられました")
    if req.status == RequestStatus.EXPIRED:
        raise Conflict("回答期限を過ぎています。依頼元にご連絡ください")
    if not req.case.is_open:
        raise Conflict("この案件は終了しています")
    now = timezone.now()
    req.answer = answer
    req.status = answer
    req.decline_reason = decline_reason if answer == Answer.DECLINED else ""
    req.conditions = conditions if answer == Answer.CONDITIONAL else ""
    req.interview_dates = (
        [timezone.localtime(d).isoformat() for d in dates] if answer == Answer.INTERVIEW else []
    )
    req.answer_note = note
    req.answered_at = now
    req.answered_by = by.user
    req.read_at = req.read_at or now
    req.unread_by_hospital = True
    req.unread_by_facility = False
    req.save()
    label = req.get_answer_display()
    if answer == Answer.DECLINED:
        label += f"（{req.get_decline_reason_display()}）"
    _event(
        req.case, EventKind.ANSWERED, by, f"{req.facility.name}: {label}", req=req, at=now
    ).save()
    _audit(
        "referrals.request_answered",
        by,
        req,
        request,
        {"answer": answer, "decline_reason": req.decline_reason},
    )
    notifications.answered(req.pk)
    return req


@transaction.atomic
def post_message(
    req: PlacementRequest, *, by: Membership, body: str, request: HttpRequest | None = None
) -> RequestMessage:
    """A question or an answer in the request's thread; only the two parties take part."""
    case = req.case
    is_hospital = case.hospital_id == by.organization_id
    if not is_hospital and req.organization_id != by.organization_id:
        raise NotFound("依頼が見つかりません")
    body = body.strip()
    if not body:
        raise ActionError("本文を入力してください")
    if len(body) > 1000:
        raise ActionError("本文は1000文字以内で入力してください")
    body = _screen(body)
    req = _lock_request(req)
    if req.status in (RequestStatus.WITHDRAWN, RequestStatus.EXPIRED):
        raise Conflict("取下げ・期限切れの依頼には投稿できません")
    message = RequestMessage.objects.create(
        request=req, author=by.user, organization=by.organization, body=body
    )
    if is_hospital:
        req.unread_by_facility = True
        req.save(update_fields=["unread_by_facility"])
    else:
        req.unread_by_hospital = True
        req.save(update_fields=["unread_by_hospital"])
    side = "病院から" if is_hospital else f"{req.facility.name}から"
    _event(case, EventKind.MESSAGE, by, f"{side}: {body[:60]}", req=req).save()
    _audit("referrals.message_posted", by, req, request)
    notifications.message_posted(message.pk)
    return message


@transaction.atomic
def withdraw_request(
    req: PlacementRequest, *, by: Membership, note: str = "", request: HttpRequest | None = None
) -> PlacementRequest:
    _require_hospital(req.case, by)
    note = _screen(note.strip())[:200]
    req = _lock_request(req)
    if req.status not in RequestStatus.open():
        raise Conflict("この依頼はすでに終了しています")
    now = timezone.now()
    req.status = RequestStatus.WITHDRAWN
    req.withdrawn_at = now
    req.withdrawal_note = note or "依頼元による取下げ"
    req.unread_by_facility = True
    req.save(update_fields=["status", "withdrawn_at", "withdrawal_note", "unread_by_facility"])
    _event(req.case, EventKind.REQUEST_WITHDRAWN, by, req.facility.name, req=req, at=now).save()
    _audit("referrals.request_withdrawn", by, req, request)
    notifications.withdrawn([req.pk])
    return req


def expire_overdue(now: dt.datetime | None = None) -> int:
    """Unanswered requests past their deadline become 期限切れ. Safe to run concurrently."""
    now = now or timezone.now()
    candidates = list(
        PlacementRequest.objects.filter(
            status__in=RequestStatus.unanswered(), deadline__lt=now
        ).values_list("pk", "case_id")
    )
    expired = 0
    for pk, case_id in candidates:
        with transaction.atomic():
            # Conditional update: an answer that lands first wins, and a second run finds nothing.
            if (
                PlacementRequest.objects.filter(
                    pk=pk, status__in=RequestStatus.unanswered()
                ).update(status=RequestStatus.EXPIRED, unread_by_hospital=True)
                == 1
            ):
                CaseEvent.objects.create(
                    case_id=case_id, request_id=pk, kind=EventKind.EXPIRED, at=now
                )
                expired += 1
    return expired


@transaction.atomic
def confirm_placement(
    case: PlacementCase,
    req: PlacementRequest,
    *,
    by: Membership,
    request: HttpRequest | None = None,
) -> PlacementCase:
    """The hospital picks one acceptance: the case is decided, every other open request withdrawn.

    The case row lock serialises concurrent confirmations; the partial unique index on
    confirmed requests is the last line should anything bypass it (security R21).
    """
    _require_hospital(case, by)
    case = PlacementCase.objects.select_for_update().get(pk=case.pk)
    if case.status == CaseStatus.DECIDED:
        raise Conflict("この案件はすでに受入先が決定しています")
    if case.status == CaseStatus.WITHDRAWN:
        raise Conflict("この案件は取り下げられています")
    req = _lock_request(req)
    if req.case_id != case.pk:
        raise NotFound("依頼が見つかりません")
    if req.status not in RequestStatus.confirmable():
        raise Conflict(
            "この施設の回答は「受入可」または「条件付きで可」ではありません（現在: "
            f"{req.get_status_display()}）"
        )
    now = timezone.now()
    try:
        with transaction.atomic():
            req.status = RequestStatus.CONFIRMED
            req.unread_by_facility = True
            req.save(update_fields=["status", "unread_by_facility"])
    except IntegrityError:
        raise Conflict("この案件はすでに受入先が決定しています") from None
    case.status = CaseStatus.DECIDED
    case.placed_facility_id = req.facility_id
    case.decided_at = now
    case.save(update_fields=["status", "placed_facility", "decided_at", "updated_at"])
    closed = _withdraw_open_requests(case, by, "他の施設に決定したため", now, exclude_pk=req.pk)
    _event(case, EventKind.DECIDED, by, req.facility.name, req=req, at=now).save()
    _audit(
        "referrals.placement_confirmed",
        by,
        case,
        request,
        {"request": str(req.code), "facility": str(req.facility.code), "withdrawn": len(closed)},
    )
    notifications.decided(req.pk)
    if closed:
        notifications.withdrawn(closed)
    return case


@transaction.atomic
def record_handover(
    case: PlacementCase,
    *,
    by: Membership,
    kind: str,
    exchanged_on: dt.date,
    method: str = HandoverMethod.HAND,
    request: HttpRequest | None = None,
) -> HandoverRecord:
    """That a document was handed over, never what it said."""
    case = PlacementCase.objects.get(pk=case.pk)
    placed = PlacementRequest.objects.filter(
        case=case, status=RequestStatus.CONFIRMED, organization_id=by.organization_id
    ).exists()
    if not (_is_hospital_member(case, by) or placed):
        raise NotFound("案件が見つかりません")
    if case.status != CaseStatus.DECIDED:
        raise Conflict("受入先が決定してから記録してください")
    if kind not in HandoverKind.values:
        raise ActionError("書類の種類を選んでください")
    if method not in HandoverMethod.values:
        raise ActionError("受け渡しの方法を選んでください")
    today = timezone.localdate()
    if exchanged_on > today:
        raise ActionError("受け渡した日に未来の日付は指定できません")
    if case.decided_at and exchanged_on < timezone.localdate(case.decided_at) - dt.timedelta(
        days=30
    ):
        raise ActionError("受け渡した日が決定日より大きく前になっています")
    record = HandoverRecord.objects.create(
        case=case,
        kind=kind,
        method=method,
        exchanged_on=exchanged_on,
        recorded_by=by.user,
        organization=by.organization,
    )
    _event(
        case,
        EventKind.HANDOVER,
        by,
        f"{record.get_kind_display()}（{record.get_method_display()}・{exchanged_on:%Y-%m-%d}）",
    ).save()
    _audit("referrals.handover_recorded", by, case, request, {"kind": kind})
    return record


def purge_idempotency_keys(days: int = 7, now: dt.datetime | None = None) -> int:
    """Form tokens and API keys only matter while a retry is plausible; a week is plenty."""
    from renkei.referrals.models import IdempotencyKey

    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def claim_reminders(hours: int, now: dt.datetime | None = None) -> list[int]:
    """Requests unanswered for `hours`, claimed one by one so that two runs never both send."""
    now = now or timezone.now()
    due = list(
        PlacementRequest.objects.filter(
            status__in=RequestStatus.unanswered(),
            reminded_at__isnull=True,
            sent_at__lte=now - dt.timedelta(hours=hours),
            deadline__gt=now,
        ).values_list("pk", flat=True)
    )
    claimed = []
    for pk in due:
        if (
            PlacementRequest.objects.filter(
                pk=pk, reminded_at__isnull=True, status__in=RequestStatus.unanswered()
            ).update(reminded_at=now)
            == 1
        ):
            claimed.append(pk)
    return claimed


# 効果検証アンケート ---------------------------------------------------------------------


class SurveyClosed(Exception):
    """The survey is outside its answering period."""


@transaction.atomic
def create_survey(
    *, by: Membership, fields: dict[str, Any], request: HttpRequest | None = None
) -> Survey:
    """A prefecture or municipality opens a survey for the institutions in its network."""
    if not by.organization.is_government:
        raise PermissionError("アンケートを作成できるのは都道府県・市区町村の担当者です")
    survey = Survey(**fields, owner=by.organization, created_by=by.user)
    survey.full_clean()
    if survey.closes_on < survey.opens_on:
        raise ValidationError({"closes_on": "締切日は開始日以降にしてください"})
    survey.save()
    AuditEntry.record(
        "referrals.survey_created", request=request, actor=by.user, membership=by, target=survey
    )
    return survey


@transaction.atomic
def answer_survey(
    survey: Survey, *, by: Membership, fields: dict[str, Any], request: HttpRequest | None = None
) -> SurveyResponse:
    """One answer per institution: answering again replaces the earlier answer."""
    if not survey.is_open():
        raise SurveyClosed("このアンケートは受付期間外です。")
    comment = str(fields.get("comment") or "")
    fields = {**fields, "comment": screen(comment) if comment else ""}
    response = SurveyResponse.objects.select_for_update().filter(
        survey=survey, organization=by.organization
    ).first() or SurveyResponse(survey=survey, organization=by.organization)
    for name, value in fields.items():
        setattr(response, name, value)
    response.respondent = by.user
    response.submitted_at = timezone.now()
    response.full_clean(exclude=["survey", "organization", "respondent"], validate_unique=False)
    response.save()
    AuditEntry.record(
        "referrals.survey_answered", request=request, actor=by.user, membership=by, target=survey
    )
    return response
