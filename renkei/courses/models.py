"""Courses (研修コース), specialist dispatch (専門職員等派遣) and public materials (普及啓発資料).

A course is held in rounds (回); each round is an events `Event` behind the scenes, so an
application to a round IS an events application: the applicant form of seed 002, places in
order of arrival, the waiting list and its promotion (ADR 0009), the signed links to check
and cancel, and the events tallies all apply unchanged (ADR 0030). What a course adds lives
here: eligibility, the round's sessions (days of 講義 or 実習), attendance per session,
completion (修了) and the numbered certificates.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Self, TypeVar

from django.db import models
from django.db.models import Count, Prefetch, Q
from django.urls import reverse
from django.utils import timezone

from renkei.accounts.models import Membership, Organization, OrgKind, User
from renkei.events.models import Applicant, Event, Occupation, Owner, wareki_day
from renkei.lib.dates import fiscal_year, fiscal_year_label
from renkei.lib.programme import ProgrammeItem
from renkei.lib.tokens import sign_code, signed_code
from renkei.lib.uploads import Upload, upload_path
from renkei.regions.models import Municipality, optional_municipality

# --- courses --------------------------------------------------------------------------------


M = TypeVar("M", bound=models.Model)


class OrganisedQuerySet(models.QuerySet[M]):
    """Records kept by one organisation (courses, the specialists' roster, materials)."""

    def organised_by(self, organization: Organization | None) -> Self:
        if organization is None:
            return self.none()
        return self.filter(organization=organization)


class CourseQuerySet(OrganisedQuerySet["Course"]):
    def published(self) -> Self:
        return self.filter(published=True)

    def visible_to(self, organization: Organization | None) -> Self:
        """Published courses for everyone; drafts only for their organiser."""
        if organization is None:
            return self.published()
        return self.filter(Q(published=True) | Q(organization=organization))

    def with_rounds(self) -> Self:
        """Lists: every course's rounds, their sessions and places taken in four queries in all,
        whatever the number of courses (`listed_rounds`, read by the API's CourseOut)."""
        events = Event.objects.with_counts()
        rounds = CourseRound.objects.prefetch_related(
            "sessions", Prefetch("event", queryset=events)
        )
        return self.prefetch_related(Prefetch("rounds", queryset=rounds, to_attr="listed_rounds"))


class Published(models.Model):
    """What a course and a material share: a code for their pages and links, the time they
    were made (newest first in their lists), and their title as their name."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "pk"]

    def __str__(self) -> str:
        return str(getattr(self, "title", ""))


class Course(Published):
    """A training held in rounds with a completion rule, e.g. 訪問看護導入研修 (3回、各回2日間)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="courses", verbose_name="主催"
    )
    title = models.CharField("研修名", max_length=200)
    description = models.TextField("内容", blank=True, max_length=4000)
    programme_item = models.CharField(
        "事業項目", max_length=2, choices=ProgrammeItem.choices, default=ProgrammeItem.KA
    )
    municipality = optional_municipality("実施市区町村（県の研修は空欄）")
    eligible_occupations = models.JSONField(
        "対象職種", default=list, blank=True, help_text="空欄はすべての職種"
    )
    min_years_experience = models.PositiveSmallIntegerField(
        "必要な経験年数", null=True, blank=True, help_text="空欄は問わない"
    )
    employer_kinds = models.JSONField(
        "対象の勤務先", default=list, blank=True, help_text="OrgKind の値。空欄は問わない"
    )
    fee = models.PositiveIntegerField("受講料（円）", default=0)
    min_sessions = models.PositiveSmallIntegerField(
        "修了に必要な出席日数", null=True, blank=True, help_text="空欄は全日程の出席"
    )
    certificate_label = models.CharField(
        "修了証番号の記号", max_length=20, blank=True, help_text="例: 訪看導入"
    )
    contact = models.TextField("お問い合わせ先", blank=True, max_length=1000)
    published = models.BooleanField("公開", default=False)

    objects = CourseQuerySet.as_manager()

    class Meta(Published.Meta):
        verbose_name = "研修コース"
        verbose_name_plural = "研修コース"

    def get_absolute_url(self) -> str:
        return reverse("courses:detail", args=[self.code])

    def eligible_occupation_labels(self) -> list[str]:
        labels = dict(Occupation.choices)
        return [labels[o] for o in self.eligible_occupations or [] if o in labels]

    def employer_kind_labels(self) -> list[str]:
        labels = dict(OrgKind.choices)
        return [labels[k] for k in self.employer_kinds or [] if k in labels]

    def eligibility_problem(self, occupation: str, years: int, employer_kind: str) -> str:
        """Why one applicant may not take this course, or ""."""
        if self.eligible_occupations and occupation not in self.eligible_occupations:
            return f"この研修の対象職種は{'・'.join(self.eligible_occupation_labels())}です"
        if self.min_years_experience and years < self.min_years_experience:
            return f"この研修は経験{self.min_years_experience}年以上の方が対象です"
        if self.employer_kinds and employer_kind not in self.employer_kinds:
            return f"この研修は{'・'.join(self.employer_kind_labels())}にお勤めの方が対象です"
        return ""

    @property
    def fee_label(self) -> str:
        return f"{self.fee:,}円" if self.fee else "無料"


