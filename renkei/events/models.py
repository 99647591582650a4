"""Trainings and public events (研修・普及啓発, programme items カ and キ).

An event belongs to the organisation that runs it; only that organisation's members see
who applied. An application (申込書) comes from one 事業所 and names several applicants;
capacity counts applicants, not applications.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Self, get_args

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from renkei.accounts.models import Membership, Organization, User
from renkei.lib.dates import fiscal_year, wareki_year
from renkei.lib.programme import ProgrammeItem as ProgrammeItem  # re-exported
from renkei.lib.programme import Scene as Scene  # re-exported
from renkei.lib.text import nfkc, phone_problem
from renkei.lib.tokens import sign_code, signed_code
from renkei.regions.models import optional_municipality

WEEKDAYS_JA = "月火水木金土日"


class EventKind(models.TextChoices):
    INTERPROFESSIONAL = "interprofessional", "多職種研修"
    HOSPITAL_SEMINAR = "hospital_seminar", "病院出前セミナー"
    CARE_MEDICAL_SEMINAR = "care_medical_seminar", "介護職向け医療セミナー"
    PUBLIC_LECTURE = "public_lecture", "市民向け出前講座"
    SYMPOSIUM = "symposium", "シンポジウム"
    OTHER = "other", "その他"


class Occupation(models.TextChoices):
    """職種 of seed 002's application form, plus those a public lecture needs."""

    DOCTOR = "doctor", "医師"
    DENTIST = "dentist", "歯科医師"
    PHARMACIST = "pharmacist", "薬剤師"
    NURSE = "nurse", "看護職"
    CARE_WORKER = "care_worker", "介護職"
    REHAB = "rehab", "リハ職"
    CARE_MANAGER = "care_manager", "ケアマネジャー"
    COUNSELOR = "counselor", "相談員"
    GOVERNMENT = "government", "行政"
    CITIZEN = "citizen", "市民"
    OTHER = "other", "その他"

    @classmethod
    def question_choices(cls) -> list[tuple[str, str]]:
        """「聞いてみたい職種」 exactly as the form lists them."""
        keep = set(get_args(QuestionTo))
        return [(v, label) for v, label in cls.choices if v in keep]


# The occupations the paper form offers under 「聞いてみたい職種」: a type, so that the API's
# schema lists exactly these values.
QuestionTo = Literal["doctor", "dentist", "pharmacist", "nurse", "care_worker", "rehab", "other"]


class Need(models.TextChoices):
    """What a resident may need to take part in a public lecture; the organiser prepares it."""

    WHEELCHAIR = "wheelchair", "車椅子で来場"
    SIGN_LANGUAGE = "sign_language", "手話通訳"
    CAPTIONS = "captions", "要約筆記（文字による通訳）"
    FRONT_SEAT = "front_seat", "前方の席（見え方・聞こえ方）"
    CHILDCARE = "childcare", "託児"


def wareki_day(day: dt.date) -> str:
    """令和7年10月24日(金), the way flyers print a date."""
    return (
        f"{wareki_year(day.year, day.month, day.day)}{day.month}月{day.day}日"
        f"({WEEKDAYS_JA[day.weekday()]})"
    )


def short_day(day: dt.date) -> str:
    """10月10日(金): a deadline in the same fiscal year needs no era."""
    return f"{day.month}月{day.day}日({WEEKDAYS_JA[day.weekday()]})"


_KATA_TO_HIRA = {cp: cp - 0x60 for cp in range(ord("ァ"), ord("ヶ") + 1)}
_HIRAGANA = re.compile(r"^[ぁ-ゖー・\s]+$")


def normalize_kana(value: str) -> str:
    """Half- and full-width katakana become hiragana; full-width spaces become ASCII."""
    return re.sub(r"\s+", " ", nfkc(value).translate(_KATA_TO_HIRA)).strip()


