"""Consultation workflows: transactional, audited, optimistic-locked, versioned once confirmed.

Each workflow takes one typed input, produced alike by the screen's form and the API's body
(docs/architecture.md, "The action layer"); refusals are `renkei.lib.actions` errors.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence
from enum import Enum
from typing import Annotated, Any

from django.core.paginator import Page, Paginator
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from pydantic import BeforeValidator, Field

from renkei.accounts.models import AuditEntry, Membership, User
from renkei.desk.models import (
    SNAPSHOT_FIELDS,
    AskerType,
    Channel,
    Consent,
    Consultation,
    ConsultationStatus,
    ConsultationVersion,
    Desk,
    FollowUp,
    ProgrammeItem,
    Scene,
    Topic,
    diff,
)
from renkei.directory.models import Facility
from renkei.lib import mail
from renkei.lib.actions import (
    ActionError,
    Conflict,
    Forbidden,
    NotFound,
    bump_version,
    full_clean,
    notify,
)
from renkei.lib.dates import fiscal_year
from renkei.lib.inputs import (
    FIRST_YEAR,
    LAST_YEAR,
    CalendarDate,
    CalendarDateTime,
    Input,
    PageNumber,
    required,
)
from renkei.regions.models import Municipality

STALE_MESSAGE = (
    "他の方が先にこの相談記録を更新しました。最新の内容を確認してから、もう一度保存してください。"
)
TOPICS_REQUIRED = "相談内容の分類を1つ以上選んでください"
TOPIC_NOT_OF_DESK = "この窓口で使えない相談内容の分類が含まれています"
FACILITY_UNKNOWN = "紹介した資源に見つからない施設があります"
ASSIGNEE_NOT_STAFF = "担当者はこの窓口の職員から選んでください"
DUE_REQUIRED = "期日を入力してください"
NOTE_REQUIRED = "フォローアップの内容を入力してください"
REASON_REQUIRED = "確定済みの記録を修正するときは、修正理由を入力してください"
NOT_A_MEMBER = "相談窓口が見つかりません"

# Bounded like the column: a larger id used to reach the database lookup and fail there (a 500).
TopicId = Annotated[int, Field(ge=1, le=2**31 - 1)]
MunicipalityCode = Annotated[str, Field(pattern=r"^\d{6}$", description="市区町村コード")]


def _month(value: Any) -> Any:
    """「2025-10」; the two ways to get it wrong each get their own message."""
    if value is None:
        return None
    parts = str(value).split("-")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise ValueError("月は「2025-10」の形式で指定してください")
    year, month = int(parts[0]), int(parts[1])
    if not (FIRST_YEAR <= year <= LAST_YEAR and 1 <= month <= 12):
        raise ValueError(f"月は{FIRST_YEAR}年〜{LAST_YEAR}年の1〜12月で指定してください")
    return f"{year:04d}-{month:02d}"


Month = Annotated[
    str,
    Field(pattern=r"^(20\d\d|2100)-(0[1-9]|1[0-2])$", description="YYYY-MM"),
    BeforeValidator(_month),
]


def _fiscal_year(value: Any) -> Any:
    if value is None:
        return None
    text = str(value)
    if not (text.isdigit() and FIRST_YEAR <= int(text) <= LAST_YEAR):
        raise ValueError(f"年度は{FIRST_YEAR}〜{LAST_YEAR}の西暦で指定してください（例: fy=2025）")
    return int(text)


FiscalYearParam = Annotated[
    int | None,
    Field(ge=FIRST_YEAR, le=LAST_YEAR, description="年度（西暦の開始年）。省略時は今年度"),
    BeforeValidator(_fiscal_year),
]


def month_of(text: str) -> tuple[int, int]:
    year, month = text.split("-")
    return int(year), int(month)


# Inputs ---------------------------------------------------------------------------------


class FollowUpInput(Input):
    """A follow-up: the screen's form on the record, the API's body, the first one on entry."""

    due_date: Annotated[CalendarDate, required(DUE_REQUIRED)] = Field(
        description="期日（今日から3年以内）"
    )
    note: Annotated[str, Field(min_length=1, max_length=300), required(NOTE_REQUIRED)]
    assignee: str | None = Field(
        None, max_length=150, description="担当者のユーザー名（窓口の職員）"
    )


class ConsultationInput(Input):
    """The content of a consultation record (what a version holds)."""

    received_at: CalendarDateTime = Field(description="受付日時（タイムゾーン省略時は日本時間）")
    channel: Channel
    asker_type: AskerType
    asker_detail: str = Field("", max_length=100)
    topics: Annotated[
        list[TopicId],
        Field(min_length=1, max_length=30, description="分類のID（この窓口の分類）"),
        required(TOPICS_REQUIRED),
    ]
    programme_item: ProgrammeItem = ProgrammeItem.O
    scene: Scene
    subject_name: str = Field("", max_length=60)
    subject_kana: str = Field("", max_length=60)
    subject_age: int | None = Field(None, ge=0, le=130)
    subject_municipality: MunicipalityCode | None = None
    consent: Consent = Consent.NOT_ASKED
    consent_date: CalendarDate | None = None
    summary: str = Field(..., min_length=1, max_length=4000)
    actions_taken: str = Field("", max_length=4000)
    referred_facilities: list[uuid.UUID] = Field(
        default_factory=list, max_length=50, description="紹介した施設のコード（資源マップ）"
    )
    status: ConsultationStatus = ConsultationStatus.OPEN


class NewConsultationInput(ConsultationInput):
    followup: FollowUpInput | None = None
    confirm: bool = Field(False, description="登録と同時に確定する（確定権限が必要）")


class ConsultationEditInput(ConsultationInput):
    version: int = Field(
        ..., ge=1, le=2**31 - 1, description="楽観的ロック: 読み込んだ時点の version。異なれば409"
    )
    reason: str = Field("", max_length=300, description="確定済みの記録では必須")

    @classmethod
    def of(cls, c: Consultation, **changes: Any) -> ConsultationEditInput:
        """The record as it stands, with `changes`: an edit that touches only those fields."""
        data: dict[str, Any] = {
            name: getattr(c, name) for name in SNAPSHOT_FIELDS if name != "subject_municipality"
        }
        data["subject_municipality"] = (
            c.subject_municipality.code if c.subject_municipality else None
        )
        data["topics"] = [t.pk for t in c.topics.all()]
        data["referred_facilities"] = [f.code for f in c.referred_facilities.all()]
        data["version"] = c.version
        return cls.model_validate({**data, **changes})


class ConfirmInput(Input):
    version: int | None = Field(
        None, ge=1, le=2**31 - 1, description="楽観的ロック: 読み込んだ時点の version"
    )


class TopicInput(Input):
    name: Annotated[str, Field(min_length=1, max_length=40), required("分類名を入力してください")]


class ConsultationFilter(Input):
    """The list's filters and page, from the screen's query string or the API's."""

    month: Month | None = None
    channel: Channel | None = None
    asker: AskerType | None = None
    topic: TopicId | None = None
    scene: Scene | None = None
    status: ConsultationStatus | None = None
    q: str = Field("", max_length=60, description="氏名・ふりがな・内容・相談者の一部")
    page: PageNumber = 1