class RoundQuerySet(models.QuerySet["CourseRound"]):
    def for_display(self) -> Self:
        return self.select_related("course__organization", "event").prefetch_related("sessions")

    def in_fiscal_year(self, fy: int) -> Self:
        """Rounds whose first day falls in the fiscal year."""
        return self.filter(event__starts_at__date__gte=dt.date(fy, 4, 1)).filter(
            event__starts_at__date__lt=dt.date(fy + 1, 4, 1)
        )


class CourseRound(models.Model):
    """第n回: its places, deadline and applicants are its `event`'s."""

    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="rounds", verbose_name="研修コース"
    )
    number = models.PositiveSmallIntegerField("回")
    event = models.OneToOneField(
        Event, on_delete=models.PROTECT, related_name="course_round", verbose_name="申込の受付"
    )
    apply_from = models.DateTimeField("申込開始", null=True, blank=True)

    objects = RoundQuerySet.as_manager()

    class Meta:
        verbose_name = "研修の回"
        verbose_name_plural = "研修の回"
        ordering = ["course", "number"]
        constraints = [
            models.UniqueConstraint(fields=["course", "number"], name="uniq_course_round_number")
        ]

    def __str__(self) -> str:
        return f"{self.course.title} 第{self.number}回"

    def get_absolute_url(self) -> str:
        return reverse("courses:round", args=[self.course.code, self.number])

    @property
    def label(self) -> str:
        return f"第{self.number}回"

    @property
    def capacity(self) -> int | None:
        return self.event.capacity

    @property
    def fiscal_year(self) -> int:
        return fiscal_year(timezone.localdate(self.event.starts_at))

    def closed_reason(self, now: dt.datetime | None = None) -> str:
        """Why this round takes no application now, or "" (the course's own period first)."""
        now = now or timezone.now()
        if not self.course.published:
            return "この研修は公開されていません。"
        if self.apply_from and now < self.apply_from:
            local = timezone.localtime(self.apply_from)
            return f"申込の受付は{wareki_day(local.date())} {local:%H:%M}からです。"
        if now >= self.event.starts_at:
            return "この回は既に始まりました。申込の受付は終了しています。"
        if self.event.apply_until and now > self.event.apply_until:
            return f"申込期限（{self.event.deadline_label}）を過ぎたため、受付を終了しました。"
        return ""

    def required_sessions(self) -> int:
        n = len(self.sessions.all())
        return min(self.course.min_sessions, n) if self.course.min_sessions else n

    def dates_label(self) -> str:
        days = sorted({s.date for s in self.sessions.all()})
        return "・".join(f"{d.month}月{d.day}日" for d in days)


