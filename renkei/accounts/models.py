"""Organisations, users, memberships and the append-only audit log."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable
from typing import Any, Self

from django.contrib.auth.models import AbstractUser
from django.contrib.sessions.base_session import AbstractBaseSession
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, router, transaction
from django.db.models.functions import Concat
from django.http import HttpRequest
from django.utils import timezone

from renkei.lib.chain import chain_digest, first_broken
from renkei.lib.clientip import client_ip
from renkei.lib.precommit import before_commit
from renkei.regions.models import Municipality, Prefecture


class OrgKind(models.TextChoices):
    HOSPITAL = "hospital", "病院"
    CLINIC = "clinic", "診療所"
    DENTAL = "dental", "歯科診療所"
    PHARMACY = "pharmacy", "薬局"
    VISITING_NURSE = "visiting_nurse", "訪問看護ステーション"
    CARE_MANAGEMENT = "care_management", "居宅介護支援事業所"
    CARE_PROVIDER = "care_provider", "介護サービス事業所・施設"
    COMMUNITY_CENTER = "community_center", "地域包括支援センター"
    COORDINATION_CENTER = "coordination_center", "在宅医療・介護連携支援センター"
    MEDICAL_ASSOCIATION = "medical_association", "医師会・職能団体"
    MUNICIPALITY = "municipality", "市区町村"
    PREFECTURE = "prefecture", "都道府県"
    OPERATOR = "operator", "運営事務局"


class Role(models.TextChoices):
    DOCTOR = "doctor", "医師"
    DENTIST = "dentist", "歯科医師"
    PHARMACIST = "pharmacist", "薬剤師"
    NURSE = "nurse", "看護師"
    VISITING_NURSE = "visiting_nurse", "訪問看護師"
    MSW = "msw", "MSW（医療ソーシャルワーカー）"
    DISCHARGE_NURSE = "discharge_nurse", "退院支援看護師"
    CARE_MANAGER = "care_manager", "ケアマネジャー"
    CARE_WORKER = "care_worker", "介護職"
    REHAB = "rehab", "リハ職"
    DIETITIAN = "dietitian", "管理栄養士"
    COUNSELOR = "counselor", "相談員"
    MUNICIPAL_OFFICER = "municipal_officer", "行政担当（市区町村）"
    PREFECTURAL_OFFICER = "prefectural_officer", "行政担当（都道府県）"
    AUDITOR = "auditor", "監査担当"
    ADMIN = "admin", "システム管理者"


# Roles that read an organisation's named records (a consultation naming the person) unless its
# administrator chooses otherwise: the desk's professional staff and the government officers,
# not 介護職 (ADR 0043).
DEFAULT_NAMED_READ_ROLES: tuple[str, ...] = (
    Role.COUNSELOR,
    Role.NURSE,
    Role.VISITING_NURSE,
    Role.DOCTOR,
    Role.MSW,
    Role.DISCHARGE_NURSE,
    Role.MUNICIPAL_OFFICER,
    Role.PREFECTURAL_OFFICER,
)

# Roles that read the audit log, which names who looked at which records (security R10).
AUDIT_ROLES: frozenset[str] = frozenset({Role.AUDITOR, Role.ADMIN})


def encode_roles(roles: Iterable[str]) -> str:
    """Stored as ",a,b,": a role is in the set when ",role," is in the text, in Python and in SQL."""
    wanted = set(roles)
    chosen = [r for r in Role.values if r in wanted]
    return f",{','.join(chosen)}," if chosen else ""


class User(AbstractUser):
    """A person who signs in. What they may see comes from their memberships."""

    display_name = models.CharField("表示名", max_length=60, blank=True)

    class Meta:
        verbose_name = "利用者"
        verbose_name_plural = "利用者"

    def __str__(self) -> str:
        return self.display_name or self.get_username()


class Session(AbstractBaseSession):
    """Django's session row with the signed-in user's id and second-factor device beside the
    data, written from the data at every save (renkei.accounts.sessions), so that one
    statement reads the session, the user and the device (ADR 0071). The signed data stays
    the authority: a column is used only when it names what the data names."""

    user_pk = models.BigIntegerField("利用者ID", null=True, blank=True)
    otp_device_model = models.CharField("二要素の機器の種類", max_length=100, blank=True)
    otp_device_pk = models.BigIntegerField("二要素の機器ID", null=True, blank=True)

    class Meta(AbstractBaseSession.Meta):
        verbose_name = "セッション"
        verbose_name_plural = "セッション"

    @classmethod
    def get_session_store_class(cls) -> Any:
        from renkei.accounts.sessions.db import SessionStore

        return SessionStore


def assignee_field() -> models.ForeignKey[User | None, User | None]:
    """The person in charge of a record (担当者): optional, and left empty if the user goes."""
    return models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="担当者",
    )


class OrganizationQuerySet(models.QuerySet["Organization"]):
    def of_kind(self, *kinds: str) -> Self:
        return self.filter(kind__in=kinds)


class Organization(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField("種別", max_length=30, choices=OrgKind.choices)
    name = models.CharField("名称", max_length=120)
    kana = models.CharField("ふりがな", max_length=200, blank=True)
    municipality = models.ForeignKey(
        Municipality,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="organizations",
        verbose_name="市区町村",
    )
    prefecture = models.ForeignKey(
        Prefecture,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="organizations",
        verbose_name="都道府県",
    )
    email = models.EmailField("代表メール", blank=True)
    phone = models.CharField("代表電話", max_length=20, blank=True)
    is_active = models.BooleanField("有効", default=True)
    named_read_roles = models.CharField(
        "氏名入りの記録を閲覧できる職種",
        max_length=400,
        default=encode_roles(DEFAULT_NAMED_READ_ROLES),
        blank=True,
        help_text="組織の管理者が設定します。管理者自身は常に閲覧できます。",
    )

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        verbose_name = "組織"
        verbose_name_plural = "組織"
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_government(self) -> bool:
        return self.kind in (OrgKind.MUNICIPALITY, OrgKind.PREFECTURE, OrgKind.OPERATOR)

    def named_roles(self) -> frozenset[str]:
        return frozenset(r for r in self.named_read_roles.split(",") if r)

    def curated_municipalities(self) -> models.QuerySet[Municipality]:
        """Municipalities whose directory this organisation curates."""
        if self.kind == OrgKind.MUNICIPALITY and self.municipality_id:
            return Municipality.objects.filter(
                models.Q(pk=self.municipality_id) | models.Q(parent_id=self.municipality_id)
            )
        if self.kind == OrgKind.PREFECTURE and self.prefecture_id:
            return Municipality.objects.filter(prefecture_id=self.prefecture_id)
        if self.kind == OrgKind.OPERATOR:
            return Municipality.objects.all()
        return Municipality.objects.none()


class Membership(models.Model):
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="memberships", verbose_name="利用者"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships", verbose_name="組織"
    )
    role = models.CharField("職種・役割", max_length=30, choices=Role.choices)
    is_org_admin = models.BooleanField("組織管理者", default=False)
    is_active = models.BooleanField("有効", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "所属"
        verbose_name_plural = "所属"
        constraints = [
            models.UniqueConstraint(fields=["user", "organization", "role"], name="uniq_membership")
        ]

    def __str__(self) -> str:
        return f"{self.user} / {self.organization} ({self.get_role_display()})"

    @property
    def can_review_audit(self) -> bool:
        """Auditors and administrators may read the audit log (security R10)."""
        return self.role in AUDIT_ROLES

    @property
    def reads_named_records(self) -> bool:
        """Whether the organisation lets this member's role read its named records (ADR 0043).

        No query when the organisation came with the membership (the middleware selects it)."""
        return self.is_org_admin or f",{self.role}," in self.organization.named_read_roles

    @staticmethod
    def named_readers() -> models.Q:
        """The same rule as `reads_named_records`, as a filter on memberships."""
        return models.Q(is_org_admin=True) | models.Q(
            organization__named_read_roles__contains=Concat(
                models.Value(","), models.F("role"), models.Value(",")
            )
        )


class TwoFactorPolicy(models.Model):
    """Roles an administrator adds to those that must use a second factor.

    The second factor is required anyway for staff, superusers and every membership that reads
    named personal data (renkei.accounts.named); a row here can add a role, never exempt one
    (ADR 0043)."""

    role = models.CharField("職種・役割", max_length=30, choices=Role.choices, unique=True)
    required = models.BooleanField("二要素認証を必須にする", default=True)

    class Meta:
        verbose_name = "二要素認証ポリシー"
        verbose_name_plural = "二要素認証ポリシー"

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {'必須' if self.required else '任意'}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Not silently, from code or a shell either: the admin's form shows the same message.
        self.clean()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if not self.required and self.role in named_read_roles():
            raise ValidationError(
                {
                    "required": "この職種は氏名入りの個人情報を閲覧できるため、"
                    "二要素認証を任意にはできません（ADR 0043）"
                }
            )

    @classmethod
    def required_for(cls, user: User) -> bool:
        # One query (after the staff flags): this runs on every request of a signed-in user
        # who has not passed the second factor.
        if user.is_staff or user.is_superuser:
            return True
        from renkei.accounts import named

        listed = cls.objects.filter(required=True).values("role")
        return (
            Membership.objects.filter(user=user, is_active=True, organization__is_active=True)
            .filter(named.readers() | models.Q(role__in=listed))
            .exists()
        )


def named_read_roles() -> set[str]:
    """Roles that read named data somewhere: granted by role alone (care's professions, the
    auditors), in some organisation's setting or its defaults, or held now by a membership a
    registered read matches (an events organiser's staff …) (ADR 0043)."""
    from renkei.accounts import named

    roles: set[str] = set(DEFAULT_NAMED_READ_ROLES)
    for read in named.reads():
        roles |= read.roles
    for setting in Organization.objects.values_list("named_read_roles", flat=True).distinct():
        roles |= {r for r in setting.split(",") if r}
    roles |= set(
        Membership.objects.filter(named.readers()).values_list("role", flat=True).distinct()
    )
    return roles


AUDIT_ACTION_LABELS = {
    "auth.login": "ログイン",
    "auth.logout": "ログアウト",
    "auth.login_failed": "ログイン失敗",
    "auth.locked_out": "ログインのロック",
    "auth.password_reset": "パスワード再設定",
    "auth.password_reset_limited": "パスワード再設定の回数制限",
    "auth.reauthenticated": "本人確認（パスワード再入力）",
    "auth.otp_enrolled": "二要素認証の設定",
    "auth.otp_verified": "二要素認証の成功",
    "auth.otp_failed": "二要素認証の失敗",
    "auth.otp_locked": "二要素認証のロック",
    "accounts.named_roles_changed": "氏名入りの記録を閲覧できる職種の変更",
    "accounts.token_created": "APIトークンの発行",
    "accounts.token_approved": "APIトークンの承認（代理される本人）",
    "accounts.token_revoked": "APIトークンの失効",
    "accounts.token_used": "APIトークンの利用（その日の最初）",
    "accounts.token_refused": "APIトークンの拒否（認証失敗）",
    "audit.viewed": "監査ログの閲覧",
    "audit.exported": "監査ログの出力",
    "audit.scope_exported": "漏えい等の影響範囲の出力",
    "access.refused": "閲覧の拒否（権限のない記録）",
    "directory.vacancy_updated": "空き状況の更新",
    "directory.vacancy_confirmed": "空き状況の確認（変わりなし）",
    "directory.facility_updated": "施設情報の更新",
    "directory.exported": "施設一覧の出力",
    "directory.import_interrupted": "データ取込の中断",
    "directory.facility_created": "施設の登録",
    "directory.import_started": "データ取込の開始",
    "directory.import_finished": "データ取込の完了",
    "directory.import_file_deleted": "取込ファイルの削除（保存期間終了）",
    "regions.areas_imported": "圏域データの取込",
    "referrals.case_created": "入退院支援案件の作成",
    "referrals.case_updated": "入退院支援案件の変更",
    "referrals.case_assigned": "案件の担当者変更",
    "referrals.case_withdrawn": "案件の取り下げ",
    "referrals.case_viewed": "案件の閲覧",
    "referrals.requests_sent": "受入れ打診の送信",
    "referrals.request_viewed": "打診の閲覧",
    "referrals.request_answered": "打診への回答",
    "referrals.request_withdrawn": "打診の取り下げ",
    "referrals.message_posted": "打診へのメッセージ",
    "referrals.placement_confirmed": "受入れ先の決定",
    "referrals.handover_recorded": "引き継ぎの記録",
    "referrals.dashboard_exported": "効果検証データの出力",
    "referrals.survey_created": "調査の作成",
    "referrals.survey_answered": "調査への回答",
    "desk.consultation_created": "相談の記録",
    "desk.consultation_updated": "相談の変更",
    "desk.consultation_revised": "確定済み相談の改訂",
    "desk.consultation_confirmed": "相談の確定",
    "desk.consultation_viewed": "相談の閲覧",
    "desk.consultation_version_viewed": "相談の過去版の閲覧",
    "desk.consultations_listed": "相談一覧の閲覧",
    "desk.consultations_exported": "相談の出力",
    "desk.followup_added": "フォローアップの追加",
    "desk.followup_done": "フォローアップの完了",
    "desk.topic_added": "相談分類の追加",
    "desk.topic_retired": "相談分類の廃止",
    "desk.tally_exported": "相談集計の出力",
    "events.created": "研修・講座の作成",
    "events.updated": "研修・講座の変更",
    "events.attachment_added": "資料の追加",
    "events.attachment_removed": "資料の削除",
    "events.applied": "研修・講座への申込",
    "events.cancelled": "研修・講座の申込取消",
    "events.applicants_viewed": "申込者一覧の閲覧",
    "events.applicants_exported": "申込者一覧の出力",
    "events.attendance_marked": "出席の記録",
    "events.attendance_viewed": "出席簿の閲覧",
    "events.feedback_requested": "アンケート依頼の送信",
    "mentoring.program_saved": "同行研修プログラムの保存",
    "mentoring.mentor_saved": "同行研修の受入れ先の保存",
    "mentoring.applied": "同行研修への申込",
    "mentoring.cancelled": "同行研修の申込取消",
    "mentoring.matched": "同行研修の組合せ決定",
    "mentoring.scheduled": "同行研修の日程決定",
    "mentoring.notices_resent": "同行研修の通知の再送",
    "mentoring.reported": "同行研修の報告",
    "mentoring.honorarium_recorded": "謝金の記録",
    "oncall.rota_saved": "当番表の保存",
    "oncall.member_added": "当番メンバーの追加",
    "oncall.member_removed": "当番メンバーの削除",
    "oncall.rule_added": "当番ルールの追加",
    "oncall.unavailable_marked": "当番不可日の登録",
    "oncall.month_generated": "月間当番表の作成",
    "oncall.month_published": "月間当番表の公開",
    "oncall.shift_assigned": "当番の割当",
    "oncall.period_overridden": "当番期間の変更",
    "oncall.swap_requested": "当番交代の依頼",
    "oncall.swap_answered": "当番交代への回答",
    "oncall.swap_decided": "当番交代の決定",
    "care.emergency_sheet_updated": "救急情報シートの更新",
    "care.ambulance_code_issued": "救急隊用コードの発行",
    "care.ambulance_codes_revoked": "救急隊用コードの失効",
    "care.acp_recorded": "ACP（人生会議）の記録",
}


class AuditQuerySet(models.QuerySet["AuditEntry"]):
    def visible_to(self, membership: Membership) -> Self:
        """The operator's reviewers see every entry; others only their own organisation's."""
        if not membership.can_review_audit:
            return self.none()
        if membership.organization.kind == OrgKind.OPERATOR:
            return self
        return self.filter(organization=membership.organization)

    def update(self, **kwargs: Any) -> int:
        raise PermissionDenied("監査ログは変更できません")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionDenied("監査ログは削除できません")

    def bulk_create(
        self, objs: Iterable[AuditEntry], *args: Any, **kwargs: Any
    ) -> list[AuditEntry]:
        # A bulk insert would skip the chaining in save(): entries are written one by one.
        raise PermissionDenied("監査ログは一件ずつ記録してください")


# Any 64-bit constant of our own: the transaction-level advisory lock that orders the chain.
AUDIT_CHAIN_LOCK = 0x52454E4B4549_01


def audit_chain_content(entry: Any) -> dict[str, Any]:
    """What an entry's digest covers: every column but its id and the digest itself.

    A module function (not a method) so that the migration that chained the existing rows
    uses exactly the same definition on its historical model.
    """
    return {
        "at": entry.at.astimezone(dt.UTC).isoformat(),
        "actor": entry.actor_id,
        "actor_label": entry.actor_label,
        "organization": entry.organization_id,
        "role": entry.role,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "target_repr": entry.target_repr,
        "ip": entry.ip or None,
        "detail": entry.detail,
    }


class AuditEntry(models.Model):
    """Append-only: who did what to which record, when and from where (security R08/R09).

    The ORM refuses updates and deletes; on PostgreSQL triggers refuse UPDATE, DELETE and
    TRUNCATE for raw SQL. Entries form a hash chain in id order (``digest`` covers the
    entry and the previous entry's digest), so that an edit made around the triggers shows
    up in ``manage.py verify_audit`` (ADR 0015).
    """

    # Stamped by save() once the entry holds the chain lock (so times follow chain order), not
    # by auto_now_add, which would set it after the digest that covers it was computed.
    at = models.DateTimeField("日時", default=timezone.now, editable=False, db_index=True)
    actor = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="実行者",
    )
    actor_label = models.CharField("実行者（記録時）", max_length=150, blank=True)
    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="組織",
    )
    role = models.CharField("役割", max_length=30, blank=True)
    action = models.CharField("操作", max_length=60, db_index=True)
    target_type = models.CharField("対象種別", max_length=60, blank=True)
    target_id = models.CharField("対象ID", max_length=64, blank=True, db_index=True)
    target_repr = models.CharField("対象", max_length=200, blank=True)
    ip = models.GenericIPAddressField("IPアドレス", null=True, blank=True)
    detail = models.JSONField("内容", default=dict, blank=True)
    digest = models.CharField("ハッシュ", max_length=64, blank=True, editable=False)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = "監査ログ"
        verbose_name_plural = "監査ログ"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"], name="audit_target_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.target_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionDenied("監査ログは変更できません")
        # Forced INSERT: a new instance given an existing pk must fail, not overwrite the row.
        kwargs["force_insert"] = True
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        if getattr(self, "_awaiting_commit", False):
            raise PermissionDenied("監査ログは変更できません")
        # Inside a transaction the entry is chained and inserted just before COMMIT (ADR 0066):
        # writers take turns from the chaining to the commit, so the turn no longer spans what
        # the action does after recording. Until then the entry has no id and is not in the table.
        if before_commit(lambda: self._chain_and_insert(using, args, kwargs), using):
            self._awaiting_commit = True
            return
        # No savepoint of its own inside a caller's transaction: two round trips fewer, and a
        # failed insert dooms that transaction on PostgreSQL anyway.
        with transaction.atomic(using=using, savepoint=False):
            self._chain_and_insert(using, args, kwargs)

    def _chain_and_insert(self, using: str, args: Any, kwargs: dict[str, Any]) -> None:
        self._awaiting_commit = False
        self._link(using)
        super().save(*args, **kwargs)

    def _link(self, using: str) -> None:
        """Chain this entry to the latest one.

        On PostgreSQL a transaction-level advisory lock makes writers take turns from here
        until their transaction ends, so that the entry read as "latest" is still the latest
        when this one commits, and ids follow chain order. (SQLite's writers are serialised
        by its database lock already: transactions begin IMMEDIATE.) Writers therefore wait
        for each other's commit, which is why save() defers this to just before COMMIT when it
        can (ADR 0066).
        """
        connection = transaction.get_connection(using)
        if connection.vendor == "postgresql":
            # The lock and the read in one round trip (accounts migration 0003).
            with connection.cursor() as cursor:
                cursor.execute("SELECT renkei_audit_chain_head(%s)", [AUDIT_CHAIN_LOCK])
                previous = cursor.fetchone()[0]
        else:
            previous = (
                AuditEntry.objects.using(using)
                .order_by("-id")
                .values_list("digest", flat=True)
                .first()
            )
        self.at = timezone.now()
        # Hash what the database will give back: JSON as it round-trips, the address as the
        # field stores it.
        self.detail = json.loads(json.dumps(self.detail))
        ip_field = AuditEntry._meta.get_field("ip")
        assert isinstance(ip_field, models.GenericIPAddressField)
        self.ip = ip_field.get_prep_value(self.ip) or None
        self.digest = chain_digest(previous or "", audit_chain_content(self))

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionDenied("監査ログは削除できません")

    @property
    def action_label(self) -> str:
        return AUDIT_ACTION_LABELS.get(self.action, self.action)

    @property
    def role_label(self) -> str:
        return Role(self.role).label if self.role in Role.values else self.role

    @classmethod
    def record(
        cls,
        action: str,
        *,
        request: HttpRequest | None = None,
        actor: User | None = None,
        membership: Membership | None = None,
        target: models.Model | None = None,
        detail: dict[str, Any] | None = None,
        actor_label: str = "",
        by: Membership | None = None,
    ) -> AuditEntry:
        """`by` is the membership acting (its user is the actor); without it, an anonymous
        actor (an applicant's link) is named by `actor_label`."""
        if by is not None:
            actor = actor or by.user
            membership = membership or by
        if request is not None:
            user = getattr(request, "user", None)
            if actor is None and user is not None and user.is_authenticated:
                actor = user
            membership = membership or getattr(request, "membership", None)
            if (token := getattr(request, "api_token", None)) is not None:
                # What a system did with a member's token is told apart from the member.
                detail = {**(detail or {}), "token": token.prefix}
        return cls.objects.create(
            actor=actor,
            actor_label=actor_label or (actor.get_username() if actor else ""),
            organization=membership.organization if membership else None,
            role=membership.role if membership else "",
            action=action,
            target_type=target._meta.label if target is not None else "",
            target_id=str(getattr(target, "code", None) or target.pk) if target is not None else "",
            target_repr=str(target)[:200] if target is not None else "",
            ip=client_ip(request) if request is not None else None,
            detail=detail or {},
        )


