"""How a request reaches one placement record: scoped to the membership, 404 for everyone else.

The screens and the API fetch through these and nothing else, so an outsider gets the same
404 on every door and no door forgets the select_related its pages rely on.
"""

from __future__ import annotations

import uuid

from renkei.accounts.models import Membership
from renkei.lib.actions import NotFound, get_visible
from renkei.referrals.models import PlacementCase, PlacementCaseQuerySet, PlacementRequest

CASE_NOT_FOUND = "案件が見つかりません"
REQUEST_NOT_FOUND = "依頼が見つかりません"


def cases() -> PlacementCaseQuerySet:
    """Cases with what every page and answer of a case shows."""
    return PlacementCase.objects.select_related(
        "hospital", "assignee", "created_by", "residence", "placed_facility"
    ).prefetch_related("required_capabilities", "desired_municipalities")


def visible_case(m: Membership | None, code: uuid.UUID) -> PlacementCase:
    """A case the membership's hospital owns or one of its facilities was sent."""
    return get_visible(cases().visible_to(m), CASE_NOT_FOUND, code=code)


def own_case(m: Membership | None, code: uuid.UUID) -> PlacementCase:
    """A case of the membership's own hospital (only they act on it)."""
    if m is None:
        raise NotFound(CASE_NOT_FOUND)
    return get_visible(cases().of_hospital(m), CASE_NOT_FOUND, code=code)


def own_case_to_send(m: Membership | None, code: uuid.UUID) -> PlacementCase:
    """own_case without its relations: sending reads the case again under its row lock, with
    what the mails show, so the lookup only has to find it (the joins and two prefetches of
    own_case were a fifth of a send's CPU)."""
    if m is None:
        raise NotFound(CASE_NOT_FOUND)
    return get_visible(PlacementCase.objects.of_hospital(m), CASE_NOT_FOUND, code=code)


def own_case_to_match(m: Membership | None, code: uuid.UUID) -> PlacementCase:
    """own_case with only what matching and the candidates page read (the residence, the
    procedures and the desired municipalities): the same rule, a third of the ORM work of the
    page's case lookup (joining hospital, assignee, author and placed facility was ~15 % of it)."""
    if m is None:
        raise NotFound(CASE_NOT_FOUND)
    return get_visible(
        PlacementCase.objects.of_hospital(m)
        .select_related("residence")
        .prefetch_related("required_capabilities", "desired_municipalities"),
        CASE_NOT_FOUND,
        code=code,
    )


def visible_request(m: Membership | None, code: uuid.UUID) -> PlacementRequest:
    """A request of the membership's hospital's cases, or one sent to its organisation."""
    return get_visible(
        PlacementRequest.objects.visible_to(m).select_related(
            "case",
            "case__residence",
            "case__hospital",
            "facility",
            "facility__municipality",
            "answered_by",
        ),
        REQUEST_NOT_FOUND,
        code=code,
    )


def received_request(m: Membership, code: uuid.UUID) -> PlacementRequest:
    """A request sent to the membership's organisation (the receiver answers it)."""
    req = visible_request(m, code)
    if req.organization_id != m.organization_id:
        raise NotFound(REQUEST_NOT_FOUND)
    return req


def sent_request(m: Membership, code: uuid.UUID) -> PlacementRequest:
    """A request of the membership's own hospital's cases (the hospital withdraws it)."""
    req = visible_request(m, code)
    if req.case.hospital_id != m.organization_id:
        raise NotFound(REQUEST_NOT_FOUND)
    return req


def request_of_case(case: PlacementCase, code: uuid.UUID) -> PlacementRequest:
    """One request of a case already fetched through a scoped getter."""
    return get_visible(
        PlacementRequest.objects.filter(case=case).select_related("facility", "case"),
        REQUEST_NOT_FOUND,
        code=code,
    )