def round_owners(event_ids: Sequence[int]) -> dict[int, Owner]:
    """A round's event belongs to its course: events' mails send applicants to the course's
    page, and the organiser edits and publishes the round there, not through events."""
    return {
        rnd.event_id: Owner(
            label=f"研修コース「{rnd.course.title}」{rnd.label}",
            public_url=rnd.course.get_absolute_url(),
            manage_url=reverse("courses:manage_round", args=[rnd.course.code, rnd.number]),
        )
        for rnd in CourseRound.objects.filter(event_id__in=event_ids).select_related("course")
    }


class SessionKind(models.TextChoices):
    LECTURE = "lecture", "講義"
    PRACTICUM = "practicum", "実習"


class CourseSession(models.Model):
    """One day (or half-day) of a round."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    round = models.ForeignKey(
        CourseRound, on_delete=models.CASCADE, related_name="sessions", verbose_name="回"
    )
    date = models.DateField("日付")
    starts = models.TimeField("開始")
    ends = models.TimeField("終了")
    kind = models.CharField(
        "形式", max_length=10, choices=SessionKind.choices, default=SessionKind.LECTURE
    )
    title = models.CharField("内容", max_length=200, blank=True)
    venue = models.CharField("会場", max_length=200, blank=True)
    online = models.BooleanField("オンライン", default=False)

    class Meta:
        verbose_name = "日程"
        verbose_name_plural = "日程"
        ordering = ["date", "starts", "pk"]

    def __str__(self) -> str:
        return f"{self.round} {self.label}"

    @property
    def label(self) -> str:
        return f"{wareki_day(self.date)} {self.starts:%H:%M}〜{self.ends:%H:%M}"

    @property
    def place_label(self) -> str:
        if self.online and self.venue:
            return f"{self.venue}／オンライン"
        return "オンライン" if self.online else self.venue


class Enrolment(models.Model):
    """What a course asks of an applicant beyond the events form: experience and employer."""

    applicant = models.OneToOneField(
        Applicant, on_delete=models.CASCADE, related_name="enrolment", verbose_name="申込者"
    )
    round = models.ForeignKey(
        CourseRound, on_delete=models.PROTECT, related_name="enrolments", verbose_name="回"
    )
    years_experience = models.PositiveSmallIntegerField("経験年数")
    employer_kind = models.CharField("勤務先の種別", max_length=30, choices=OrgKind.choices)
    municipality = optional_municipality("勤務先の市区町村")
    # The signed-in member's organisation when an employer applied from its account: it
    # then sees its staff's progress on its own page.
    employer = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="勤務先（会員）",
    )

    class Meta:
        verbose_name = "受講者"
        verbose_name_plural = "受講者"

    def __str__(self) -> str:
        return str(self.applicant)


class SessionAttendance(models.Model):
    session = models.ForeignKey(
        CourseSession, on_delete=models.CASCADE, related_name="attendance", verbose_name="日程"
    )
    applicant = models.ForeignKey(
        Applicant, on_delete=models.CASCADE, related_name="session_attendance"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "出席"
        verbose_name_plural = "出席"
        constraints = [
            models.UniqueConstraint(fields=["session", "applicant"], name="uniq_session_attendance")
        ]

    def __str__(self) -> str:
        return f"{self.session} / {self.applicant_id}"


def participants(rnd: CourseRound) -> models.QuerySet[Applicant]:
    """The round's confirmed applicants with `n_attended`, the sessions they attended."""
    return (
        Applicant.objects.filter(event_id=rnd.event_id, status=Applicant.Status.CONFIRMED)
        .select_related("application", "enrolment")
        .annotate(
            n_attended=Count("session_attendance", filter=Q(session_attendance__session__round=rnd))
        )
        .order_by("position")
    )