def validate_hiragana(value: str) -> None:
    if not _HIRAGANA.match(normalize_kana(value)):
        raise ValidationError("ふりがなは、ひらがなで入力してください（例: えびな はなこ）")


def validate_phone(value: str) -> None:
    if problem := phone_problem(value):
        raise ValidationError(problem)


def normalize_email(value: str) -> str:
    """Full-width input and 「同上」 (same as the contact, as the paper form allows) are accepted."""
    text = nfkc(value)
    return "" if text in ("同上", "同上。", "〃") else text


def applicant_readers() -> Q:
    """Memberships that read applicants' names and contacts: those of an organisation with an
    event (`organised_by`), in a role the organisation lets read named records (the check of
    `renkei.accounts.named.require_named_reader` on every applicant list, export and record),
    as a filter on Membership for the two-factor policy (ADR 0043)."""
    return Q(organization__events__isnull=False) & Membership.named_readers()


class EventQuerySet(models.QuerySet["Event"]):
    def published(self) -> Self:
        return self.filter(published=True)

    def upcoming(self, now: dt.datetime | None = None) -> Self:
        return self.filter(starts_at__gte=(now or timezone.now()) - dt.timedelta(hours=6))

    def organised_by(self, organization: Organization) -> Self:
        """The organiser's events. Their applicants are read by the members in the
        organisation's named-read roles only (`require_named_reader`, ADR 0043)."""
        return self.filter(organization=organization)

    def visible_to(self, organization: Organization | None) -> Self:
        """Published events for everyone; drafts only for their organiser (a preview)."""
        if organization is None:
            return self.published()
        return self.filter(Q(published=True) | Q(organization=organization))

    def in_fiscal_year(self, fy: int) -> Self:
        tz = timezone.get_current_timezone()
        start = dt.datetime(fy, 4, 1, tzinfo=tz)
        end = dt.datetime(fy + 1, 4, 1, tzinfo=tz)
        return self.filter(starts_at__gte=start, starts_at__lt=end)

    def with_counts(self) -> Self:
        """Places taken, waiting and attended per event, in the list's one query (no N+1)."""
        live = ~Q(applicants__status="cancelled")
        return self.annotate(
            n_confirmed=Count("applicants", filter=Q(applicants__status="confirmed")),
            n_waitlisted=Count("applicants", filter=Q(applicants__status="waitlisted")),
            n_attended=Count("applicants", filter=Q(applicants__attended=True) & live),
        )

    def for_display(self) -> Self:
        """What an event's page and its API answer show, fetched with it."""
        return self.select_related("organization", "municipality").prefetch_related(
            "lecturers", "attachments"
        )


