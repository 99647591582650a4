"""入退院支援: anonymous placement cases, requests to facilities, answers and effect surveys.

A case never holds identifying data (security R14): no name, birth date, address, phone or
insurance number, and its free text is screened (screening.py). Identity travels outside the
platform, directly between the two institutions, after the decision (HandoverRecord records
only that it happened).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Self

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, router
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from renkei.accounts.menu import SQLCount
from renkei.accounts.models import Membership, Organization, User, assignee_field
from renkei.directory.models import Capability, CareLevel, Facility, FacilityKind, WardKind
from renkei.regions.models import Municipality


class CaseStatus(models.TextChoices):
    DRAFT = "draft", "下書き"
    SEARCHING = "searching", "検索中"
    REQUESTING = "requesting", "依頼中"
    DECIDED = "decided", "決定"
    WITHDRAWN = "withdrawn", "取下げ"


class AgeBand(models.TextChoices):
    UNDER_40 = "u40", "40歳未満"
    AGE_40 = "40", "40〜64歳"
    AGE_65 = "65", "65〜69歳"
    AGE_70 = "70", "70〜74歳"
    AGE_75 = "75", "75〜79歳"
    AGE_80 = "80", "80〜84歳"
    AGE_85 = "85", "85〜89歳"
    AGE_90 = "90", "90〜94歳"
    AGE_95 = "95", "95歳以上"


class CaseSex(models.TextChoices):
    MALE = "male", "男性"
    FEMALE = "female", "女性"


class CaseDementiaLevel(models.TextChoices):
    """認知症高齢者の日常生活自立度."""

    NONE = "none", "自立"
    I = "1", "Ⅰ"  # noqa: E741 - the official grade is the Roman numeral one
    IIA = "2a", "Ⅱa"
    IIB = "2b", "Ⅱb"
    IIIA = "3a", "Ⅲa"
    IIIB = "3b", "Ⅲb"
    IV = "4", "Ⅳ"
    M = "m", "M"

    @classmethod
    def needs_acceptance(cls) -> list[str]:
        """From Ⅱa on, daily life needs watching over: the facility must accept dementia."""
        return [cls.IIA, cls.IIB, cls.IIIA, cls.IIIB, cls.IV, cls.M]


class Infection(models.TextChoices):
    MRSA = "mrsa", "MRSA"
    MDRP = "mdrp", "多剤耐性緑膿菌（MDRP）"
    ESBL = "esbl", "ESBL産生菌"
    CD = "cd", "CDI（クロストリディオイデス・ディフィシル）"
    SCABIES = "scabies", "疥癬"
    HBV = "hbv", "B型肝炎"
    HCV = "hcv", "C型肝炎"
    SYPHILIS = "syphilis", "梅毒"
    HIV = "hiv", "HIV"
    TB_HISTORY = "tb_history", "結核（既往）"
    OTHER = "other", "その他"


class Destination(models.TextChoices):
    """What the discharge side asks for; maps onto one or more FacilityKind (matching.py)."""

    RECOVERY_HOSPITAL = "recovery_hospital", "回復期・慢性期病院"
    ROKEN = FacilityKind.ROKEN.value, "介護老人保健施設（老健）"
    TOKUYO = FacilityKind.TOKUYO.value, "介護老人福祉施設（特養）"
    KAIGO_IRYOIN = FacilityKind.KAIGO_IRYOIN.value, "介護医療院"
    TOKUTEI = FacilityKind.TOKUTEI.value, "有料老人ホーム・特定施設"
    SAKOJU = FacilityKind.SAKOJU.value, "サービス付き高齢者向け住宅"
    GROUP_HOME = FacilityKind.GROUP_HOME.value, "認知症グループホーム"
    KANTAKI = FacilityKind.KANTAKI.value, "看護小規模多機能"
    HOME = "home", "在宅（在宅医・訪問看護）"


# Ward kinds a post-acute transfer goes to.
POST_ACUTE_WARDS = [WardKind.RECOVERY, WardKind.COMMUNITY, WardKind.LONG_TERM, WardKind.PALLIATIVE]


class CaseHousehold(models.TextChoices):
    ALONE = "alone", "独居"
    WITH_FAMILY = "family", "同居者あり"
    FACILITY = "facility", "施設入所中"
    UNKNOWN = "unknown", "不明"


class KeyPerson(models.TextChoices):
    YES = "yes", "あり"
    NO = "no", "なし"
    UNCLEAR = "unclear", "調整中・不明確"


class Relation(models.TextChoices):
    SPOUSE = "spouse", "配偶者"
    CHILD = "child", "子"
    CHILD_IN_LAW = "child_in_law", "子の配偶者"
    SIBLING = "sibling", "兄弟姉妹"
    GRANDCHILD = "grandchild", "孫"
    OTHER_RELATIVE = "relative", "その他の親族"
    GUARDIAN = "guardian", "成年後見人等"
    FRIEND = "friend", "知人・友人"
    OTHER = "other", "その他"


class WithdrawalReason(models.TextChoices):
    """Why a case ended without a placement: what 効果検証 counts as failures."""

    NO_ACCEPTANCE = "no_acceptance", "受入先が見つからない"
    CONDITION = "condition", "状態悪化・死亡"
    FAMILY = "family", "本人・家族の意向"
    OTHER_ROUTE = "other_route", "ネットワーク外で調整"
    HOME = "home", "自宅退院に変更"
    COST = "cost", "費用の折り合い"
    OTHER = "other", "その他"


class PlacementCaseQuerySet(models.QuerySet["PlacementCase"]):
    def visible_to(self, membership: Membership | None) -> Self:
        """The hospital's members, and facilities the case was sent to (from the moment it was sent)."""
        if membership is None:
            return self.none()
        org_id = membership.organization_id
        sent_to_org = PlacementRequest.objects.filter(case=OuterRef("pk"), organization_id=org_id)
        return self.filter(Q(hospital_id=org_id) | Exists(sent_to_org))

    def of_hospital(self, membership: Membership) -> Self:
        return self.filter(hospital_id=membership.organization_id)

    def listed(self, user: User, *, scope: str = "team", status: str = "") -> Self:
        """The case list's filters (the screen and the API): whose cases, in which state."""
        qs = self
        if scope == "mine":
            qs = qs.filter(Q(assignee=user) | Q(created_by=user, assignee__isnull=True))
        if status == "open":
            qs = qs.open()
        elif status:
            qs = qs.filter(status=status)
        return qs

    def open(self) -> Self:
        return self.filter(
            status__in=[CaseStatus.DRAFT, CaseStatus.SEARCHING, CaseStatus.REQUESTING]
        )


