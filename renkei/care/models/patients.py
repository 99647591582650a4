"""Identified patients, their care teams across organisations, consent and emergency access.

The first part of Renkei that holds 要配慮個人情報 under a name (ADR 0032): identifying fields
are sealed with renkei.lib.fields (ADR 0027) and found only through keyed blind indexes; a
patient is visible to the current members of its team (and, outside the registering
organisation, only within an active consent), or to a time-limited break-glass grant.
Everything else gets 404. Reads are audited by the actions, not here.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import uuid
from typing import Any, Self

from django.db import connections, models
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import timezone

from renkei.accounts.menu import SQLCount
from renkei.accounts.models import Membership, Organization, Role, User
from renkei.lib.crypto import blind_index
from renkei.lib.fields import EncryptedDateField, EncryptedTextField
from renkei.lib.text import normalize_search

# Roles that take part in a patient's care; municipal officers and auditors never see one.
CARE_ROLES = frozenset(
    {
        Role.DOCTOR,
        Role.DENTIST,
        Role.PHARMACIST,
        Role.NURSE,
        Role.VISITING_NURSE,
        Role.MSW,
        Role.DISCHARGE_NURSE,
        Role.CARE_MANAGER,
        Role.CARE_WORKER,
        Role.REHAB,
        Role.DIETITIAN,
        Role.COUNSELOR,
    }
)
# Who may open a record in an emergency without being on its team (security R29).
BREAK_GLASS_ROLES = frozenset(
    {Role.DOCTOR, Role.NURSE, Role.VISITING_NURSE, Role.DISCHARGE_NURSE, Role.PHARMACIST}
)
BREAK_GLASS_HOURS = 4


class Sex(models.TextChoices):
    MALE = "male", "男性"
    FEMALE = "female", "女性"
    OTHER = "other", "その他"
    UNKNOWN = "unknown", "不明・未回答"


class CareLevel(models.TextChoices):
    NONE = "none", "未申請・非該当"
    PENDING = "pending", "申請中"
    SUPPORT1 = "support1", "要支援1"
    SUPPORT2 = "support2", "要支援2"
    CARE1 = "care1", "要介護1"
    CARE2 = "care2", "要介護2"
    CARE3 = "care3", "要介護3"
    CARE4 = "care4", "要介護4"
    CARE5 = "care5", "要介護5"


class TeamRole(models.TextChoices):
    PRIMARY_DOCTOR = "primary_doctor", "主治医"
    SECONDARY_DOCTOR = "secondary_doctor", "副主治医"
    VISITING_NURSE = "visiting_nurse", "訪問看護"
    CARE_MANAGER = "care_manager", "ケアマネジャー"
    PHARMACIST = "pharmacist", "薬剤師"
    DENTIST = "dentist", "歯科"
    HOSPITAL_LIAISON = "hospital_liaison", "病院の連携室"
    CARE_PROVIDER = "care_provider", "介護事業所"
    REHAB = "rehab", "リハビリ"
    OTHER = "other", "その他"


def kana_birth_key(kana: str, birth_date: dt.date) -> str:
    """Blind index of kana + birth date: 「ヤマダ タロウ」 and 「やまだたろう」 are one person."""
    return blind_index(f"{normalize_search(kana)}|{birth_date.isoformat()}", purpose="kana_birth")


def digits(text: str) -> str:
    return re.sub(r"\D", "", unicodedata.normalize("NFKC", text or ""))


def number_key(value: str, purpose: str) -> str:
    """Blind index of a phone or 被保険者番号 (digits only); "" when there is none."""
    d = digits(value)
    return blind_index(d, purpose=purpose) if d else ""


class PatientQuerySet(models.QuerySet["Patient"]):
    def visible_to(self, m: Membership | None, *, now: dt.datetime | None = None) -> Self:
        """Patients `m` may open now: current team membership within the consent, or an
        unexpired break-glass grant. Evaluated per request, so a removal, an ended period or
        a revoked consent takes effect on the next one."""
        if m is None or m.role not in CARE_ROLES:
            return self.none()
        now = now or timezone.now()
        today = timezone.localdate(now)
        on_team = CareTeamMember.objects.current(today).filter(membership=m)
        from renkei.care.models.consent import Consent

        own = Q(owner_id=m.organization_id)
        consented = Q(
            pk__in=Consent.objects.active(today).covering(m).values("patient_id"),
        )
        grants = BreakGlassGrant.objects.filter(membership=m, expires_at__gt=now)
        return self.filter(
            (Q(pk__in=on_team.values("patient_id")) & (own | consented))
            | Q(pk__in=grants.values("patient_id"))
        )

    def visible_one(
        self, m: Membership | None, code: uuid.UUID, *, now: dt.datetime | None = None
    ) -> Self:
        """`visible_to(m).filter(code=code)` for the fetch of one patient (every patient page
        and API read): the same rule written as one SQL condition on the patient row, because
        building and compiling `visible_to`'s three nested QuerySets cost more CPU (~2 ms)
        than the statement. Pinned to `visible_to` by care/tests/test_visible_one.py
        (ADR 0060). Only for a QuerySet of patients alone (the condition names the table)."""
        if m is None or m.role not in CARE_ROLES:
            return self.none()
        from renkei.care.models.consent import ConsentScope

        ops = connections[self.db].ops
        now = now or timezone.now()
        today = ops.adapt_datefield_value(timezone.localdate(now))
        params = (
            *(m.pk, MemberStatus.ACTIVE.value, today, today, m.organization_id),
            *(today, today, ConsentScope.ALL.value, ConsentScope.ORGANIZATIONS.value),
            *(m.organization_id, ConsentScope.PEOPLE.value, m.user_id),
            *(m.pk, ops.adapt_datetimefield_value(now)),
        )
        # Fixed SQL; the values are bound parameters, none from the request. The member's
        # current team row, which the rule reads anyway, comes back as `on_team_now` (a page
        # that says whether the reader is on the team asks nothing more).
        return (
            self.filter(code=code)
            .filter(RawSQL(_VISIBLE_ROW, params, output_field=models.BooleanField()))  # noqa: S611
            .annotate(
                on_team_now=RawSQL(_ON_TEAM_ROW, params[:4], output_field=models.BooleanField())  # noqa: S611
            )
        )

    def on_team_of(self, m: Membership) -> Self:
        """Patients whose team `m` is on now (the list; no break-glass entries)."""
        return self.filter(pk__in=team_patient_ids(m))


# `CareTeamMember.objects.current()` of the row "care_patient" and one member.
_ON_TEAM_ROW = """EXISTS (SELECT 1 FROM care_careteammember t
    WHERE t.patient_id = "care_patient"."id" AND t.membership_id = %s AND t.status = %s
    AND t.start_date <= %s AND (t.end_date IS NULL OR t.end_date >= %s))"""
# `visible_to` for the row "care_patient": (a current team row ∧ (own ∨ consent)) ∨ a grant.
_VISIBLE_ROW = f"""(({_ON_TEAM_ROW}
  AND ("care_patient"."owner_id" = %s
    OR EXISTS (SELECT 1 FROM care_consent c
      WHERE c.patient_id = "care_patient"."id" AND c.revoked_at IS NULL AND c.valid_from <= %s
      AND (c.valid_until IS NULL OR c.valid_until >= %s)
      AND (c.scope = %s
        OR (c.scope = %s AND EXISTS (SELECT 1 FROM care_consent_organizations co
          WHERE co.consent_id = c.id AND co.organization_id = %s))
        OR (c.scope = %s AND EXISTS (SELECT 1 FROM care_consent_people cp
          WHERE cp.consent_id = c.id AND cp.user_id = %s))))))
OR EXISTS (SELECT 1 FROM care_breakglassgrant g
  WHERE g.patient_id = "care_patient"."id" AND g.membership_id = %s AND g.expires_at > %s))"""  # noqa: S608 - constants


def team_patient_ids(m: Membership, *, now: dt.datetime | None = None) -> models.QuerySet[Any]:
    """Ids of the patients whose team `m` is on now and that `m` may open: `visible_to(m)`
    restricted to a current team row, which is (team ∧ (own ∨ consent)) ∨ (grant ∧ team)
    = team ∧ (own ∨ consent ∨ grant). Written from the team rows, it is one join and two
    small subqueries instead of four nested ones (the unread counts run it on every page)."""
    if m.role not in CARE_ROLES:
        return CareTeamMember.objects.none().values_list("patient_id", flat=True)
    from renkei.care.models.consent import Consent

    now = now or timezone.now()
    today = timezone.localdate(now)
    consented = Consent.objects.active(today).covering(m).values("patient_id")
    grants = BreakGlassGrant.objects.filter(membership=m, expires_at__gt=now)
    return (
        CareTeamMember.objects.current(today)
        .filter(membership=m)
        .filter(
            Q(patient__owner_id=m.organization_id)
            | Q(patient_id__in=consented)
            | Q(patient_id__in=grants.values("patient_id"))
        )
        .values_list("patient_id", flat=True)
    )


class Patient(models.Model):
    """A person cared for at home. Only the team reads it; every read is audited."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name="登録した組織"
    )
    name = EncryptedTextField("氏名", max_length=60)
    kana = EncryptedTextField("ふりがな", max_length=100)
    birth_date = EncryptedDateField("生年月日")
    sex = models.CharField("性別", max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    address = EncryptedTextField("住所", max_length=200, blank=True, default="")
    phone = EncryptedTextField("電話番号", max_length=20, blank=True, default="")
    insured_number = EncryptedTextField("被保険者番号", max_length=10, blank=True, default="")
    care_level = models.CharField(
        "要介護度", max_length=10, choices=CareLevel.choices, default=CareLevel.NONE
    )
    key_person = EncryptedTextField("キーパーソン", max_length=200, blank=True, default="")
    emergency_contacts = EncryptedTextField("緊急連絡先", max_length=500, blank=True, default="")
    kana_birth_index = models.CharField(max_length=32, db_index=True, editable=False)
    insured_index = models.CharField(max_length=32, db_index=True, blank=True, editable=False)
    phone_index = models.CharField(max_length=32, db_index=True, blank=True, editable=False)
    # The 入退院支援 case this record was carried over from (its code; nothing is written back
    # to the anonymous case). One patient per case.
    placement_case = models.UUIDField(
        "入退院支援の案件", null=True, blank=True, unique=True, editable=False
    )
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    objects = PatientQuerySet.as_manager()

    class Meta:
        verbose_name = "患者"
        verbose_name_plural = "患者"

    def __str__(self) -> str:
        # Never the name: this string lands in audit rows and logs.
        return f"患者 {str(self.code)[:8]}"

    def get_absolute_url(self) -> str:
        return reverse("care:patient", args=[self.code])

    def refresh_indexes(self) -> None:
        self.kana_birth_index = kana_birth_key(self.kana, self.birth_date)
        self.insured_index = number_key(self.insured_number, "insured")
        self.phone_index = number_key(self.phone, "phone")

    def age(self, today: dt.date | None = None) -> int:
        today = today or timezone.localdate()
        b: dt.date = self.birth_date
        return today.year - b.year - ((today.month, today.day) < (b.month, b.day))

    def current_team(self) -> models.QuerySet[CareTeamMember]:
        return (
            CareTeamMember.objects.current()
            .filter(patient=self)
            .select_related("membership__user", "membership__organization")
            .order_by("team_role", "pk")
        )


class MemberStatus(models.TextChoices):
    INVITED = "invited", "招待中"
    ACTIVE = "active", "参加中"
    DECLINED = "declined", "辞退"
    ENDED = "ended", "終了"


class CareTeamQuerySet(models.QuerySet["CareTeamMember"]):
    def current(self, today: dt.date | None = None) -> Self:
        today = today or timezone.localdate()
        return self.filter(status=MemberStatus.ACTIVE, start_date__lte=today).filter(
            Q(end_date__isnull=True) | Q(end_date__gte=today)
        )


class CareTeamMember(models.Model):
    """One professional on one patient's team, for a period, in a team role.

    A membership (person in an organisation), so a person who works for two organisations is
    on the team for the one that invited them. Patients and families as members later get
    their own account kind; this row stays the professionals' (ADR 0032).
    """

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="team")
    membership = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="care_teams", verbose_name="メンバー"
    )
    team_role = models.CharField("チームでの役割", max_length=20, choices=TeamRole.choices)
    status = models.CharField(max_length=10, choices=MemberStatus.choices)
    start_date = models.DateField("開始日")
    end_date = models.DateField("終了日", null=True, blank=True)
    invited_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    invited_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    end_reason = models.CharField("終了の理由", max_length=200, blank=True)

    objects = CareTeamQuerySet.as_manager()

    class Meta:
        verbose_name = "ケアチームのメンバー"
        verbose_name_plural = "ケアチームのメンバー"
        constraints = [
            # One open row per person and patient: invited or active, not both twice.
            models.UniqueConstraint(
                fields=["patient", "membership"],
                condition=Q(status__in=["invited", "active"]),
                name="care_one_open_membership",
            )
        ]

    def __str__(self) -> str:
        return f"{self.membership.user} ({self.get_team_role_display()})"


class BreakGlassGrant(models.Model):
    """An emergency read outside the team: a reason, a short expiry, an alert (R29)."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField("理由", max_length=300)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = "緊急時の閲覧"
        verbose_name_plural = "緊急時の閲覧"
        indexes = [models.Index(fields=["membership", "expires_at"], name="care_bg_member_idx")]

    def __str__(self) -> str:
        return f"{self.membership.user} → {self.patient} ({self.created_at:%Y-%m-%d %H:%M})"


def unread_badge(m: Membership) -> SQLCount | int:
    """Menu badge: unread timeline posts on the member's patients (the menu counts it with
    the other entries' badges, ADR 0060)."""
    from renkei.care.models.timeline import unread_badge_sql

    return unread_badge_sql(m)


def may_use_care(m: Membership) -> bool:
    """Menu: only the care professions see the entry."""
    return m.role in CARE_ROLES
