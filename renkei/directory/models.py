"""The resource directory: facilities, their capabilities, conditions and vacancies."""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any, Self

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from renkei.accounts.models import Organization, OrgKind, User
from renkei.lib.geo import cell_of
from renkei.lib.text import normalize_phone, normalize_postal_code, normalize_search
from renkei.regions.models import Municipality, Prefecture

MAX_CAPABILITY_BITS = 63


def _as_org(kind: OrgKind) -> tuple[str, str]:
    return kind.value, str(kind.label)


class FacilityKind(models.TextChoices):
    # A facility of these kinds is run by an organisation of the same kind: one code, one name.
    HOSPITAL = _as_org(OrgKind.HOSPITAL)
    CLINIC = _as_org(OrgKind.CLINIC)
    DENTAL = _as_org(OrgKind.DENTAL)
    PHARMACY = _as_org(OrgKind.PHARMACY)
    VISITING_NURSE = _as_org(OrgKind.VISITING_NURSE)
    CARE_MANAGEMENT = _as_org(OrgKind.CARE_MANAGEMENT)
    COMMUNITY_CENTER = _as_org(OrgKind.COMMUNITY_CENTER)
    TOKUYO = "tokuyo", "介護老人福祉施設（特養）"
    ROKEN = "roken", "介護老人保健施設（老健）"
    KAIGO_IRYOIN = "kaigo_iryoin", "介護医療院"
    GROUP_HOME = "group_home", "認知症グループホーム"
    TOKUTEI = "tokutei", "有料老人ホーム・特定施設"
    SAKOJU = "sakoju", "サービス付き高齢者向け住宅"
    SHOTAKI = "shotaki", "小規模多機能型居宅介護"
    KANTAKI = "kantaki", "看護小規模多機能型居宅介護"
    TEIKI = "teiki", "定期巡回・随時対応型訪問介護看護"
    SHORT_STAY = "short_stay", "短期入所（ショートステイ）"
    DAY_CARE = "day_care", "通所介護・通所リハ"
    HOME_HELP = "home_help", "訪問介護"
    OTHER_CARE = "other_care", "その他の介護サービス"

    @classmethod
    def residential(cls) -> list[str]:
        return [cls.TOKUYO, cls.ROKEN, cls.KAIGO_IRYOIN, cls.GROUP_HOME, cls.TOKUTEI, cls.SAKOJU]

    @classmethod
    def medical(cls) -> list[str]:
        return [cls.HOSPITAL, cls.CLINIC, cls.DENTAL, cls.PHARMACY, cls.VISITING_NURSE]


class CareLevel(models.IntegerChoices):
    INDEPENDENT = 0, "自立"
    SUPPORT_1 = 1, "要支援1"
    SUPPORT_2 = 2, "要支援2"
    CARE_1 = 3, "要介護1"
    CARE_2 = 4, "要介護2"
    CARE_3 = 5, "要介護3"
    CARE_4 = 6, "要介護4"
    CARE_5 = 7, "要介護5"


class SexAccepted(models.TextChoices):
    ANY = "any", "男女とも"
    MALE = "male", "男性のみ"
    FEMALE = "female", "女性のみ"


class VacancyStatus(models.TextChoices):
    AVAILABLE = "available", "空きあり"
    FEW = "few", "残りわずか"
    NONE = "none", "満床・受付停止"
    UNKNOWN = "unknown", "未登録"


class WardKind(models.TextChoices):
    ACUTE = "acute", "高度急性期・急性期"
    RECOVERY = "recovery", "回復期リハビリテーション病棟"
    COMMUNITY = "community", "地域包括ケア病棟"
    LONG_TERM = "long_term", "療養病棟"
    PALLIATIVE = "palliative", "緩和ケア病棟"
    PSYCHIATRIC = "psychiatric", "精神病棟"


# The facility's own details (address, phone, …) are old after a year without an update or a
# newer open-data import.
INFO_STALE_DAYS = 365


def vacancy_is_stale(confirmed_at: dt.datetime | None, now: dt.datetime | None = None) -> bool:
    """Never confirmed, or confirmed more than DIRECTORY_STALE_DAYS ago."""
    if confirmed_at is None:
        return True
    return ((now or timezone.now()) - confirmed_at).days > settings.DIRECTORY_STALE_DAYS