class PlacementCase(models.Model):
    """One patient to place, registered once and anonymously by the discharge side."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    hospital = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="placement_cases",
        verbose_name="登録した医療機関",
    )
    created_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name="登録者"
    )
    assignee = assignee_field()
    status = models.CharField(
        "状態", max_length=12, choices=CaseStatus.choices, default=CaseStatus.SEARCHING
    )

    age_band = models.CharField("年齢", max_length=4, choices=AgeBand.choices)
    sex = models.CharField("性別", max_length=6, choices=CaseSex.choices)
    care_level = models.PositiveSmallIntegerField(
        "要介護度",
        choices=CareLevel.choices,
        null=True,
        blank=True,
        help_text="空欄は「申請中」",
    )
    dementia = models.CharField(
        "認知症高齢者の日常生活自立度",
        max_length=4,
        choices=CaseDementiaLevel.choices,
        default=CaseDementiaLevel.NONE,
    )
    required_capabilities = models.ManyToManyField(
        Capability, blank=True, related_name="+", verbose_name="必要な処置"
    )
    infections = models.JSONField("感染症", default=list, blank=True)

    residence = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="+", verbose_name="居住地（市区町村）"
    )
    destinations = models.JSONField("希望する退院・転院先", default=list, blank=True)
    desired_municipalities = models.ManyToManyField(
        Municipality, blank=True, related_name="+", verbose_name="希望地域"
    )
    radius_km = models.PositiveSmallIntegerField(
        "居住地からの距離（km以内）",
        default=20,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    budget_monthly = models.PositiveIntegerField(
        "月額予算（円）",
        null=True,
        blank=True,
        validators=[MaxValueValidator(2_000_000)],
    )
    target_date = models.DateField("退院・転院の目標日", null=True, blank=True)

    household = models.CharField(
        "同居者の有無", max_length=10, choices=CaseHousehold.choices, default=CaseHousehold.UNKNOWN
    )
    key_person = models.CharField(
        "キーパーソン", max_length=10, choices=KeyPerson.choices, default=KeyPerson.YES
    )
    key_person_relation = models.CharField(
        "キーパーソンの続柄", max_length=15, choices=Relation.choices, blank=True
    )
    note = models.TextField(
        "補足（個人を特定できる情報は書かないでください）", max_length=2000, blank=True
    )
    # The hospital's own handle on the case (「5階東 B3」「退院調整 No.12」) so that an MSW with
    # several cases can tell them apart; screened like the note and never shown to facilities.
    internal_ref = models.CharField(
        "院内メモ（管理番号）",
        max_length=40,
        blank=True,
        help_text="自院の職員だけに表示されます。病棟・管理番号など。氏名・患者IDは書けません。",
    )

    placed_facility = models.ForeignKey(
        Facility,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="決定した施設",
    )
    decided_at = models.DateTimeField("決定日時", null=True, blank=True)
    withdrawn_at = models.DateTimeField("取下げ日時", null=True, blank=True)
    withdrawal_reason = models.CharField(
        "取下げの理由", max_length=15, choices=WithdrawalReason.choices, blank=True
    )
    registered_at = models.DateTimeField("登録日時", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = PlacementCaseQuerySet.as_manager()

    class Meta:
        verbose_name = "入退院支援の案件"
        verbose_name_plural = "入退院支援の案件"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["hospital", "status"], name="case_hospital_status_idx"),
            models.Index(fields=["created_at"], name="case_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=CaseStatus.DECIDED) | Q(placed_facility__isnull=False),
                name="case_decided_has_facility",
            ),
        ]

    def __str__(self) -> str:
        return f"案件 {self.short_code}（{self.get_age_band_display()}・{self.get_sex_display()}）"

    def get_absolute_url(self) -> str:
        return reverse("referrals:case_detail", args=[self.code])

    @property
    def label(self) -> str:
        """The case as its hospital calls it: the short code and the internal reference."""
        return f"{self.short_code}「{self.internal_ref}」" if self.internal_ref else self.short_code

    @property
    def short_code(self) -> str:
        return str(self.code)[:8]

    @property
    def care_level_label(self) -> str:
        return "申請中" if self.care_level is None else self.get_care_level_display()

    @property
    def is_open(self) -> bool:
        return self.status in (CaseStatus.DRAFT, CaseStatus.SEARCHING, CaseStatus.REQUESTING)

    def clean(self) -> None:
        from renkei.referrals.screening import IdentifyingText, screen

        errors: dict[str, str] = {}
        for name in ("note", "internal_ref"):
            try:
                screen(getattr(self, name))
            except IdentifyingText as e:
                errors[name] = str(e)
        if not isinstance(self.destinations, list) or any(
            d not in Destination.values for d in self.destinations
        ):
            errors["destinations"] = "希望する退院・転院先の値が正しくありません"
        elif self.status != CaseStatus.DRAFT and not self.destinations:
            errors["destinations"] = "希望する退院・転院先を1つ以上選んでください"
        if not isinstance(self.infections, list) or any(
            i not in Infection.values for i in self.infections
        ):
            errors["infections"] = "感染症の値が正しくありません"
        if self.key_person != KeyPerson.YES and self.key_person_relation:
            errors["key_person_relation"] = "続柄はキーパーソンが「あり」の場合だけ選んでください"
        if errors:
            raise ValidationError(errors)

    def infection_labels(self) -> list[str]:
        labels = dict(Infection.choices)
        return [labels.get(i, i) for i in self.infections]

    def destination_labels(self) -> list[str]:
        labels = dict(Destination.choices)
        return [labels.get(d, d) for d in self.destinations]

    def key_person_label(self) -> str:
        label = self.get_key_person_display()
        if self.key_person == KeyPerson.YES and self.key_person_relation:
            return f"{label}（{self.get_key_person_relation_display()}）"
        return label


class RequestStatus(models.TextChoices):
    SENT = "sent", "未読"
    READ = "read", "既読・検討中"
    ACCEPTED = "accepted", "受入可"
    CONDITIONAL = "conditional", "条件付きで可"
    INTERVIEW = "interview", "面談希望"
    DECLINED = "declined", "受入不可"
    WITHDRAWN = "withdrawn", "取下げ"
    EXPIRED = "expired", "期限切れ"
    CONFIRMED = "confirmed", "受入決定"

    @classmethod
    def open(cls) -> list[str]:
        """Still in play: the hospital may yet confirm it or the facility may still answer."""
        return [cls.SENT, cls.READ, cls.ACCEPTED, cls.CONDITIONAL, cls.INTERVIEW, cls.DECLINED]

    @classmethod
    def unanswered(cls) -> list[str]:
        return [cls.SENT, cls.READ]

    @classmethod
    def answers(cls) -> list[str]:
        return [cls.ACCEPTED, cls.CONDITIONAL, cls.INTERVIEW, cls.DECLINED]

    @classmethod
    def confirmable(cls) -> list[str]:
        return [cls.ACCEPTED, cls.CONDITIONAL]

    @classmethod
    def positive(cls) -> list[str]:
        """Answers that count as an acceptance in the statistics."""
        return [cls.ACCEPTED, cls.CONDITIONAL, cls.CONFIRMED]


class Answer(models.TextChoices):
    """The facility's latest answer, kept when the request is later withdrawn or expires."""

    ACCEPTED = "accepted", "受入可"
    CONDITIONAL = "conditional", "条件付きで可"
    INTERVIEW = "interview", "面談希望"
    DECLINED = "declined", "受入不可"

    @classmethod
    def positive(cls) -> list[str]:
        return [cls.ACCEPTED, cls.CONDITIONAL]


