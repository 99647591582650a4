"""Placement workflows: transactional, audited, with e-mails sent after commit.

Each function takes the acting Membership and re-checks that it may act (the views and the
API also scope their lookups, but an action must be safe whoever calls it). Failures raise
ActionError (400), NotFound (404, the actor may not even know the object exists) or
Conflict (409, the state moved on: already decided, withdrawn, expired), the family of
renkei.lib.actions that both doors map to the same status and message. Each workflow takes
one typed input (renkei.referrals.inputs) that the screen's form and the API body both produce.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from renkei.accounts.models import AuditEntry, Membership, User
from renkei.directory.models import Facility
from renkei.lib.actions import ActionError as ActionError  # the errors callers catch
from renkei.lib.actions import Conflict as Conflict
from renkei.lib.actions import NotFound as NotFound
from renkei.lib.actions import (
    StaleVersion,
    as_prefetched,
    bump_version,
    full_clean,
    not_visible,
)
from renkei.lib.inputs import merge
from renkei.referrals import notifications
from renkei.referrals.access import CASE_NOT_FOUND
from renkei.referrals.inputs import (
    CASE_FIELDS,
    MAX_INTERVIEW_DATES,
    MAX_REQUESTS_PER_SEND,
    CaseAssignInput,
    CaseInput,
    CaseUpdate,
    HandoverInput,
    MessageInput,
    RequestAnswerInput,
    SendRequestsInput,
    WithdrawCaseInput,
    WithdrawRequestInput,
    case_fields,
    case_relations,
    values_of,
)
from renkei.referrals.models import (
    Answer,
    CaseEvent,
    CaseStatus,
    DeclineReason,
    EventKind,
    HandoverRecord,
    PlacementCase,
    PlacementCaseQuerySet,
    PlacementRequest,
    RequestMessage,
    RequestStatus,
)
from renkei.referrals.screening import IdentifyingText, screen

MAX_DEADLINE_DAYS = 30


def _is_hospital_member(case: PlacementCase, by: Membership) -> bool:
    return case.hospital_id == by.organization_id


def _require_hospital(case: PlacementCase, by: Membership) -> None:
    if not _is_hospital_member(case, by):
        raise NotFound("案件が見つかりません")


def _require_receiver(req: PlacementRequest, by: Membership) -> None:
    if req.organization_id != by.organization_id:
        raise NotFound("依頼が見つかりません")


def _screen(text: str, *, field: str | None = None) -> str:
    try:
        return screen(text.strip())
    except IdentifyingText as e:
        raise ActionError(str(e), field=field) from e


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


# Cases -----------------------------------------------------------------------


def _same(value: Any) -> Any:
    """A value as compared for the timeline: lists as sets of codes, choices as their codes."""
    if isinstance(value, list):
        return sorted(str(v) for v in value)
    return value


@transaction.atomic
def create_case(
    *, by: Membership, data: CaseInput, request: HttpRequest | None = None
) -> PlacementCase:
    if by.organization.is_government:
        raise ActionError(
            "行政の所属では案件を登録できません。医療機関・事業所の所属で操作してください"
        )
    residence, caps, munis = case_relations(data)
    now = timezone.now()
    case = PlacementCase(
        hospital=by.organization,
        created_by=by.user,
        assignee=by.user,
        status=CaseStatus.DRAFT if data.draft else CaseStatus.SEARCHING,
        registered_at=None if data.draft else now,
        **case_fields(data, residence),
    )
    # Each check Django would ask the database is settled already: the relations are rows
    # just read, the code is a fresh uuid4, and the one constraint is about decided cases
    # (five statements a case, the database still enforcing all three).
    full_clean(
        case,
        exclude=["hospital", "created_by", "assignee", "residence"],
        validate_unique=False,
        validate_constraints=False,
    )
    case.save()
    # A new case has no relations yet: add (one INSERT) without set()'s read of the current.
    case.required_capabilities.add(*caps)
    case.desired_municipalities.add(*munis)
    # The answer reads the relations as written, in their models' order (ADR 0081;
    # test_the_new_case_is_answered_as_read_back pins it to GET).
    as_prefetched(case, "required_capabilities", sorted(caps, key=lambda c: (c.sort_order, c.code)))
    as_prefetched(case, "desired_municipalities", sorted(munis, key=lambda m: m.code))
    CaseEvent.objects.create(
        case=case,
        kind=EventKind.CREATED,
        actor=by.user,
        organization=by.organization,
        text="下書きとして保存" if data.draft else "案件を登録",
    )
    AuditEntry.record("referrals.case_created", by=by, target=case, request=request)
    return case


@transaction.atomic
def update_case(
    case: PlacementCase, *, by: Membership, data: CaseUpdate, request: HttpRequest | None = None
) -> PlacementCase:
    """Change a case: the fields sent (all of them from the screen, some in a PATCH).

    The sent fields are merged onto the stored ones and validated as a whole, so a PATCH
    cannot leave a case the full input would refuse.
    """
    _require_hospital(case, by)
    case = PlacementCase.objects.select_for_update().get(pk=case.pk)
    if not case.is_open:
        raise Conflict("決定・取下げ済みの案件は変更できません")
    try:
        bump_version(case, data.version)
    except StaleVersion as e:
        raise StaleVersion(
            e.current,
            "他の方が先にこの案件を更新しました。最新の内容を確認してから、もう一度保存してください。",
        ) from None
    before = values_of(case)
    whole = merge(CaseUpdate, before, data)
    residence, caps, munis = case_relations(whole)
    fields = case_fields(whole, residence)
    changed = [
        name
        for name in CASE_FIELDS
        if name in data.model_fields_set and _same(getattr(whole, name)) != _same(before[name])
    ]
    for name, value in fields.items():
        setattr(case, name, value)
    if data.complete_draft and case.status == CaseStatus.DRAFT:
        case.status = CaseStatus.SEARCHING
        case.registered_at = timezone.now()
        changed.append("status")
    # Each check Django would ask the database is settled already: the relations are rows
    # just read, the code is not changed, and the one constraint is about decided cases while
    # this one is open (the database still enforcing all three).
    full_clean(
        case,
        exclude=["hospital", "created_by", "assignee", "residence"],
        validate_unique=False,
        validate_constraints=False,
    )
    case.save()
    # set(), not add(): what the user took off the case is removed.
    case.required_capabilities.set(caps)
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
        AuditEntry.record(
            "referrals.case_updated",
            by=by,
            target=case,
            request=request,
            detail={"fields": changed},
        )
    return case


@transaction.atomic
def assign_case(
    case: PlacementCase,
    *,
    by: Membership,
    data: CaseAssignInput,
    request: HttpRequest | None = None,
) -> PlacementCase:
    """A colleague of the same hospital picks the case up (no username: the actor)."""
    _require_hospital(case, by)
    if data.username:
        to = User.objects.filter(
            username=data.username,
            memberships__organization_id=case.hospital_id,
            memberships__is_active=True,
        ).first()
        if to is None:
            raise ActionError("担当者は同じ医療機関の職員から選んでください", field="username")
    else:
        to = by.user
    case = PlacementCase.objects.select_for_update().get(pk=case.pk)
    if case.assignee_id == to.pk:
        return case
    case.assignee = to
    case.save(update_fields=["assignee", "updated_at"])
    _event(case, EventKind.ASSIGNED, by, f"担当: {to}").save()
    AuditEntry.record(
        "referrals.case_assigned",
        by=by,
        target=case,
        request=request,
        detail={"assignee": to.get_username()},
    )
    return case


def notified_by_withdrawal(case: PlacementCase, *, exclude_pk: int | None = None) -> list[str]:
    """The facilities a withdrawal or a decision would tell: those whose request is still open.

    The confirmation pages name them before the step, from the same rule the step applies.
    """
    qs = PlacementRequest.objects.filter(case=case, status__in=_still_open()).select_related(
        "facility"
    )
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return [r.facility.name for r in qs.order_by("facility__name")]


@transaction.atomic
def withdraw_case(
    case: PlacementCase,
    *,
    by: Membership,
    data: WithdrawCaseInput,
    request: HttpRequest | None = None,
) -> PlacementCase:
    _require_hospital(case, by)
    case = PlacementCase.objects.select_for_update().get(pk=case.pk)
    if not case.is_open:
        raise Conflict("この案件はすでに決定または取下げ済みです")
    now = timezone.now()
    case.status = CaseStatus.WITHDRAWN
    case.withdrawn_at = now
    case.withdrawal_reason = data.reason
    case.save(update_fields=["status", "withdrawn_at", "withdrawal_reason", "updated_at"])
    closed = _withdraw_open_requests(case, by, "案件の取下げ", now)
    events = [_event(case, EventKind.CASE_WITHDRAWN, by, case.get_withdrawal_reason_display())]
    CaseEvent.objects.bulk_create(events)
    AuditEntry.record(
        "referrals.case_withdrawn",
        by=by,
        target=case,
        request=request,
        detail={"reason": str(data.reason)},
    )
    notifications.withdrawn(closed)
    return case


def _still_open() -> list[str]:
    # A facility that declined has closed its side already: it keeps its answer, and no notice.
    return [s for s in RequestStatus.open() if s != RequestStatus.DECLINED]


def _withdraw_open_requests(
    case: PlacementCase,
    by: Membership,
    note: str,
    now: dt.datetime,
    exclude_pk: int | None = None,
) -> list[int]:
    qs = PlacementRequest.objects.filter(case=case, status__in=_still_open())
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

# What a send reads of each facility: the checks, the timeline's text and the mails (the
# facility row has dozens of columns; the requests come back with these loaded).
SENT_FACILITY_FIELDS = ("id", "code", "name", "is_active", "organization")


def send_requests(
    case: PlacementCase | uuid.UUID,
    *,
    by: Membership,
    data: SendRequestsInput,
    request: HttpRequest | None = None,
) -> list[PlacementRequest]:
    """Send one case to many facilities at once: one bulk insert, one audit row.

    `case` is the hospital's case or its code (the API: the lookup is the send's lock, one
    statement). A facility code that names nothing is refused, whichever door sent it.
    """
    lookup = {"pk": case.pk} if isinstance(case, PlacementCase) else {"code": case}
    sent = _send_locked(
        PlacementCase.objects.of_hospital(by).filter(**lookup), by=by, data=data, request=request
    )
    if sent is None:
        # After the transaction: an outsider's refused read is audited, not rolled back.
        raise not_visible(PlacementCase, CASE_NOT_FOUND, **lookup)
    return sent


@transaction.atomic
def _send_locked(
    cases: PlacementCaseQuerySet,
    *,
    by: Membership,
    data: SendRequestsInput,
    request: HttpRequest | None,
) -> list[PlacementRequest] | None:
    """The send, under the lock of the one case of `cases`; None when there is none."""
    # The case row alone is locked; its hospital and residence come along for the mails.
    case = cases.select_for_update(of=("self",)).select_related("hospital", "residence").first()
    if case is None:
        return None
    codes = list(dict.fromkeys(data.facilities))
    if len(codes) > MAX_REQUESTS_PER_SEND:
        raise ActionError(
            f"一度に依頼できるのは{MAX_REQUESTS_PER_SEND}施設までです", field="facilities"
        )
    found = {f.code: f for f in Facility.objects.filter(code__in=codes).only(*SENT_FACILITY_FIELDS)}
    targets = [found[c] for c in codes if c in found]  # in the order chosen
    if len(targets) != len(codes):
        raise ActionError("存在しない施設が含まれています", field="facilities")
    deadline = data.deadline
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
        by_facility = {f.pk: f for f in new}
        created = list(
            PlacementRequest.objects.filter(case=case, facility_id__in=by_facility).order_by("id")
        )
        for r in created:
            r.case, r.facility = case, by_facility[r.facility_id]
    CaseEvent.objects.bulk_create(
        [_event(case, EventKind.SENT, by, r.facility.name, req=r, at=now) for r in created]
    )
    if case.status != CaseStatus.REQUESTING:
        case.status = CaseStatus.REQUESTING
        case.save(update_fields=["status", "updated_at"])
    AuditEntry.record(
        "referrals.requests_sent",
        by=by,
        target=case,
        request=request,
        detail={"facilities": [str(f.code) for f in new], "skipped": len(targets) - len(new)},
    )
    notifications.new_requests(created)
    return created


def _lock_request(req: PlacementRequest) -> PlacementRequest:
    """The request with its case, both locked: the case first, in a statement of its own.

    confirm_placement and withdraw_case lock the case, then the requests. One join FOR UPDATE
    locked the two rows in whatever order its plan met them, so an answer could hold its request
    and wait for the case while a confirmation held the case and waited to withdraw that request:
    a deadlock, and one of them aborted (seen in test_concurrency on PostgreSQL)."""
    list(PlacementCase.objects.select_for_update().filter(pk=req.case_id).values_list("pk"))
    return (
        PlacementRequest.objects.select_for_update(of=("self",))
        .select_related("case")
        .get(pk=req.pk)
    )


def view_request(
    req: PlacementRequest, *, by: Membership, request: HttpRequest | None = None, via: str = ""
) -> PlacementRequest:
    """Someone of either side opens a request: audited, and what was new to them is read now.

    The receiving facility's first look marks it 既読 (a timeline event); the hospital's look
    clears its 新着 flag. Both doors read a request through this, so they cannot drift.
    """
    AuditEntry.record(
        "referrals.request_viewed",
        request=request,
        by=by,
        target=req,
        detail={"via": via} if via else None,
    )
    mark_read(req, by=by)
    if req.case.hospital_id == by.organization_id and req.unread_by_hospital:
        PlacementRequest.objects.filter(pk=req.pk).update(unread_by_hospital=False)
        req.unread_by_hospital = False
    return req


def mark_read(req: PlacementRequest, *, by: Membership) -> bool:
    """The receiving facility opened the request; True the first time (idempotent, no lock)."""
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


def view_case(
    case: PlacementCase, *, by: Membership, request: HttpRequest | None = None, via: str = ""
) -> PlacementCase:
    """Someone opens a case: audited; for its hospital, the answers it shows are no longer new."""
    AuditEntry.record(
        "referrals.case_viewed",
        request=request,
        by=by,
        target=case,
        detail={"via": via} if via else None,
    )
    if case.hospital_id == by.organization_id:
        PlacementRequest.objects.filter(case=case, unread_by_hospital=True).update(
            unread_by_hospital=False
        )
    return case


@transaction.atomic
def answer_request(
    req: PlacementRequest,
    *,
    by: Membership,
    data: RequestAnswerInput,
    request: HttpRequest | None = None,
) -> PlacementRequest:
    _require_receiver(req, by)
    answer = data.answer
    decline_reason = data.decline_reason or ""
    dates = sorted(data.interview_dates)
    if answer == Answer.DECLINED and decline_reason not in DeclineReason.values:
        raise ActionError("受入不可の理由を選んでください", field="decline_reason")
    if answer == Answer.CONDITIONAL and not data.conditions.strip():
        raise ActionError("条件付きで可の場合は、条件を入力してください", field="conditions")
    if answer == Answer.INTERVIEW and not dates:
        raise ActionError(
            "面談希望の場合は、候補日時を1つ以上入力してください", field="interview_dates"
        )
    if len(dates) > MAX_INTERVIEW_DATES:
        raise ActionError(
            f"面談の候補日時は{MAX_INTERVIEW_DATES}つまでです", field="interview_dates"
        )
    if answer == Answer.DECLINED and decline_reason == DeclineReason.OTHER and not data.note:
        raise ActionError("理由が「その他」の場合は、補足を入力してください", field="note")
    conditions = _screen(data.conditions, field="conditions")
    note = _screen(data.note, field="note")
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
    AuditEntry.record(
        "referrals.request_answered",
        by=by,
        target=req,
        request=request,
        detail={"answer": str(answer), "decline_reason": req.decline_reason},
    )
    notifications.answered(req.pk)
    return req


@transaction.atomic
def post_message(
    req: PlacementRequest,
    *,
    by: Membership,
    data: MessageInput,
    request: HttpRequest | None = None,
) -> RequestMessage:
    """A question or an answer in the request's thread; only the two parties take part."""
    case = req.case
    is_hospital = case.hospital_id == by.organization_id
    if not is_hospital and req.organization_id != by.organization_id:
        raise NotFound("依頼が見つかりません")
    body = _screen(data.body, field="body")
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
    AuditEntry.record("referrals.message_posted", by=by, target=req, request=request)
    notifications.message_posted(message.pk)
    return message


