"""都道府県 → 二次保健医療圏 → 市区町村 (and 政令市の区), with official codes."""

from __future__ import annotations

from typing import Self

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models


def jis_check_digit(code5: str) -> str:
    d = [int(c) for c in code5]
    return str((11 - (d[0] * 6 + d[1] * 5 + d[2] * 4 + d[3] * 3 + d[4] * 2) % 11) % 10)


def validate_municipality_code(value: str) -> None:
    if len(value) != 6 or not value.isdigit():
        raise ValidationError("市区町村コードは6桁の数字です")
    if jis_check_digit(value[:5]) != value[5]:
        raise ValidationError("市区町村コードの検査数字が一致しません")


def code6_from(pref: str, city3: str) -> str:
    """医療情報ネット's 2+3 digit code to the 6-digit code with check digit."""
    code5 = pref.zfill(2) + city3.zfill(3)
    return code5 + jis_check_digit(code5)


class Prefecture(models.Model):
    code = models.CharField("都道府県コード", max_length=2, unique=True)
    name = models.CharField("名称", max_length=10, unique=True)

    class Meta:
        verbose_name = "都道府県"
        verbose_name_plural = "都道府県"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class SecondaryArea(models.Model):
    prefecture = models.ForeignKey(
        Prefecture, on_delete=models.PROTECT, related_name="areas", verbose_name="都道府県"
    )
    name = models.CharField("二次保健医療圏", max_length=40)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = "二次保健医療圏"
        verbose_name_plural = "二次保健医療圏"
        ordering = ["prefecture__code", "sort_order"]
        constraints = [
            models.UniqueConstraint(fields=["prefecture", "name"], name="uniq_area_name")
        ]

    def __str__(self) -> str:
        return self.name


class MunicipalityQuerySet(models.QuerySet["Municipality"]):
    def in_area(self, area: SecondaryArea) -> Self:
        return self.filter(models.Q(secondary_area=area) | models.Q(parent__secondary_area=area))

    def selectable(self) -> Self:
        """Municipalities users pick: cities, towns, villages and wards, not the 政令市 shell."""
        return self.filter(is_designated_city=False)

    def of_prefecture(self, prefecture_id: int | None) -> Self:
        """A prefecture's municipalities; the home prefecture's (HOME_PREFECTURE) for an
        organisation that has none (an operator)."""
        if prefecture_id:
            return self.filter(prefecture_id=prefecture_id)
        return self.filter(prefecture__code=settings.HOME_PREFECTURE)


class Municipality(models.Model):
    code = models.CharField(
        "市区町村コード", max_length=6, unique=True, validators=[validate_municipality_code]
    )
    name = models.CharField("名称", max_length=40)
    kana = models.CharField("ふりがな", max_length=80, blank=True)
    prefecture = models.ForeignKey(
        Prefecture, on_delete=models.PROTECT, related_name="municipalities", verbose_name="都道府県"
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="wards",
        verbose_name="政令市",
    )
    is_designated_city = models.BooleanField("政令指定都市", default=False)
    secondary_area = models.ForeignKey(
        SecondaryArea,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="municipalities",
        verbose_name="二次保健医療圏",
    )
    lat = models.FloatField("緯度", null=True, blank=True)
    lng = models.FloatField("経度", null=True, blank=True)

    objects = MunicipalityQuerySet.as_manager()

    class Meta:
        verbose_name = "市区町村"
        verbose_name_plural = "市区町村"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def code5(self) -> str:
        return self.code[:5]

    @property
    def area(self) -> SecondaryArea | None:
        return self.secondary_area or (self.parent.secondary_area if self.parent_id else None)  # type: ignore[union-attr]

    def point(self) -> tuple[float, float] | None:
        if self.lat is not None and self.lng is not None:
            return self.lat, self.lng
        if (
            self.parent_id
            and self.parent
            and self.parent.lat is not None
            and self.parent.lng is not None
        ):
            return self.parent.lat, self.parent.lng
        return None


def optional_municipality(verbose_name: str) -> models.ForeignKey[Municipality | None]:
    """A record's optional municipality: kept while referenced (PROTECT), no reverse accessor
    on Municipality (every app points at it). One definition for the apps that ask the same."""
    return models.ForeignKey(
        Municipality,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=verbose_name,
    )