def completers(rnd: CourseRound) -> models.QuerySet[Applicant]:
    """Those who met the course's rule: all sessions, or the course's minimum."""
    # The annotation is not a model field to the type checker: spelt as a lookup string.
    return participants(rnd).filter(**{"n_attended__gte": max(rnd.required_sessions(), 1)})


@dataclass
class Progress:
    """One person's days and completion in a round, as the employer and the organiser see it."""

    person: Applicant
    marks: list[tuple[CourseSession, bool]]
    attended: int
    completed: bool
    certificate: Certificate | None


def progress_rows(rnd: CourseRound, people: list[Applicant]) -> list[Progress]:
    """Each person's attendance per session and completion, in three queries for the round."""
    sessions = list(rnd.sessions.all())
    came = set(
        SessionAttendance.objects.filter(session__round=rnd, applicant__in=people).values_list(
            "applicant_id", "session_id"
        )
    )
    certs = {
        c.applicant_id: c
        for c in Certificate.objects.filter(
            applicant__in=people, revoked_at__isnull=True
        ).select_related("course")
    }
    need = max(rnd.required_sessions(), 1)
    rows = []
    for p in people:
        marks = [(s, (p.pk, s.pk) in came) for s in sessions]
        attended = sum(1 for _, m in marks if m)
        rows.append(
            Progress(
                person=p,
                marks=marks,
                attended=attended,
                completed=attended >= need and p.status == Applicant.Status.CONFIRMED,
                certificate=certs.get(p.pk),
            )
        )
    return rows


# --- certificates -----------------------------------------------------------------------------


class CertificateSequence(models.Model):
    """The last number given per course and fiscal year; it only goes up (numbers are never reused)."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="+")
    fiscal_year = models.PositiveSmallIntegerField("年度")
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["course", "fiscal_year"], name="uniq_certificate_sequence"
            )
        ]

    def __str__(self) -> str:
        return f"{self.course_id}/{self.fiscal_year}: {self.last}"


class Certificate(models.Model):
    """修了証. Never deleted: a revoked one keeps its number, so no number means two people."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, related_name="certificates", verbose_name="研修コース"
    )
    round = models.ForeignKey(
        CourseRound, on_delete=models.PROTECT, related_name="certificates", verbose_name="回"
    )
    applicant = models.ForeignKey(
        Applicant, on_delete=models.PROTECT, related_name="certificates", verbose_name="修了者"
    )
    fiscal_year = models.PositiveSmallIntegerField("年度")
    number = models.PositiveIntegerField("番号")
    issued_on = models.DateField("修了日")
    issued_at = models.DateTimeField(default=timezone.now)
    issued_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField("取消日時", null=True, blank=True)
    revoked_reason = models.CharField("取消の理由", max_length=200, blank=True)

    class Meta:
        verbose_name = "修了証"
        verbose_name_plural = "修了証"
        ordering = ["fiscal_year", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["course", "fiscal_year", "number"], name="uniq_certificate_number"
            ),
            models.UniqueConstraint(
                fields=["applicant"],
                condition=Q(revoked_at__isnull=True),
                name="uniq_live_certificate_per_applicant",
            ),
        ]

    def __str__(self) -> str:
        return self.number_label

    @property
    def number_label(self) -> str:
        """令和7年度 訪看導入 第003号."""
        label = f" {self.course.certificate_label}" if self.course.certificate_label else ""
        return f"{fiscal_year_label(self.fiscal_year)}{label} 第{self.number:03d}号"


# --- specialist dispatch (専門職員等派遣) ------------------------------------------------------


class SpecialistKind(models.TextChoices):
    REHAB = "rehab", "リハ職（PT・OT・ST）"
    DIETITIAN = "dietitian", "管理栄養士"
    DENTAL_HYGIENIST = "dental_hygienist", "歯科衛生士"
    PHARMACIST = "pharmacist", "薬剤師"
    DEMENTIA = "dementia", "認知症の専門職"
    NURSE = "nurse", "看護師"
    OTHER = "other", "その他"