def first_broken_audit_entry(using: str = "default") -> tuple[AuditEntry | None, int]:
    """The first entry (in id order) whose digest does not match the chain, and how many
    entries were read up to and including it (all of them when none is broken)."""
    counted = 0

    def digest(entry: AuditEntry) -> str:
        nonlocal counted
        counted += 1
        return entry.digest

    rows = AuditEntry.objects.using(using).order_by("id").iterator(chunk_size=2000)
    broken = first_broken(rows, content=audit_chain_content, digest=digest)
    return broken, counted


class IdempotencyKey(models.Model):
    """A submitted form token or Idempotency-Key header and what it produced (security R23).

    The one submit-once record of every app (`renkei.accounts.idempotency`): a signed-in
    caller's keys are theirs alone; an anonymous caller's (a public application form) are
    kept apart by the scope they were used in.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+", null=True)
    key = models.CharField(max_length=100)
    scope = models.CharField(max_length=120)
    fingerprint = models.CharField(max_length=64, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True)
    response = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "二重送信防止キー"
        verbose_name_plural = "二重送信防止キー"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key"],
                condition=models.Q(user__isnull=False),
                name="uniq_idempotency_user_key",
            ),
            models.UniqueConstraint(
                fields=["scope", "key"],
                condition=models.Q(user__isnull=True),
                name="uniq_idempotency_anonymous_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id or '-'}:{self.key}"


class TokenScope(models.TextChoices):
    """What a system's token may read (ADR 0044): read-only until a write scope is designed."""

    CARE_READ = "care:read", "患者情報共有API（/api/v1/care/ の読み取り）"
    FHIR_READ = "fhir:read", "FHIR（患者情報共有のリソースの読み取り）"