class RetireTopicInput(Input):
    topic: TopicId


class TallyQuery(Input):
    fy: FiscalYearParam = None


def tally_year(query: TallyQuery) -> int:
    """The fiscal year a tally shows: the one asked for, or this one."""
    return query.fy if query.fy is not None else fiscal_year(timezone.localdate())


class MonthTallyQuery(TallyQuery):
    """The screen's tally also shows one month (the API gives the whole year's months)."""

    month: Month | None = None


# Helpers ------------------------------------------------------------------------------


def _require_member(desk: Desk, by: Membership) -> None:
    # The doors fetch through the scoped getters already; this keeps a direct call honest.
    if not desk.is_member(by):
        raise NotFound(NOT_A_MEMBER)


NAME_NOT_ALLOWED = (
    "相談対象者の氏名・ふりがなを記録できるのは、氏名入りの相談記録を閲覧できる職種の方です"
    "（組織の管理者が設定します）"
)


def _require_name_reader(by: Membership, data: ConsultationInput) -> None:
    # A name written by someone who may not read it back would be a record they lose sight of.
    if (data.subject_name or data.subject_kana) and not by.reads_named_records:
        raise Forbidden(NAME_NOT_ALLOWED, field="subject_name")


def _topics(desk: Desk, ids: Sequence[int]) -> list[Topic]:
    unique = list(dict.fromkeys(ids))
    if not unique:
        raise ActionError(TOPICS_REQUIRED, field="topics")
    found = list(desk.topics().filter(pk__in=unique))
    if len(found) != len(unique):
        raise ActionError(TOPIC_NOT_OF_DESK, field="topics")
    return found


