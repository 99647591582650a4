"""How a request reaches one survey, response or municipality's indicators. Outsiders: 404."""

from __future__ import annotations

import uuid

from renkei.accounts.models import Membership, OrgKind
from renkei.lib.actions import NotFound, get_visible
from renkei.pdca.models import Response, Survey, readable_municipalities
from renkei.regions.models import Municipality

SURVEY_NOT_FOUND = "調査が見つかりません"
RESPONSE_NOT_FOUND = "回答が見つかりません"
MUNICIPALITY_NOT_FOUND = "市町村が見つかりません"


def is_government(m: Membership) -> bool:
    return m.organization.kind in (OrgKind.MUNICIPALITY, OrgKind.PREFECTURE, OrgKind.OPERATOR)


def visible_survey(m: Membership | None, code: uuid.UUID) -> Survey:
    return get_visible(
        Survey.objects.readable_by(m).select_related("organization", "area"),
        SURVEY_NOT_FOUND,
        code=code,
    )


def sent_survey(m: Membership | None, code: uuid.UUID) -> Survey:
    """A survey the member's prefecture sent (the comparison table, the export)."""
    return get_visible(
        Survey.objects.sent_by(m).select_related("organization", "area"),
        SURVEY_NOT_FOUND,
        code=code,
    )


def visible_response(m: Membership | None, code: uuid.UUID) -> Response:
    return get_visible(
        Response.objects.readable_by(m).select_related("survey__organization", "municipality"),
        RESPONSE_NOT_FOUND,
        code=code,
    )


def own_response(m: Membership | None, code: uuid.UUID) -> Response:
    """A response the member's municipality answers; the prefecture reads but never edits."""
    return get_visible(
        Response.objects.answerable_by(m).select_related("survey__organization", "municipality"),
        RESPONSE_NOT_FOUND,
        code=code,
    )


def visible_municipality(m: Membership | None, code: str) -> Municipality:
    if not (len(code) == 6 and code.isdigit()):
        raise NotFound(MUNICIPALITY_NOT_FOUND)
    return get_visible(
        readable_municipalities(m).select_related("prefecture", "secondary_area", "parent"),
        MUNICIPALITY_NOT_FOUND,
        code=code,
    )