class ApiToken(models.Model):
    """A token for a system (a clinic's EHR, a regional gateway) that acts for one member.

    The secret is shown once when issued; only its SHA-256 is kept. A token issued by an
    administrator for another member works only once that member has approved it: the
    administrator must not gain a nurse's patients by issuing a token in her name.
    """

    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="api_tokens", verbose_name="代理する所属"
    )
    name = models.CharField("名称（接続するシステム）", max_length=60)
    prefix = models.CharField("識別子", max_length=8, unique=True)
    digest = models.CharField("ハッシュ", max_length=64)
    scopes = models.CharField("範囲", max_length=60)  # ",care:read,fhir:read,"
    created_at = models.DateTimeField("発行日時", default=timezone.now)
    created_by = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="+", verbose_name="発行者"
    )
    approved_at = models.DateTimeField("承認日時", null=True, blank=True)
    expires_at = models.DateTimeField("有効期限")
    last_used_at = models.DateTimeField("最終利用日時", null=True, blank=True)
    revoked_at = models.DateTimeField("失効日時", null=True, blank=True)
    revoked_by = models.ForeignKey(
        Membership,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="失効させた人",
    )

    class Meta:
        verbose_name = "APIトークン"
        verbose_name_plural = "APIトークン"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} (rk_{self.prefix}_…)"

    def scope_list(self) -> list[str]:
        return [s for s in self.scopes.split(",") if s]

    def scope_labels(self) -> list[str]:
        return [TokenScope(s).label for s in self.scope_list() if s in TokenScope.values]

    def has_scope(self, scope: str) -> bool:
        return f",{scope}," in self.scopes

    @property
    def state(self) -> str:
        """利用可 / 承認待ち / 期限切れ / 失効 — what the list shows."""
        if self.revoked_at is not None:
            return "失効"
        if self.expires_at <= timezone.now():
            return "期限切れ"
        if self.approved_at is None:
            return "承認待ち"
        return "利用可"