def _facilities(codes: Sequence[uuid.UUID]) -> list[Facility]:
    unique = list(dict.fromkeys(codes))
    found = list(Facility.objects.public().filter(code__in=unique))
    if len(found) != len(unique):
        raise ActionError(FACILITY_UNKNOWN, field="referred_facilities")
    return found


def _municipality(code: str | None) -> Municipality | None:
    if not code:
        return None
    found = Municipality.objects.filter(code=code).first()
    if found is None:
        raise ActionError(f"市区町村コード{code}が見つかりません", field="subject_municipality")
    return found


def _content(data: ConsultationInput) -> dict[str, Any]:
    fields = {
        name: value.value if isinstance(value, Enum) else value
        for name, value in data.model_dump(
            include=set(SNAPSHOT_FIELDS) - {"subject_municipality"}
        ).items()
    }
    fields["subject_municipality"] = _municipality(data.subject_municipality)
    return fields


def _checked_followup(desk: Desk, data: FollowUpInput) -> User | None:
    """The follow-up's rules against today and the desk's staff; returns the assignee."""
    latest = timezone.localdate() + dt.timedelta(days=3 * 366)
    if data.due_date > latest:
        raise ActionError("期日は2000年以降、3年以内の日付を入力してください", field="due_date")
    if not data.assignee:
        return None
    user = (
        User.objects.filter(
            username=data.assignee,
            memberships__organization_id=desk.organization_id,
            memberships__is_active=True,
        )
        .distinct()
        .first()
    )
    if user is None:
        raise ActionError(ASSIGNEE_NOT_STAFF, field="assignee")
    return user


def _locked(c: Consultation) -> Consultation:
    """The record, locked for this transaction (its row only), with its desk."""
    return Consultation.objects.select_for_update(of=("self",)).select_related("desk").get(pk=c.pk)


def _save_revision(c: Consultation) -> None:
    # R12: the model refuses a plain save of a confirmed record; this is the one way past it,
    # always together with a new ConsultationVersion in the same transaction.
    c._revising = True  # type: ignore[attr-defined]
    try:
        c.save()
    finally:
        c._revising = False  # type: ignore[attr-defined]


def _write_version(
    c: Consultation, *, by: User, changes: dict[str, Any], reason: str
) -> ConsultationVersion:
    last = c.versions.order_by("-number").first()
    v = ConsultationVersion(
        consultation=c,
        number=(last.number + 1) if last else 1,
        data=c.snapshot(),
        changes=changes,
        reason=reason,
        created_by=by,
        created_at=timezone.now(),
    )
    v.digest = v.compute_digest(last.digest if last else "")
    v.save()
    return v


# Consultations ------------------------------------------------------------------------------


@transaction.atomic
def create_consultation(
    desk: Desk,
    *,
    by: Membership,
    data: NewConsultationInput,
    request: HttpRequest | None = None,
) -> Consultation:
    """Record a consultation, optionally with a first follow-up and confirmed at once."""
    c, *_ = _create(desk, by=by, data=data, request=request)
    if data.confirm:
        c = confirm_consultation(c, by=by, data=ConfirmInput(), request=request)
    return c


@transaction.atomic
def create_consultation_as_read(
    desk: Desk,
    *,
    by: Membership,
    data: NewConsultationInput,
    request: HttpRequest | None = None,
) -> Consultation:
    """`create_consultation` for the API's answer: the unconfirmed record as written, as a
    fresh read gives it (ADR 0076); one confirmed at once as `confirm_consultation` leaves it."""
    c, topics, facilities, followups = _create(desk, by=by, data=data, request=request)
    if data.confirm:
        return confirm_consultation(c, by=by, data=ConfirmInput(), request=request)
    return _as_read(c, topics=topics, facilities=facilities, followups=followups)


