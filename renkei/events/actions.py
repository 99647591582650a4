"""Event workflows: applying, cancelling, the waiting list, attendance and the survey.

Capacity rule: places are counted per applicant, in the order applicants arrive. An
application with more applicants than places left gets places for the first ones as
listed on the form and puts the rest on the waiting list; the waiting list is promoted
in the same order when someone cancels or the organiser raises the capacity.

Every change to the places of an event runs with the event row locked
(select_for_update on PostgreSQL; on SQLite the IMMEDIATE transaction mode serialises
writers), so concurrent applications can never overfill it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone

from renkei.accounts.models import AuditEntry, Membership
from renkei.events import emails
from renkei.events.models import (
    ATTACHMENT_MAX_BYTES,
    ATTACHMENT_TYPES,
    Applicant,
    Application,
    Event,
    EventAttachment,
    EventKind,
    Feedback,
    Lecturer,
    Occupation,
    normalize_email,
    normalize_kana,
    normalize_phone,
    validate_hiragana,
    validate_phone,
)
from renkei.lib.text import nfkc

MAX_APPLICANTS = 20


class Refused(Exception):
    """A request the rules do not allow; the message is shown to the user as is."""

    def __init__(self, message: str, *, status: int = 400, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field


@dataclass(frozen=True)
class ApplicantData:
    name: str
    kana: str
    email: str
    occupation: str
    occupation_other: str = ""


@dataclass(frozen=True)
class ApplicationData:
    contact_name: str
    contact_email: str
    contact_phone: str
    applicants: Sequence[ApplicantData]
    office_name: str = ""
    question_to: str = ""
    question_to_other: str = ""
    question: str = ""

    def fingerprint(self) -> str:
        """Stable hash of what was submitted: a retried request must carry the same body."""
        data = asdict(self)
        return hashlib.sha256(
            json.dumps(data, sort_keys=True, ensure_ascii=False).encode("utf-8")
        ).hexdigest()


def has_nul(value: object) -> bool:
    """PostgreSQL text cannot hold NUL characters: find one anywhere in a nested value."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(has_nul(v) for v in value)
    return False


def _clean(data: ApplicationData, event: Event) -> ApplicationData:
    """Normalise and validate everything; raise Refused naming the first problem.

    The HTML form runs the same checks field by field; this is the authority for the API.
    """
    if has_nul(asdict(data)):
        raise Refused("使用できない文字（NUL）が含まれています")
    applicants = []
    for i, a in enumerate(data.applicants, start=1):
        name = nfkc(a.name)
        if not name:
            raise Refused(f"申込者{i}: 氏名を入力してください", field=f"applicants.{i}.name")
        kana = normalize_kana(a.kana)
        try:
            validate_hiragana(kana)
        except ValidationError as e:
            raise Refused(f"申込者{i}: {e.messages[0]}", field=f"applicants.{i}.kana") from e
        email = normalize_email(a.email)
        if email:
            try:
                validate_email(email)
            except ValidationError as e:
                raise Refused(
                    f"申込者{i}: メールアドレスの形式が正しくありません（{email}）",
                    field=f"applicants.{i}.email",
                ) from e
        if a.occupation not in Occupation.values:
            raise Refused(f"申込者{i}: 職種を選んでください", field=f"applicants.{i}.occupation")
        applicants.append(
            ApplicantData(
                name=name[:60],
                kana=kana[:80],
                email=email,
                occupation=a.occupation,
                occupation_other=nfkc(a.occupation_other)[:60],
            )
        )
    if not applicants:
        raise Refused("申込者を1名以上入力してください", field="applicants")
    if len(applicants) > MAX_APPLICANTS:
        raise Refused(f"1回の申込は{MAX_APPLICANTS}名までです", field="applicants")
    contact_email = normalize_email(data.contact_email)
    try:
        validate_email(contact_email)
    except ValidationError as e:
        raise Refused("事業所メールアドレスの形式が正しくありません", field="contact_email") from e
    if not nfkc(data.contact_name):
        raise Refused("事業所連絡担当者を入力してください", field="contact_name")
    phone = normalize_phone(data.contact_phone)
    if phone:
        try:
            validate_phone(phone)
        except ValidationError as e:
            raise Refused(e.messages[0], field="contact_phone") from e
    elif event.kind != EventKind.PUBLIC_LECTURE:
        raise Refused("事業所電話番号を入力してください", field="contact_phone")
    office = nfkc(data.office_name)
    if not office and event.kind != EventKind.PUBLIC_LECTURE:
        raise Refused("事業所名を入力してください", field="office_name")
    if data.question_to and data.question_to not in dict(Occupation.question_choices()):
        raise Refused("聞いてみたい職種の値が正しくありません", field="question_to")
    question = (data.question or "").strip()
    if len(question) > 2000:
        raise Refused("聞いてみたい内容は2000文字以内で入力してください", field="question")
    return ApplicationData(
        office_name=office[:120],
        contact_name=nfkc(data.contact_name)[:60],
        contact_email=contact_email,
        contact_phone=phone[:30],
        applicants=applicants,
        question_to=data.question_to,
        question_to_other=nfkc(data.question_to_other)[:60],
        question=question,
    )