@transaction.atomic
def withdraw_request(
    req: PlacementRequest,
    *,
    by: Membership,
    data: WithdrawRequestInput | None = None,
    request: HttpRequest | None = None,
) -> PlacementRequest:
    _require_hospital(req.case, by)
    note = _screen(data.note if data else "", field="note")[:200]
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
    AuditEntry.record("referrals.request_withdrawn", by=by, target=req, request=request)
    notifications.withdrawn([req.pk])
    return req


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
    AuditEntry.record(
        "referrals.placement_confirmed",
        by=by,
        target=case,
        request=request,
        detail={
            "request": str(req.code),
            "facility": str(req.facility.code),
            "withdrawn": len(closed),
        },
    )
    notifications.decided(req.pk)
    notifications.withdrawn(closed)
    return case


@transaction.atomic
def record_handover(
    case: PlacementCase,
    *,
    by: Membership,
    data: HandoverInput,
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
    kind, method, exchanged_on = data.kind, data.method, data.exchanged_on
    today = timezone.localdate()
    if exchanged_on > today:
        raise ActionError("受け渡した日に未来の日付は指定できません", field="exchanged_on")
    if case.decided_at and exchanged_on < timezone.localdate(case.decided_at) - dt.timedelta(
        days=30
    ):
        raise ActionError("受け渡した日が決定日より大きく前になっています", field="exchanged_on")
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
    AuditEntry.record(
        "referrals.handover_recorded",
        by=by,
        target=case,
        request=request,
        detail={"kind": str(kind)},
    )
    return record
