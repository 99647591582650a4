"""同行研修 (mentor ride-along training, item カ) as Yokosuka runs it (seed 003).

The office is the organisation that organises a fiscal year's programme (the city): its
members see the applications, match mentors, and record honoraria. Mentors and trainees
do not sign in; each reaches only their own match through a signed link.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Self

from django.core import signing
from django.db import models
from django.db.models import Case, Count, F, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from renkei.accounts.models import Membership, Organization, OrgKind, User
from renkei.directory.models import Facility
from renkei.lib.actions import Conflict
from renkei.lib.dates import fiscal_year_label
from renkei.lib.text import normalize_search
from renkei.regions.models import Municipality

if TYPE_CHECKING:
    from django.db.models.fields.related_descriptors import RelatedManager

# Organisations that may run a programme: the city, or the 医師会 / support centre acting for it.
ORGANISER_KINDS: frozenset[str] = frozenset(
    {
        OrgKind.MUNICIPALITY,
        OrgKind.MEDICAL_ASSOCIATION,
        OrgKind.COORDINATION_CENTER,
        OrgKind.OPERATOR,
    }
)
WEEKDAYS = ["月", "火", "水", "木", "金", "土", "日"]


def can_organise(organization: Organization) -> bool:
    """Whether the organisation may run a programme and register its mentors."""
    return organization.kind in ORGANISER_KINDS


def area_choices(organization: Organization) -> models.QuerySet[Municipality]:
    """Where a programme's visits happen: the municipalities of the organiser's prefecture."""
    pref = organization.prefecture_id or (
        organization.municipality.prefecture_id if organization.municipality else None
    )
    qs = Municipality.objects.selectable()
    return (qs.filter(prefecture_id=pref) if pref else qs).order_by("code")


TOKEN_SALT = "renkei.mentoring.report"  # noqa: S105 (a signing namespace, not a secret)
TOKEN_MAX_AGE = 2 * 366 * 24 * 3600  # reports may come months after the visit


def weekday_labels(mask: int) -> list[str]:
    return [label for i, label in enumerate(WEEKDAYS) if mask & (1 << i)]


def weekday_mask(days: list[int] | list[str]) -> int:
    mask = 0
    for d in days:
        i = int(d)
        if not 0 <= i <= 6:
            raise ValueError("曜日は0（月）〜6（日）で指定してください")
        mask |= 1 << i
    return mask


class Profession(models.TextChoices):
    CLINIC_NEW = "clinic_new", "診療所医師（在宅医療未経験）"
    CLINIC_ACTIVE = "clinic_active", "診療所医師（在宅医療実施中）"
    HOSPITAL_DOCTOR = "hospital_doctor", "病院医師"
    NURSE = "nurse", "看護師"
    OTHER = "other", "その他の職種"


class ApplicationStatus(models.TextChoices):
    APPLIED = "applied", "申込受付"
    MATCHED = "matched", "指導医決定"
    SCHEDULED = "scheduled", "日程確定"
    DONE = "done", "実施済み"
    REPORTED = "reported", "報告完了"
    CANCELLED = "cancelled", "取消"


ACTIVE_STATUSES = [
    ApplicationStatus.APPLIED,
    ApplicationStatus.MATCHED,
    ApplicationStatus.SCHEDULED,
    ApplicationStatus.DONE,
    ApplicationStatus.REPORTED,
]
TRAINING_DONE = [ApplicationStatus.DONE, ApplicationStatus.REPORTED]


class OncePerYearError(Conflict):
    """The trainee already has a training this fiscal year and no extra place is open (409)."""


class MentorQuerySet(models.QuerySet["Mentor"]):
    def for_office(self, organization: Organization) -> Self:
        return self.filter(office=organization)

    def suggest_for(self, application: TraineeApplication) -> Self:
        """Active mentors of the office ranked for this application, in one query.

        Order: most preferred areas covered, then a preferred weekday available, then the
        lightest load this fiscal year (non-cancelled matches), then 医師会 recommendation.
        """
        program = application.program
        load = (
            Match.objects.filter(
                mentor=OuterRef("pk"), application__program__fiscal_year=program.fiscal_year
            )
            .exclude(application__status=ApplicationStatus.CANCELLED)
            .order_by()
            .values("mentor")
            .annotate(n=Count("pk"))
            .values("n")
        )
        wanted = TraineeApplication.preferred_areas.through.objects.filter(
            traineeapplication_id=application.pk
        ).values("municipality_id")
        return (
            self.filter(office_id=program.organizer_id, is_active=True)
            .annotate(
                area_hits=Count("areas", filter=Q(areas__in=wanted), distinct=True),
                day_hits=F("weekdays").bitand(application.preferred_weekdays),
                day_ok=Case(
                    When(day_hits__gt=0, then=Value(1)),
                    default=Value(0),
                    output_field=IntegerField(),
                ),
                load=Coalesce(Subquery(load, output_field=IntegerField()), Value(0)),
            )
            .order_by("-area_hits", "-day_ok", "load", "-recommended", "kana", "pk")
        )


class Mentor(models.Model):
    """A doctor (usually recommended by the 医師会) who takes trainees on home visits."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    office = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="mentors",
        verbose_name="事務局（登録先）",
    )
    name = models.CharField("氏名", max_length=60)
    kana = models.CharField("ふりがな", max_length=60, blank=True)
    affiliation = models.CharField("所属（医療機関名）", max_length=120)
    affiliation_facility = models.ForeignKey(
        Facility,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="所属医療機関（資源マップ）",
    )
    email = models.EmailField("メールアドレス")
    phone = models.CharField("電話番号", max_length=20, blank=True)
    recommended = models.BooleanField("医師会の推薦", default=False)
    recommended_on = models.DateField("推薦日", null=True, blank=True)
    areas = models.ManyToManyField(
        Municipality, blank=True, related_name="+", verbose_name="訪問地域"
    )
    weekdays = models.PositiveSmallIntegerField("受入れ可能な曜日", default=0)
    availability = models.CharField("受入れ可能な日時の補足", max_length=200, blank=True)
    is_active = models.BooleanField("受入れ中", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MentorQuerySet.as_manager()

    class Meta:
        verbose_name = "指導医"
        verbose_name_plural = "指導医"
        ordering = ["kana", "name"]

    def __str__(self) -> str:
        return self.name

    def weekday_labels(self) -> list[str]:
        return weekday_labels(self.weekdays)


def application_readers() -> Q:
    """Memberships that read trainees' applications: those of an organisation that organises a
    programme (`for_office`), in a role the organisation lets read named records, as a filter
    on Membership for the two-factor policy (ADR 0043)."""
    return Q(organization__training_programs__isnull=False) & Membership.named_readers()


class ProgramQuerySet(models.QuerySet["TrainingProgram"]):
    def for_office(self, membership: Membership | None) -> Self:
        if membership is None:
            return self.none()
        return self.filter(organizer_id=membership.organization_id)

    def with_january_count(self) -> Self:
        """`counted_on_january` (see TrainingProgram.trainings_before_january) for each
        programme in the same query. A match decided in the fiscal year's calendar year or
        earlier, Japan time, was decided before 1 January."""
        return self.annotate(
            counted_on_january=Count(
                "applications__match",
                filter=Q(applications__match__decided_at__year__lte=F("fiscal_year"))
                & ~Q(applications__status=ApplicationStatus.CANCELLED),
            )
        )


class TrainingProgram(models.Model):
    """One fiscal year's 同行研修 of an organiser (the city), with its planned number."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organizer = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="training_programs",
        verbose_name="主催",
    )
    co_organizer = models.CharField("共催", max_length=100, blank=True)
    name = models.CharField("名称", max_length=100, default="在宅医同行研修")
    fiscal_year = models.PositiveSmallIntegerField("年度（西暦）")
    planned_count = models.PositiveSmallIntegerField("実施予定数")
    honorarium_amount = models.PositiveIntegerField("指導謝礼（1回・円）")
    is_open = models.BooleanField("申込受付中", default=True)
    contact = models.CharField("問い合わせ先", max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ProgramQuerySet.as_manager()

    if TYPE_CHECKING:
        applications: RelatedManager[TraineeApplication]

    class Meta:
        verbose_name = "同行研修（年度）"
        verbose_name_plural = "同行研修（年度）"
        ordering = ["-fiscal_year", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["organizer", "fiscal_year"], name="uniq_program_year")
        ]

    def __str__(self) -> str:
        return f"{self.name} {fiscal_year_label(self.fiscal_year)}"

    def get_absolute_url(self) -> str:
        return reverse("mentoring:program", args=[self.code])

    @property
    def fy_label(self) -> str:
        return fiscal_year_label(self.fiscal_year)

    @property
    def january_first(self) -> dt.date:
        """1 January inside this fiscal year (FY2025 → 2026-01-01)."""
        return dt.date(self.fiscal_year + 1, 1, 1)

    def trainings_before_january(self) -> int:
        """Trainings counted against the plan on 1 January: matches decided before that day
        whose application was not cancelled."""
        annotated: int | None = getattr(self, "counted_on_january", None)
        if annotated is not None:
            return annotated
        cutoff = dt.datetime.combine(
            self.january_first, dt.time(0), tzinfo=timezone.get_current_timezone()
        )
        return (
            Match.objects.filter(application__program=self, decided_at__lt=cutoff)
            .exclude(application__status=ApplicationStatus.CANCELLED)
            .count()
        )

    def extra_trainings_allowed(self, today: dt.date | None = None) -> bool:
        """From 1 January, a trainee may train again if the plan was not reached on that day."""
        today = today or timezone.localdate()
        return today >= self.january_first and self.trainings_before_january() < self.planned_count


def trainee_key(name: str, kana: str) -> str:
    return normalize_search(name) + "|" + normalize_search(kana)


class ApplicationQuerySet(models.QuerySet["TraineeApplication"]):
    def for_office(self, membership: Membership | None) -> Self:
        """The office's applications, for the members in its named-read roles (ADR 0043)."""
        if membership is None or not membership.reads_named_records:
            return self.none()
        return self.filter(program__organizer_id=membership.organization_id)

    def open(self) -> Self:
        return self.filter(status=ApplicationStatus.APPLIED)

    def listed(self, program: TrainingProgram, status: str | None = None) -> Self:
        """A programme's applications as its lists show them (newest first), by status."""
        qs = self.filter(program=program)
        if status:
            qs = qs.filter(status=status)
        return (
            qs.select_related("program", "match__mentor")
            .prefetch_related("preferred_areas")
            .order_by("-applied_at", "-pk")
        )

    def same_trainee(self, *, email: str, name: str, kana: str) -> Self:
        """The same person: same e-mail (any case), or same name and reading."""
        return self.filter(Q(email__iexact=email.strip()) | Q(trainee_key=trainee_key(name, kana)))

    def check_once_per_year(
        self,
        program: TrainingProgram,
        *,
        email: str,
        name: str,
        kana: str,
        today: dt.date | None = None,
        exclude: TraineeApplication | None = None,
    ) -> None:
        """原則として年間1回／1受講者: raise OncePerYearError unless another training is allowed.

        A trainee who already has a non-cancelled application in the programme's fiscal year
        may have another only from 1 January, and only if the programme had fewer trainings
        than planned on that day (seed 003, 受講可能回数).
        """
        prior = self.filter(
            program__organizer_id=program.organizer_id, program__fiscal_year=program.fiscal_year
        )
        prior = prior.exclude(status=ApplicationStatus.CANCELLED).same_trainee(
            email=email, name=name, kana=kana
        )
        if exclude is not None:
            prior = prior.exclude(pk=exclude.pk)
        if not prior.exists():
            return
        today = today or timezone.localdate()
        if program.extra_trainings_allowed(today):
            return
        jan = program.january_first
        head = (
            f"{name}さんは{program.fy_label}の同行研修に既に申し込まれています。"
            "受講は原則として年度内1回です。"
        )
        if today < jan:
            raise OncePerYearError(
                head
                + f"{jan.year}年1月1日の時点で実施予定数（{program.planned_count}件）に達していない場合に限り、"
                "1月1日以降に追加で受講できます。"
            )
        raise OncePerYearError(
            head
            + f"{jan.year}年1月1日の時点で実施予定数（{program.planned_count}件）に達していたため、"
            "今年度の追加受講はできません。"
        )


class TraineeApplication(models.Model):
    """An application (申込書) for one ride-along training."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    program = models.ForeignKey(
        TrainingProgram, on_delete=models.PROTECT, related_name="applications", verbose_name="研修"
    )
    trainee_name = models.CharField("氏名", max_length=60)
    trainee_kana = models.CharField("ふりがな", max_length=60)
    trainee_key = models.CharField(max_length=130, editable=False, db_index=True)
    profession = models.CharField("職種", max_length=20, choices=Profession.choices)
    affiliation = models.CharField("所属（医療機関・事業所名）", max_length=120)
    email = models.EmailField("メールアドレス")
    phone = models.CharField("電話番号", max_length=20)
    preferred_areas = models.ManyToManyField(
        Municipality, blank=True, related_name="+", verbose_name="希望する地域"
    )
    preferred_weekdays = models.PositiveSmallIntegerField("希望する曜日", default=0)
    preferred_dates = models.CharField("希望する日時の補足", max_length=300, blank=True)
    motivation = models.TextField("受講の動機・学びたいこと", max_length=2000, blank=True)
    status = models.CharField(
        "状況",
        max_length=20,
        choices=ApplicationStatus.choices,
        default=ApplicationStatus.APPLIED,
        db_index=True,
    )
    applied_at = models.DateTimeField("申込日時", default=timezone.now)
    entered_by = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="代理入力者（事務局）",
    )
    cancelled_at = models.DateTimeField("取消日時", null=True, blank=True)
    cancel_reason = models.CharField("取消の理由", max_length=200, blank=True)

    objects = ApplicationQuerySet.as_manager()

    if TYPE_CHECKING:
        match: Match

    class Meta:
        verbose_name = "同行研修の申込"
        verbose_name_plural = "同行研修の申込"
        ordering = ["-applied_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.trainee_name}（{self.get_profession_display()}）"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.trainee_key = trainee_key(self.trainee_name, self.trainee_kana)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "trainee_key"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("mentoring:application", args=[self.code])

    def weekday_labels(self) -> list[str]:
        return weekday_labels(self.preferred_weekdays)

    def current_match(self) -> Match | None:
        try:
            return self.match
        except Match.DoesNotExist:
            return None


class MatchQuerySet(models.QuerySet["Match"]):
    def for_office(self, membership: Membership | None) -> Self:
        """The office's matches (they name the trainee), as `ApplicationQuerySet.for_office`."""
        if membership is None or not membership.reads_named_records:
            return self.none()
        return self.filter(application__program__organizer_id=membership.organization_id)


class Match(models.Model):
    """The office's decision (決定連絡票), the visit, both reports and the honorarium."""

    class Side(models.TextChoices):
        MENTOR = "mentor", "指導医"
        TRAINEE = "trainee", "受講者"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    application = models.OneToOneField(
        TraineeApplication, on_delete=models.PROTECT, related_name="match", verbose_name="申込"
    )
    mentor = models.ForeignKey(
        Mentor, on_delete=models.PROTECT, related_name="matches", verbose_name="指導医"
    )
    decided_at = models.DateTimeField("決定日時", db_index=True)
    decided_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name="決定者"
    )
    notice_sent_at = models.DateTimeField("決定連絡票の送付日時", null=True, blank=True)
    visit_date = models.DateField("研修日", null=True, blank=True)
    mentor_report = models.TextField("指導医の実施報告", blank=True)
    mentor_report_at = models.DateTimeField("指導医の報告日時", null=True, blank=True)
    trainee_report = models.TextField("受講者の受講報告", blank=True)
    trainee_report_at = models.DateTimeField("受講者の報告日時", null=True, blank=True)
    honorarium_amount = models.PositiveIntegerField("指導謝礼の支払額（円）", null=True, blank=True)
    honorarium_paid_at = models.DateField("指導謝礼の支払日", null=True, blank=True)
    honorarium_recorded_by = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="謝礼の記録者",
    )

    objects = MatchQuerySet.as_manager()

    class Meta:
        verbose_name = "マッチング"
        verbose_name_plural = "マッチング"
        ordering = ["-decided_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.application.trainee_name} × {self.mentor.name}"

    def get_absolute_url(self) -> str:
        return reverse("mentoring:match", args=[self.code])

    def token(self, side: str) -> str:
        """The secret of one side's report link: signed, so it cannot be guessed or altered."""
        if side not in self.Side.values:
            raise ValueError(side)
        return signing.dumps({"m": str(self.code), "s": side}, salt=TOKEN_SALT)

    def party_url(self, side: str) -> str:
        return reverse("mentoring:party", args=[self.token(side)])

    @classmethod
    def from_token(cls, token: str) -> tuple[Match, str] | None:
        """The match and side a link belongs to, or None for a tampered or expired link."""
        try:
            data = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
            code = uuid.UUID(str(data["m"]))
            side = str(data["s"])
        except (signing.BadSignature, KeyError, TypeError, ValueError):
            return None
        if side not in cls.Side.values:
            return None
        match = (
            cls.objects.select_related("application__program__organizer", "mentor", "decided_by")
            .filter(code=code)
            .first()
        )
        return (match, side) if match is not None else None

    def report_of(self, side: str) -> str:
        return self.mentor_report if side == self.Side.MENTOR else self.trainee_report

    def report_at(self, side: str) -> dt.datetime | None:
        return self.mentor_report_at if side == self.Side.MENTOR else self.trainee_report_at


@dataclass
class Suggestion:
    mentor: Mentor
    area_hits: int
    day_ok: bool
    load: int
    reasons: list[str] = field(default_factory=list)


def suggestions(application: TraineeApplication, limit: int = 10) -> list[Suggestion]:
    """Ranked mentors with the reasons in words (one query for the ranking)."""
    wanted_days = application.preferred_weekdays
    n_areas = len(application.preferred_areas.all())
    out = []
    for m in Mentor.objects.suggest_for(application).prefetch_related("areas")[:limit]:
        area_hits: int = m.area_hits  # type: ignore[attr-defined]
        load: int = m.load  # type: ignore[attr-defined]
        day_ok = bool(m.day_ok)  # type: ignore[attr-defined]
        reasons = []
        if n_areas:
            reasons.append(
                f"希望地域に対応（{area_hits}/{n_areas}地域）" if area_hits else "希望地域は対象外"
            )
        if wanted_days:
            common = weekday_labels(m.weekdays & wanted_days)
            reasons.append(
                f"希望曜日（{'・'.join(common)}）に受入れ可" if common else "希望曜日は受入れ不可"
            )
        reasons.append(f"今年度の担当 {load}件")
        if m.recommended:
            reasons.append("医師会推薦")
        out.append(
            Suggestion(mentor=m, area_hits=area_hits, day_ok=day_ok, load=load, reasons=reasons)
        )
    return out