def _duplicates(event: Event, data: ApplicationData) -> str | None:
    keys = [a.email.lower() for a in data.applicants if a.email]
    seen: set[str] = set()
    for k in keys:
        if k in seen:
            return f"同じメールアドレス（{k}）が申込者に2回入力されています。1名ずつ別のアドレスを入力するか、空欄（同上）にしてください。"
        seen.add(k)
    taken = set(
        Applicant.objects.active()
        .filter(event=event, email_key__in=keys)
        .values_list("email_key", flat=True)
    )
    if taken:
        return (
            f"{'、'.join(sorted(taken))} は、このイベントに既に申し込まれています。"
            "申込内容の確認・取消は、申込受付メールのリンクから行えます。"
        )
    # Applicants without their own address are recognised by name within the same 事業所.
    nameless = {(a.name, a.kana) for a in data.applicants if not a.email}
    if nameless:
        same_office = Applicant.objects.active().filter(
            event=event,
            application__contact_email__iexact=data.contact_email,
            email_key="",
        )
        for name, kana in same_office.values_list("name", "kana"):
            if (name, kana) in nameless:
                return f"{name} さんは、この事業所から既に申し込まれています。"
    return None


def apply(
    event: Event,
    data: ApplicationData,
    *,
    source: str = Application.Source.WEB,
    idempotency_key: str = "",
    enforce_deadline: bool = True,
    by: Membership | None = None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
    notify: bool = True,
) -> tuple[Application, bool]:
    """Register an application; returns it and whether it was created now.

    Nothing is written unless every applicant is accepted (confirmed or waitlisted).
    notify=False is for loading demo data: no confirmation e-mail.
    """
    cleaned = _clean(data, event)
    fingerprint = cleaned.fingerprint()
    try:
        return _apply_locked(
            event,
            cleaned,
            fingerprint=fingerprint,
            source=source,
            idempotency_key=idempotency_key.strip()[:100],
            enforce_deadline=enforce_deadline,
            by=by,
            request=request,
            now=now or timezone.now(),
            notify=notify,
        )
    except IntegrityError as e:
        # Only reachable if the duplicate check was bypassed; the constraint still holds.
        raise Refused(
            "このメールアドレスは、このイベントに既に申し込まれています。", status=409
        ) from e


@transaction.atomic
def _apply_locked(
    event: Event,
    data: ApplicationData,
    *,
    fingerprint: str,
    source: str,
    idempotency_key: str,
    enforce_deadline: bool,
    by: Membership | None,
    request: HttpRequest | None,
    now: dt.datetime,
    notify: bool,
) -> tuple[Application, bool]:
    event = Event.objects.select_for_update().get(pk=event.pk)
    if idempotency_key:
        existing = Application.objects.filter(event=event, idempotency_key=idempotency_key).first()
        if existing is not None:
            if existing.request_hash != fingerprint:
                raise Refused(
                    "この申込フォームは既に送信されています。続けて申し込む場合は、申込ページを開き直してください。"
                    if source == Application.Source.WEB
                    else "同じIdempotency-Keyで異なる内容の申込が送信されました。",
                    status=409,
                )
            return existing, False
    if enforce_deadline:
        reason = event.closed_reason(now)
        if reason:
            raise Refused(reason, status=409)
    elif event.has_started(now):
        raise Refused("開催後は申込を登録できません。", status=409)
    duplicate = _duplicates(event, data)
    if duplicate:
        raise Refused(duplicate, status=409, field="applicants")

    app = Application.objects.create(
        event=event,
        office_name=data.office_name,
        contact_name=data.contact_name,
        contact_email=data.contact_email,
        contact_phone=data.contact_phone,
        question_to=data.question_to,
        question_to_other=data.question_to_other,
        question=data.question,
        source=source,
        idempotency_key=idempotency_key,
        request_hash=fingerprint,
    )
    confirmed = event.applicants.confirmed().count()
    position = (event.applicants.aggregate(m=Max("position"))["m"] or 0) + 1
    counts = {Applicant.Status.CONFIRMED: 0, Applicant.Status.WAITLISTED: 0}
    for a in data.applicants:
        has_place = event.capacity is None or confirmed < event.capacity
        status = Applicant.Status.CONFIRMED if has_place else Applicant.Status.WAITLISTED
        confirmed += has_place
        counts[status] += 1
        Applicant.objects.create(
            application=app,
            event=event,
            name=a.name,
            kana=a.kana,
            email=a.email,
            occupation=a.occupation,
            occupation_other=a.occupation_other,
            status=status,
            position=position,
        )
        position += 1
    AuditEntry.record(
        "events.applied",
        request=request,
        actor=by.user if by else None,
        membership=by,
        target=app,
        actor_label="" if by else "申込者",
        detail={
            "event": str(event.code),
            "source": source,
            "confirmed": counts[Applicant.Status.CONFIRMED],
            "waitlisted": counts[Applicant.Status.WAITLISTED],
        },
    )
    if notify:
        app_id = app.pk
        transaction.on_commit(lambda: emails.send_confirmation(app_id), robust=True)
    return app, True