def _create(
    desk: Desk,
    *,
    by: Membership,
    data: NewConsultationInput,
    request: HttpRequest | None,
) -> tuple[Consultation, list[Topic], list[Facility], list[FollowUp]]:
    _require_member(desk, by)
    if data.confirm:
        _require_confirmer(desk, by)
    _require_name_reader(by, data)
    topics = _topics(desk, data.topics)
    facilities = _facilities(data.referred_facilities)
    c = Consultation(desk=desk, entered_by=by.user, **_content(data))
    # The desk and the municipality are the rows just read and the code a fresh uuid4: their
    # checks would ask the database what this action knows (ADR 0076); it still enforces them.
    full_clean(
        c,
        exclude=["topics", "referred_facilities", "entered_by", "desk", "subject_municipality"],
        validate_unique=False,
    )
    assignee = _checked_followup(desk, data.followup) if data.followup else None
    c.save()
    # A new record has no relations yet: add, without set()'s read of the (empty) current ones.
    c.topics.add(*topics)
    if facilities:
        c.referred_facilities.add(*facilities)
    AuditEntry.record(
        "desk.consultation_created",
        by=by,
        target=c,
        request=request,
        detail={"desk": str(desk.code), "named": c.is_named},
    )
    followups: list[FollowUp] = []
    if data.followup is not None:
        followups.append(
            _create_followup(c, by=by, data=data.followup, assignee=assignee, request=request)
        )
    return c, topics, facilities, followups


def _as_read(
    c: Consultation,
    *,
    topics: list[Topic],
    facilities: list[Facility],
    followups: list[FollowUp],
) -> Consultation:
    """The record just written as a fresh read gives it (ADR 0076; test_api_write_answer):
    the time in UTC, the relations in the prefetch cache in their models' order."""
    c.received_at = c.received_at.astimezone(dt.UTC)
    c._prefetched_objects_cache = {  # type: ignore[attr-defined]
        "topics": sorted(topics, key=lambda t: (t.sort_order, t.pk)),
        "referred_facilities": sorted(facilities, key=lambda f: (f.kana, f.name)),
        "followups": sorted(followups, key=lambda f: (f.due_date, f.pk)),
    }
    for f in followups:
        f.consultation = c
    return c


@transaction.atomic
def update_consultation(
    c: Consultation,
    *,
    by: Membership,
    data: ConsultationEditInput,
    request: HttpRequest | None = None,
) -> Consultation:
    """Apply an edit. A draft is overwritten; a confirmed record gets a new version (R12).

    `data.version` is the version the editor loaded: a different current version means
    someone saved in between, and the edit is refused (R22) rather than lost.
    """
    c = _locked(c)
    _require_member(c.desk, by)
    _require_name_reader(by, data)
    bump_version(c, data.version, message=STALE_MESSAGE)
    reason = data.reason
    if c.is_confirmed and not reason:
        raise ActionError(REASON_REQUIRED, field="reason")
    before = c.snapshot()
    for name, value in _content(data).items():
        setattr(c, name, value)
    topics = _topics(c.desk, data.topics)
    facilities = _facilities(data.referred_facilities)
    full_clean(c, exclude=["topics", "referred_facilities", "entered_by"])
    _save_revision(c)
    c.topics.set(topics)
    c.referred_facilities.set(facilities)
    changes = diff(before, c.snapshot())
    if c.is_confirmed:
        if not changes:
            raise ActionError("変更された項目がありません")
        _write_version(c, by=by.user, changes=changes, reason=reason)
    AuditEntry.record(
        "desk.consultation_revised" if c.is_confirmed else "desk.consultation_updated",
        by=by,
        target=c,
        request=request,
        detail={"fields": sorted(changes), "reason": reason, "version": c.version},
    )
    return c


def _require_confirmer(desk: Desk, by: Membership) -> None:
    if not desk.can_confirm(by):
        raise Forbidden(
            "記録を確定できるのは、相談員・看護師・医師・MSW・行政担当または組織管理者です"
        )


@transaction.atomic
def confirm_consultation(
    c: Consultation,
    *,
    by: Membership,
    data: ConfirmInput,
    request: HttpRequest | None = None,
) -> Consultation:
    """確定: record the confirmer and time, and freeze the content as version 1."""
    c = _locked(c)
    _require_member(c.desk, by)
    _require_confirmer(c.desk, by)
    if c.is_confirmed:
        raise Conflict("この相談記録は既に確定されています")
    bump_version(c, data.version, message=STALE_MESSAGE)
    c.confirmed_by = by.user
    c.confirmed_at = timezone.now()
    c.save(update_fields=["confirmed_by", "confirmed_at", "updated_at"])
    _write_version(c, by=by.user, changes={}, reason="確定")
    AuditEntry.record(
        "desk.consultation_confirmed",
        by=by,
        target=c,
        request=request,
        detail={"version": c.version},
    )
    return c


