"""The organiser's side: writing an event, its attachments, the day's attendance and the
survey afterwards."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from pydantic import AfterValidator, Field, WithJsonSchema

from renkei.accounts.models import AuditEntry, Membership
from renkei.events import emails
from renkei.events.actions.applying import fill_places
from renkei.events.actions.rules import Phone, distinct
from renkei.events.models import (
    ATTACHMENT_MAX_BYTES,
    ATTACHMENT_TYPES,
    Applicant,
    Event,
    EventAttachment,
    EventKind,
    Feedback,
    Lecturer,
    Occupation,
    Owner,
    ProgrammeItem,
    Scene,
    owner_of,
)
from renkei.lib.actions import ActionError, Conflict, NotFound, full_clean, on_commit
from renkei.lib.inputs import Input, partial
from renkei.lib.text import nfkc
from renkei.regions.models import Municipality


def refuse_if_owned(event: Event, doing: str) -> None:
    """An event that belongs to another record (a course's round) has its applicants entered,
    cancelled and marked there, where that record's own rules apply (a course's eligibility,
    its enrolments, attendance per session): events' organiser doors refuse it with 409 and
    name the owner's page. `doing` says what was refused, e.g. "申込の代理入力"."""
    if owner := owner_of(event):
        raise owned_refusal(owner, doing)


def owned_refusal(owner: Owner, doing: str) -> Conflict:
    return Conflict(
        f"{owner.label}の{doing}は、その管理画面（{owner.manage_url}）で行ってください"
        "（研修・イベントの画面では行えません）。"
    )


def _in_calendar(value: dt.datetime) -> dt.datetime:
    # Near year 1 or 9999 the conversion to UTC for storage overflows (a 500, found by fuzzing).
    if not 2000 <= value.year <= 2100:
        raise ValueError("日時は2000年〜2100年の範囲で入力してください")
    return timezone.make_aware(value) if timezone.is_naive(value) else value


# The pattern puts the range into the schema, for generated clients and schemathesis.
When = Annotated[
    dt.datetime,
    AfterValidator(_in_calendar),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "pattern": r"^(20[0-9]{2}|2100)-",
            "description": "2000年〜2100年。タイムゾーンなしは日本時間",
        }
    ),
]
# A wall-clock time at the venue: an offset, if sent, is ignored.
WallTime = Annotated[dt.time, AfterValidator(lambda v: v.replace(tzinfo=None))]


ONLINE_URL_PATTERN = (
    r"^(https?://([a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?\.){1,4}[a-z]{2,10}(/[-a-zA-Z0-9._~%/=&]*)?)?$"
)


class LecturerInput(Input):
    name: str = Field(..., min_length=1, max_length=60, title="講師の氏名")
    affiliation: str = Field("", max_length=120)
    title: str = Field("", max_length=120)
    topic: str = Field("", max_length=200)


class EventInput(Input):
    """An event as its organiser writes it: the edit screen's form and the API's body.

    Cross-field rules (the end after the start, the deadline before it, a venue or an online
    URL) are the model's (`Event.clean`), checked by the action for both doors.
    """

    title: str = Field(..., min_length=1, max_length=200, title="タイトル")
    subtitle: str = Field("", max_length=200)
    kind: EventKind = Field(EventKind.INTERPROFESSIONAL, title="種類")
    programme_item: ProgrammeItem = Field(ProgrammeItem.KA, title="事業項目")
    scene: Scene | None = None
    organiser_label: str = Field("", max_length=120)
    co_organiser: str = Field("", max_length=200)
    target_occupations: Annotated[list[Occupation], AfterValidator(distinct)] = Field(
        default_factory=list, title="対象職種", json_schema_extra={"uniqueItems": True}
    )
    target_area: str = Field("", max_length=200)
    municipality_code: str | None = Field(
        None, pattern=r"^[0-9]{6}$", description="開催市区町村のコード（6桁）"
    )
    starts_at: When = Field(title="開始日時")
    ends_at: When | None = None
    reception_time: WallTime | None = None
    venue_name: str = Field("", max_length=200)
    venue_address: str = Field("", max_length=200)
    online_url: str = Field(
        "",
        max_length=200,
        description="オンライン参加URL（http/https）",
        # A documentation pattern within what the model's URLField accepts.
        json_schema_extra={"pattern": ONLINE_URL_PATTERN},
    )
    capacity: int | None = Field(None, ge=1, le=100_000, description="空欄（null）は定員なし")
    capacity_note: str = Field("", max_length=40)
    apply_until: When | None = None
    description: str = Field("", max_length=5000)
    how_to_apply: str = Field("", max_length=2000)
    contact: str = Field("", max_length=1000)
    fax: Phone = Field("", max_length=20)
    published: bool = Field(False, title="公開")
    lecturers: list[LecturerInput] = Field(default_factory=list, max_length=20, title="講師")

    @classmethod
    def values_of(cls, event: Event) -> dict[str, Any]:
        """The event as it is now, as this input's fields (e.g. to apply a PATCH to)."""
        values: dict[str, Any] = {name: getattr(event, name) for name in EVENT_FIELDS}
        values["scene"] = event.scene or None
        values["municipality_code"] = event.municipality.code if event.municipality else None
        values["lecturers"] = [
            {"name": x.name, "affiliation": x.affiliation, "title": x.title, "topic": x.topic}
            for x in event.lecturers.all()
        ]
        return values


if TYPE_CHECKING:
    EventPatch = EventInput
else:
    EventPatch = partial(
        EventInput,
        "EventPatch",
        doc="Only the fields sent are changed; null clears an optional one; lecturers, when "
        "sent, replace the list.",
    )

