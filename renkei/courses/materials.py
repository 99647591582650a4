"""Public materials: publishing a document and its new versions (the previous kept), and
counting downloads per month. `monthly_downloads(owner, fiscal_year)` is the indicator's
figure (普及啓発: how often the guides were fetched), for an organisation or a municipality."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, Q, Sum
from django.http import HttpRequest
from django.utils import timezone
from pydantic import BeforeValidator, Field

from renkei.accounts.models import AuditEntry, Membership, Organization
from renkei.courses.models import (
    Audience,
    Material,
    MaterialDownload,
    MaterialKind,
    MaterialVersion,
)
from renkei.events.actions import check_upload
from renkei.events.actions.rules import clipped
from renkei.lib.actions import ActionError, Forbidden
from renkei.lib.inputs import CalendarDate, Input
from renkei.lib.programme import ProgrammeItem
from renkei.regions.models import Municipality

MAX_BYTES = 20 * 1024 * 1024  # a printed guidebook as PDF


def _blank_is_none(value: object) -> object:
    return value or None


class MaterialInput(Input):
    title: Annotated[str, clipped(200)] = Field(min_length=1, max_length=200, description="題名")
    kind: MaterialKind
    audience: Audience
    municipality_code: Annotated[str | None, BeforeValidator(_blank_is_none)] = Field(
        None, pattern=r"^[0-9]{6}$", description="市区町村コード（県全体の資料は空）"
    )
    programme_item: ProgrammeItem = ProgrammeItem.KI
    description: str = Field("", max_length=2000)
    published: bool = True


class VersionInput(Input):
    published_on: CalendarDate = Field(description="発行日")
    note: Annotated[str, clipped(200)] = Field("", max_length=200, description="改訂の内容")


def _municipality(code: str | None, org: Organization) -> Municipality | None:
    if not code:
        return None
    muni = Municipality.objects.filter(code=code).first()
    if muni is None:
        raise ActionError("市区町村コードが見つかりません", field="municipality_code")
    if org.prefecture_id and muni.prefecture_id != org.prefecture_id:
        raise ActionError("他の都道府県の市区町村は指定できません", field="municipality_code")
    return muni


@transaction.atomic
def publish(
    data: MaterialInput,
    version: VersionInput,
    upload: UploadedFile[bytes],
    *,
    by: Membership,
    request: HttpRequest | None = None,
) -> Material:
    m = Material.objects.create(
        organization=by.organization,
        municipality=_municipality(data.municipality_code, by.organization),
        **data.model_dump(exclude={"municipality_code"}),
    )
    add_version(m, version, upload, by=by, request=request)
    return m


@transaction.atomic
def add_version(
    material: Material,
    data: VersionInput,
    upload: UploadedFile[bytes],
    *,
    by: Membership,
    request: HttpRequest | None = None,
) -> MaterialVersion:
    """A new version; the earlier ones stay listed and downloadable."""
    if by.organization_id != material.organization_id:
        raise Forbidden("この資料を改訂できるのは発行した組織です。")
    content_type = check_upload(upload, max_bytes=MAX_BYTES)
    v = MaterialVersion(material=material, published_on=data.published_on, note=data.note)
    v.store(upload, content_type)
    v.save()
    AuditEntry.record(
        "courses.material_version_added",
        request=request,
        by=by,
        target=material,
        detail={"published_on": data.published_on.isoformat(), "size": v.size},
    )
    return v


def count_download(material: Material, now: dt.datetime | None = None) -> None:
    """One more download this month: a conditional UPDATE, then a create if the month is new."""
    month = timezone.localdate(now or timezone.now()).replace(day=1)
    with transaction.atomic():
        hit = MaterialDownload.objects.filter(material=material, month=month).update(
            count=F("count") + 1
        )
        if not hit:
            row, created = MaterialDownload.objects.get_or_create(
                material=material, month=month, defaults={"count": 1}
            )
            if not created:
                MaterialDownload.objects.filter(pk=row.pk).update(count=F("count") + 1)


def monthly_downloads(
    owner: Organization | Municipality, fiscal_year: int
) -> list[tuple[dt.date, int]]:
    """Downloads per month (April to March) of the owner's materials: an organisation's own,
    or a municipality's (its own, and those published for it)."""
    qs = MaterialDownload.objects.filter(
        month__gte=dt.date(fiscal_year, 4, 1), month__lt=dt.date(fiscal_year + 1, 4, 1)
    )
    if isinstance(owner, Organization):
        qs = qs.filter(material__organization=owner)
    else:
        qs = qs.filter(
            Q(material__municipality=owner)
            | Q(material__municipality__parent=owner)
            | Q(material__organization__municipality=owner)
        )
    found = dict(qs.values("month").annotate(n=Sum("count")).values_list("month", "n"))
    months = [dt.date(fiscal_year + (m < 4), m, 1) for m in [*range(4, 13), 1, 2, 3]]
    return [(m, found.get(m, 0)) for m in months]
