"""Night and holiday rotas (item ウ, 急変時): who answers tonight, for a region or a hospital group.

A rota belongs to its organiser (a 医師会, a municipality, a hospital association); its members are
organisations (clinics, hospitals) with the number to call. Shifts are generated a month at a time
from the rota's rules and Japan's calendar (holidays from the `holidays` package, 年末年始 12/29–1/3),
kept as a draft until the organiser publishes the month. Only published shifts answer "who is on
duty now", feed calendars and are printed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Self, TypedDict

from django.core import signing
from django.db import models
from django.db.models.functions import ExtractYear
from django.urls import reverse
from django.utils import timezone

from renkei.accounts.models import Membership, Organization
from renkei.lib.fields import EncryptedTextField
from renkei.regions.models import Municipality, SecondaryArea


class RotaKind(models.TextChoices):
    NIGHT_HOLIDAY = "night_holiday", "夜間・休日当番医"
    HOSPITAL = "hospital", "病院当番（在宅患者の入院受入れ）"


class Rotation(models.TextChoices):
    DAILY = "daily", "日ごとに交代"
    WEEKLY = "weekly", "週ごとに交代（月曜始まり）"


class DayType(models.TextChoices):
    WEEKDAY = "weekday", "平日"
    SATURDAY = "saturday", "土曜"
    HOLIDAY = "holiday", "日曜・祝日"
    YEAR_END = "year_end", "年末年始（12/29〜1/3）"


class MonthStatus(models.TextChoices):
    DRAFT = "draft", "下書き"
    PUBLISHED = "published", "公開中"


class SwapStatus(models.TextChoices):
    REQUESTED = "requested", "相手の回答待ち"
    ACCEPTED = "accepted", "主催者の承認待ち"
    DONE = "done", "交代済み"
    DECLINED = "declined", "お断り"
    REJECTED = "rejected", "主催者が不承認"
    WITHDRAWN = "withdrawn", "取り下げ"


OPEN_SWAPS = (SwapStatus.REQUESTED, SwapStatus.ACCEPTED)


class RotaQuerySet(models.QuerySet["Rota"]):
    def visible_to(self, m: Membership | None) -> Self:
        """The organiser's members and the members' own staff; everyone else sees nothing."""
        if m is None:
            return self.none()
        return self.filter(
            models.Q(organizer_id=m.organization_id)
            | models.Q(members__organization_id=m.organization_id, members__is_active=True)
        ).distinct()

    def organised_by(self, m: Membership | None) -> Self:
        if m is None:
            return self.none()
        return self.filter(organizer_id=m.organization_id)

    def covering(self, municipality: Municipality) -> Self:
        """Rotas whose area includes the municipality (by 二次医療圏 or by name)."""
        q = models.Q(municipalities=municipality)
        if municipality.parent_id:  # a ward is covered by its city's rota
            q |= models.Q(municipalities=municipality.parent_id)
        area = municipality.area
        if area is not None:
            q |= models.Q(area=area)
        return self.filter(q).distinct()


class Rota(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organizer = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="rotas", verbose_name="主催"
    )
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("種類", max_length=20, choices=RotaKind.choices)
    rotation = models.CharField(
        "交代の単位", max_length=10, choices=Rotation.choices, default=Rotation.DAILY
    )
    area = models.ForeignKey(
        SecondaryArea,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rotas",
        verbose_name="二次医療圏",
    )
    municipalities = models.ManyToManyField(
        Municipality, blank=True, related_name="rotas", verbose_name="対象の市区町村"
    )
    gap_alert_hours = models.PositiveSmallIntegerField(
        "空き枠を知らせる時期（何時間前）", default=72
    )
    members_swap_freely = models.BooleanField("当番の交代は当事者の合意だけで成立", default=False)
    contact = models.CharField("問い合わせ先", max_length=200, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RotaQuerySet.as_manager()

    class Meta:
        verbose_name = "当番表"
        verbose_name_plural = "当番表"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("oncall:rota", args=[self.code])

    def area_label(self) -> str:
        names = [m.name for m in self.municipalities.all()]
        if self.area_id:
            names.insert(0, f"{self.area}（二次医療圏）")
        return "、".join(names) or "（地域の指定なし）"

    def feed_token(self) -> str:
        return signing.dumps({"r": self.pk}, salt=FEED_SALT, compress=True)


FEED_SALT = "oncall.ical"


class RotaMember(models.Model):
    """A clinic or hospital taking turns; the doctor's name is optional (clinics rotate inside)."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    rota = models.ForeignKey(Rota, on_delete=models.CASCADE, related_name="members")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="rota_memberships"
    )
    doctor = models.CharField("担当医", max_length=60, blank=True)
    phone = models.CharField("当番時の連絡先電話", max_length=30)
    is_active = models.BooleanField("当番に入る", default=True)
    sort_order = models.PositiveSmallIntegerField("順番", default=0)

    class Meta:
        verbose_name = "当番の参加機関"
        verbose_name_plural = "当番の参加機関"
        ordering = ["sort_order", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["rota", "organization", "doctor"], name="uniq_rota_member"
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.organization.name}（{self.doctor}）" if self.doctor else self.organization.name
        )

    def feed_token(self) -> str:
        return signing.dumps({"m": self.pk}, salt=FEED_SALT, compress=True)


