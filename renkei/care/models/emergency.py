"""The emergency information sheet (救急医療情報シート) and the ACP record (人生会議), ADR 0034.

Both are 要配慮個人情報 and sealed like the identity. The sheet is one row per patient, always
the current version (the fridge copy's QR opens what is stored now, not what was printed).
The ACP record is append-only: each save is a new version naming who changed which items.
An ambulance crew reaches the sheet through an `AmbulanceCode`: a random token printed as a
QR code, stored only as its hash, usable once (its first opening binds it to that browser for
a short window) and alerting the team.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.db import models
from django.utils import timezone

from renkei.accounts.models import Membership
from renkei.care.models.patients import Patient
from renkei.lib.fields import EncryptedDateField, EncryptedTextField

# How long an opened ambulance code keeps working in the browser that opened it.
AMBULANCE_WINDOW = dt.timedelta(hours=2)
# An unused printed code stops working after this (the sheet is reprinted at each review).
AMBULANCE_CODE_DAYS = 400


class Resuscitation(models.TextChoices):
    """The three-way wish of the municipal sheets."""

    FULL = "full", "全力で救命"
    NO_CPR = "no_cpr", "心肺蘇生・挿管は望まない"
    COMFORT = "comfort", "苦痛緩和のみ"


class EmergencySheet(models.Model):
    """救急医療情報シート: what an ambulance crew or an ER needs in the first minutes."""

    patient = models.OneToOneField(
        Patient, on_delete=models.CASCADE, related_name="emergency_sheet"
    )
    diagnoses = EncryptedTextField("病名・既往歴", max_length=1000, blank=True, default="")
    medicines = EncryptedTextField("服薬中の薬", max_length=1000, blank=True, default="")
    allergies = EncryptedTextField("アレルギー", max_length=500, blank=True, default="")
    family_doctor = EncryptedTextField(
        "かかりつけ医（医療機関・電話）", max_length=300, blank=True, default=""
    )
    resuscitation = models.CharField(
        "蘇生についての希望", max_length=10, choices=Resuscitation.choices, blank=True
    )
    resuscitation_confirmed_on = EncryptedDateField("希望を確認した日", null=True, blank=True)
    notes = EncryptedTextField(
        "その他（障害、補聴器、ペット等）", max_length=500, blank=True, default=""
    )
    updated_by = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = "救急医療情報シート"
        verbose_name_plural = "救急医療情報シート"

    def __str__(self) -> str:
        return f"救急医療情報シート {self.patient}"


class AcpRecord(models.Model):
    """One version of the patient's ACP (人生会議) record; never edited, only superseded."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="acp_records")
    number = models.PositiveIntegerField("版")
    what_matters = EncryptedTextField("大切にしていること", max_length=2000, blank=True, default="")
    place_of_care = EncryptedTextField("療養したい場所", max_length=300, blank=True, default="")
    place_of_death = EncryptedTextField(
        "最期を迎えたい場所", max_length=300, blank=True, default=""
    )
    treatment_wishes = EncryptedTextField(
        "治療・ケアについての希望", max_length=2000, blank=True, default=""
    )
    proxy = EncryptedTextField(
        "代理で意思決定する人（氏名・続柄・連絡先）", max_length=300, blank=True, default=""
    )
    participants = EncryptedTextField("話し合いの参加者", max_length=500, blank=True, default="")
    discussed_on = EncryptedDateField("話し合った日")
    next_review_on = EncryptedDateField("次に見直す日", null=True, blank=True)
    changed = models.JSONField("変更した項目", default=list)
    recorded_by = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "人生会議（ACP）の記録"
        verbose_name_plural = "人生会議（ACP）の記録"
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "number"], name="care_acp_one_number")
        ]

    def __str__(self) -> str:
        return f"ACP {self.patient} 第{self.number}版"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AmbulanceCode(models.Model):
    """A one-time code printed on the sheet as a QR code; only its hash is kept."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    issued_by = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    # The browser session that used it; only that session may reopen it, within the window.
    session_hash = models.CharField(max_length=64, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "救急隊用コード"
        verbose_name_plural = "救急隊用コード"

    def __str__(self) -> str:
        return f"救急隊用コード {self.patient} ({self.issued_at:%Y-%m-%d})"

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(24)
