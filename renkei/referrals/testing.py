"""Deterministic builders for placement tests and the demo seed. Synthetic data only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from renkei.accounts.models import Membership, Organization, OrgKind, Role
from renkei.directory.models import CareLevel, Facility, FacilityKind, Ward
from renkei.lib.inputs import parse
from renkei.referrals import actions
from renkei.referrals.inputs import CaseInput, SendRequestsInput
from renkei.referrals.models import (
    AgeBand,
    CaseDementiaLevel,
    CaseHousehold,
    CaseSex,
    KeyPerson,
    PlacementCase,
    PlacementRequest,
    Relation,
)
from renkei.testing import make_facility, make_member, make_org, municipality

ORG_KIND_OF_FACILITY: dict[str, str] = {
    FacilityKind.HOSPITAL: OrgKind.HOSPITAL,
    FacilityKind.CLINIC: OrgKind.CLINIC,
    FacilityKind.VISITING_NURSE: OrgKind.VISITING_NURSE,
}


def make_hospital(
    name: str = "湘南さくら総合病院",
    *,
    municipality_code: str = "142051",
    username: str | None = None,
    role: str = Role.MSW,
    with_facility: bool = False,
    **facility_fields: Any,
) -> Membership:
    """A hospital organisation with one discharge-support member (MSW by default)."""
    org = make_org(name, OrgKind.HOSPITAL, municipality_code=municipality_code)
    member = make_member(org, role, username=username or f"msw{org.pk}")
    if with_facility:
        make_facility(
            name,
            FacilityKind.HOSPITAL,
            municipality_code=municipality_code,
            organization=org,
            **facility_fields,
        )
    return member


def make_receiver(
    name: str,
    kind: str = FacilityKind.TOKUYO,
    *,
    municipality_code: str = "142051",
    username: str | None = None,
    role: str = Role.COUNSELOR,
    wards: Iterable[tuple[str, int, int | None]] = (),
    **facility_fields: Any,
) -> tuple[Facility, Membership]:
    """A facility that takes part in the network: its organisation, one member and the facility."""
    org = Organization.objects.create(
        name=name,
        kind=ORG_KIND_OF_FACILITY.get(kind, OrgKind.CARE_PROVIDER),
        municipality=municipality(municipality_code),
        prefecture=municipality(municipality_code).prefecture,
    )
    member = make_member(org, role, username=username or f"staff{org.pk}")
    facility = make_facility(
        name, kind, municipality_code=municipality_code, organization=org, **facility_fields
    )
    for ward_kind, beds, vacant in wards:
        Ward.objects.create(facility=facility, kind=ward_kind, beds=beds, vacant_beds=vacant)
    return facility, member


def make_case(
    by: Membership,
    *,
    capability_codes: Iterable[str] = (),
    desired_codes: Iterable[str] = (),
    residence_code: str = "142051",
    destinations: Iterable[str] = (FacilityKind.TOKUYO,),
    draft: bool = False,
    **fields: Any,
) -> PlacementCase:
    """A case registered through the real action, with plausible defaults."""
    values: dict[str, Any] = {
        "age_band": AgeBand.AGE_85,
        "sex": CaseSex.FEMALE,
        "care_level": CareLevel.CARE_3,
        "dementia": CaseDementiaLevel.IIA,
        "infections": [],
        "residence": residence_code,
        "destinations": list(destinations),
        "radius_km": 20,
        "budget_monthly": None,
        "target_date": None,
        "household": CaseHousehold.ALONE,
        "key_person": KeyPerson.YES,
        "key_person_relation": Relation.CHILD,
        "note": "",
    }
    values.update(fields)
    values["required_capabilities"] = list(capability_codes)
    values["desired_municipalities"] = list(desired_codes)
    values["draft"] = draft
    # parse(): a value the input refuses is an ActionError, as on both doors.
    return actions.create_case(by=by, data=parse(CaseInput, values))


def send(
    case: PlacementCase,
    by: Membership,
    facilities: Iterable[Facility],
    *,
    hours: int = 72,
    now: dt.datetime | None = None,
) -> list[PlacementRequest]:
    deadline = (now or timezone.now()) + dt.timedelta(hours=hours)
    data = parse(
        SendRequestsInput, {"facilities": [f.code for f in facilities], "deadline": deadline}
    )
    return actions.send_requests(case, by=by, data=data)