# The input's fields that are the model's fields of the same name.
EVENT_FIELDS = [n for n in EventInput.model_fields if n not in ("municipality_code", "lecturers")]


@transaction.atomic
def save_event(
    event: Event | None,
    *,
    by: Membership,
    data: EventInput,
    request: HttpRequest | None = None,
) -> tuple[Event, list[Applicant]]:
    """Create (event None) or update an event of the member's organisation; lecturers are
    replaced. Raising the capacity promotes the waiting list at once."""
    creating = event is None
    if event is None:
        event = Event(organization=by.organization, created_by=by.user)
    elif event.organization_id != by.organization.pk:
        raise NotFound("研修・イベントが見つかりません")
    else:
        event = Event.objects.select_for_update().get(pk=event.pk)
        if owner := owner_of(event):
            # Its dates, places and publication are the owner's (a course's round is published
            # with its course, after the course's eligibility checks): not edited here.
            raise Conflict(
                f"{owner.label}の申込受付は、その管理画面で変更・公開してください"
                "（研修・イベントの編集では変更できません）。"
            )
    for name in EVENT_FIELDS:
        setattr(event, name, getattr(data, name))
    event.scene = data.scene or ""
    event.target_occupations = [str(o) for o in data.target_occupations]
    if data.municipality_code is not None:
        muni = Municipality.objects.selectable().filter(code=data.municipality_code).first()
        if muni is None:
            raise ActionError(
                f"市区町村コードが見つかりません: {data.municipality_code}",
                field="municipality_code",
            )
        event.municipality = muni
    elif creating:
        event.municipality_id = by.organization.municipality_id
    else:
        event.municipality = None
    full_clean(event, exclude=["organization", "created_by"])
    event.save()
    event.lecturers.all().delete()
    Lecturer.objects.bulk_create(
        Lecturer(event=event, sort_order=i, **lec.model_dump())
        for i, lec in enumerate(data.lecturers)
    )
    promoted = [] if creating else fill_places(event)
    AuditEntry.record(
        "events.created" if creating else "events.updated",
        by=by,
        target=event,
        request=request,
        detail={"promoted": len(promoted)} if promoted else {},
    )
    return event, promoted


def check_upload(upload: UploadedFile[bytes], max_bytes: int = ATTACHMENT_MAX_BYTES) -> str:
    """Return the content type of an acceptable attachment or raise ActionError. `max_bytes`
    is larger for a published guidebook (renkei.courses' materials) than for a flyer."""
    name = (upload.name or "").lower()
    ext = "." + name.rsplit(".", 1)[-1] if "." in name else ""
    if ext not in ATTACHMENT_TYPES:
        raise ActionError("添付できるのはPDF・PNG・JPEGファイルです。", field="file")
    if (upload.size or 0) > max_bytes:
        raise ActionError(
            f"ファイルが大きすぎます（上限{max_bytes // (1024 * 1024)}MB）。",
            field="file",
        )
    content_type, magics = ATTACHMENT_TYPES[ext]
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if not any(head.startswith(m) for m in magics):
        raise ActionError("ファイルの中身が拡張子と一致しません。", field="file")
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
        by=by,
        target=event,
        request=request,
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
    on_commit(lambda: storage.delete(name) if name else None)
    AuditEntry.record(
        "events.attachment_removed", by=by, target=event, request=request, detail={"title": title}
    )


# --- the day itself and afterwards ------------------------------------------------------------


class AttendanceInput(Input):
    attended: bool = Field(description="出席ならtrue、取り消すならfalse")


@transaction.atomic
def set_attendance(
    applicant: Applicant,
    data: AttendanceInput,
    *,
    by: Membership,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> Applicant:
    if applicant.status == Applicant.Status.CANCELLED and data.attended:
        raise Conflict("取消済みの申込者は出席にできません。")
    applicant.attended = data.attended
    applicant.attended_at = (now or timezone.now()) if data.attended else None
    applicant.save(update_fields=["attended", "attended_at"])
    AuditEntry.record(
        "events.attendance_marked",
        by=by,
        target=applicant.event,
        request=request,
        detail={"applicant": str(applicant.code), "attended": data.attended},
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
        raise Conflict("アンケートは開催後に送信できます。")
    attendees = event.applicants.filter(attended=True).exclude(status=Applicant.Status.CANCELLED)
    if not attendees.exists():
        raise ActionError(
            "出席者が記録されていません。出席簿で出席を記録してから送信してください。"
        )
    pending = list(attendees.filter(feedback_sent_at__isnull=True).select_related("application"))
    Applicant.objects.filter(pk__in=[a.pk for a in pending]).update(feedback_sent_at=now)
    AuditEntry.record(
        "events.feedback_requested",
        by=by,
        target=event,
        request=request,
        detail={"sent": len(pending)},
    )
    emails.feedback_requests(event, pending)
    return len(pending)


class EventFeedbackInput(Input):
    satisfaction: int = Field(..., ge=1, le=5, description="満足度 5（とても満足）〜1")
    usefulness: int = Field(..., ge=1, le=5, description="業務への役立ち度 5〜1")
    comment: str = Field("", max_length=2000)


@transaction.atomic
def submit_feedback(applicant: Applicant, data: EventFeedbackInput) -> Feedback:
    if Feedback.objects.filter(applicant=applicant).exists():
        raise Conflict("このアンケートには既に回答いただいています。ありがとうございました。")
    return Feedback.objects.create(
        event_id=applicant.event_id,
        applicant=applicant,
        occupation=applicant.occupation,
        satisfaction=data.satisfaction,
        usefulness=data.usefulness,
        comment=data.comment,
    )