class ShiftRule(models.Model):
    """One shift a day of a kind has: 平日 18:00–翌9:00, 日曜・祝日 9:00–18:00, …"""

    rota = models.ForeignKey(Rota, on_delete=models.CASCADE, related_name="rules")
    day_type = models.CharField("日の種類", max_length=10, choices=DayType.choices)
    label = models.CharField("枠の名前", max_length=30)
    start = models.TimeField("開始")
    end = models.TimeField("終了（開始以前なら翌日・同じなら24時間）")

    class Meta:
        verbose_name = "当番枠の規則"
        verbose_name_plural = "当番枠の規則"
        ordering = ["day_type", "start"]

    def __str__(self) -> str:
        return f"{self.get_day_type_display()} {self.label} {self.start:%H:%M}–{self.end:%H:%M}"

    def span(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        tz = timezone.get_current_timezone()
        start = dt.datetime.combine(day, self.start, tz)
        end_day = day if self.end > self.start else day + dt.timedelta(days=1)
        return start, dt.datetime.combine(end_day, self.end, tz)


class RotaMonth(models.Model):
    rota = models.ForeignKey(Rota, on_delete=models.CASCADE, related_name="months")
    month = models.DateField("月（1日）")
    status = models.CharField(max_length=10, choices=MonthStatus.choices, default=MonthStatus.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = "当番表（月）"
        verbose_name_plural = "当番表（月）"
        ordering = ["rota", "month"]
        constraints = [models.UniqueConstraint(fields=["rota", "month"], name="uniq_rota_month")]

    def __str__(self) -> str:
        return f"{self.rota} {self.month:%Y年%-m月}"

    @property
    def is_published(self) -> bool:
        return self.status == MonthStatus.PUBLISHED


class ShiftQuerySet(models.QuerySet["Shift"]):
    def published(self) -> Self:
        return self.filter(month__status=MonthStatus.PUBLISHED)

    def at(self, moment: dt.datetime) -> Self:
        return self.filter(starts_at__lte=moment, ends_at__gt=moment)

    def gaps(self) -> Self:
        return self.filter(member__isnull=True)


class Shift(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    rota = models.ForeignKey(Rota, on_delete=models.CASCADE, related_name="shifts")
    month = models.ForeignKey(RotaMonth, on_delete=models.CASCADE, related_name="shifts")
    day = models.DateField("当番日")
    day_type = models.CharField("日の種類", max_length=10, choices=DayType.choices)
    holiday_name = models.CharField("祝日名", max_length=40, blank=True)
    label = models.CharField("枠", max_length=30)
    starts_at = models.DateTimeField("開始")
    ends_at = models.DateTimeField("終了")
    member = models.ForeignKey(
        RotaMember,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="shifts",
        verbose_name="当番",
    )
    gap_alerted_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    objects = ShiftQuerySet.as_manager()

    class Meta:
        verbose_name = "当番枠"
        verbose_name_plural = "当番枠"
        ordering = ["starts_at", "pk"]
        indexes = [models.Index(fields=["rota", "starts_at", "ends_at"])]

    def __str__(self) -> str:
        return f"{self.day:%-m/%-d} {self.label}"

    @property
    def is_gap(self) -> bool:
        return self.member_id is None


class Unavailability(models.Model):
    member = models.ForeignKey(RotaMember, on_delete=models.CASCADE, related_name="unavailable")
    day = models.DateField("入れない日")
    note = models.CharField("理由", max_length=100, blank=True)

    class Meta:
        verbose_name = "当番に入れない日"
        verbose_name_plural = "当番に入れない日"
        ordering = ["day"]
        constraints = [
            models.UniqueConstraint(fields=["member", "day"], name="uniq_member_unavailable")
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.day}"


class SwapRequest(models.Model):
    """A member asks another to take its shift; the other accepts; the organiser approves
    unless the rota lets members swap on their own."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="swaps")
    from_member = models.ForeignKey(RotaMember, on_delete=models.PROTECT, related_name="+")
    to_member = models.ForeignKey(RotaMember, on_delete=models.PROTECT, related_name="+")
    note = models.CharField("ひとこと", max_length=200, blank=True)
    status = models.CharField(
        max_length=10, choices=SwapStatus.choices, default=SwapStatus.REQUESTED
    )
    requested_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "当番の交代"
        verbose_name_plural = "当番の交代"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.shift}: {self.from_member} → {self.to_member}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_SWAPS


# The cover chain per patient (ADR 0036) -------------------------------------------------------


class CoverQuerySet(models.QuerySet["CoverAgreement"]):
    def active(self, day: dt.date) -> Self:
        return self.filter(valid_from__lte=day).filter(
            models.Q(valid_until__isnull=True) | models.Q(valid_until__gte=day)
        )


class CoverAgreement(models.Model):
    """Who answers for one patient at night: the 主治医's clinic, the 副主治医's clinic that agreed
    to cover, the clinic's own night arrangement, and the municipality whose rotas come next."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        "care.Patient", on_delete=models.CASCADE, related_name="cover_agreements"
    )
    primary = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name="主治医の医療機関"
    )
    primary_doctor = models.CharField("主治医", max_length=60, blank=True)
    primary_phone = models.CharField("主治医の連絡先電話", max_length=30)
    night_arrangement = models.CharField("夜間の体制", max_length=200, blank=True)
    night_phone = models.CharField("夜間の連絡先電話", max_length=30, blank=True)
    secondary = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="副主治医の医療機関",
    )
    secondary_doctor = models.CharField("副主治医", max_length=60, blank=True)
    secondary_phone = models.CharField("副主治医の連絡先電話", max_length=30, blank=True)
    agreed_on = models.DateField("副主治医の同意日", null=True, blank=True)
    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="+", verbose_name="患者の市区町村"
    )
    valid_from = models.DateField("開始日")
    valid_until = models.DateField("終了日", null=True, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1)

    objects = CoverQuerySet.as_manager()

    class Meta:
        verbose_name = "主治医・副主治医の取り決め"
        verbose_name_plural = "主治医・副主治医の取り決め"
        ordering = ["-valid_from", "-pk"]

    def __str__(self) -> str:
        return f"取り決め {str(self.code)[:8]}"


