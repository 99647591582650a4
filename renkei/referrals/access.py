"""How a request reaches one placement record: scoped to the membership, 404 for everyone else.

The screens and the API fetch through these and nothing else, so an outsider gets the same
404 on every door and no door forgets the select_related its pages rely on.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import connections

from renkei.accounts.models import Membership
from renkei.directory.models import Capability, vocabulary
from renkei.lib import prepared, rows
from renkei.lib.actions import NotFound, get_visible, not_visible
from renkei.referrals.matching import Criteria
from renkei.referrals.models import PlacementCase, PlacementCaseQuerySet, PlacementRequest
from renkei.regions.models import Municipality

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


@dataclass
class CaseToMatch:
    """A case as the candidates page and matching read it: the case row with its residence
    (and the residence's city, whose point stands in for a ward without one), its procedures
    and the desired municipalities with their wards."""

    case: PlacementCase
    capabilities: list[Capability]
    desired_ids: list[int]
    desired_ward_ids: list[int]

    def criteria(self) -> Criteria:
        return Criteria.build(self.case, self.capabilities, self.desired_ids, self.desired_ward_ids)


def _list(expr: str, rest: str, vendor: str) -> str:
    """A correlated list as one column: an array on PostgreSQL, comma-separated on SQLite."""
    if vendor == "postgresql":
        return f"ARRAY(SELECT {expr} {rest})"
    return f"(SELECT group_concat({expr}, ',') {rest})"


def _as_list(value: Any, cast: type) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [cast(v) for v in value.split(",")]
    return [cast(v) for v in value]


@functools.cache
def _case_to_match_sql(vendor: str) -> str:
    case = PlacementCase._meta
    caps = case.get_field("required_capabilities").remote_field.through._meta  # type: ignore[union-attr]
    desired = case.get_field("desired_municipalities").remote_field.through._meta  # type: ignore[union-attr]
    muni = Municipality._meta.db_table
    desired_of_case = f"FROM {desired.db_table} WHERE placementcase_id = c.id"
    # A comma never occurs in a capability code (a slug), so SQLite's list splits safely.
    cap_codes = _list(
        "k.code",
        f"FROM {caps.db_table} t JOIN {Capability._meta.db_table} k "
        "ON k.id = t.capability_id WHERE t.placementcase_id = c.id",
        vendor,
    )
    desired_ids = _list("municipality_id", desired_of_case, vendor)
    ward_ids = _list(
        "w.id",
        f"FROM {muni} w WHERE w.parent_id IN (SELECT municipality_id {desired_of_case})",
        vendor,
    )
    # Names come from the models' Meta; the code and the hospital are parameters.
    return (
        f"SELECT {rows.columns('c', PlacementCase)}, {rows.columns('r', Municipality)}, "  # noqa: S608
        f"{rows.columns('p', Municipality)}, {cap_codes}, {desired_ids}, {ward_ids} "
        f"FROM {case.db_table} c JOIN {muni} r ON r.id = c.residence_id "
        f"LEFT JOIN {muni} p ON p.id = r.parent_id "
        # The access rule, as PlacementCaseQuerySet.of_hospital: the membership's own hospital.
        "WHERE c.code = %s AND c.hospital_id = %s"
    )


def own_case_to_match(m: Membership | None, code: uuid.UUID) -> CaseToMatch:
    """own_case with only what matching and the candidates page read, in one written statement
    (ADR 0075): the same rule (the case of the membership's own hospital, 404 otherwise) inside
    the SQL, the residence and its city as rows, the procedures as codes resolved through the
    per-process vocabulary, the desired municipalities and their wards as ids. Through the ORM
    (a joined QuerySet, two prefetches and the wards' query) it was a fifth of the page's CPU."""
    if m is None:
        raise not_visible(PlacementCase, CASE_NOT_FOUND, code=code)
    db = PlacementCase.objects.db
    connection = connections[db]
    code_param = PlacementCase._meta.get_field("code").get_db_prep_value(code, connection)
    with prepared.cursor(connection) as cursor:
        cursor.execute(_case_to_match_sql(connection.vendor), [code_param, m.organization_id])
        row = cursor.fetchone()
    if row is None:
        raise not_visible(PlacementCase, CASE_NOT_FOUND, code=code)
    case_reader = rows.reader(PlacementCase, connection.vendor)
    muni_reader = rows.reader(Municipality, connection.vendor)
    n, k = len(case_reader.names), len(muni_reader.names)
    case = case_reader.build(db, row[:n], connection)
    residence = muni_reader.build(db, row[n : n + k], connection)
    if residence.parent_id is not None:
        residence.parent = muni_reader.build(db, row[n + k : n + 2 * k], connection)
    case.residence = residence
    codes = set(_as_list(row[-3], str))
    return CaseToMatch(
        case=case,
        capabilities=[c for c in vocabulary(codes=codes).ordered if c.code in codes],
        desired_ids=sorted(_as_list(row[-2], int)),
        desired_ward_ids=sorted(_as_list(row[-1], int)),
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
