"""相談窓口 (consultation desk, programme item オ): desks, topics, consultations, follow-ups.

Who sees what (docs/decisions/desk-and-mentoring-access.md):
- A desk is run by one organisation (a municipality, or the 医師会 / 連携支援センター it
  contracts). The active memberships of that organisation are the desk's members: they
  record and read consultations, which may name the person consulted about.
- The municipalities that contract the desk (``Desk.contractors``) see the desk's tallies
  and yearly report, never the case records: the 委託元 reports numbers, the desk keeps cases.
- Everyone else gets 404.
"""

from __future__ import annotations

import datetime as dt
import uuid
from itertools import groupby
from typing import TYPE_CHECKING, Any, Self

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone

from renkei.accounts.models import (
    DEFAULT_NAMED_READ_ROLES,
    Membership,
    Organization,
    Role,
    User,
    assignee_field,
)
from renkei.directory.models import Facility
from renkei.lib.chain import chain_digest, first_broken
from renkei.lib.programme import ProgrammeItem as ProgrammeItem  # re-exported
from renkei.lib.programme import Scene as Scene  # re-exported
from renkei.regions.models import Municipality, optional_municipality

if TYPE_CHECKING:
    from django.db.models.fields.related_descriptors import RelatedManager


class Channel(models.TextChoices):
    PHONE = "phone", "電話"
    VISIT_DESK = "visit_desk", "来所"
    HOME_VISIT = "home_visit", "訪問"
    EMAIL = "email", "メール"
    FAX = "fax", "FAX"


class AskerType(models.TextChoices):
    SELF = "self", "本人"
    FAMILY = "family", "家族"
    CARE_MANAGER = "care_manager", "ケアマネジャー"
    HOSPITAL = "hospital", "病院"
    CLINIC = "clinic", "診療所"
    VISITING_NURSE = "visiting_nurse", "訪問看護"
    CARE_PROVIDER = "care_provider", "介護事業所"
    COMMUNITY_CENTER = "community_center", "地域包括"
    GOVERNMENT = "government", "行政"
    OTHER = "other", "その他"


class Consent(models.TextChoices):
    GIVEN = "given", "同意あり"
    REFUSED = "refused", "同意なし"
    NOT_ASKED = "not_asked", "未確認"


class ConsultationStatus(models.TextChoices):
    OPEN = "open", "対応中"
    CLOSED = "closed", "終了"


# Roles whose members may confirm (確定) a consultation record, besides organisation admins: the
# roles that read named records by default, less the prefecture's officer, who reads a desk's
# records but never keeps them.
CONFIRMER_ROLES: frozenset[str] = frozenset(DEFAULT_NAMED_READ_ROLES) - {Role.PREFECTURAL_OFFICER}


class DeskQuerySet(models.QuerySet["Desk"]):
    def for_member(self, membership: Membership | None) -> Self:
        """Desks whose case records this membership may read and write."""
        if membership is None:
            return self.none()
        return self.filter(organization_id=membership.organization_id, is_active=True)

    def reportable_by(self, membership: Membership | None) -> Self:
        """Desks whose tallies this membership may read: the operator and the 委託元."""
        if membership is None:
            return self.none()
        org_id = membership.organization_id
        return self.filter(
            models.Q(organization_id=org_id) | models.Q(contractors__id=org_id), is_active=True
        ).distinct()

    def with_membership(self, membership: Membership) -> Self:
        """`is_member`: whether the membership runs the desk (cases) or only contracts it."""
        return self.annotate(
            is_member=models.Case(
                models.When(organization_id=membership.organization_id, then=models.Value(True)),
                default=models.Value(False),
                output_field=models.BooleanField(),
            )
        )