def fill_places(event: Event, now: dt.datetime | None = None) -> list[Applicant]:
    """Promote waitlisted applicants, oldest first, into free places. Needs the event locked."""
    waiting = event.applicants.waitlisted()
    if event.capacity is not None:
        free = event.capacity - event.applicants.confirmed().count()
        if free <= 0:
            return []
        waiting = waiting[:free]
    promoted = list(waiting)
    now = now or timezone.now()
    for a in promoted:
        a.status = Applicant.Status.CONFIRMED
        a.promoted_at = now
        a.save(update_fields=["status", "promoted_at"])
    if promoted:
        ids = [a.pk for a in promoted]
        transaction.on_commit(lambda: emails.send_promoted(ids), robust=True)
    return promoted


@transaction.atomic
def cancel(
    application: Application,
    *,
    applicant_codes: Iterable[str | uuid.UUID] | None = None,
    by: Membership | None = None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> tuple[list[Applicant], list[Applicant]]:
    """Cancel some applicants of an application (all when no codes are given).

    Returns (cancelled, promoted). Places freed go to the waiting list in order.
    """
    now = now or timezone.now()
    event = Event.objects.select_for_update().get(pk=application.event_id)
    if event.has_started(now):
        raise Refused(
            "開催日時を過ぎたため、取消はできません。主催者にご連絡ください。", status=409
        )
    qs = application.applicants.active()
    if applicant_codes is not None:
        try:
            codes = {uuid.UUID(str(c)) for c in applicant_codes}
        except ValueError as e:
            raise Refused("取り消す申込者の指定が正しくありません。", status=404) from e
        if not codes:
            raise Refused("取り消す申込者を選んでください。")
        qs = qs.filter(code__in=codes)
        if qs.count() != len(codes):
            raise Refused("取り消す申込者が見つからないか、既に取り消されています。", status=404)
    cancelled = list(qs)
    if not cancelled:
        raise Refused("この申込は既に取り消されています。", status=409)
    for a in cancelled:
        a.status = Applicant.Status.CANCELLED
        a.cancelled_at = now
        a.save(update_fields=["status", "cancelled_at"])
    if not application.applicants.active().exists():
        application.status = Application.Status.CANCELLED
        application.cancelled_at = now
        application.save(update_fields=["status", "cancelled_at"])
    promoted = fill_places(event, now)
    AuditEntry.record(
        "events.cancelled",
        request=request,
        actor=by.user if by else None,
        membership=by,
        target=application,
        actor_label="" if by else "申込者",
        detail={"cancelled": len(cancelled), "promoted": len(promoted)},
    )
    app_id, ids = application.pk, [a.pk for a in cancelled]
    transaction.on_commit(lambda: emails.send_cancelled(app_id, ids), robust=True)
    return cancelled, promoted


@dataclass(frozen=True)
class LecturerData:
    name: str
    affiliation: str = ""
    title: str = ""
    topic: str = ""


@transaction.atomic
def save_event(
    event: Event,
    *,
    by: Membership,
    lecturers: Sequence[LecturerData] | None = None,
    request: HttpRequest | None = None,
) -> tuple[Event, list[Applicant]]:
    """Create or update an event of the member's organisation; lecturers are replaced.

    Raising the capacity promotes the waiting list at once.
    """
    creating = event.pk is None
    if creating:
        event.organization = by.organization
        event.created_by = by.user
        if event.municipality_id is None:
            event.municipality_id = by.organization.municipality_id
    elif event.organization_id != by.organization.pk:
        raise Refused("この組織のイベントではありません。", status=404)
    else:
        Event.objects.select_for_update().get(pk=event.pk)
    event.full_clean(exclude=["organization", "created_by"])
    event.save()
    if lecturers is not None:
        event.lecturers.all().delete()
        Lecturer.objects.bulk_create(
            Lecturer(event=event, sort_order=i, **asdict(lec)) for i, lec in enumerate(lecturers)
        )
    promoted = [] if creating else fill_places(event)
    AuditEntry.record(
        "events.created" if creating else "events.updated",
        request=request,
        actor=by.user,
        membership=by,
        target=event,
        detail={"promoted": len(promoted)} if promoted else {},
    )
    return event, promoted


def check_upload(upload: UploadedFile[bytes]) -> str:
    """Return the content type of an acceptable attachment or raise Refused."""
    name = (upload.name or "").lower()
    ext = "." + name.rsplit(".", 1)[-1] if "." in name else ""
    if ext not in ATTACHMENT_TYPES:
        raise Refused("添付できるのはPDF・PNG・JPEGファイルです。", field="file")
    if (upload.size or 0) > ATTACHMENT_MAX_BYTES:
        raise Refused(
            f"ファイルが大きすぎます（上限{ATTACHMENT_MAX_BYTES // (1024 * 1024)}MB）。",
            field="file",
        )
    content_type, magics = ATTACHMENT_TYPES[ext]
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if not any(head.startswith(m) for m in magics):
        raise Refused("ファイルの中身が拡張子と一致しません。", field="file")
    return content_type


@transaction.atomic
def add_attachment(
    event: Event,
    *,
    title: str,
    upload: UploadedFile[bytes],
    by: Membership,
    request: HttpRequest | None = None,
) -> EventAttachment:
    content_type = check_upload(upload)
    att = EventAttachment(
        event=event,
        title=nfkc(title)[:120] or "添付ファイル",
        content_type=content_type,
        size=upload.size or 0,
    )
    att.file.save(upload.name or "file", upload, save=False)
    att.save()
    AuditEntry.record(
        "events.attachment_added",
        request=request,
        actor=by.user,
        membership=by,
        target=event,
        detail={"title": att.title, "size": att.size},
    )
    return att


@transaction.atomic
def remove_attachment(
    att: EventAttachment, *, by: Membership, request: HttpRequest | None = None
) -> None:
    event = att.event
    title = att.title
    name = att.file.name
    att.delete()
    storage = att.file.storage
    transaction.on_commit(lambda: storage.delete(name) if name else None, robust=True)
    AuditEntry.record(
        "events.attachment_removed",
        request=request,
        actor=by.user,
        membership=by,
        target=event,
        detail={"title": title},
    )


@transaction.atomic
def set_attendance(
    applicant: Applicant,
    attended: bool,
    *,
    by: Membership,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> Applicant:
    if applicant.status == Applicant.Status.CANCELLED and attended:
        raise Refused("取消済みの申込者は出席にできません。", status=409)
    applicant.attended = attended
    applicant.attended_at = (now or timezone.now()) if attended else None
    applicant.save(update_fields=["attended", "attended_at"])
    AuditEntry.record(
        "events.attendance_marked",
        request=request,
        actor=by.user,
        membership=by,
        target=applicant.event,
        detail={"applicant": str(applicant.code), "attended": attended},
    )
    return applicant


@transaction.atomic
def request_feedback(
    event: Event,
    *,
    by: Membership,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> int:
    """E-mail the survey link to attendees not yet asked; returns how many were asked."""
    now = now or timezone.now()
    if not event.has_started(now):
        raise Refused("アンケートは開催後に送信できます。", status=409)
    attendees = event.applicants.filter(attended=True).exclude(status=Applicant.Status.CANCELLED)
    if not attendees.exists():
        raise Refused("出席者が記録されていません。出席簿で出席を記録してから送信してください。")
    pending = list(attendees.filter(feedback_sent_at__isnull=True).values_list("pk", flat=True))
    Applicant.objects.filter(pk__in=pending).update(feedback_sent_at=now)
    AuditEntry.record(
        "events.feedback_requested",
        request=request,
        actor=by.user,
        membership=by,
        target=event,
        detail={"sent": len(pending)},
    )
    if pending:
        transaction.on_commit(lambda: emails.send_feedback_requests(pending), robust=True)
    return len(pending)


@transaction.atomic
def submit_feedback(
    applicant: Applicant, *, satisfaction: int, usefulness: int, comment: str = ""
) -> Feedback:
    if not (1 <= satisfaction <= 5 and 1 <= usefulness <= 5):
        raise Refused("評価は1〜5で選んでください。")
    if Feedback.objects.filter(applicant=applicant).exists():
        raise Refused(
            "このアンケートには既に回答いただいています。ありがとうございました。", status=409
        )
    return Feedback.objects.create(
        event_id=applicant.event_id,
        applicant=applicant,
        occupation=applicant.occupation,
        satisfaction=satisfaction,
        usefulness=usefulness,
        comment=(comment or "").strip()[:2000],
    )
