"""PDCA of the 在宅医療・介護連携推進事業: surveys of municipalities (ク) and indicators.

- A survey is sent by a prefecture (or by a 保健福祉事務所 of the prefecture for one
  二次医療圏) to its municipalities. Its questions are rows, so a prefecture adds its own
  beside seed 002's four. Each municipality has one response: a draft it may save again
  and again, and submissions kept one row each (the last one is the answer, the others its
  history).
- An indicator is a definition (code, scene, item, type, numerator/denominator, source) and
  values per municipality × fiscal year. Computed values come from the platform's records
  (`renkei.pdca.compute`), entered ones from the municipality, open data from a file.

Visibility: a municipality sees its own response and values; the prefecture (the survey's
sender, or any prefectural member for indicators) reads those of its municipalities;
everyone else gets 404 (ADR 0028).
"""

from __future__ import annotations

import uuid
from typing import Self

from django.db import models
from django.utils import timezone

from renkei.accounts.models import Membership, Organization, OrgKind, User
from renkei.lib.dates import fiscal_year_label
from renkei.lib.programme import ProgrammeItem, Scene
from renkei.regions.models import Municipality, MunicipalityQuerySet, SecondaryArea


def _government(m: Membership | None) -> Organization | None:
    if m is None or not m.is_active:
        return None
    org = m.organization
    return org if org.kind in (OrgKind.MUNICIPALITY, OrgKind.PREFECTURE, OrgKind.OPERATOR) else None


def readable_municipalities(m: Membership | None) -> MunicipalityQuerySet:
    """Municipalities whose answers and indicators a member may read: a municipality its own
    (and its wards), a prefecture all of its municipalities, the operator all."""
    org = _government(m)
    if org is None:
        return Municipality.objects.none()
    if org.kind == OrgKind.OPERATOR:
        return Municipality.objects.all()
    return Municipality.objects.filter(pk__in=org.curated_municipalities().values("pk"))


def own_municipality_id(m: Membership | None) -> int | None:
    """The municipality a member answers and enters for (its organisation's), or None."""
    org = _government(m)
    if org is None or org.kind != OrgKind.MUNICIPALITY:
        return None
    return org.municipality_id


# ---- Surveys ----------------------------------------------------------------------------------


class SurveyQuerySet(models.QuerySet["Survey"]):
    def sent_by(self, m: Membership | None) -> Self:
        org = _government(m)
        if org is None or org.kind != OrgKind.PREFECTURE:
            return self.none()
        return self.filter(organization_id=org.pk)

    def readable_by(self, m: Membership | None) -> Self:
        """The sender's surveys, and those addressed to the member's municipality."""
        org = _government(m)
        if org is None:
            return self.none()
        if org.kind == OrgKind.PREFECTURE:
            return self.filter(organization_id=org.pk)
        muni = own_municipality_id(m)
        if muni is None:
            return self.none()
        return self.filter(responses__municipality_id=muni).distinct()


class Survey(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="pdca_surveys", verbose_name="実施者"
    )
    area = models.ForeignKey(
        SecondaryArea,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="対象の二次医療圏（保健福祉事務所の所管区域）",
    )
    title = models.CharField("調査名", max_length=200)
    fiscal_year = models.PositiveSmallIntegerField("年度（西暦）")
    deadline = models.DateField("回答期限")
    instructions = models.TextField("回答にあたって", blank=True, max_length=2000)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SurveyQuerySet.as_manager()

    class Meta:
        verbose_name = "市町村調査"
        verbose_name_plural = "市町村調査"
        ordering = ["-fiscal_year", "-created_at"]

    def __str__(self) -> str:
        return f"{self.title}（{self.fiscal_year_label}）"

    @property
    def fiscal_year_label(self) -> str:
        return fiscal_year_label(self.fiscal_year)


