"""A clinic's published partner list (在宅医療情報連携加算): the organisations it shares
patients' information with through Renkei, as a public page it may link from its web site.

Opt-in: nothing is public until the organisation's administrator publishes it. The page names
organisations only, never a patient or a count of patients.
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils import timezone

from renkei.accounts.models import Membership, Organization
from renkei.care.models.patients import CareTeamMember

# The 加算 asks for at least this many partners to be published.
PARTNERS_REQUIRED = 5


class PartnerList(models.Model):
    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="care_partner_list"
    )
    published = models.BooleanField("公開する", default=False)
    updated_by = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "連携先の公開リスト"
        verbose_name_plural = "連携先の公開リスト"

    def __str__(self) -> str:
        return f"連携先リスト {self.organization}"


def partner_organizations(org: Organization, today: dt.date | None = None) -> list[Organization]:
    """Other organisations with a current member on the team of a patient `org` cares for now."""
    today = today or timezone.localdate()
    current = CareTeamMember.objects.current(today)
    mine = current.filter(membership__organization=org).values("patient_id")
    others = current.filter(patient_id__in=mine).values("membership__organization_id")
    return list(
        Organization.objects.filter(pk__in=others, is_active=True)
        .exclude(pk=org.pk)
        .select_related("municipality")
        .order_by("kind", "kana", "name")
    )
