"""A municipality's or prefecture's own programme records (issue 15 §1 §2).

- 事業一覧: one `ProgrammeTable` per owner and fiscal year, its `ProgrammeLine`s (seed 000's
  事業名称・事業内容・実績・予定, seed 003's items ア–ク and 事業効果) and each line's
  `BudgetLine`s in 千円 by `FundingSource` (seed 001's 財源, a data table: a prefecture adds
  its own funds without a release).
- 会議: `MeetingBody` (全体会議, 専門部会 with its team, ブロック会議, 4市1町担当者会議) with
  `BodyMember`s, its `Meeting`s (agenda, attendance, minutes, `Decision`s, `Material`s).
- 課題と対応策: `Issue` raised at a meeting or at the desk, tagged by scene and item;
  `Countermeasure` with owner, due date, status, `ProgressNote`s and the programme lines that
  fund it: the trace decision → money → result.

Visibility (ADR 0003): the owning organisation's members read and write; a prefecture's members
read the records of the organisations in their prefecture; everyone else gets 404.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Self, TypeVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from renkei.accounts.models import Membership, Organization, OrgKind
from renkei.lib.dates import fiscal_year_label, wareki_date
from renkei.lib.programme import ProgrammeItem, Scene
from renkei.lib.uploads import Upload, upload_path

# Organisations whose members keep programme records of their own.
OWNER_KINDS = (
    OrgKind.MUNICIPALITY,
    OrgKind.PREFECTURE,
    OrgKind.MEDICAL_ASSOCIATION,
    OrgKind.COORDINATION_CENTER,
)

ITEM_SHORT = {
    ProgrammeItem.A: "ア",
    ProgrammeItem.I: "イ",
    ProgrammeItem.U: "ウ",
    ProgrammeItem.E: "エ",
    ProgrammeItem.O: "オ",
    ProgrammeItem.KA: "カ",
    ProgrammeItem.KI: "キ",
    ProgrammeItem.KU: "ク",
}
ITEM_BY_SHORT = {v: k for k, v in ITEM_SHORT.items()}


def items_label(codes: list[str]) -> str:
    """（ア、イ、エ）as seed 003 writes them; unknown codes are skipped."""
    order = list(ITEM_SHORT)
    shorts = [
        ITEM_SHORT[ProgrammeItem(c)]
        for c in sorted(
            (c for c in codes if c in ProgrammeItem.values),
            key=lambda c: order.index(ProgrammeItem(c)),
        )
    ]
    return f"（{'、'.join(shorts)}）" if shorts else ""


def scenes_label(codes: list[str]) -> str:
    labels = dict(Scene.choices)
    return "、".join(str(labels[c]) for c in codes if c in labels)


class Tagged:
    """A record tagged with items ア–ク and scenes, labelled as the seeds write them."""

    items: Any
    scenes: Any

    @property
    def items_label(self) -> str:
        return items_label(self.items)

    @property
    def scenes_label(self) -> str:
        return scenes_label(self.scenes)


M = TypeVar("M", bound=models.Model)


class ScopedQuerySet(models.QuerySet[M]):
    """Owner-or-prefecture scoping for a model whose owner is reached by `owner_path`."""

    owner_path = "owner"

    def readers(self, m: Membership) -> Q:
        """Who reads: the owner, and a prefecture the records of its prefecture's owners."""
        own = Q(**{f"{self.owner_path}_id": m.organization_id})
        org = m.organization
        if org.kind == OrgKind.PREFECTURE and org.prefecture_id:
            own |= Q(**{f"{self.owner_path}__prefecture_id": org.prefecture_id})
        return own

    def visible_to(self, m: Membership | None) -> Self:
        if m is None:
            return self.none()
        return self.filter(self.readers(m))

    def editable_by(self, m: Membership | None) -> Self:
        if m is None:
            return self.none()
        return self.filter(**{f"{self.owner_path}_id": m.organization_id})


# ---------------------------------------------------------------------------------------------
# 財源 (a data table)


class FundingSource(models.Model):
    name = models.CharField("財源", max_length=60, unique=True)
    short_name = models.CharField("略称", max_length=20, blank=True)
    sort_order = models.PositiveSmallIntegerField("表示順", default=0)
    is_active = models.BooleanField("選択できる", default=True)

    class Meta:
        verbose_name = "財源"
        verbose_name_plural = "財源"
        ordering = ["sort_order", "pk"]

    def __str__(self) -> str:
        return self.name