class DispatchPurpose(models.TextChoices):
    CARE_MEETING = "care_meeting", "地域ケア会議"
    TRAINING = "training", "研修・勉強会の講師"
    CONSULTATION = "consultation", "個別相談・同行"
    OTHER = "other", "その他"


class Specialist(models.Model):
    """One person on the prefecture's roster. Their mail gets the confirmed dispatches and
    the link to report; they need no account."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="specialists",
        verbose_name="名簿の管理",
    )
    name = models.CharField("氏名", max_length=60)
    kind = models.CharField("職種", max_length=20, choices=SpecialistKind.choices)
    affiliation = models.CharField("所属", max_length=120, blank=True)
    email = models.EmailField("メールアドレス")
    areas = models.ManyToManyField(
        Municipality, related_name="+", blank=True, verbose_name="派遣できる市区町村"
    )
    weekdays = models.JSONField("派遣できる曜日", default=list, blank=True, help_text="0=月〜6=日")
    availability_note = models.CharField("都合の補足", max_length=200, blank=True)
    active = models.BooleanField("名簿に掲載", default=True)

    objects = OrganisedQuerySet["Specialist"].as_manager()

    class Meta:
        verbose_name = "派遣専門職"
        verbose_name_plural = "派遣専門職"
        ordering = ["kind", "name", "pk"]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_kind_display()}）"

    @property
    def weekday_labels(self) -> str:
        return "".join("月火水木金土日"[d] for d in sorted(self.weekdays or []) if 0 <= d <= 6)


class DispatchQuerySet(models.QuerySet["DispatchRequest"]):
    def visible_to(self, organization: Organization | None) -> Self:
        """The requesting municipality's and the handling prefecture's; nobody else's."""
        if organization is None:
            return self.none()
        return self.filter(Q(requester=organization) | Q(prefecture=organization))

    def in_fiscal_year(self, fy: int) -> Self:
        return self.filter(date__gte=dt.date(fy, 4, 1), date__lt=dt.date(fy + 1, 4, 1))