class DeclineReason(models.TextChoices):
    FULL = "full", "満床"
    PROCEDURE = "procedure", "処置に対応不可"
    CARE_LEVEL = "care_level", "要介護度"
    COST = "cost", "費用"
    INFECTION = "infection", "感染症"
    OTHER = "other", "その他"


class PlacementRequestQuerySet(models.QuerySet["PlacementRequest"]):
    def received_by(self, membership: Membership) -> Self:
        return self.filter(organization_id=membership.organization_id)

    def visible_to(self, membership: Membership | None) -> Self:
        """The hospital sees every request of its cases; a facility only its own."""
        if membership is None:
            return self.none()
        org_id = membership.organization_id
        return self.filter(Q(case__hospital_id=org_id) | Q(organization_id=org_id))

    def open(self) -> Self:
        return self.filter(status__in=RequestStatus.open())

    def listed(self, *, show: str = "open") -> Self:
        """The inbox's filter (the screen and the API): open requests, or all."""
        return self.open() if show == "open" else self


class PlacementRequest(models.Model):
    """One case sent to one facility (打診), and that facility's answer."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(
        PlacementCase, on_delete=models.CASCADE, related_name="requests", verbose_name="案件"
    )
    facility = models.ForeignKey(
        Facility, on_delete=models.PROTECT, related_name="placement_requests", verbose_name="施設"
    )
    # The receiving organisation when the request was sent: who may see the case from now on.
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="placement_requests",
        verbose_name="依頼先の組織",
    )
    sent_at = models.DateTimeField("依頼日時", default=timezone.now)
    sent_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name="依頼者"
    )
    deadline = models.DateTimeField("回答期限")
    status = models.CharField(
        "状態", max_length=12, choices=RequestStatus.choices, default=RequestStatus.SENT
    )
    answer = models.CharField("回答", max_length=12, choices=Answer.choices, blank=True)
    decline_reason = models.CharField(
        "受入不可の理由", max_length=12, choices=DeclineReason.choices, blank=True
    )
    conditions = models.TextField("受入れの条件", max_length=1000, blank=True)
    interview_dates = models.JSONField("面談の候補日時", default=list, blank=True)
    answer_note = models.TextField("回答の補足", max_length=1000, blank=True)
    answered_at = models.DateTimeField("回答日時", null=True, blank=True)
    answered_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    read_at = models.DateTimeField("既読日時", null=True, blank=True)
    withdrawn_at = models.DateTimeField("取下げ日時", null=True, blank=True)
    withdrawal_note = models.CharField("取下げの理由", max_length=200, blank=True)
    reminded_at = models.DateTimeField("督促日時", null=True, blank=True)
    unread_by_facility = models.BooleanField(default=True)
    unread_by_hospital = models.BooleanField(default=False)

    objects = PlacementRequestQuerySet.as_manager()

    class Meta:
        verbose_name = "受入れ依頼"
        verbose_name_plural = "受入れ依頼"
        ordering = ["sent_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "facility"], name="uniq_request_case_facility"),
            # Security R21: whatever the interleaving, one placement per case.
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(status="confirmed"),
                name="one_confirmed_request_per_case",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status"], name="request_org_status_idx"),
            models.Index(fields=["facility", "status"], name="request_facility_status_idx"),
            models.Index(fields=["status", "deadline"], name="request_status_deadline_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.case} → {self.facility}"

    def get_absolute_url(self) -> str:
        return reverse("referrals:request_detail", args=[self.code])

    @property
    def is_open(self) -> bool:
        return self.status in RequestStatus.open()

    @property
    def is_answered(self) -> bool:
        return self.status in RequestStatus.answers() or self.status == RequestStatus.CONFIRMED

    def interview_labels(self) -> list[str]:
        labels = []
        for raw in self.interview_dates:
            try:
                when = dt.datetime.fromisoformat(str(raw))
            except ValueError:
                continue
            if timezone.is_aware(when):
                when = timezone.localtime(when)
            labels.append(
                f"{when.month}/{when.day}（{'月火水木金土日'[when.weekday()]}）{when:%H:%M}"
            )
        return labels

    @property
    def is_overdue(self) -> bool:
        return self.status in RequestStatus.unanswered() and self.deadline < timezone.now()


class RequestMessage(models.Model):
    """A question or answer on one request, between the hospital and that facility only."""

    request = models.ForeignKey(
        PlacementRequest, on_delete=models.CASCADE, related_name="messages", verbose_name="依頼"
    )
    author = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name="投稿者"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name="投稿者の組織"
    )
    body = models.TextField("本文", max_length=1000)
    created_at = models.DateTimeField("投稿日時", default=timezone.now)

    class Meta:
        verbose_name = "質問・回答"
        verbose_name_plural = "質問・回答"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.body[:40]

    @property
    def from_hospital(self) -> bool:
        return self.organization_id == self.request.case.hospital_id


class EventKind(models.TextChoices):
    CREATED = "created", "登録"
    UPDATED = "updated", "内容を更新"
    ASSIGNED = "assigned", "担当者を変更"
    SENT = "sent", "受入れ依頼を送信"
    READ = "read", "依頼を開封"
    ANSWERED = "answered", "回答"
    MESSAGE = "message", "質問・回答"
    REQUEST_WITHDRAWN = "request_withdrawn", "依頼を取下げ"
    EXPIRED = "expired", "回答期限切れ"
    REMINDED = "reminded", "回答の督促"
    DECIDED = "decided", "受入先を決定"
    HANDOVER = "handover", "書類の受け渡し"
    CASE_WITHDRAWN = "case_withdrawn", "案件を取下げ"


class CaseEventQuerySet(models.QuerySet["CaseEvent"]):
    def visible_to(self, membership: Membership, case: PlacementCase) -> Self:
        """The hospital sees the whole timeline; a facility only what concerns its own request."""
        qs = self.filter(case=case)
        if case.hospital_id == membership.organization_id:
            return qs
        return qs.filter(request__organization_id=membership.organization_id)


class CaseEvent(models.Model):
    """The case's timeline: everything that happened, in order."""

    case = models.ForeignKey(
        PlacementCase, on_delete=models.CASCADE, related_name="events", verbose_name="案件"
    )
    request = models.ForeignKey(
        PlacementRequest,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="events",
        verbose_name="依頼",
    )
    at = models.DateTimeField("日時", default=timezone.now)
    kind = models.CharField("種類", max_length=20, choices=EventKind.choices)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.CharField("内容", max_length=300, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    objects = CaseEventQuerySet.as_manager()

    class Meta:
        verbose_name = "経過"
        verbose_name_plural = "経過"
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.text}"