DEFAULT_FUNDING_SOURCES = [
    ("地域医療介護総合確保基金（医療分）", "基金（医療）"),
    ("地域医療介護総合確保基金（介護分）", "基金（介護）"),
    ("地域医療再生基金", "再生基金"),
    ("地域支援事業交付金", "地域支援事業"),
    ("国庫補助金", "国庫"),
    ("一般財源", "一般財源"),
    ("その他", "その他"),
]


def ensure_funding_sources() -> None:
    """The data migration's rows, put back after a transactional test flushed them."""
    if FundingSource.objects.exists():
        return
    for i, (name, short) in enumerate(DEFAULT_FUNDING_SOURCES):
        FundingSource.objects.create(name=name, short_name=short, sort_order=(i + 1) * 10)


# ---------------------------------------------------------------------------------------------
# 事業一覧


class ProgrammeTableQuerySet(ScopedQuerySet["ProgrammeTable"]):
    def readers(self, m: Membership) -> Q:
        """Also a contractor, for the tables it works on (it reads only its own lines)."""
        worked_on = LineContractor.objects.filter(organization_id=m.organization_id)
        return super().readers(m) | Q(pk__in=worked_on.values("line__table_id"))


class ProgrammeTable(models.Model):
    """One owner's 事業一覧 for one fiscal year."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="programme_tables"
    )
    fiscal_year = models.PositiveSmallIntegerField("年度（西暦の開始年）")
    title = models.CharField("表題", max_length=120)
    results_as_of = models.DateField("実績の時点", null=True, blank=True)
    note = models.TextField("備考", blank=True, max_length=2000)
    copied_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="copies"
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProgrammeTableQuerySet.as_manager()

    class Meta:
        verbose_name = "事業一覧"
        verbose_name_plural = "事業一覧"
        ordering = ["-fiscal_year", "owner__name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "fiscal_year"], name="uniq_programme_table")
        ]

    def __str__(self) -> str:
        return f"{self.title}（{self.fiscal_year_label}）"

    def get_absolute_url(self) -> str:
        return reverse("programmes:table", args=[self.code])

    @property
    def fiscal_year_label(self) -> str:
        return fiscal_year_label(self.fiscal_year)

    @property
    def era_year(self) -> str:
        """令和元年度: the label without the Western year, as the seeds' headings write it."""
        return self.fiscal_year_label.split("（", 1)[0]

    @property
    def next_era_year(self) -> str:
        return fiscal_year_label(self.fiscal_year + 1).split("（", 1)[0]

    @property
    def as_of_label(self) -> str:
        return f"{wareki_date(self.results_as_of)}時点" if self.results_as_of else ""