class CapabilityQuerySet(models.QuerySet["Capability"]):
    def for_prefecture(self, prefecture: Prefecture | None) -> Self:
        if prefecture is None:
            return self.filter(prefecture__isnull=True)
        return self.filter(models.Q(prefecture__isnull=True) | models.Q(prefecture=prefecture))

    def mask_of(self, codes: Iterable[str]) -> int:
        mask = 0
        for bit in self.filter(code__in=list(codes)).values_list("bit", flat=True):
            mask |= 1 << bit
        return mask


class Capability(models.Model):
    """A 処置項目 a facility can handle. Data, not an enum: regions add their own.

    Each capability owns one bit of Facility.capability_mask so that "all of these"
    is a single indexed-row arithmetic test in SQL on SQLite and PostgreSQL alike.
    """

    code = models.SlugField("コード", max_length=40, unique=True)
    name = models.CharField("名称", max_length=60)
    group = models.CharField("分類", max_length=40, blank=True)
    description = models.CharField("説明", max_length=200, blank=True)
    prefecture = models.ForeignKey(
        Prefecture,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        verbose_name="地域独自（都道府県）",
        help_text="空欄は全国共通の項目",
    )
    bit = models.PositiveSmallIntegerField("ビット位置", unique=True, editable=False)
    sort_order = models.PositiveSmallIntegerField("並び順", default=0)

    objects = CapabilityQuerySet.as_manager()

    class Meta:
        verbose_name = "処置項目"
        verbose_name_plural = "処置項目"
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        if getattr(self, "bit", None) is None:
            used = set(Capability.objects.values_list("bit", flat=True))
            free = [b for b in range(MAX_CAPABILITY_BITS) if b not in used]
            if not free:
                raise ValidationError(f"処置項目は{MAX_CAPABILITY_BITS}件までです")
            self.bit = free[0]
        super().save(*args, **kwargs)
        forget_vocabulary()

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        try:
            return super().delete(*args, **kwargs)
        finally:
            forget_vocabulary()


@dataclass(frozen=True)
class Vocabulary:
    """Every Capability, read once and shared: a search names capabilities by code and
    decodes Facility.capability_mask by bit, and neither needs a query for that."""

    loaded_at: float
    by_pk: dict[int, Capability]
    by_code: dict[str, Capability]
    # Capability.Meta.ordering, the order in which a facility lists its capabilities.
    ordered: tuple[Capability, ...]
    bits: int

    @classmethod
    def load(cls) -> Vocabulary:
        caps = list(Capability.objects.order_by("sort_order", "code"))
        bits = 0
        for c in caps:
            bits |= 1 << c.bit
        return cls(
            loaded_at=time.monotonic(),
            by_pk={c.pk: c for c in caps},
            by_code={c.code: c for c in caps},
            ordered=tuple(caps),
            bits=bits,
        )

    def covers(self, mask: int) -> bool:
        return mask & ~self.bits == 0

    def codes_of(self, mask: int) -> list[str]:
        return [c.code for c in self.ordered if mask >> c.bit & 1]

    def of(self, mask: int) -> list[Capability]:
        """The capabilities of a capability_mask, in the vocabulary's order."""
        return [c for c in self.ordered if mask >> c.bit & 1]


# The vocabulary changes a few times a year (a region adds an item) and is read by every
# search. Each process keeps it for VOCABULARY_SECONDS; a save or delete here drops it at
# once, and a code or bit it does not know makes the caller reload it (see vocabulary()), so
# another process's change is seen at the latest after VOCABULARY_SECONDS (a renamed item)
# and at once where it matters (a new item being searched for or shown).
VOCABULARY_SECONDS = 60.0
_vocabulary: Vocabulary | None = None
_vocabulary_lock = threading.Lock()


def vocabulary(*, codes: Iterable[str] = (), mask: int = 0) -> Vocabulary:
    """The shared Vocabulary, reloaded if stale or if it lacks one of `codes` or a bit of `mask`."""
    global _vocabulary
    current = _vocabulary
    if (
        current is not None
        and time.monotonic() - current.loaded_at < VOCABULARY_SECONDS
        and all(code in current.by_code for code in codes)
        and current.covers(mask)
    ):
        return current
    with _vocabulary_lock:
        _vocabulary = Vocabulary.load()
        return _vocabulary


def forget_vocabulary() -> None:
    global _vocabulary
    _vocabulary = None