class Event(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="events",
        verbose_name="主催（管理する組織）",
    )
    organiser_label = models.CharField(
        "主催者名（表示）",
        max_length=120,
        blank=True,
        help_text="空欄なら組織名。例: 愛川町在宅医療・介護連携推進協議会",
    )
    co_organiser = models.CharField("共催", max_length=200, blank=True)
    title = models.CharField("タイトル", max_length=200)
    subtitle = models.CharField(
        "サブタイトル・テーマ",
        max_length=200,
        blank=True,
        help_text="例: 令和7年度 第1回多職種向け研修会",
    )
    kind = models.CharField(
        "種類", max_length=30, choices=EventKind.choices, default=EventKind.INTERPROFESSIONAL
    )
    programme_item = models.CharField(
        "事業項目", max_length=2, choices=ProgrammeItem.choices, default=ProgrammeItem.KA
    )
    scene = models.CharField("4つの場面", max_length=20, choices=Scene.choices, blank=True)
    target_occupations = models.JSONField(
        "対象職種", default=list, blank=True, help_text="Occupation の値のリスト"
    )
    target_area = models.CharField(
        "対象",
        max_length=200,
        blank=True,
        help_text="例: 海老名市内の医療・介護従事者および関係機関職員",
    )
    municipality = optional_municipality("開催市区町村")
    starts_at = models.DateTimeField("開始日時", db_index=True)
    ends_at = models.DateTimeField("終了日時", null=True, blank=True)
    reception_time = models.TimeField("受付開始", null=True, blank=True)
    venue_name = models.CharField("会場", max_length=200, blank=True)
    venue_address = models.CharField("会場の住所", max_length=200, blank=True)
    online_url = models.URLField("オンライン参加URL", blank=True)
    capacity = models.PositiveIntegerField(
        "定員（人）", null=True, blank=True, help_text="空欄は定員なし"
    )
    capacity_note = models.CharField("定員の表記", max_length=40, blank=True, help_text="例: 程度")
    apply_until = models.DateTimeField("申込期限", null=True, blank=True)
    description = models.TextField("内容", blank=True)
    how_to_apply = models.TextField(
        "申込方法（補足）", blank=True, help_text="ウェブ申込とFAX以外の方法があれば記載"
    )
    contact = models.TextField("お問い合わせ先", blank=True)
    fax = models.CharField("FAX番号（申込用）", max_length=20, blank=True)
    published = models.BooleanField("公開", default=False)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        verbose_name = "研修・イベント"
        verbose_name_plural = "研修・イベント"
        ordering = ["starts_at", "pk"]
        indexes = [
            # The public list: published, upcoming, by date.
            models.Index(fields=["published", "starts_at"], name="event_public_idx"),
            # The organiser's list and fiscal-year tallies.
            models.Index(fields=["organization", "starts_at"], name="event_org_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("events:detail", args=[self.code])

    def clean(self) -> None:
        errors: dict[str, str] = {}
        # starts_at is None here when the field itself failed validation.
        starts: dt.datetime | None = self.starts_at
        if self.ends_at and starts is not None and self.ends_at <= starts:
            errors["ends_at"] = "終了日時は開始日時より後にしてください"
        if self.apply_until and starts is not None and self.apply_until > starts:
            errors["apply_until"] = "申込期限は開始日時より前にしてください"
        bad = [o for o in self.target_occupations or [] if o not in Occupation.values]
        if bad:
            errors["target_occupations"] = f"対象職種の値が正しくありません: {', '.join(bad)}"
        if not self.venue_name and not self.online_url:
            errors["venue_name"] = "会場かオンライン参加URLのどちらかを入力してください"
        if errors:
            raise ValidationError(errors)

    @property
    def organiser_name(self) -> str:
        return self.organiser_label or self.organization.name

    @property
    def fiscal_year(self) -> int:
        return fiscal_year(timezone.localdate(self.starts_at))

    @property
    def date_label(self) -> str:
        return wareki_day(timezone.localdate(self.starts_at))

    @property
    def time_label(self) -> str:
        start = timezone.localtime(self.starts_at)
        end = timezone.localtime(self.ends_at) if self.ends_at else None
        return f"{start:%H:%M}〜{end:%H:%M}" if end else f"{start:%H:%M}〜"

    @property
    def deadline_label(self) -> str:
        if not self.apply_until:
            return ""
        local = timezone.localtime(self.apply_until)
        day = wareki_day(local.date())
        # A deadline at the end of the day is printed as the day alone, as flyers do.
        return day if local.time() >= dt.time(23, 59) else f"{day} {local:%H:%M}"

    def target_occupation_labels(self) -> list[str]:
        labels = dict(Occupation.choices)
        return [labels[o] for o in self.target_occupations or [] if o in labels]

    def is_open(self, now: dt.datetime | None = None) -> bool:
        now = now or timezone.now()
        if not self.published or now >= self.starts_at:
            return False
        return self.apply_until is None or now <= self.apply_until

    def closed_reason(self, now: dt.datetime | None = None) -> str:
        now = now or timezone.now()
        if not self.published:
            return "このイベントは公開されていません。"
        if now >= self.starts_at:
            return "このイベントは既に開催されました。申込の受付は終了しています。"
        if self.apply_until and now > self.apply_until:
            return f"申込期限（{self.deadline_label}）を過ぎたため、受付を終了しました。"
        return ""

    def confirmed_count(self) -> int:
        # Lists annotate it (EventQuerySet.with_counts) rather than ask once per event.
        annotated: int | None = getattr(self, "n_confirmed", None)
        if annotated is not None:
            return annotated
        return self.applicants.filter(status=Applicant.Status.CONFIRMED).count()

    def places_left(self) -> int | None:
        if self.capacity is None:
            return None
        return max(0, self.capacity - self.confirmed_count())

    def has_started(self, now: dt.datetime | None = None) -> bool:
        return (now or timezone.now()) >= self.starts_at


@dataclass(frozen=True)
class Owner:
    """The record an event belongs to (a course's round, renkei.courses): that record's pages
    are where the event is read, edited and published; events imports no such app."""

    label: str  # 研修コース「訪問看護導入研修」第2回
    public_url: str  # where a mail about the event sends the reader
    manage_url: str  # where its organiser edits and publishes it


# An app that takes applications through an event it keeps off the public list registers a
# resolver: given event ids, the owners of those it owns.
_owner_resolvers: list[Callable[[Sequence[int]], dict[int, Owner]]] = []


def register_owner(resolver: Callable[[Sequence[int]], dict[int, Owner]]) -> None:
    _owner_resolvers.append(resolver)


def owners(event_ids: Sequence[int]) -> dict[int, Owner]:
    """The owner of each of these events that belongs to another record (one query per app)."""
    found: dict[int, Owner] = {}
    for resolver in _owner_resolvers:
        found.update(resolver(event_ids))
    return found


def owner_of(event: Event) -> Owner | None:
    return owners([event.pk]).get(event.pk) if event.pk else None


def public_page(event: Event) -> str:
    """Where a mail about this event sends the reader: its own page, or the page of the
    record it belongs to."""
    owner = owner_of(event)
    return owner.public_url if owner else event.get_absolute_url()


class Lecturer(models.Model):
    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="lecturers", verbose_name="イベント"
    )
    name = models.CharField("氏名", max_length=60)
    affiliation = models.CharField("所属", max_length=120, blank=True)
    title = models.CharField("役職", max_length=120, blank=True)
    topic = models.CharField("内容", max_length=200, blank=True)
    sort_order = models.PositiveSmallIntegerField("並び順", default=0)

    class Meta:
        verbose_name = "講師"
        verbose_name_plural = "講師"
        ordering = ["sort_order", "pk"]

    def __str__(self) -> str:
        return self.name


ATTACHMENT_TYPES = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
}
ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024


