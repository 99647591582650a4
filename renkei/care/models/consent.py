"""Consent to share a patient's record, and the 第29条 provision records it leads to.

One model holds the three shapes used in Japan (ADR 0033): 一括 (every organisation on the
team, now and later), 施設リスト (named organisations) and 個人 (named people). The patient's
registering organisation needs none; anyone else on the team reads only while a consent
covers them, checked on every request (so a revocation stops the next read).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Self

from django.db import models
from django.db.models import Q
from django.utils import timezone

from renkei.accounts.models import Membership, Organization, User
from renkei.care.models.patients import Patient

PROVISION_KEEP_YEARS = 3


class ConsentScope(models.TextChoices):
    ALL = "all", "一括（チームの全組織）"
    ORGANIZATIONS = "organizations", "施設リスト（指定した組織）"
    PEOPLE = "people", "個人（指定した職員）"


class ConsentQuerySet(models.QuerySet["Consent"]):
    def active(self, today: dt.date | None = None) -> Self:
        today = today or timezone.localdate()
        return self.filter(revoked_at__isnull=True, valid_from__lte=today).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=today)
        )

    def covering(self, m: Membership) -> Self:
        return self.filter(
            Q(scope=ConsentScope.ALL)
            | Q(scope=ConsentScope.ORGANIZATIONS, organizations=m.organization_id)
            | Q(scope=ConsentScope.PEOPLE, people=m.user_id)
        )

    def covering_org(self, org: Organization) -> Self:
        return self.filter(
            Q(scope=ConsentScope.ALL)
            | Q(scope=ConsentScope.ORGANIZATIONS, organizations=org.pk)
            | Q(scope=ConsentScope.PEOPLE, people__memberships__organization=org.pk)
        )


def consent_upload_to(instance: Consent, filename: str) -> str:
    # Never the original name (it may carry the patient's); served only through the care views.
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"care/consents/{uuid.uuid4()}.{suffix}"


class Consent(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="consents")
    scope = models.CharField("同意の範囲", max_length=20, choices=ConsentScope.choices)
    purpose = models.CharField("利用目的", max_length=300)
    given_by = models.CharField("同意した人", max_length=60)
    valid_from = models.DateField("有効期間（開始）")
    valid_until = models.DateField("有効期間（終了）", null=True, blank=True)
    organizations = models.ManyToManyField(
        Organization, blank=True, related_name="+", verbose_name="共有先の組織"
    )
    people = models.ManyToManyField(User, blank=True, related_name="+", verbose_name="共有先の職員")
    form_file = models.FileField("同意書（スキャン）", upload_to=consent_upload_to, blank=True)
    recorded_by = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoke_reason = models.CharField("撤回の理由", max_length=300, blank=True)

    objects = ConsentQuerySet.as_manager()

    class Meta:
        verbose_name = "情報共有の同意"
        verbose_name_plural = "情報共有の同意"
        ordering = ["-recorded_at", "-pk"]

    def __str__(self) -> str:
        return f"同意 {self.get_scope_display()} {self.valid_from:%Y-%m-%d}"

    def is_active(self, today: dt.date | None = None) -> bool:
        today = today or timezone.localdate()
        return (
            self.revoked_at is None
            and self.valid_from <= today
            and (self.valid_until is None or self.valid_until >= today)
        )


def shares_with(patient: Patient, org: Organization, today: dt.date | None = None) -> bool:
    """May the record reach `org`? Its own organisation always; others within a consent."""
    if org.pk == patient.owner_id:
        return True
    return Consent.objects.active(today).filter(patient=patient).covering_org(org).exists()


class ProvisionBasis(models.TextChoices):
    CONSENT = "consent", "本人の同意"
    EMERGENCY = "emergency", "人の生命・身体の保護（緊急時）"


class ProvisionRecord(models.Model):
    """個人情報保護法 第29条: each provision to a third party — when, to whom, whose data,
    which items, on what basis. Kept at least 3 years (`keep_until`); never edited."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    provided_at = models.DateTimeField(default=timezone.now)
    recipient = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    recipient_member = models.ForeignKey(
        Membership, null=True, on_delete=models.PROTECT, related_name="+"
    )
    items = models.CharField("提供した項目", max_length=300)
    basis = models.CharField("根拠", max_length=20, choices=ProvisionBasis.choices)
    consent = models.ForeignKey(
        Consent, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by = models.ForeignKey(
        Membership, null=True, on_delete=models.PROTECT, related_name="+"
    )
    keep_until = models.DateField("保存期限")

    class Meta:
        verbose_name = "第三者提供の記録"
        verbose_name_plural = "第三者提供の記録"
        ordering = ["-provided_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.provided_at:%Y-%m-%d} → {self.recipient}"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise ValueError("第三者提供の記録は変更できません")
        if getattr(self, "keep_until", None) is None:
            self.keep_until = keep_until(timezone.localdate(self.provided_at))
        super().save(*args, **kwargs)  # type: ignore[arg-type]


def keep_until(day: dt.date) -> dt.date:
    """PROVISION_KEEP_YEARS after `day` (29 February keeps until 1 March)."""
    try:
        return day.replace(year=day.year + PROVISION_KEEP_YEARS)
    except ValueError:
        return dt.date(day.year + PROVISION_KEEP_YEARS, 3, 1)