class FacilityQuerySet(models.QuerySet["Facility"]):
    def public(self) -> Self:
        return self.filter(is_active=True)

    def curated_by(self, organization: Organization) -> Self:
        """Facilities an organisation may edit: its own, or all in the municipalities it curates."""
        own = models.Q(organization=organization)
        curated = models.Q(municipality__in=organization.curated_municipalities())
        return self.filter(own | curated) if organization.is_government else self.filter(own)

    def with_capabilities(self, mask: int) -> Self:
        if not mask:
            return self
        return self.annotate(_capm=models.F("capability_mask").bitand(mask)).filter(_capm=mask)


phone_validator = RegexValidator(
    r"^[0-9０-９\-‐ー()（） +]{6,20}$", "電話番号の形式が正しくありません"
)


# The acceptance conditions a facility sets (受入れ条件), which matching compares with a case, in
# the order the forms, the API and the matching query list them. `conditions_note` explains them.
ACCEPTANCE_FIELDS = (
    "care_level_min",
    "care_level_max",
    "accepts_dementia",
    "accepts_infection",
    "sex_accepted",
    "cost_min",
    "cost_max",
)
# How to reach the facility and when: the details its staff keep up besides the conditions.
CONTACT_FIELDS = ("phone", "fax", "website", "hours", "closed_days", "description")
# Where the facility stands: what the open data gives and a curator enters for a new one.
PLACE_FIELDS = ("address", "address_extra", "lat", "lng")


