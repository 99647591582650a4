"""Shared forms between hospital, doctor and care manager (issue 13 §4, ADR 0046).

One `SharedForm` per document (入院時情報提供書, 退院・退所情報記録書, 医師とケアマネジャーの連絡票):
who drafted it, to which organisation it went, and its receipts. Its items live in
append-only `SharedFormVersion` rows, sealed as one JSON value like the rest of the patient's
record (ADR 0027). The dates an indicator needs (入院日, the first sending) stay plain columns:
they name no one, and 「入院後3日以内の情報提供」 must be counted in SQL over many forms.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Self

from django.db import models
from django.db.models import Q
from django.utils import timezone

from renkei.accounts.models import Membership, Organization
from renkei.care.models.patients import Patient
from renkei.lib.fields import EncryptedTextField

# 入院時情報連携加算 counts a sending within this many days of admission (加算Ⅰ: the day
# itself … 加算Ⅱ: within 3 days); the indicator shows both.
ADMISSION_INFO_DAYS = 3


class FormKind(models.TextChoices):
    ADMISSION = "admission", "入院時情報提供書"
    DISCHARGE = "discharge", "退院・退所情報記録書"
    DOCTOR_CM = "doctor_cm", "医師とケアマネジャーの連絡票"


class SharedFormQuerySet(models.QuerySet["SharedForm"]):
    def for_org(self, m: Membership) -> Self:
        """Forms the member's organisation drafted, or received once they were sent. Other
        team members do not see an addressed document; the patient's visibility is checked
        separately (both are needed)."""
        return self.filter(
            Q(sender_id=m.organization_id)
            | Q(recipient_id=m.organization_id, sent_at__isnull=False)
        )

    def admission_sent(self) -> Self:
        return self.filter(
            kind=FormKind.ADMISSION, first_sent_at__isnull=False, admission_date__isnull=False
        )


class SharedForm(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="shared_forms")
    kind = models.CharField("様式", max_length=20, choices=FormKind.choices)
    sender = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name="作成した組織"
    )
    created_by = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    recipient = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="送付先",
    )
    admission_date = models.DateField("入院日", null=True, blank=True)
    version = models.PositiveIntegerField("版", default=1)
    sent_version = models.PositiveIntegerField("送付した版", null=True, blank=True)
    first_sent_at = models.DateTimeField("最初の送付", null=True, blank=True)
    sent_at = models.DateTimeField("送付", null=True, blank=True)
    sent_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    delivered_at = models.DateTimeField("受信箱に届いた", null=True, blank=True)
    read_at = models.DateTimeField("開封", null=True, blank=True)
    read_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reply = EncryptedTextField("返信", max_length=2000, blank=True, default="")
    replied_at = models.DateTimeField(null=True, blank=True)
    replied_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = SharedFormQuerySet.as_manager()

    class Meta:
        verbose_name = "連携様式"
        verbose_name_plural = "連携様式"
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["recipient", "-sent_at"], name="care_form_inbox_idx"),
            models.Index(fields=["kind", "first_sent_at"], name="care_form_kind_sent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {str(self.code)[:8]}"

    @property
    def status(self) -> str:
        if self.sent_at is None:
            return "下書き"
        if self.replied_at is not None:
            return "返信あり"
        if self.read_at is not None:
            return "受領済み"
        if self.delivered_at is not None:
            return "配信済み"
        return "送付済み"

    @property
    def edited_since_sent(self) -> bool:
        return self.sent_version is not None and self.version != self.sent_version

    def days_to_send(self) -> int | None:
        """Days from admission to the first sending (0 = the day of admission)."""
        if self.admission_date is None or self.first_sent_at is None:
            return None
        return (timezone.localdate(self.first_sent_at) - self.admission_date).days

    def sent_within(self, days: int = ADMISSION_INFO_DAYS) -> bool | None:
        d = self.days_to_send()
        return None if d is None else 0 <= d <= days


class SharedFormVersion(models.Model):
    """One saved state of a form's items; never edited, only followed by the next."""

    form = models.ForeignKey(SharedForm, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField("版")
    content = EncryptedTextField("内容")
    changed = models.JSONField("変更した項目", default=list)
    saved_by = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    saved_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "連携様式の版"
        verbose_name_plural = "連携様式の版"
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["form", "number"], name="care_form_one_number")
        ]

    def __str__(self) -> str:
        return f"{self.form} 第{self.number}版"

    def values(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.content)
        return data


def admission_timeliness(
    forms: models.QuerySet[SharedForm], days: int = ADMISSION_INFO_DAYS
) -> dict[str, int]:
    """For an indicator: how many 入院時情報提供書 were first sent within `days` of admission."""
    rows = forms.admission_sent().values_list("admission_date", "first_sent_at")  # type: ignore[attr-defined]
    within = sum(
        1 for admitted, sent in rows if 0 <= (timezone.localdate(sent) - admitted).days <= days
    )
    return {"sent": len(rows), "within": within, "days": days}
