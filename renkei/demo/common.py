"""What every part of the demo shares: its fixed seed, stable codes and synthetic phone numbers."""

from __future__ import annotations

import uuid

SEED = 20261122
DEFAULT_FACILITIES = 3000
MAX_FACILITIES = 20_000
DEMO_SOURCE = "demo"
PREFECTURE_CODE = "14"
_NAMESPACE = uuid.UUID("5e3d0c1a-7f2b-5a7e-9c4d-2026112214aa")


def demo_uuid(kind: str, key: str) -> uuid.UUID:
    """Stable codes, so that a demo facility keeps its URL when the demo is re-created."""
    return uuid.uuid5(_NAMESPACE, f"{kind}:{key}")


PHONE_AREA: dict[str, str] = {
    "142018": "046", "142085": "046", "142107": "046", "143014": "046", "142042": "0467",
    "142051": "0466", "142077": "0467", "143219": "0467", "142034": "0463", "143413": "0463",
    "143421": "0463", "142115": "0463", "142140": "0463",
}  # fmt: skip


def synthetic_phone(area: str, n: int) -> str:
    # An exchange of "00" / "000" (carrying into "01" past 9999) is well-formed but unassigned,
    # so no demo number rings a real subscriber.
    width = 2 if len(area) == 4 else 3
    return f"{area}-{n // 10_000:0{width}d}-{n % 10_000:04d}"


def phone_area(code: str) -> str:
    if code.startswith("1410") or code.startswith("1411"):
        return "045"
    if code.startswith("1413"):
        return "044"
    if code.startswith("1415"):
        return "042"
    if code in PHONE_AREA:
        return PHONE_AREA[code]
    # 県西 and its towns use 0465; 県央 uses 046.
    if code in ("142069", "142174") or code.startswith(("1436", "1438")):
        return "0465"
    return "046"