class HandoverKind(models.TextChoices):
    REFERRAL_LETTER = "referral_letter", "診療情報提供書"
    NURSING_SUMMARY = "nursing_summary", "看護サマリー"
    REHAB_SUMMARY = "rehab_summary", "リハビリテーション・サマリー"
    MEDICATION = "medication", "薬剤情報提供書"
    OTHER = "other", "その他"


class HandoverMethod(models.TextChoices):
    HAND = "hand", "手渡し・持参"
    MAIL = "mail", "郵送"
    FAX = "fax", "FAX"
    NETWORK = "network", "地域医療介護連携ネットワーク"
    OTHER = "other", "その他"


class HandoverQuerySet(models.QuerySet["HandoverRecord"]):
    def visible_to(self, membership: Membership) -> Self:
        """The hospital sees every record of its cases; the placed facility those of its case."""
        org_id = membership.organization_id
        placed = PlacementRequest.objects.filter(
            case=OuterRef("case"), status=RequestStatus.CONFIRMED, organization_id=org_id
        )
        return self.filter(Q(case__hospital_id=org_id) | Exists(placed))


class HandoverRecord(models.Model):
    """That a document went from one side to the other, and when. Never its content."""

    case = models.ForeignKey(
        PlacementCase, on_delete=models.CASCADE, related_name="handovers", verbose_name="案件"
    )
    kind = models.CharField("書類", max_length=20, choices=HandoverKind.choices)
    method = models.CharField(
        "方法", max_length=10, choices=HandoverMethod.choices, default=HandoverMethod.HAND
    )
    exchanged_on = models.DateField("受け渡した日")
    recorded_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name="記録者"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name="記録者の組織"
    )
    recorded_at = models.DateTimeField("記録日時", default=timezone.now)

    objects = HandoverQuerySet.as_manager()

    class Meta:
        verbose_name = "書類の受け渡し"
        verbose_name_plural = "書類の受け渡し"
        ordering = ["exchanged_on", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}（{self.exchanged_on:%Y-%m-%d}）"