class Desk(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="desks", verbose_name="運営組織"
    )
    name = models.CharField("窓口名", max_length=100)
    contractors = models.ManyToManyField(
        Organization,
        blank=True,
        related_name="contracted_desks",
        verbose_name="委託元（集計を閲覧できる市区町村）",
    )
    municipalities = models.ManyToManyField(
        Municipality, blank=True, related_name="desks", verbose_name="担当区域"
    )
    phone = models.CharField("電話番号", max_length=20, blank=True)
    hours = models.CharField("受付時間", max_length=100, blank=True)
    is_active = models.BooleanField("有効", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DeskQuerySet.as_manager()

    class Meta:
        verbose_name = "相談窓口"
        verbose_name_plural = "相談窓口"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("desk:dashboard", args=[self.code])

    def is_member(self, membership: Membership | None) -> bool:
        return membership is not None and membership.organization_id == self.organization_id

    def can_confirm(self, membership: Membership | None) -> bool:
        return self.is_member(membership) and (
            membership.is_org_admin or membership.role in CONFIRMER_ROLES  # type: ignore[union-attr]
        )

    def topics(self) -> models.QuerySet[Topic]:
        return Topic.objects.for_desk(self)


class TopicQuerySet(models.QuerySet["Topic"]):
    def for_desk(self, desk: Desk) -> Self:
        """The shared defaults plus the desk's own categories, active ones only."""
        return self.filter(
            models.Q(desk__isnull=True) | models.Q(desk=desk), is_active=True
        ).order_by("sort_order", "pk")


class Topic(models.Model):
    """A consultation topic. Rows with no desk are the defaults every desk starts with."""

    desk = models.ForeignKey(
        Desk,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="own_topics",
        verbose_name="窓口（空欄は共通）",
    )
    name = models.CharField("相談内容の分類", max_length=40)
    sort_order = models.PositiveSmallIntegerField("並び順", default=100)
    is_active = models.BooleanField("使用中", default=True)

    objects = TopicQuerySet.as_manager()

    class Meta:
        verbose_name = "相談内容の分類"
        verbose_name_plural = "相談内容の分類"
        ordering = ["sort_order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["desk", "name"], name="uniq_desk_topic"),
            models.UniqueConstraint(
                fields=["name"], condition=models.Q(desk__isnull=True), name="uniq_default_topic"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ConfirmedRecordError(Exception):
    """A confirmed consultation was about to be overwritten without a new version (R12)."""


def consultation_readers() -> models.Q:
    """Memberships that read named consultations: of an organisation running an active desk,
    in a role the organisation lets read named records (`visible_to`), as a filter on
    Membership for the two-factor policy (ADR 0043)."""
    return models.Q(organization__desks__is_active=True) & Membership.named_readers()


UNNAMED = models.Q(subject_name="", subject_kana="")


class ConsultationQuerySet(models.QuerySet["Consultation"]):
    def visible_to(self, membership: Membership | None) -> Self:
        """The desk's records; a record naming its person only to the roles the organisation
        lets read named records (ADR 0043). Others do not learn that it exists."""
        if membership is None:
            return self.none()
        qs = self.filter(desk__organization_id=membership.organization_id, desk__is_active=True)
        return qs if membership.reads_named_records else qs.filter(UNNAMED)

    def in_fiscal_year(self, fy: int) -> Self:
        tz = timezone.get_current_timezone()
        start = dt.datetime(fy, 4, 1, tzinfo=tz)
        end = dt.datetime(fy + 1, 4, 1, tzinfo=tz)
        return self.filter(received_at__gte=start, received_at__lt=end)

    def in_month(self, year: int, month: int) -> Self:
        tz = timezone.get_current_timezone()
        start = dt.datetime(year, month, 1, tzinfo=tz)
        end = dt.datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
        return self.filter(received_at__gte=start, received_at__lt=end)

    def matching(
        self,
        *,
        month: tuple[int, int] | None = None,
        channel: str | None = None,
        asker: str | None = None,
        topic: int | None = None,
        scene: str | None = None,
        status: str | None = None,
        q: str = "",
    ) -> Self:
        """The list's filters, for the screen, its exports and the API alike (None: any)."""
        qs = self.in_month(*month) if month else self
        exact = {"channel": channel, "asker_type": asker, "scene": scene, "status": status}
        qs = qs.filter(**{k: v for k, v in exact.items() if v})
        if topic is not None:
            qs = qs.filter(topics=topic)
        if q:
            qs = qs.filter(
                models.Q(subject_name__contains=q)
                | models.Q(subject_kana__contains=q)
                | models.Q(summary__contains=q)
                | models.Q(asker_detail__contains=q)
            )
        return qs.order_by("-received_at", "-pk")


# Fields of a consultation that make up its content; a version snapshot holds exactly these.
SNAPSHOT_FIELDS = [
    "received_at",
    "channel",
    "asker_type",
    "asker_detail",
    "programme_item",
    "scene",
    "subject_name",
    "subject_kana",
    "subject_age",
    "subject_municipality",
    "consent",
    "consent_date",
    "summary",
    "actions_taken",
    "status",
]


class Consultation(models.Model):
    """One consultation taken by a desk: a case record of the desk (may name a person)."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    desk = models.ForeignKey(
        Desk, on_delete=models.PROTECT, related_name="consultations", verbose_name="相談窓口"
    )
    received_at = models.DateTimeField("受付日時", db_index=True)
    channel = models.CharField("相談方法", max_length=20, choices=Channel.choices)
    asker_type = models.CharField("相談者", max_length=20, choices=AskerType.choices)
    asker_detail = models.CharField(
        "相談者の所属・氏名",
        max_length=100,
        blank=True,
        help_text="例: ○○居宅介護支援事業所 担当者",
    )
    topics = models.ManyToManyField(Topic, related_name="consultations", verbose_name="相談内容")
    programme_item = models.CharField(
        "事業項目", max_length=2, choices=ProgrammeItem.choices, default=ProgrammeItem.O
    )
    scene = models.CharField("場面", max_length=20, choices=Scene.choices)
    subject_name = models.CharField("相談対象者の氏名", max_length=60, blank=True)
    subject_kana = models.CharField("ふりがな", max_length=60, blank=True)
    subject_age = models.PositiveSmallIntegerField("年齢", null=True, blank=True)
    subject_municipality = optional_municipality("居住地（市区町村）")
    consent = models.CharField(
        "個人情報の取扱いへの同意",
        max_length=20,
        choices=Consent.choices,
        default=Consent.NOT_ASKED,
    )
    consent_date = models.DateField("同意の確認日", null=True, blank=True)
    summary = models.TextField("相談内容")
    actions_taken = models.TextField("対応内容", blank=True)
    referred_facilities = models.ManyToManyField(
        Facility, blank=True, related_name="desk_referrals", verbose_name="紹介した資源"
    )
    status = models.CharField(
        "状態",
        max_length=10,
        choices=ConsultationStatus.choices,
        default=ConsultationStatus.OPEN,
        db_index=True,
    )
    entered_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name="入力者"
    )
    confirmed_by = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="確定者",
    )
    confirmed_at = models.DateTimeField("確定日時", null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField("登録日時", auto_now_add=True)
    updated_at = models.DateTimeField("更新日時", auto_now=True)

    objects = ConsultationQuerySet.as_manager()

    if TYPE_CHECKING:
        versions: RelatedManager[ConsultationVersion]
        followups: RelatedManager[FollowUp]

    class Meta:
        verbose_name = "相談記録"
        verbose_name_plural = "相談記録"
        ordering = ["-received_at", "-pk"]
        indexes = [
            # The list and the tallies: one desk, a period.
            models.Index(fields=["desk", "received_at"], name="consult_desk_received_idx"),
        ]

    def __str__(self) -> str:
        received: dt.datetime | None = self.received_at
        when = timezone.localtime(received).strftime("%Y-%m-%d") if received is not None else ""
        return f"相談 {when} {self.get_channel_display()}".strip()

    def save(self, *args: Any, **kwargs: Any) -> None:
        # R12: once confirmed, content changes only through actions.revise_consultation,
        # which writes a new ConsultationVersion in the same transaction.
        if (
            not self._state.adding
            and not getattr(self, "_revising", False)
            and Consultation.objects.filter(pk=self.pk, confirmed_at__isnull=False).exists()
        ):
            raise ConfirmedRecordError(
                "確定済みの相談記録は直接上書きできません。修正理由を添えて新しい版として保存してください。"
            )
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("desk:detail", args=[self.code])

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None

    @property
    def is_named(self) -> bool:
        return bool(self.subject_name or self.subject_kana)

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.received_at is not None:
            local = timezone.localtime(self.received_at)
            if local.date() > timezone.localdate():
                errors["received_at"] = "受付日時に未来の日付は入力できません"
            elif local.date() < dt.date(2000, 4, 1):
                errors["received_at"] = "受付日時が古すぎます（2000年4月以降を入力してください）"
        if self.consent in (Consent.GIVEN, Consent.REFUSED) and self.consent_date is None:
            errors["consent_date"] = "同意の有無を記録する場合は、確認した日を入力してください"
        if self.consent == Consent.NOT_ASKED and self.consent_date is not None:
            errors["consent_date"] = "同意を確認していない場合、確認日は空欄にしてください"
        if self.consent_date is not None and self.consent_date > timezone.localdate():
            errors["consent_date"] = "同意の確認日に未来の日付は入力できません"
        if self.subject_age is not None and self.subject_age > 130:
            errors["subject_age"] = "年齢は0〜130で入力してください"
        if errors:
            raise ValidationError(errors)

    def snapshot(self) -> dict[str, Any]:
        """The record's content as JSON, for versions and diffs (many-to-many included)."""
        data: dict[str, Any] = {}
        for name in SNAPSHOT_FIELDS:
            value = getattr(
                self, name if name != "subject_municipality" else "subject_municipality_id"
            )
            if name == "subject_municipality":
                value = self.subject_municipality.code if self.subject_municipality else None
            elif isinstance(value, dt.datetime):
                value = timezone.localtime(value).isoformat()
            elif isinstance(value, dt.date):
                value = value.isoformat()
            data[name] = value
        data["topics"] = sorted(t.name for t in self.topics.all())
        data["referred_facilities"] = sorted(
            f"{f.name} ({f.code})" for f in self.referred_facilities.all()
        )
        return data


class ConsultationVersionQuerySet(models.QuerySet["ConsultationVersion"]):
    def update(self, **kwargs: Any) -> int:
        raise ConfirmedRecordError("相談記録の版は変更できません")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ConfirmedRecordError("相談記録の版は削除できません")


class ConsultationVersion(models.Model):
    """An immutable confirmed state of a consultation (R12 真正性).

    Version 1 is written at confirmation; every later edit writes the next number with
    the editor, the time, the reason and the diff. ``digest`` chains each version to the
    previous one so that an altered row is detectable (``Consultation.verify_history``).
    """

    consultation = models.ForeignKey(
        Consultation, on_delete=models.PROTECT, related_name="versions", verbose_name="相談記録"
    )
    number = models.PositiveIntegerField("版")
    data = models.JSONField("内容")
    changes = models.JSONField("変更点", default=dict, blank=True)
    reason = models.CharField("修正理由", max_length=300, blank=True)
    created_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name="確定・修正者"
    )
    created_at = models.DateTimeField("日時", default=timezone.now)
    digest = models.CharField(max_length=64, editable=False)

    objects = ConsultationVersionQuerySet.as_manager()

    class Meta:
        verbose_name = "相談記録の版"
        verbose_name_plural = "相談記録の版"
        ordering = ["consultation", "number"]
        constraints = [
            models.UniqueConstraint(fields=["consultation", "number"], name="uniq_consult_version")
        ]

    def __str__(self) -> str:
        return f"第{self.number}版"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ConfirmedRecordError("相談記録の版は変更できません")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ConfirmedRecordError("相談記録の版は削除できません")

    def chained_content(self) -> dict[str, Any]:
        """What the digest covers: everything the version says, and who said it when."""
        return {
            "number": self.number,
            "data": self.data,
            "reason": self.reason,
            "by": self.created_by_id,
            "at": self.created_at.isoformat(),
        }

    def compute_digest(self, previous: str) -> str:
        return chain_digest(previous, self.chained_content())


def verify_history(consultation: Consultation) -> bool:
    """True when every version's digest matches the chain (no row altered afterwards)."""
    broken = first_broken(
        consultation.versions.order_by("number"),
        content=ConsultationVersion.chained_content,
        digest=lambda v: v.digest,
    )
    return broken is None


def broken_version_chains() -> tuple[list[ConsultationVersion], int]:
    """Every consultation's chain walked in one pass: the first broken version of each
    consultation whose chain does not verify, and how many versions were read."""
    broken: list[ConsultationVersion] = []
    counted = 0
    rows = (
        ConsultationVersion.objects.select_related("consultation")
        .order_by("consultation_id", "number")
        .iterator(chunk_size=2000)
    )
    for _, versions in groupby(rows, key=lambda v: v.consultation_id):
        chain = list(versions)
        counted += len(chain)
        first = first_broken(
            chain, content=ConsultationVersion.chained_content, digest=lambda v: v.digest
        )
        if first is not None:
            broken.append(first)
    return broken, counted


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {
        key: {"before": before.get(key), "after": after.get(key)}
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


class FollowUpQuerySet(models.QuerySet["FollowUp"]):
    def open(self) -> Self:
        return self.filter(done_at__isnull=True)

    def for_desk(self, desk: Desk) -> Self:
        return self.filter(consultation__desk=desk)

    def due_by(self, day: dt.date) -> Self:
        return self.open().filter(due_date__lte=day)


class FollowUp(models.Model):
    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="followups", verbose_name="相談記録"
    )
    due_date = models.DateField("期日", db_index=True)
    assignee = assignee_field()
    note = models.CharField("内容", max_length=300)
    done_at = models.DateTimeField("完了日時", null=True, blank=True)
    done_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reminded_at = models.DateTimeField("通知日時", null=True, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        verbose_name = "フォローアップ"
        verbose_name_plural = "フォローアップ"
        ordering = ["due_date", "pk"]

    def __str__(self) -> str:
        return f"{self.due_date:%Y-%m-%d} {self.note}"

    def is_overdue(self, today: dt.date | None = None) -> bool:
        return self.done_at is None and self.due_date < (today or timezone.localdate())