class ProgrammeLine(Tagged, models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    table = models.ForeignKey(ProgrammeTable, on_delete=models.CASCADE, related_name="lines")
    sort_order = models.PositiveIntegerField("順番", default=0)
    section = models.CharField("区分（見出し）", max_length=120, blank=True)
    name = models.CharField("事業名称", max_length=200)
    is_new = models.BooleanField("新規事業", default=False)
    items = models.JSONField("事業項目（ア〜ク）", default=list, blank=True)
    scenes = models.JSONField("場面", default=list, blank=True)
    content = models.TextField("事業内容", blank=True, max_length=4000)
    results = models.TextField("実績", blank=True, max_length=4000)
    plan = models.TextField("次年度の予定", blank=True, max_length=4000)
    effect = models.TextField("事業効果", blank=True, max_length=4000)
    # 受託者: organisations working on the line (a 医師会 under contract) read it and enter its
    # 実績; one the owner lets edit changes the line's text too (LineContractor.may_edit).
    contractors = models.ManyToManyField(
        Organization,
        through="LineContractor",
        blank=True,
        related_name="contracted_programme_lines",
        verbose_name="受託者",
    )
    contractor_name = models.CharField("受託者（名称）", max_length=120, blank=True)
    # Courses whose yearly figures (回数・受講者数) the table shows beside the line.
    courses = models.ManyToManyField(
        "courses.Course", blank=True, related_name="programme_lines", verbose_name="研修コース"
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "事業"
        verbose_name_plural = "事業"
        ordering = ["sort_order", "pk"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("programmes:line", args=[self.code])

    @property
    def contractor_label(self) -> str:
        """The contractors' names (prefetched in list views), or the name typed for one
        that has no organisation in Renkei."""
        names = [c.organization.name for c in self.contracts.all()]
        return "、".join(names) or self.contractor_name

    def budget_total(self) -> int:
        # Uses the prefetched rows when a list view loaded them.
        return sum(b.amount for b in self.budget_lines.all())


class LineContractor(models.Model):
    line = models.ForeignKey(ProgrammeLine, on_delete=models.CASCADE, related_name="contracts")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    may_edit = models.BooleanField("事業の内容も編集できる", default=False)

    class Meta:
        verbose_name = "受託者"
        verbose_name_plural = "受託者"
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["line", "organization"], name="uniq_line_contractor")
        ]

    def __str__(self) -> str:
        return f"{self.line} / {self.organization}"


class BudgetLine(models.Model):
    """An amount in 千円 from one 財源 (seed 001 lists one line twice: two funds or 繰越分)."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    line = models.ForeignKey(ProgrammeLine, on_delete=models.CASCADE, related_name="budget_lines")
    source = models.ForeignKey(
        FundingSource, on_delete=models.PROTECT, related_name="budget_lines", verbose_name="財源"
    )
    amount = models.BigIntegerField("予算額（千円）")
    label = models.CharField("内訳・摘要", max_length=120, blank=True)

    class Meta:
        verbose_name = "予算（財源別）"
        verbose_name_plural = "予算（財源別）"
        ordering = ["source__sort_order", "pk"]

    def __str__(self) -> str:
        return f"{self.source} {self.amount:,}千円"


def totals_by_source(lines: list[ProgrammeLine]) -> list[tuple[FundingSource, int]]:
    """Budget 千円 per 財源 in the 財源 table's order, from the lines' prefetched budgets."""
    totals: dict[int, int] = {}
    sources: dict[int, FundingSource] = {}
    for ln in lines:
        for b in ln.budget_lines.all():
            sources[b.source_id] = b.source
            totals[b.source_id] = totals.get(b.source_id, 0) + b.amount
    order = sorted(sources.values(), key=lambda s: (s.sort_order, s.pk))
    return [(s, totals[s.pk]) for s in order]


def totals_by_item(lines: list[ProgrammeLine]) -> list[tuple[str, int, int]]:
    """(item label, number of lines, budget 千円) per item ア–ク; a line tagged with two items
    counts in both, so the column does not add up to the table's total (said under the table)."""
    out = []
    for item in ProgrammeItem:
        tagged = [ln for ln in lines if item.value in ln.items]
        out.append((str(item.label), len(tagged), sum(ln.budget_total() for ln in tagged)))
    return out


# ---------------------------------------------------------------------------------------------
# 取込み


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", "列の対応づけ待ち"
    RUNNING = "running", "取込み中"
    FAILED = "failed", "誤りあり（保存していません）"
    DONE = "done", "取込み済み"


class ProgrammeImportQuerySet(ScopedQuerySet["ProgrammeImport"]):
    pass


class ProgrammeImport(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    fiscal_year = models.PositiveSmallIntegerField("年度")
    filename = models.CharField("ファイル名", max_length=200)
    file = models.FileField(upload_to="programmes/imports/")
    header = models.JSONField(default=list)
    preview = models.JSONField(default=list)
    mapping = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=ImportStatus.choices)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=list, blank=True)
    table = models.ForeignKey(
        ProgrammeTable, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ProgrammeImportQuerySet.as_manager()

    class Meta:
        verbose_name = "事業一覧の取込み"
        verbose_name_plural = "事業一覧の取込み"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.filename

    def get_absolute_url(self) -> str:
        return reverse("programmes:import", args=[self.code])


# ---------------------------------------------------------------------------------------------
# 会議体と会議


class BodyKind(models.TextChoices):
    PLENARY = "plenary", "全体会議"
    COMMITTEE = "committee", "専門部会"
    BLOCK = "block", "ブロック会議"
    LIAISON = "liaison", "市町村担当者会議"
    OTHER = "other", "その他の会議"


class MeetingBodyQuerySet(ScopedQuerySet["MeetingBody"]):
    pass


class MeetingBody(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="meeting_bodies")
    name = models.CharField("会議体の名称", max_length=120)
    kind = models.CharField("種類", max_length=12, choices=BodyKind.choices)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name="上位の会議体",
    )
    team = models.CharField("チーム", max_length=30, blank=True)
    items = models.JSONField("事業項目（ア〜ク）", default=list, blank=True)
    purpose = models.TextField("目的・検討事項", blank=True, max_length=2000)
    meetings_per_year = models.PositiveSmallIntegerField("年間の開催回数（予定）", default=4)
    is_active = models.BooleanField("活動中", default=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MeetingBodyQuerySet.as_manager()

    class Meta:
        verbose_name = "会議体"
        verbose_name_plural = "会議体"
        ordering = ["kind", "team", "name"]

    def __str__(self) -> str:
        return f"{self.name}（{self.team}）" if self.team else self.name

    def get_absolute_url(self) -> str:
        return reverse("programmes:body", args=[self.code])

    @property
    def items_label(self) -> str:
        return items_label(self.items)


class BodyMember(models.Model):
    """A 委員: an organisation, a person, or a person for an organisation."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    body = models.ForeignKey(MeetingBody, on_delete=models.CASCADE, related_name="members")
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField("氏名", max_length=60, blank=True)
    affiliation = models.CharField("所属（組織外の方）", max_length=120, blank=True)
    title = models.CharField("役職", max_length=60, blank=True)
    email = models.EmailField("通知先メール", blank=True)
    is_active = models.BooleanField("在任", default=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = "会議体の構成員"
        verbose_name_plural = "会議体の構成員"
        ordering = ["sort_order", "pk"]

    def __str__(self) -> str:
        org = self.organization.name if self.organization_id and self.organization else ""
        where = org or self.affiliation
        if self.name and where:
            return f"{self.name}（{where}）"
        return self.name or where

    def notice_address(self) -> str:
        if self.email:
            return self.email
        if self.organization_id and self.organization:
            return self.organization.email
        return ""


class MeetingStatus(models.TextChoices):
    PLANNED = "planned", "開催予定"
    HELD = "held", "開催済み"
    WRITTEN = "written", "書面開催"
    CANCELLED = "cancelled", "中止"


class MeetingQuerySet(ScopedQuerySet["Meeting"]):
    owner_path = "body__owner"


class Meeting(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    body = models.ForeignKey(MeetingBody, on_delete=models.PROTECT, related_name="meetings")
    fiscal_year = models.PositiveSmallIntegerField("年度")
    number = models.PositiveSmallIntegerField("回")
    held_on = models.DateField("開催日")
    starts_at = models.TimeField("開始時刻", null=True, blank=True)
    place = models.CharField("場所", max_length=120, blank=True)
    status = models.CharField(
        "状態", max_length=10, choices=MeetingStatus.choices, default=MeetingStatus.PLANNED
    )
    agenda = models.TextField("議題", blank=True, max_length=4000)
    minutes = models.TextField("議事録", blank=True, max_length=20000)
    notice_sent_at = models.DateTimeField("開催通知", null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MeetingQuerySet.as_manager()

    class Meta:
        verbose_name = "会議"
        verbose_name_plural = "会議"
        ordering = ["held_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["body", "fiscal_year", "number"], name="uniq_meeting_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.body} 第{self.number}回"

    def get_absolute_url(self) -> str:
        return reverse("programmes:meeting", args=[self.code])

    @property
    def held_on_label(self) -> str:
        return wareki_date(self.held_on)


class AttendanceStatus(models.TextChoices):
    PRESENT = "present", "出席"
    PROXY = "proxy", "代理出席"
    ABSENT = "absent", "欠席"


class Attendance(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    member = models.ForeignKey(BodyMember, on_delete=models.CASCADE, related_name="attendance")
    status = models.CharField(max_length=10, choices=AttendanceStatus.choices)
    note = models.CharField("備考（代理者など）", max_length=120, blank=True)

    class Meta:
        verbose_name = "出欠"
        verbose_name_plural = "出欠"
        constraints = [
            models.UniqueConstraint(fields=["meeting", "member"], name="uniq_attendance")
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.get_status_display()}"


class Decision(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="decisions")
    number = models.PositiveSmallIntegerField("番号", default=1)
    text = models.TextField("決定事項", max_length=2000)

    class Meta:
        verbose_name = "決定事項"
        verbose_name_plural = "決定事項"
        ordering = ["number", "pk"]

    def __str__(self) -> str:
        return f"{self.meeting} 決定{self.number}"


MATERIAL_TYPES = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    # Office files are zip containers.
    ".xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        (b"PK\x03\x04",),
    ),
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (b"PK\x03\x04",),
    ),
    ".pptx": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        (b"PK\x03\x04",),
    ),
}
MATERIAL_MAX_BYTES = 10 * 1024 * 1024


material_path = upload_path  # the name migration 0001 recorded


class Material(Upload):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="materials")
    title = models.CharField("資料名", max_length=120)
    filename = models.CharField(max_length=200, editable=False)

    class Meta:
        verbose_name = "会議資料"
        verbose_name_plural = "会議資料"
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("programmes:material", args=[self.code])

    def upload_folder(self) -> str:
        return f"programmes/materials/{self.meeting.code}"


# ---------------------------------------------------------------------------------------------
# 課題と対応策


class IssueSource(models.TextChoices):
    MEETING = "meeting", "会議で提起"
    DESK = "desk", "事務局・相談窓口から"
    SURVEY = "survey", "調査・アンケートから"
    OTHER = "other", "その他"


class IssueStatus(models.TextChoices):
    OPEN = "open", "検討中"
    ACTING = "acting", "対応中"
    RESOLVED = "resolved", "解決"
    CLOSED = "closed", "終了（継続しない）"


class IssueQuerySet(ScopedQuerySet["Issue"]):
    pass


class Issue(Tagged, models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="issues")
    title = models.CharField("課題", max_length=200)
    description = models.TextField("内容", blank=True, max_length=4000)
    scenes = models.JSONField("場面", default=list, blank=True)
    items = models.JSONField("事業項目（ア〜ク）", default=list, blank=True)
    source = models.CharField("提起の経路", max_length=10, choices=IssueSource.choices)
    meeting = models.ForeignKey(
        Meeting, null=True, blank=True, on_delete=models.SET_NULL, related_name="issues"
    )
    raised_on = models.DateField("提起日")
    status = models.CharField(
        "状態", max_length=10, choices=IssueStatus.choices, default=IssueStatus.OPEN
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = IssueQuerySet.as_manager()

    class Meta:
        verbose_name = "課題"
        verbose_name_plural = "課題"
        ordering = ["-raised_on", "-pk"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("programmes:issue", args=[self.code])


class MeasureStatus(models.TextChoices):
    PLANNED = "planned", "未着手"
    ACTIVE = "active", "実施中"
    DONE = "done", "完了"
    DROPPED = "dropped", "中止"


class CountermeasureQuerySet(ScopedQuerySet["Countermeasure"]):
    owner_path = "issue__owner"


class Countermeasure(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="countermeasures")
    title = models.CharField("対応策", max_length=200)
    description = models.TextField("内容", blank=True, max_length=4000)
    responsible = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="担当機関",
    )
    responsible_name = models.CharField("担当（部署・チーム）", max_length=120, blank=True)
    due_on = models.DateField("期限", null=True, blank=True)
    status = models.CharField(
        "状態", max_length=10, choices=MeasureStatus.choices, default=MeasureStatus.PLANNED
    )
    decision = models.ForeignKey(
        Decision, null=True, blank=True, on_delete=models.SET_NULL, related_name="countermeasures"
    )
    programme_lines = models.ManyToManyField(
        ProgrammeLine, blank=True, related_name="countermeasures", verbose_name="財源となる事業"
    )
    # The indicators that should move when the countermeasure works (the pdca app's catalogue).
    indicators = models.ManyToManyField(
        "pdca.Indicator", blank=True, related_name="countermeasures", verbose_name="動かしたい指標"
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CountermeasureQuerySet.as_manager()

    class Meta:
        verbose_name = "対応策"
        verbose_name_plural = "対応策"
        ordering = ["due_on", "pk"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("programmes:issue", args=[self.issue.code]) + f"#m-{self.code}"

    def is_overdue(self, today: dt.date) -> bool:
        return (
            self.due_on is not None
            and self.due_on < today
            and self.status in (MeasureStatus.PLANNED, MeasureStatus.ACTIVE)
        )


class ProgressNote(models.Model):
    countermeasure = models.ForeignKey(
        Countermeasure, on_delete=models.CASCADE, related_name="notes"
    )
    written_on = models.DateField("日付")
    text = models.TextField("進捗", max_length=2000)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "進捗メモ"
        verbose_name_plural = "進捗メモ"
        ordering = ["written_on", "pk"]

    def __str__(self) -> str:
        return f"{self.written_on} {self.text[:20]}"