class Survey(models.Model):
    """効果検証 questionnaire for participating institutions, run by a prefecture or municipality."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField("題名", max_length=120)
    description = models.TextField("説明", blank=True)
    owner = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name="実施主体"
    )
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    opens_on = models.DateField("開始日", default=timezone.localdate)
    closes_on = models.DateField("締切日")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "効果検証アンケート"
        verbose_name_plural = "効果検証アンケート"
        ordering = ["-opens_on", "-id"]

    def __str__(self) -> str:
        return self.title

    def is_open(self, today: dt.date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.opens_on <= today <= self.closes_on


class SurveyResponse(models.Model):
    survey = models.ForeignKey(
        Survey, on_delete=models.CASCADE, related_name="responses", verbose_name="アンケート"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name="回答機関"
    )
    respondent = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    minutes_before = models.PositiveIntegerField(
        "電話・FAXで調整していた頃の1件あたりの所要時間（分）",
        validators=[MaxValueValidator(6000)],
    )
    minutes_now = models.PositiveIntegerField(
        "ネットワーク利用後の1件あたりの所要時間（分）", validators=[MaxValueValidator(6000)]
    )
    satisfaction = models.PositiveSmallIntegerField(
        "満足度（1〜5）", validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField("ご意見・ご要望", max_length=2000, blank=True)
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "アンケート回答"
        verbose_name_plural = "アンケート回答"
        ordering = ["submitted_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "organization"], name="uniq_survey_response_org"
            ),
            models.CheckConstraint(
                condition=Q(satisfaction__gte=1) & Q(satisfaction__lte=5),
                name="survey_satisfaction_1_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.survey} / {self.organization}"

    @property
    def minutes_saved(self) -> int:
        return self.minutes_before - self.minutes_now


def unread_requests(membership: Membership) -> QuerySet[PlacementRequest]:
    """Requests with something new for this organisation: the navigation badge (the menu
    counts it with the other entries' badges)."""
    org_id = membership.organization_id
    return PlacementRequest.objects.filter(
        Q(organization_id=org_id, unread_by_facility=True)
        | Q(case__hospital_id=org_id, unread_by_hospital=True)
    )


# The menu's badge (every member page): `unread_requests(m).count()` written out, because
# building and compiling the QuerySet cost more CPU than the count (ADR 0060); pinned to it by
# tests/test_answer_request.py.
_UNREAD_BADGE = """SELECT COUNT(*) FROM referrals_placementrequest r
JOIN referrals_placementcase c ON c.id = r.case_id
WHERE (r.organization_id = %s AND r.unread_by_facility)
OR (c.hospital_id = %s AND r.unread_by_hospital)"""


def unread_badge(membership: Membership) -> SQLCount:
    org_id = membership.organization_id
    return SQLCount(_UNREAD_BADGE, (org_id, org_id), router.db_for_read(PlacementRequest))


def unread_count(membership: Membership) -> int:
    return unread_requests(membership).count()