def attachment_path(instance: EventAttachment, filename: str) -> str:
    ext = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    # Random names: an upload's own name never reaches the file system.
    return f"events/{instance.event.code}/{uuid.uuid4().hex}{ext}"


class EventAttachment(models.Model):
    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="attachments", verbose_name="イベント"
    )
    title = models.CharField("表示名", max_length=120)
    file = models.FileField("ファイル", upload_to=attachment_path)
    content_type = models.CharField(max_length=60, editable=False)
    size = models.PositiveIntegerField(editable=False, default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "添付ファイル"
        verbose_name_plural = "添付ファイル"
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("events:attachment", args=[self.event.code, self.pk])


class EventApplicationQuerySet(models.QuerySet["Application"]):
    def active(self) -> Self:
        return self.filter(status=Application.Status.ACTIVE)


class Application(models.Model):
    """One 申込書: a 事業所 with its contact person, one or more applicants and a question."""

    class Status(models.TextChoices):
        ACTIVE = "active", "申込中"
        CANCELLED = "cancelled", "取消"

    class Source(models.TextChoices):
        WEB = "web", "ウェブ"
        API = "api", "API"
        FAX = "fax", "FAX・郵送（代理入力）"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event = models.ForeignKey(
        Event, on_delete=models.PROTECT, related_name="applications", verbose_name="イベント"
    )
    office_name = models.CharField("事業所名", max_length=120, blank=True)
    contact_name = models.CharField("事業所連絡担当者", max_length=60)
    contact_email = models.EmailField("事業所メールアドレス")
    contact_phone = models.CharField("事業所電話番号", max_length=30, blank=True)
    question_to = models.CharField(
        "聞いてみたい職種", max_length=20, choices=Occupation.choices, blank=True
    )
    question_to_other = models.CharField("聞いてみたい職種（その他）", max_length=60, blank=True)
    question = models.TextField("聞いてみたい内容", blank=True, max_length=2000)
    needs = models.JSONField(
        "参加にあたっての配慮", default=list, blank=True, help_text="Need の値のリスト（市民向け）"
    )
    needs_note = models.CharField("配慮についての補足", max_length=200, blank=True)
    status = models.CharField("状態", max_length=20, choices=Status.choices, default=Status.ACTIVE)
    source = models.CharField("受付方法", max_length=10, choices=Source.choices, default=Source.WEB)
    cancel_token = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField("申込日時", auto_now_add=True)
    cancelled_at = models.DateTimeField("取消日時", null=True, blank=True)

    objects = EventApplicationQuerySet.as_manager()

    class Meta:
        verbose_name = "申込"
        verbose_name_plural = "申込"
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        # No person's name: this string is copied into audit entries.
        return f"{self.office_name or '個人での申込'}（{self.event}）"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.cancel_token:
            self.cancel_token = secrets.token_urlsafe(24)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("events:application", args=[self.signed_token])

    @property
    def need_labels(self) -> list[str]:
        labels = dict(Need.choices)
        return [labels[n] for n in self.needs or [] if n in labels]

    @property
    def addressee(self) -> str:
        """「さくら訪問看護ステーション 連絡 担当」, or the resident's name alone."""
        return f"{self.office_name} {self.contact_name}" if self.office_name else self.contact_name

    @property
    def signed_token(self) -> str:
        """What the e-mailed link carries: the random token, signed so forgeries fail early."""
        return signing.Signer(salt="events.application").sign(self.cancel_token)

    @classmethod
    def token_value(cls, signed: str) -> str | None:
        try:
            return signing.Signer(salt="events.application").unsign(signed)
        except signing.BadSignature:
            return None


class ApplicantQuerySet(models.QuerySet["Applicant"]):
    def active(self) -> Self:
        return self.exclude(status=Applicant.Status.CANCELLED)

    def confirmed(self) -> Self:
        return self.filter(status=Applicant.Status.CONFIRMED)

    def waitlisted(self) -> Self:
        return self.filter(status=Applicant.Status.WAITLISTED).order_by("position")

    def with_waitlist_rank(self) -> Self:
        """`waitlist_rank`: 1 for the next to move up, None for those not waiting."""
        ahead = (
            Applicant.objects.filter(
                event=OuterRef("event"),
                status=Applicant.Status.WAITLISTED,
                position__lte=OuterRef("position"),
            )
            .order_by()
            .values("event")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return self.annotate(
            waitlist_rank=models.Case(
                models.When(status=Applicant.Status.WAITLISTED, then=Coalesce(Subquery(ahead), 0)),
                default=None,
                output_field=models.IntegerField(null=True),
            )
        )


class Applicant(models.Model):
    class Status(models.TextChoices):
        CONFIRMED = "confirmed", "参加確定"
        WAITLISTED = "waitlisted", "キャンセル待ち"
        CANCELLED = "cancelled", "取消"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="applicants", verbose_name="申込"
    )
    # Denormalised from the application: capacity and duplicate checks are per event.
    event = models.ForeignKey(
        Event, on_delete=models.PROTECT, related_name="applicants", verbose_name="イベント"
    )
    name = models.CharField("氏名", max_length=60)
    kana = models.CharField("ふりがな", max_length=80, validators=[validate_hiragana])
    email = models.EmailField("メールアドレス", blank=True)
    email_key = models.CharField(max_length=254, blank=True, editable=False)
    occupation = models.CharField("職種", max_length=20, choices=Occupation.choices)
    occupation_other = models.CharField("職種（その他）", max_length=60, blank=True)
    status = models.CharField(
        "状態", max_length=20, choices=Status.choices, default=Status.CONFIRMED
    )
    position = models.PositiveIntegerField("受付番号", editable=False)
    attended = models.BooleanField("出席", default=False)
    attended_at = models.DateTimeField("出席確認日時", null=True, blank=True)
    promoted_at = models.DateTimeField("繰り上げ日時", null=True, blank=True)
    cancelled_at = models.DateTimeField("取消日時", null=True, blank=True)
    feedback_sent_at = models.DateTimeField("アンケート送信日時", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ApplicantQuerySet.as_manager()

    class Meta:
        verbose_name = "申込者"
        verbose_name_plural = "申込者"
        ordering = ["position"]
        constraints = [
            # Backstop for the duplicate check in actions.apply: one live place per e-mail.
            models.UniqueConstraint(
                fields=["event", "email_key"],
                condition=~models.Q(email_key="") & ~models.Q(status="cancelled"),
                name="uniq_event_applicant_email",
            ),
            # Order of arrival: the waiting list is promoted in this order.
            models.UniqueConstraint(fields=["event", "position"], name="uniq_event_position"),
        ]
        indexes = [models.Index(fields=["event", "status"], name="applicant_event_status_idx")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email_key = self.email.strip().lower()
        self.kana = normalize_kana(self.kana)
        super().save(*args, **kwargs)

    @property
    def occupation_label(self) -> str:
        label = self.get_occupation_display()
        if self.occupation == Occupation.OTHER and self.occupation_other:
            return f"{label}（{self.occupation_other}）"
        return label

    @property
    def mail_to(self) -> str:
        return self.email or self.application.contact_email

    @property
    def has_own_address(self) -> bool:
        """An address of their own, other than the contact's: they get their own mail."""
        return bool(self.email_key) and self.email_key != self.application.contact_email.lower()

    # Two e-mailed links carry the applicant's code, signed for one purpose each: the
    # personal page (a co-applicant's own place, not the whole application) and the survey.
    PERSONAL = "events.applicant"
    FEEDBACK = "events.feedback"

    def token(self, purpose: str) -> str:
        return sign_code(self.code, purpose)

    @staticmethod
    def code_from_token(signed: str, purpose: str) -> uuid.UUID | None:
        return signed_code(signed, purpose)

    @property
    def personal_token(self) -> str:
        return self.token(self.PERSONAL)

    def get_personal_url(self) -> str:
        return reverse("events:applicant", args=[self.personal_token])

    @property
    def feedback_token(self) -> str:
        return self.token(self.FEEDBACK)

    def get_feedback_url(self) -> str:
        return reverse("events:feedback", args=[self.feedback_token])


class Feedback(models.Model):
    """The short survey after the event: one answer per applicant."""

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="feedback", verbose_name="イベント"
    )
    applicant = models.OneToOneField(
        Applicant,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="feedback",
        verbose_name="回答者",
    )
    occupation = models.CharField("職種", max_length=20, choices=Occupation.choices, blank=True)
    satisfaction = models.PositiveSmallIntegerField(
        "満足度", validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    usefulness = models.PositiveSmallIntegerField(
        "業務への役立ち度", validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField("感想・今後取り上げてほしいテーマ", blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "アンケート回答"
        verbose_name_plural = "アンケート回答"
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.event} / {self.satisfaction}"
