"""Parsers for the values of a cell: codes, numbers, coordinates, phone numbers, URLs."""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from renkei.directory.models import (
    phone_validator,
)
from renkei.directory.vocabulary import KAIGO_SERVICE_KIND
from renkei.lib.text import normalize_phone

# Fields a facility edits itself that the open data also carries: official until the first edit.
SHARED_FIELDS = ("phone", "fax", "website", "hours", "closed_days")

_url_validator = URLValidator(schemes=["http", "https"])
# URLValidator's own host rules (Japanese domain names included) without its user:password,
# IP address and punycode alternatives, which made it a tenth of an import's CPU time.
_plain_url_re = re.compile(
    r"^https?://(?P<host>"
    + URLValidator.hostname_re
    + URLValidator.domain_re
    + URLValidator.tld_re
    + r")(?::[0-9]{1,5})?(?:[/?#][^\s]*)?\Z",
    re.IGNORECASE,
)
_phone_re = re.compile(str(getattr(phone_validator.regex, "pattern", phone_validator.regex)))
_time_re = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")


def _digits(value: str) -> str:
    """ASCII digits of a code cell (full-width digits folded); '' if anything else is in it."""
    v = value.strip() if value.isascii() else unicodedata.normalize("NFKC", value).strip()
    return v if v.isascii() and v.isdigit() else ""


def _code_with_zeros(value: str, width: int) -> tuple[str, bool]:
    """A numeric identifier, restoring one leading zero that spreadsheet software drops."""
    v = _digits(value)
    if len(v) == width - 1:
        return "0" + v, True
    return v, False


def _float(value: str) -> float | None:
    if not value:
        return None
    try:
        f = float(value if value.isascii() else unicodedata.normalize("NFKC", value))
    except ValueError:
        raise ValueError(value) from None
    if not math.isfinite(f):
        raise ValueError(value)
    return f


def _point(lat_s: str, lng_s: str) -> tuple[float, float] | None | str:
    """(lat, lng), None when missing (blank or 0.0), or a Japanese reason when unusable."""
    try:
        lat, lng = _float(lat_s), _float(lng_s)
    except ValueError as e:
        return f"緯度・経度「{lat_s}」「{lng_s}」が数値ではありません（{e}）"
    if (lat is None or lat == 0) and (lng is None or lng == 0):
        return None
    if lat is None or lng is None:
        return f"緯度・経度の片方だけが入っています（緯度「{lat_s}」、経度「{lng_s}」）"
    if not (20 <= lat <= 46 and 122 <= lng <= 154):
        return f"緯度・経度（{lat_s}, {lng_s}）が日本の範囲外です"
    return lat, lng


def _phone(value: str) -> tuple[str, bool]:
    """A phone/FAX number in ASCII (「０４６－２８８－１１４８」 → 「046-288-1148」), or '' and
    False when it is not one."""
    v = value.strip() if value.isascii() else normalize_phone(value)
    if not v:
        return "", True
    return (v, True) if _phone_re.match(v) else ("", False)


def _url(value: str) -> str:
    """Only http(s) URLs: the 公表 URL column also holds e-mail addresses and phone numbers."""
    v = value.strip()
    if not v or len(v) > 300 or not v.lower().startswith(("http://", "https://")):
        return ""
    m = _plain_url_re.match(v)
    if m and len(m["host"]) <= 253:
        return v  # the common case, which URLValidator accepts too, at a fraction of its cost
    try:
        _url_validator(v)
    except ValidationError:
        return ""
    return v


def _count(value: str) -> tuple[int | None, bool]:
    """定員 / 病床数: blank is not entered (None); 「0」 is 0, as written (a 無床診療所, a
    visiting service without places)."""
    v = _digits(value)
    if not value.strip():
        return None, True
    if not v:
        return None, False
    return int(v), True


def _strip_prefecture(address: str, prefecture: str) -> str:
    """Addresses start with the municipality; some rows repeat the prefecture first."""
    a = address.strip()
    if prefecture and a.startswith(prefecture) and len(a) > len(prefecture):
        return a[len(prefecture) :]
    return a


_RANKS = {code: (priority, code) for code, (_, priority) in KAIGO_SERVICE_KIND.items()}


def _rank(code: str) -> tuple[int, str]:
    """Services ordered by priority, ties broken by code, so the order never depends on input."""
    return _RANKS.get(code) or (0, code)


def _fill_position(cur: dict[str, Any], muni_point: tuple[float, float] | None) -> str:
    """A row without coordinates: keep the facility's position, else the municipality's point."""
    if cur.get("lat") is not None and cur.get("lng") is not None:
        return "緯度・経度が空欄のため、登録済みの位置をそのまま使います"
    if muni_point is not None:
        cur["lat"], cur["lng"] = muni_point
        return "緯度・経度が空欄のため、市区町村の代表点（概略位置）で表示します"
    cur["lat"], cur["lng"] = None, None
    return "緯度・経度が空欄で、市区町村の代表点もないため地図には表示されません"
