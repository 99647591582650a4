from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from renkei.regions.models import (
    Municipality,
    Prefecture,
    SecondaryArea,
    code6_from,
    jis_check_digit,
    validate_municipality_code,
)

pytestmark = pytest.mark.django_db


def test_check_digit_matches_official_examples() -> None:
    """14100 → 141003 and 14131 → 141313, as in the 全国地方公共団体コード specification."""
    assert jis_check_digit("14100") == "3"
    assert jis_check_digit("14131") == "3"
    assert code6_from("14", "205") == "142051"


def test_every_loaded_code_has_a_valid_check_digit() -> None:
    """All municipalities of Japan are loaded and every code passes the check-digit validator."""
    codes = list(Municipality.objects.values_list("code", flat=True))
    assert len(codes) > 1800
    for code in codes:
        validate_municipality_code(code)
    assert Prefecture.objects.count() == 47


def test_wrong_check_digit_is_refused() -> None:
    """A code with a wrong check digit is rejected with a Japanese message."""
    with pytest.raises(ValidationError, match="検査数字"):
        validate_municipality_code("141004")


def test_kanagawa_has_nine_secondary_areas_and_wards_inherit_them() -> None:
    """Kanagawa's 9 二次保健医療圏 are loaded; a Yokohama ward belongs to 横浜 through its city."""
    areas = list(SecondaryArea.objects.filter(prefecture__code="14").values_list("name", flat=True))
    assert len(areas) == 9 and "川崎北部" in areas and "県央" in areas
    tsurumi = Municipality.objects.get(code="141011")
    assert tsurumi.parent is not None and tsurumi.parent.name == "横浜市"
    assert tsurumi.area is not None and tsurumi.area.name == "横浜"
    assert (
        Municipality.objects.in_area(SecondaryArea.objects.get(name="横浜"))
        .filter(code="141011")
        .exists()
    )


def test_iwate_areas_are_loaded() -> None:
    """Iwate's 9 areas come from the same reference file."""
    assert SecondaryArea.objects.filter(prefecture__name="岩手県").count() == 9