class AbsenceQuerySet(models.QuerySet["Absence"]):
    def at(self, moment: dt.datetime) -> Self:
        return self.filter(starts_at__lte=moment, ends_at__gt=moment)


class Absence(models.Model):
    """A clinic (doctor blank) or one of its doctors away for a period: the chain skips them."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="absences"
    )
    doctor = models.CharField("医師（空欄なら医療機関全体）", max_length=60, blank=True)
    starts_at = models.DateTimeField("開始")
    ends_at = models.DateTimeField("終了")
    note = models.CharField("理由", max_length=100, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AbsenceQuerySet.as_manager()

    class Meta:
        verbose_name = "不在"
        verbose_name_plural = "不在"
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["organization", "starts_at", "ends_at"])]

    def __str__(self) -> str:
        return f"{self.organization} {self.doctor} 不在"


# Backup beds (後方ベッド) and care facilities' 協力医療機関 (issue 14 §3, ADR 0047) -------------


class BedScheme(models.TextChoices):
    SUPPORT_HOSPITAL = "support_hospital", "在宅療養後方支援病院"
    ASSOCIATION = "association", "医師会等の後方ベッド確保事業"


class BackupBedOffer(models.Model):
    """A hospital's offer of backup beds to pre-registered home patients."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    hospital = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="backup_bed_offers"
    )
    scheme = models.CharField("制度", max_length=20, choices=BedScheme.choices)
    name = models.CharField("名称", max_length=100)
    phone = models.CharField("入院依頼の連絡先電話", max_length=30)
    beds = models.PositiveSmallIntegerField("確保病床数", null=True, blank=True)
    note = models.CharField("受入れの条件など", max_length=300, blank=True)
    is_active = models.BooleanField("受付中", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "後方ベッドの提供"
        verbose_name_plural = "後方ベッドの提供"
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return f"{self.hospital.name}（{self.get_scheme_display()}）"


class RegistrationStatus(models.TextChoices):
    REQUESTED = "requested", "病院の受入れ確認中"
    ACCEPTED = "accepted", "登録済み"
    DECLINED = "declined", "病院がお断り"
    ENDED = "ended", "登録終了"


OPEN_REGISTRATIONS = (RegistrationStatus.REQUESTED, RegistrationStatus.ACCEPTED)


class BackupBedRegistration(models.Model):
    """One patient pre-registered with one hospital: at most one open registration per patient
    (the partial unique constraint is the last line behind the action's row lock)."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey("care.Patient", on_delete=models.CASCADE, related_name="+")
    offer = models.ForeignKey(BackupBedOffer, on_delete=models.PROTECT, related_name="+")
    hospital = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="backup_bed_patients"
    )
    clinic = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name="主治医の医療機関"
    )
    consent = models.ForeignKey("care.Consent", on_delete=models.PROTECT, related_name="+")
    registered_by = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    registered_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(
        max_length=10, choices=RegistrationStatus.choices, default=RegistrationStatus.REQUESTED
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        Membership, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decline_reason = models.CharField("お断りの理由", max_length=200, blank=True)
    last_exchange_at = models.DateTimeField("最後の情報交換")
    stale_alerted_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = "後方ベッドの事前登録"
        verbose_name_plural = "後方ベッドの事前登録"
        ordering = ["-registered_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=models.Q(status__in=["requested", "accepted"]),
                name="one_open_backup_bed_per_patient",
            )
        ]
        indexes = [models.Index(fields=["hospital", "status", "last_exchange_at"])]

    def __str__(self) -> str:
        return f"後方ベッド登録 {str(self.code)[:8]}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_REGISTRATIONS


class BackupBedExchange(models.Model):
    """Information sent in advance or refreshed since (either side); the last one dates the
    registration's 「最後の情報交換」."""

    registration = models.ForeignKey(
        BackupBedRegistration, on_delete=models.CASCADE, related_name="exchanges"
    )
    at = models.DateTimeField(default=timezone.now)
    from_hospital = models.BooleanField(default=False)
    summary = EncryptedTextField("内容（病状・方針・服薬など）", max_length=2000)
    by = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "後方ベッドの情報交換"
        verbose_name_plural = "後方ベッドの情報交換"
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"情報交換 {self.at:%Y-%m-%d}"


class BedOutcome(models.TextChoices):
    HOME = "home", "在宅に復帰"
    STAYING = "staying", "入院継続中"
    TRANSFERRED = "transferred", "転院・施設入所"
    DIED = "died", "死亡退院"
    NOT_ADMITTED = "not_admitted", "入院に至らず（外来対応）"


class BedUseCount(TypedDict):
    municipality: int
    fiscal_year: int
    uses: int


class BedUseQuerySet(models.QuerySet["BackupBedUse"]):
    def fiscal_year_expression(self) -> models.Case:
        """The Japanese fiscal year (April–March, its Western start year) of `admitted_on`."""
        year = ExtractYear("admitted_on")
        return models.Case(
            models.When(admitted_on__month__gte=4, then=year),
            default=year - 1,
            output_field=models.IntegerField(),
        )

    def per_municipality_year(
        self, years: Iterable[int] | None = None
    ) -> models.QuerySet[BackupBedUse, BedUseCount]:
        """Counts of uses per municipality × fiscal year, one statement: rows of
        `{"municipality": id, "fiscal_year": int, "uses": int}`, ordered by both keys.

        The municipality is that of the 主治医's clinic (the registration's clinic): the patient
        record holds no municipality outside its encrypted address, and a home patient lives in
        the clinic's area. Uses whose clinic has no municipality are left out. Chain filters
        before it (`.filter(outcome=...)`, `.filter(registration__hospital=...)`)."""
        qs = self.filter(registration__clinic__municipality__isnull=False).annotate(
            fiscal_year=self.fiscal_year_expression(),
            municipality=models.F("registration__clinic__municipality_id"),
        )
        if years is not None:
            qs = qs.filter(fiscal_year__in=list(years))
        return (
            qs.values("municipality", "fiscal_year")
            .annotate(uses=models.Count("pk"))
            .order_by("municipality", "fiscal_year")
        )


class BackupBedUse(models.Model):
    """Each use of a backup bed, for the indicators (uses per month, outcomes)."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    registration = models.ForeignKey(
        BackupBedRegistration, on_delete=models.CASCADE, related_name="uses"
    )
    admitted_on = models.DateField("受診・入院日")
    outcome = models.CharField("転帰", max_length=15, choices=BedOutcome.choices)
    discharged_on = models.DateField("退院日", null=True, blank=True)
    note = EncryptedTextField("メモ", max_length=300, blank=True, default="")
    recorded_by = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = BedUseQuerySet.as_manager()

    class Meta:
        verbose_name = "後方ベッドの利用"
        verbose_name_plural = "後方ベッドの利用"
        ordering = ["-admitted_on", "-pk"]

    def __str__(self) -> str:
        return f"後方ベッド利用 {self.admitted_on}"


class CooperatingInstitution(models.Model):
    """A care facility's 協力医療機関 (GH, 地域密着型特養 …), confirmed once a fiscal year."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    facility = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="cooperating_institutions"
    )
    institution = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cooperating_facilities",
        verbose_name="協力医療機関（登録済みの組織）",
    )
    name = models.CharField("協力医療機関の名称", max_length=120)
    phone = models.CharField("急変時の連絡先電話", max_length=30)
    valid_from = models.DateField("協力の開始日")
    valid_until = models.DateField("協力の終了日", null=True, blank=True)
    reminded_fiscal_year = models.PositiveSmallIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "協力医療機関"
        verbose_name_plural = "協力医療機関"
        ordering = ["facility", "name", "pk"]

    def __str__(self) -> str:
        return self.name