# Reads (every read of a consultation is audited, R08) ---------------------------------------


def audit_read(
    request: HttpRequest | None,
    *,
    by: Membership,
    consultations: Sequence[Consultation],
    action: str,
    desk: Desk | None = None,
    extra: dict[str, Any] | None = None,
) -> AuditEntry | None:
    """R08: one entry per read, listing every consultation id shown.

    A single record is the entry's target; a list or export names all ids in the detail
    so that a breach-scope query finds every record a user saw.
    """
    if not consultations:
        return None
    target: Any = consultations[0] if len(consultations) == 1 and desk is None else desk
    user = getattr(request, "user", None)
    return AuditEntry.record(
        action,
        request=request,
        actor=user if user is not None and user.pk == by.user_id else by.user,
        membership=by,
        target=target,
        detail={
            "ids": [str(c.code) for c in consultations],
            "named": [str(c.code) for c in consultations if c.is_named],
            **(extra or {}),
        },
    )


def view_consultation(
    c: Consultation, *, by: Membership, request: HttpRequest | None = None
) -> Consultation:
    """Read one record: the screen's detail and edit pages and the API's GET."""
    audit_read(request, by=by, consultations=[c], action="desk.consultation_viewed")
    return c


def view_version(
    c: Consultation, number: int, *, by: Membership, request: HttpRequest | None = None
) -> ConsultationVersion:
    """Read one version of a record (its content as it was)."""
    v = (
        ConsultationVersion.objects.select_related("created_by")
        .filter(consultation=c, number=number)
        .first()
        if 0 < number < 2**31
        else None
    )
    if v is None:
        raise NotFound("指定された版はありません")
    audit_read(
        request,
        by=by,
        consultations=[c],
        action="desk.consultation_version_viewed",
        extra={"version": number},
    )
    return v


def view_versions(
    c: Consultation, *, by: Membership, request: HttpRequest | None = None
) -> list[ConsultationVersion]:
    audit_read(request, by=by, consultations=[c], action="desk.consultation_version_viewed")
    return list(c.versions.select_related("created_by"))


PER_PAGE = 30


def filtered(desk: Desk, filters: ConsultationFilter, *, by: Membership) -> Any:
    """The desk's consultations that match the filters (ordered newest first), of those the
    member may read (named ones only to the named-read roles)."""
    if filters.topic is not None and not desk.topics().filter(pk=filters.topic).exists():
        raise ActionError("相談内容の分類が正しくありません", field="topic")
    return (
        Consultation.objects.visible_to(by)
        .filter(desk=desk)
        .matching(
            month=month_of(filters.month) if filters.month else None,
            channel=filters.channel,
            asker=filters.asker,
            topic=filters.topic,
            scene=filters.scene,
            status=filters.status,
            q=filters.q,
        )
    )


def list_consultations(
    desk: Desk,
    *,
    by: Membership,
    filters: ConsultationFilter,
    request: HttpRequest | None = None,
) -> Page[Consultation]:
    """One page of the list, audited with the ids of exactly the rows on it."""
    _require_member(desk, by)
    qs = (
        filtered(desk, filters, by=by)
        .select_related("subject_municipality")
        .prefetch_related("topics")
    )
    paginator = Paginator(qs, PER_PAGE)
    if filters.page > max(paginator.num_pages, 1):
        raise ActionError(
            f"ページ{filters.page}はありません（全{paginator.num_pages}ページ）", field="page"
        )
    page = paginator.page(filters.page)
    page.object_list = list(page.object_list)
    audit_read(
        request,
        by=by,
        consultations=page.object_list,
        action="desk.consultations_listed",
        desk=desk,
        extra={"query": request.GET.urlencode() if request else "", "page": page.number},
    )
    return page


# Follow-ups --------------------------------------------------------------------------------


def _create_followup(
    c: Consultation,
    *,
    by: Membership,
    data: FollowUpInput,
    assignee: User | None,
    request: HttpRequest | None,
) -> FollowUp:
    f = FollowUp.objects.create(
        consultation=c,
        due_date=data.due_date,
        note=data.note,
        assignee=assignee,
        created_by=by.user,
    )
    AuditEntry.record(
        "desk.followup_added",
        by=by,
        target=c,
        request=request,
        detail={"followup": f.pk, "due": data.due_date.isoformat()},
    )
    return f