class Question(models.Model):
    """One column of the comparison table. `key` carries an answer across years."""

    survey = models.ForeignKey(
        Survey, on_delete=models.CASCADE, related_name="questions", verbose_name="調査"
    )
    key = models.SlugField("識別子", max_length=40)
    number = models.CharField("設問番号", max_length=10, blank=True)
    label = models.CharField("設問", max_length=300)
    help_text = models.CharField("記入の手引き", max_length=500, blank=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = "設問"
        verbose_name_plural = "設問"
        ordering = ["survey", "sort_order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "key"], name="uniq_pdca_question_key")
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.label}".strip()


class ResponseStatus(models.TextChoices):
    NOT_STARTED = "not_started", "未着手"
    DRAFT = "draft", "下書き"
    SUBMITTED = "submitted", "提出済み"


class ResponseQuerySet(models.QuerySet["Response"]):
    def answerable_by(self, m: Membership | None) -> Self:
        muni = own_municipality_id(m)
        if muni is None:
            return self.none()
        return self.filter(municipality_id=muni)

    def readable_by(self, m: Membership | None) -> Self:
        org = _government(m)
        if org is None:
            return self.none()
        if org.kind == OrgKind.PREFECTURE:
            return self.filter(survey__organization_id=org.pk)
        return self.answerable_by(m)


class Response(models.Model):
    """One municipality's answer to one survey: the working copy (draft or last submitted)."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    survey = models.ForeignKey(
        Survey, on_delete=models.CASCADE, related_name="responses", verbose_name="調査"
    )
    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="+", verbose_name="市町村"
    )
    answers = models.JSONField("回答", default=dict, blank=True)
    status = models.CharField(
        "状態", max_length=12, choices=ResponseStatus.choices, default=ResponseStatus.NOT_STARTED
    )
    prefilled_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="前年度の回答",
    )
    submitted_at = models.DateTimeField("提出日時", null=True, blank=True)
    reminded_at = models.DateTimeField("督促日時", null=True, blank=True)
    updated_at = models.DateTimeField("更新日時", default=timezone.now)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = ResponseQuerySet.as_manager()

    class Meta:
        verbose_name = "調査への回答"
        verbose_name_plural = "調査への回答"
        ordering = ["survey", "municipality__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "municipality"], name="uniq_pdca_response_municipality"
            )
        ]

    def __str__(self) -> str:
        return f"{self.survey.title} / {self.municipality.name}"

    def answer(self, key: str) -> str:
        value = (self.answers or {}).get(key, "")
        return value if isinstance(value, str) else ""


class Submission(models.Model):
    """Each submission as it was sent: a second one does not erase the first (issue 15 §5)."""

    response = models.ForeignKey(
        Response, on_delete=models.CASCADE, related_name="submissions", verbose_name="回答"
    )
    number = models.PositiveIntegerField("提出回")
    answers = models.JSONField("回答")
    submitted_at = models.DateTimeField("提出日時", default=timezone.now)
    submitted_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name="提出者"
    )

    class Meta:
        verbose_name = "提出履歴"
        verbose_name_plural = "提出履歴"
        ordering = ["response", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["response", "number"], name="uniq_pdca_submission_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.response} 第{self.number}回"


# ---- Indicators -------------------------------------------------------------------------------


class IndicatorType(models.TextChoices):
    STRUCTURE = "structure", "ストラクチャー"
    PROCESS = "process", "プロセス"
    OUTCOME = "outcome", "アウトカム"


class Direction(models.TextChoices):
    UP = "up", "高いほどよい"
    DOWN = "down", "低いほどよい"
    NONE = "none", "目安なし"


class Source(models.TextChoices):
    COMPUTED = "computed", "Renkeiの記録から算出"
    ENTERED = "entered", "市町村が入力"
    OPEN_DATA = "open_data", "オープンデータ"


class Indicator(models.Model):
    code = models.SlugField("指標コード", max_length=60, unique=True)
    name = models.CharField("指標名", max_length=120)
    scene = models.CharField("場面", max_length=20, choices=Scene.choices, blank=True)
    item = models.CharField("事業項目", max_length=2, choices=ProgrammeItem.choices, blank=True)
    kind = models.CharField("種類", max_length=10, choices=IndicatorType.choices)
    numerator = models.CharField("分子", max_length=200)
    denominator = models.CharField("分母", max_length=200, blank=True)
    # Per 10,000 for population rates; 1 for counts and averages.
    scale = models.PositiveIntegerField("倍率", default=1)
    unit = models.CharField("単位", max_length=20)
    direction = models.CharField("方向", max_length=4, choices=Direction.choices)
    source = models.CharField("出典", max_length=10, choices=Source.choices)
    source_note = models.CharField("出典の説明", max_length=300, blank=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = "指標"
        verbose_name_plural = "指標"
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name

    def rate(self, numerator: float | None, denominator: float | None) -> float | None:
        """The shown value: the count itself, or numerator/denominator × scale."""
        if numerator is None:
            return None
        if not self.denominator:
            return float(numerator)
        if not denominator:
            return None
        return round(float(numerator) / float(denominator) * self.scale, 2)


class IndicatorValueQuerySet(models.QuerySet["IndicatorValue"]):
    def readable_by(self, m: Membership | None) -> Self:
        return self.filter(municipality__in=readable_municipalities(m))


class IndicatorValue(models.Model):
    """One municipality's figure for one fiscal year. Numerator and denominator are kept so
    that a 二次医療圏 or the prefecture is their sums' ratio, not a mean of ratios."""

    indicator = models.ForeignKey(
        Indicator, on_delete=models.CASCADE, related_name="values", verbose_name="指標"
    )
    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="+", verbose_name="市町村"
    )
    fiscal_year = models.PositiveSmallIntegerField("年度（西暦）")
    numerator = models.FloatField("分子")
    denominator = models.FloatField("分母", null=True, blank=True)
    value = models.FloatField("値", null=True, blank=True)
    computed_at = models.DateTimeField("算出・入力日時", default=timezone.now)
    entered_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = IndicatorValueQuerySet.as_manager()

    class Meta:
        verbose_name = "指標の値"
        verbose_name_plural = "指標の値"
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "municipality", "fiscal_year"], name="uniq_pdca_value"
            )
        ]
        indexes = [models.Index(fields=["municipality", "fiscal_year"])]

    def __str__(self) -> str:
        return f"{self.indicator} {self.municipality} {self.fiscal_year}"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "待機中"
    RUNNING = "running", "計算中"
    DONE = "done", "完了"
    FAILED = "failed", "失敗"


class ComputeRun(models.Model):
    """One recomputation, with its progress for the screen that started it."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    fiscal_years = models.JSONField("年度", default=list)
    municipality = models.ForeignKey(
        Municipality, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    steps_total = models.PositiveIntegerField(default=0)
    steps_done = models.PositiveIntegerField(default=0)
    values_written = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "指標の算出"
        verbose_name_plural = "指標の算出"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_status_display()} {self.steps_done}/{self.steps_total}"

    @property
    def percent(self) -> int:
        return round(100 * self.steps_done / self.steps_total) if self.steps_total else 0