class CooperationConfirmation(models.Model):
    """The year's confirmation of how sudden deterioration is handled, and when it was filed
    to the municipality (指定権者)."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    cooperation = models.ForeignKey(
        CooperatingInstitution, on_delete=models.CASCADE, related_name="confirmations"
    )
    fiscal_year = models.PositiveSmallIntegerField("年度")
    confirmed_on = models.DateField("協力医療機関と確認した日")
    filed_on = models.DateField("自治体に届け出た日", null=True, blank=True)
    note = models.CharField("確認した内容", max_length=500, blank=True)
    recorded_by = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "協力医療機関との年1回の確認"
        verbose_name_plural = "協力医療機関との年1回の確認"
        ordering = ["-fiscal_year", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["cooperation", "fiscal_year"], name="uniq_cooperation_fiscal_year"
            )
        ]

    def __str__(self) -> str:
        return f"{self.fiscal_year}年度の確認"


# The 副主治医 search through the placement network (issue 14 §2, ADR 0016) ---------------------


class CoverRole(models.TextChoices):
    PRIMARY = "primary", "主治医"
    SECONDARY = "secondary", "副主治医"


class DiseaseGroup(models.TextChoices):
    CANCER = "cancer", "がん（終末期を含む）"
    HEART = "heart", "心不全・循環器疾患"
    RESPIRATORY = "respiratory", "呼吸器疾患（在宅酸素など）"
    NEURO = "neuro", "神経難病"
    DEMENTIA = "dementia", "認知症"
    FRAILTY = "frailty", "老衰・フレイル"
    RENAL = "renal", "腎不全"
    PEDIATRIC = "pediatric", "小児（医療的ケア児）"
    OTHER = "other", "その他"


class SearchStatus(models.TextChoices):
    OPEN = "open", "募集中"
    DECIDED = "decided", "決定"
    WITHDRAWN = "withdrawn", "取下げ"


class CoverSearch(models.Model):
    """An anonymous case posted to the clinics of an area (長崎在宅Dr.ネット's way): area,
    disease group, needs. The patient stays with the requesting clinic; recipients never see it."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey("care.Patient", on_delete=models.CASCADE, related_name="+")
    requester = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="cover_searches"
    )
    requested_by = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    wanted = models.CharField("募集する役割", max_length=10, choices=CoverRole.choices)
    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="+", verbose_name="患者の市区町村"
    )
    age_band = models.CharField("年代", max_length=5, blank=True)
    disease_group = models.CharField("疾患群", max_length=15, choices=DiseaseGroup.choices)
    needs = models.CharField("必要な医療・ケア（個人を特定する情報は書かない）", max_length=500)
    status = models.CharField(
        max_length=10, choices=SearchStatus.choices, default=SearchStatus.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "副主治医の募集"
        verbose_name_plural = "副主治医の募集"
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"募集 {str(self.code)[:8]}"


class CoverSearchRecipient(models.Model):
    search = models.ForeignKey(CoverSearch, on_delete=models.CASCADE, related_name="recipients")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["search", "organization"], name="uniq_cover_search_recipient"
            )
        ]
        indexes = [models.Index(fields=["organization", "search"])]

    def __str__(self) -> str:
        return f"{self.search} → {self.organization_id}"