class Facility(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField("種別", max_length=30, choices=FacilityKind.choices)
    name = models.CharField("名称", max_length=200)
    kana = models.CharField("ふりがな", max_length=200, blank=True)
    short_name = models.CharField("略称", max_length=100, blank=True)
    search_text = models.TextField(editable=False, default="")
    corporation_number = models.CharField(
        "法人番号",
        max_length=13,
        blank=True,
        validators=[RegexValidator(r"^\d{13}$", "法人番号は13桁の数字です")],
    )
    corporation_name = models.CharField("法人名", max_length=200, blank=True)
    medical_id = models.CharField(
        "医療機関ID",
        max_length=13,
        null=True,
        blank=True,
        validators=[RegexValidator(r"^\d{13}$", "医療機関IDは13桁の数字です")],
    )
    care_office_number = models.CharField(
        "介護事業所番号",
        max_length=10,
        null=True,
        blank=True,
        validators=[RegexValidator(r"^\d{10}$", "事業所番号は10桁の数字です")],
    )
    postal_code = models.CharField(
        "郵便番号",
        max_length=8,
        blank=True,
        validators=[RegexValidator(r"^\d{3}-?\d{4}$", "郵便番号は7桁です")],
    )
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="facilities",
        verbose_name="市区町村",
        db_index=False,  # facility_muni_kind_idx leads with it
    )
    address = models.CharField("所在地", max_length=200)
    address_extra = models.CharField("方書（建物名等）", max_length=200, blank=True)
    lat = models.FloatField("緯度", null=True, blank=True)
    lng = models.FloatField("経度", null=True, blank=True)
    geo_cell = models.IntegerField(null=True, blank=True, editable=False)
    phone = models.CharField("電話番号", max_length=20, blank=True, validators=[phone_validator])
    fax = models.CharField("FAX番号", max_length=20, blank=True, validators=[phone_validator])
    website = models.URLField("ウェブサイト", max_length=300, blank=True)
    hours = models.CharField("受付時間・営業日", max_length=300, blank=True)
    closed_days = models.CharField("休業日", max_length=200, blank=True)
    capacity = models.PositiveIntegerField("定員", null=True, blank=True)
    beds = models.PositiveIntegerField("病床数", null=True, blank=True)
    is_home_care_support = models.BooleanField("在宅療養支援診療所・病院", default=False)
    is_backup_hospital = models.BooleanField("在宅療養後方支援病院", default=False)
    description = models.TextField("紹介文", blank=True)

    capabilities = models.ManyToManyField(
        Capability, blank=True, related_name="facilities", verbose_name="対応できる処置"
    )
    capability_mask = models.BigIntegerField(default=0, editable=False)

    care_level_min = models.PositiveSmallIntegerField(
        "受入れ要介護度（下限）", choices=CareLevel.choices, null=True, blank=True
    )
    care_level_max = models.PositiveSmallIntegerField(
        "受入れ要介護度（上限）", choices=CareLevel.choices, null=True, blank=True
    )
    accepts_dementia = models.BooleanField("認知症の方の受入れ", null=True, blank=True)
    accepts_infection = models.BooleanField("感染症（MRSA等）の方の受入れ", null=True, blank=True)
    sex_accepted = models.CharField(
        "受入れ性別", max_length=10, choices=SexAccepted.choices, default=SexAccepted.ANY
    )
    cost_min = models.PositiveIntegerField("月額費用の目安（下限・円）", null=True, blank=True)
    cost_max = models.PositiveIntegerField("月額費用の目安（上限・円）", null=True, blank=True)
    conditions_note = models.TextField("受入れ条件の補足", blank=True)

    service_municipalities = models.ManyToManyField(
        Municipality, blank=True, related_name="served_by", verbose_name="サービス提供地域"
    )
    service_radius_km = models.FloatField("訪問範囲（半径km）", null=True, blank=True)

    vacancy_status = models.CharField(
        "空き状況",
        max_length=10,
        choices=VacancyStatus.choices,
        default=VacancyStatus.UNKNOWN,
    )
    vacancy_count = models.PositiveIntegerField("空き数", null=True, blank=True)
    vacancy_note = models.CharField("空き状況の補足", max_length=300, blank=True)
    vacancy_confirmed_at = models.DateTimeField("空き状況の確認日時", null=True, blank=True)
    vacancy_confirmed_by = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="空き状況の確認者",
        db_index=False,  # facility_vacancy_by_idx, partial
    )
    info_updated_at = models.DateTimeField("施設情報の更新日時", null=True, blank=True)
    info_updated_by = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="施設情報の更新者",
        db_index=False,  # facility_info_by_idx, partial
    )
    liaison_contact = models.CharField(
        "連携窓口（関係者のみ表示）",
        max_length=200,
        blank=True,
        help_text="入退院支援の担当者名・直通電話など。ログインした関係者にだけ表示されます。",
    )

    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="facilities",
        verbose_name="管理組織",
        db_index=False,  # facility_org_idx, partial
    )
    source = models.CharField("出典", max_length=20, blank=True)
    source_date = models.DateField("出典の時点", null=True, blank=True)
    is_active = models.BooleanField("掲載中", default=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = FacilityQuerySet.as_manager()

    class Meta:
        verbose_name = "施設・事業所"
        verbose_name_plural = "施設・事業所"
        ordering = ["kana", "name"]
        indexes = [
            # Covers the radius search (cells, kind, vacancy, capabilities, distance, keys)
            # so that it is answered from the index alone, searches by kind too: plain key
            # columns, not INCLUDE, because SQLite covers with them too. It also serves what
            # an index on (geo_cell, kind) served. See docs/benchmarks.md, ADR 0040.
            models.Index(
                fields=[
                    "geo_cell",
                    "kind",
                    "vacancy_status",
                    "capability_mask",
                    "lat",
                    "lng",
                    "is_active",
                    "id",
                ],
                name="facility_search_idx",
            ),
            # A search for vacancies (「空きあり」, what a placement asks for first) reads
            # only the facilities with one: the same columns over about a third of the rows
            # (the status and is_active are in the condition), so a dense city's radius search
            # filters 13,500 index entries instead of 36,600 (docs/benchmarks.md, session 8).
            # The condition is fsql.with_vacancy()'s, as the planner must prove it implied.
            models.Index(
                fields=["geo_cell", "kind", "capability_mask", "lat", "lng", "id"],
                name="facility_vacant_idx",
                condition=models.Q(is_active=True, vacancy_status__in=["available", "few"]),
            ),
            models.Index(fields=["municipality", "kind"], name="facility_muni_kind_idx"),
            models.Index(fields=["kana"], name="facility_kana_idx"),
            # A facility's own organisation, and SET NULL when a user is deleted. Partial: most
            # facilities have none of them, and an import of 250,000 new ones should not
            # maintain entries for them.
            models.Index(
                fields=["vacancy_confirmed_by"],
                name="facility_vacancy_by_idx",
                condition=models.Q(vacancy_confirmed_by__isnull=False),
            ),
            models.Index(
                fields=["organization"],
                name="facility_org_idx",
                condition=models.Q(organization__isnull=False),
            ),
            models.Index(
                fields=["info_updated_by"],
                name="facility_info_by_idx",
                condition=models.Q(info_updated_by__isnull=False),
            ),
        ]
        # Constraints rather than unique=True: on PostgreSQL a unique CharField also gets a
        # varchar_pattern_ops index for LIKE, which no query here uses and every import
        # maintains. Likewise kind, vacancy_status and municipality have no index of their
        # own (low selectivity, or covered by a composite one). docs/benchmarks.md.
        constraints = [
            models.UniqueConstraint(fields=["medical_id"], name="facility_medical_id_uniq"),
            models.UniqueConstraint(
                fields=["care_office_number"], name="facility_care_office_number_uniq"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.refresh_derived()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "search_text", "geo_cell"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("directory:detail", args=[self.code])

    def refresh_derived(self) -> None:
        self.search_text = normalize_search(
            " ".join([self.name, self.kana, self.short_name, self.corporation_name])
        )
        self.geo_cell = (
            cell_of(self.lat, self.lng) if self.lat is not None and self.lng is not None else None
        )

    def set_capabilities(self, capabilities: Iterable[Capability]) -> None:
        caps = list(capabilities)
        self.capabilities.set(caps)
        mask = 0
        for c in caps:
            mask |= 1 << c.bit
        self.capability_mask = mask
        Facility.objects.filter(pk=self.pk).update(capability_mask=mask)

    def has_location(self) -> bool:
        return self.lat is not None and self.lng is not None

    # Freshness -----------------------------------------------------------
    def vacancy_age_days(self, now: dt.datetime | None = None) -> int | None:
        if self.vacancy_confirmed_at is None:
            return None
        return ((now or timezone.now()) - self.vacancy_confirmed_at).days

    def vacancy_is_stale(self, now: dt.datetime | None = None) -> bool:
        return vacancy_is_stale(self.vacancy_confirmed_at, now)

    def staleness_notes(self, now: dt.datetime | None = None) -> list[str]:
        """What a reader should know is old on the facility's page, in words."""
        now = now or timezone.now()
        notes = []
        if self.vacancy_status != VacancyStatus.UNKNOWN and self.vacancy_is_stale(now):
            confirmed = self.vacancy_confirmed_at
            when = (
                f"{(now - confirmed).days}日前に確認された"
                if confirmed
                else "いつ確認されたか不明な"
            )
            notes.append(
                f"空き状況は{when}もので、変わっている可能性があります。"
                "利用の前に施設へ電話で確かめてください。"
            )
        dates = [d for d in (self.info_updated_at, self.source_date) if d is not None]
        latest = max(
            (timezone.localtime(d).date() if isinstance(d, dt.datetime) else d for d in dates),
            default=None,
        )
        # Without any date there is nothing to say how old it is (a facility added by hand).
        if latest is not None and (now.date() - latest).days > INFO_STALE_DAYS:
            when = f"{latest.year}年{latest.month}月{latest.day}日"
            notes.append(
                f"施設の基本情報は1年以上更新されていません（最終更新: {when}）。"
                "所在地・電話番号などが変わっている可能性があります。"
            )
        return notes

    def accepts_care_level(self, level: int) -> bool:
        lo = self.care_level_min if self.care_level_min is not None else CareLevel.INDEPENDENT
        hi = self.care_level_max if self.care_level_max is not None else CareLevel.CARE_5
        return lo <= level <= hi

    def clean_fields(self, exclude: Collection[str] | None = None) -> None:
        # Before the validators: 「０４６６－２２－１１１１」 and 「２５２－１１２３」 as typed on a
        # Japanese keyboard are valid numbers, not errors (issue 9 §6).
        self.phone = normalize_phone(self.phone)
        self.fax = normalize_phone(self.fax)
        self.postal_code = normalize_postal_code(self.postal_code)
        super().clean_fields(exclude=exclude)

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if (
            self.care_level_min is not None
            and self.care_level_max is not None
            and self.care_level_min > self.care_level_max
        ):
            errors["care_level_max"] = "要介護度の上限は下限以上にしてください"
        if (
            self.cost_min is not None
            and self.cost_max is not None
            and self.cost_min > self.cost_max
        ):
            errors["cost_max"] = "費用の上限は下限以上にしてください"
        if (self.lat is None) != (self.lng is None):
            errors["lng"] = "緯度と経度は両方入力してください"
        if self.lat is not None and not 20 <= self.lat <= 46:
            errors["lat"] = "緯度が日本の範囲外です"
        if self.lng is not None and not 122 <= self.lng <= 154:
            errors["lng"] = "経度が日本の範囲外です"
        if errors:
            raise ValidationError(errors)


class FacilityService(models.Model):
    """One 介護 service a facility is designated for (one row per 公表 file it appears in)."""

    facility = models.ForeignKey(
        Facility,
        on_delete=models.CASCADE,
        related_name="services",
        verbose_name="施設",
        db_index=False,  # uniq_facility_service leads with it
    )
    service_code = models.CharField("サービスコード", max_length=3)
    service_name = models.CharField("サービスの種類", max_length=60)
    capacity = models.PositiveIntegerField("定員", null=True, blank=True)

    class Meta:
        verbose_name = "提供サービス"
        verbose_name_plural = "提供サービス"
        constraints = [
            models.UniqueConstraint(
                fields=["facility", "service_code"], name="uniq_facility_service"
            )
        ]
        ordering = ["service_code"]

    def __str__(self) -> str:
        return self.service_name


class Specialty(models.Model):
    """A 診療科 with its hours, from the 医療情報ネット 診療科・診療時間票."""

    facility = models.ForeignKey(
        Facility, on_delete=models.CASCADE, related_name="specialties", verbose_name="施設"
    )
    code = models.CharField("診療科目コード", max_length=5)
    name = models.CharField("診療科目名", max_length=60)
    hours = models.JSONField("診療時間", default=dict, blank=True)

    class Meta:
        verbose_name = "診療科"
        verbose_name_plural = "診療科"
        constraints = [
            models.UniqueConstraint(fields=["facility", "code"], name="uniq_facility_specialty")
        ]
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Ward(models.Model):
    """A hospital ward kind with its beds, so home doctors can look for admission."""

    facility = models.ForeignKey(
        Facility, on_delete=models.CASCADE, related_name="wards", verbose_name="病院"
    )
    kind = models.CharField("病棟の種類", max_length=20, choices=WardKind.choices)
    beds = models.PositiveIntegerField("病床数", default=0)
    vacant_beds = models.PositiveIntegerField("空床数", null=True, blank=True)

    class Meta:
        verbose_name = "病棟"
        verbose_name_plural = "病棟"
        constraints = [
            models.UniqueConstraint(fields=["facility", "kind"], name="uniq_facility_ward")
        ]

    def __str__(self) -> str:
        return f"{self.facility} {self.get_kind_display()}"


class VacancyReport(models.Model):
    """History of vacancy updates; the facility row holds the latest."""

    facility = models.ForeignKey(
        Facility, on_delete=models.CASCADE, related_name="vacancy_reports", verbose_name="施設"
    )
    status = models.CharField("空き状況", max_length=10, choices=VacancyStatus.choices)
    count = models.PositiveIntegerField("空き数", null=True, blank=True)
    note = models.CharField("補足", max_length=300, blank=True)
    reported_by = models.ForeignKey(
        User, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name="報告者"
    )
    reported_at = models.DateTimeField("報告日時", default=timezone.now)

    class Meta:
        verbose_name = "空き状況の報告"
        verbose_name_plural = "空き状況の報告"
        ordering = ["-reported_at"]

    def __str__(self) -> str:
        return f"{self.facility} {self.get_status_display()}"


class ImportRunQuerySet(models.QuerySet["ImportRun"]):
    def stalled(self, now: dt.datetime | None = None) -> Self:
        """Runs still queued or running that have not reported progress for
        DIRECTORY_IMPORT_STALL_SECONDS: their thread died with its server process."""
        cutoff = (now or timezone.now()) - dt.timedelta(
            seconds=settings.DIRECTORY_IMPORT_STALL_SECONDS
        )
        return self.filter(
            status__in=[ImportRun.Status.QUEUED, ImportRun.Status.RUNNING],
        ).filter(
            models.Q(heartbeat_at__lt=cutoff)
            | models.Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
        )


class ImportRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "待機中"
        RUNNING = "running", "取込中"
        DONE = "done", "完了"
        REFUSED = "refused", "取込不可"
        FAILED = "failed", "エラー"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    format = models.CharField("形式", max_length=30, blank=True)
    filename = models.CharField("ファイル名", max_length=200)
    status = models.CharField("状態", max_length=10, choices=Status.choices, default=Status.QUEUED)
    message = models.TextField("メッセージ", blank=True)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField("新規", default=0)
    updated = models.PositiveIntegerField("更新", default=0)
    unchanged = models.PositiveIntegerField("変更なし", default=0)
    rejected = models.PositiveIntegerField("不採用", default=0)
    errors = models.JSONField("不採用の行", default=list, blank=True)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    # Written with every batch's progress: a run whose heartbeat stops was interrupted.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ImportRunQuerySet.as_manager()

    class Meta:
        verbose_name = "取込履歴"
        verbose_name_plural = "取込履歴"
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return (
                100
                if self.status in (self.Status.DONE, self.Status.REFUSED, self.Status.FAILED)
                else 0
            )
        return min(100, round(100 * self.processed_rows / self.total_rows))

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.REFUSED, self.Status.FAILED)
