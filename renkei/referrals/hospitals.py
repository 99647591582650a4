"""The other direction of 入退院支援: hospitals with a bed for a patient at home (後方ベッド).

A read, not a workflow: the screen and the API both call `search_hospitals`, which checks the
query's codes against the database and orders what matching found.
"""

from __future__ import annotations

from renkei.accounts.models import Membership
from renkei.directory.models import Capability
from renkei.lib.actions import ActionError
from renkei.referrals.inputs import AdmissionQuery
from renkei.referrals.matching import HospitalHit, find_hospitals
from renkei.regions.models import Municipality


def search_hospitals(*, by: Membership, data: AdmissionQuery) -> list[HospitalHit]:
    """受入れ病院を探す, from the searcher's own municipality unless another is given."""
    muni = by.organization.municipality
    if data.municipality:
        muni = Municipality.objects.filter(code=data.municipality).first()
        if muni is None:
            raise ActionError(
                f"市区町村コードが見つかりません（{data.municipality}）", field="municipality"
            )
    known = set(Capability.objects.filter(code__in=data.capability).values_list("code", flat=True))
    unknown = sorted(set(data.capability) - known)
    if unknown:
        raise ActionError(f"処置項目が見つかりません: {', '.join(unknown)}", field="capability")
    hits = find_hospitals(
        point=muni.point() if muni else None,
        municipality=muni,
        ward_kinds=data.ward_kind,
        capability_codes=data.capability,
        vacant_only=data.vacant_only,
        backup_only=data.backup_only,
        radius_km=data.radius_km,
    )
    # find_hospitals answers in the "backup" order; the others reorder what it found.
    far = float("inf")
    if data.sort == "near":
        hits.sort(key=lambda h: h.distance_km if h.distance_km is not None else far)
    elif data.sort == "vacant":
        hits.sort(
            key=lambda h: (-h.vacant_beds, h.distance_km if h.distance_km is not None else far)
        )
    return hits