class VolunteerStatus(models.TextChoices):
    OFFERED = "offered", "名乗り出"
    CHOSEN = "chosen", "決定"
    NOT_CHOSEN = "not_chosen", "見送り"


class CoverVolunteer(models.Model):
    """A clinic volunteering as 主治医 or 副主治医 for a search."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    search = models.ForeignKey(CoverSearch, on_delete=models.CASCADE, related_name="volunteers")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    role = models.CharField("引き受ける役割", max_length=10, choices=CoverRole.choices)
    doctor = models.CharField("担当医", max_length=60)
    phone = models.CharField("連絡先電話", max_length=30)
    message = models.CharField("ひとこと", max_length=300, blank=True)
    by = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=10, choices=VolunteerStatus.choices, default=VolunteerStatus.OFFERED
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "副主治医への名乗り出"
        verbose_name_plural = "副主治医への名乗り出"
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["search", "organization"], name="uniq_cover_volunteer"),
            models.UniqueConstraint(
                fields=["search"],
                condition=models.Q(status="chosen"),
                name="one_chosen_volunteer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization}（{self.get_role_display()}）"


class CoverShare(models.Model):
    """往診時医療情報連携加算: the month's record that the patient's information and the plan for
    sudden deterioration were shared with the cover clinic."""

    agreement = models.ForeignKey(CoverAgreement, on_delete=models.CASCADE, related_name="shares")
    month = models.DateField("対象月（1日）")
    shared_on = models.DateField("共有した日")
    note = models.CharField("共有した内容", max_length=300, blank=True)
    by = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "診療情報・急変時の方針の共有（月次）"
        verbose_name_plural = "診療情報・急変時の方針の共有（月次）"
        ordering = ["-month"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "month"], name="uniq_cover_share_month")
        ]

    def __str__(self) -> str:
        return f"共有 {self.month:%Y-%m}"