@transaction.atomic
def add_followup(
    c: Consultation,
    *,
    by: Membership,
    data: FollowUpInput,
    request: HttpRequest | None = None,
) -> FollowUp:
    _require_member(c.desk, by)
    assignee = _checked_followup(c.desk, data)
    return _create_followup(c, by=by, data=data, assignee=assignee, request=request)


@transaction.atomic
def complete_followup(
    f: FollowUp, *, by: Membership, request: HttpRequest | None = None
) -> FollowUp:
    f = (
        FollowUp.objects.select_for_update(of=("self",))
        .select_related("consultation__desk", "assignee")
        .get(pk=f.pk)
    )
    _require_member(f.consultation.desk, by)
    if f.done_at is not None:
        raise Conflict("このフォローアップは既に完了しています")
    f.done_at = timezone.now()
    f.done_by = by.user
    f.save(update_fields=["done_at", "done_by"])
    AuditEntry.record(
        "desk.followup_done",
        by=by,
        target=f.consultation,
        request=request,
        detail={"followup": f.pk},
    )
    return f


def remind_due_followups(*, today: dt.date | None = None) -> tuple[int, int]:
    """Mail each assignee the follow-ups due today or overdue, once per follow-up.

    Returns (follow-ups, people). No name of a person consulted about goes into the mail:
    a link to sign in and read the record.
    """
    today = today or timezone.localdate()
    by_user: dict[int, list[FollowUp]] = defaultdict(list)
    with transaction.atomic():
        due = list(
            FollowUp.objects.due_by(today)
            .filter(reminded_at__isnull=True, assignee__isnull=False)
            .exclude(assignee__email="")
            .select_related("assignee", "consultation")
            .order_by("due_date", "pk")
        )
        now = timezone.now()
        for f in due:
            # Claim each row, so that two runs at once never remind twice.
            if FollowUp.objects.filter(pk=f.pk, reminded_at__isnull=True).update(reminded_at=now):
                by_user[f.assignee_id].append(f)  # type: ignore[index]
        for items in by_user.values():
            user = items[0].assignee
            assert user is not None
            notify(
                to=[user.email],
                subject=f"相談窓口のフォローアップ（期日を迎えたもの{len(items)}件）",
                template="desk_followup_reminder.txt",
                context={
                    "user": user,
                    "items": [
                        {
                            "f": f,
                            "overdue": f.is_overdue(today),
                            "url": mail.site_url(
                                reverse("desk:detail", args=[f.consultation.code])
                            ),
                        }
                        for f in items
                    ],
                },
            )
    return sum(len(v) for v in by_user.values()), len(by_user)


# Topics -------------------------------------------------------------------------------------


@transaction.atomic
def add_topic(
    desk: Desk, *, by: Membership, data: TopicInput, request: HttpRequest | None = None
) -> Topic:
    """A desk's own category. One it retired earlier under the same name comes back."""
    _require_member(desk, by)
    name = data.name
    if desk.topics().filter(name=name).exists():
        raise ActionError(f"「{name}」は既にあります", field="name")
    topic, created = Topic.objects.get_or_create(desk=desk, name=name, defaults={"sort_order": 500})
    if not created:
        topic.is_active = True
        topic.save(update_fields=["is_active"])
    AuditEntry.record(
        "desk.topic_added", by=by, target=desk, request=request, detail={"topic": name}
    )
    return topic


@transaction.atomic
def retire_topic(topic: Topic, *, by: Membership, request: HttpRequest | None = None) -> Topic:
    """使用停止: the category leaves the entry form; past records and tallies keep it."""
    topic = Topic.objects.select_for_update(of=("self",)).select_related("desk").get(pk=topic.pk)
    if topic.desk is None:
        raise Forbidden("共通の分類は使用停止にできません")
    _require_member(topic.desk, by)
    if not topic.is_active:
        raise Conflict(f"「{topic.name}」は既に使用停止です")
    topic.is_active = False
    topic.save(update_fields=["is_active"])
    AuditEntry.record(
        "desk.topic_retired",
        by=by,
        target=topic.desk,
        request=request,
        detail={"topic": topic.name},
    )
    return topic