class DispatchRequest(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", "依頼受付"
        CONFIRMED = "confirmed", "派遣決定"
        DECLINED = "declined", "派遣できず"
        REPORTED = "reported", "報告済み"
        WITHDRAWN = "withdrawn", "取下げ"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    requester = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name="依頼した市区町村"
    )
    prefecture = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name="調整する都道府県"
    )
    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="+", verbose_name="市区町村"
    )
    date = models.DateField("希望日")
    starts = models.TimeField("開始")
    ends = models.TimeField("終了")
    purpose = models.CharField("目的", max_length=20, choices=DispatchPurpose.choices)
    kind = models.CharField("希望する職種", max_length=20, choices=SpecialistKind.choices)
    venue = models.CharField("場所", max_length=200)
    detail = models.TextField("内容", max_length=2000, blank=True)
    status = models.CharField(
        "状態", max_length=20, choices=Status.choices, default=Status.REQUESTED
    )
    specialist = models.ForeignKey(
        Specialist,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="dispatches",
        verbose_name="派遣する専門職",
    )
    answer_note = models.CharField("調整結果の連絡事項", max_length=300, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    report = models.TextField("実施報告", max_length=4000, blank=True)
    participants = models.PositiveIntegerField("参加者数", null=True, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)
    fee = models.PositiveIntegerField("謝金（円）", null=True, blank=True)
    fee_recorded_at = models.DateTimeField(null=True, blank=True)
    # Set when the reminder is sent (renkei.courses.jobs): each goes once, whoever runs it.
    reminded_at = models.DateTimeField("派遣日前のお知らせ", null=True, blank=True)
    report_reminded_at = models.DateTimeField("実施報告の督促", null=True, blank=True)
    requested_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DispatchQuerySet.as_manager()

    class Meta:
        verbose_name = "専門職派遣の依頼"
        verbose_name_plural = "専門職派遣の依頼"
        ordering = ["-date", "-pk"]
        indexes = [models.Index(fields=["prefecture", "date"], name="dispatch_pref_date_idx")]

    def __str__(self) -> str:
        return f"{self.municipality.name} {self.date:%Y-%m-%d} {self.get_purpose_display()}"

    def get_absolute_url(self) -> str:
        return reverse("courses:dispatch_detail", args=[self.code])

    @property
    def date_label(self) -> str:
        return f"{wareki_day(self.date)} {self.starts:%H:%M}〜{self.ends:%H:%M}"

    REPORT = "courses.dispatch_report"

    @property
    def report_token(self) -> str:
        return sign_code(self.code, self.REPORT)

    @classmethod
    def code_from_token(cls, token: str) -> uuid.UUID | None:
        return signed_code(token, cls.REPORT)

    def get_report_url(self) -> str:
        return reverse("courses:dispatch_report", args=[self.report_token])


# --- public materials (普及啓発資料・ルール) ---------------------------------------------------


class MaterialKind(models.TextChoices):
    GUIDEBOOK = "guidebook", "ガイドブック"
    RULE = "rule", "ルール・手順（退院調整ルールなど）"
    ETIQUETTE = "etiquette", "エチケット集"
    FORM = "form", "様式・書式"
    ACP = "acp", "リビング・ウィル・ACPのリーフレット"
    LEAFLET = "leaflet", "チラシ・リーフレット"
    OTHER = "other", "その他"


class Audience(models.TextChoices):
    RESIDENTS = "residents", "市民・家族向け"
    PROFESSIONALS = "professionals", "専門職向け"
    BOTH = "both", "どなたでも"


class MaterialQuerySet(OrganisedQuerySet["Material"]):
    def published(self) -> Self:
        return self.filter(published=True, versions__isnull=False).distinct()


class Material(Published):
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="materials", verbose_name="発行"
    )
    title = models.CharField("題名", max_length=200)
    kind = models.CharField("種類", max_length=20, choices=MaterialKind.choices)
    audience = models.CharField("対象", max_length=20, choices=Audience.choices)
    municipality = optional_municipality("市区町村")
    programme_item = models.CharField(
        "事業項目", max_length=2, choices=ProgrammeItem.choices, default=ProgrammeItem.KI
    )
    description = models.TextField("説明", max_length=2000, blank=True)
    published = models.BooleanField("公開", default=True)

    objects = MaterialQuerySet.as_manager()

    class Meta(Published.Meta):
        verbose_name = "資料"
        verbose_name_plural = "資料"

    def get_absolute_url(self) -> str:
        return reverse("materials:detail", args=[self.code])

    def current(self) -> MaterialVersion | None:
        """The newest version (by publication date); earlier ones stay downloadable."""
        versions = list(self.versions.all())
        return max(versions, key=lambda v: (v.published_on, v.pk)) if versions else None


material_path = upload_path  # the name migrations 0001… recorded


class MaterialVersion(Upload):
    material = models.ForeignKey(
        Material, on_delete=models.CASCADE, related_name="versions", verbose_name="資料"
    )
    content_type = models.CharField(max_length=60, editable=False)
    published_on = models.DateField("発行日")
    note = models.CharField("改訂の内容", max_length=200, blank=True)

    class Meta:
        verbose_name = "資料の版"
        verbose_name_plural = "資料の版"
        ordering = ["-published_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.material}（{self.published_on:%Y-%m-%d}）"

    def get_absolute_url(self) -> str:
        return reverse("materials:version", args=[self.material.code, self.pk])

    def upload_folder(self) -> str:
        return f"materials/{self.material.code}"


class MaterialDownload(models.Model):
    """Downloads per material and month: the figure 普及啓発 indicators read."""

    material = models.ForeignKey(Material, on_delete=models.CASCADE, related_name="downloads")
    month = models.DateField("月（1日）")
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["material", "month"], name="uniq_material_month")
        ]

    def __str__(self) -> str:
        return f"{self.material_id} {self.month:%Y-%m}: {self.count}"
