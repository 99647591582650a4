"""Security R14: an anonymous case has no field that could hold a direct identifier."""

from __future__ import annotations

import pytest
from django.test import Client

from renkei.referrals.inputs import CaseInput as ReferralCaseIn
from renkei.referrals.models import HandoverRecord, PlacementCase
from renkei.referrals.schemas import ReferralCaseOut, ReferralRequestDetailOut

FORBIDDEN = (
    "name",
    "kana",
    "birth",
    "dob",
    "address",
    "phone",
    "tel",
    "insur",
    "hoken",
    "email",
    "postal",
    "zip",
    "mynumber",
    "patient_id",
)


def _offending(names: list[str]) -> list[str]:
    allowed = {"residence_name"}  # the municipality's name, not the person's
    return [n for n in names if n not in allowed and any(f in n.lower() for f in FORBIDDEN)]


def test_case_model_has_no_identifying_fields() -> None:
    """No model field of a case (or of a handover record) is named for a direct identifier."""
    for model in (PlacementCase, HandoverRecord):
        names = [f.name for f in model._meta.get_fields()]
        assert _offending(names) == [], model


@pytest.mark.parametrize("schema", [ReferralCaseIn, ReferralCaseOut])
def test_case_api_schemas_have_no_identifying_fields(schema: type) -> None:
    """The API can neither accept nor return an identifier for the patient."""
    assert _offending(list(schema.model_fields)) == []  # type: ignore[attr-defined]


def test_request_detail_exposes_only_the_summary() -> None:
    """What a receiving facility gets is the anonymous summary plus its own request."""
    nested = ReferralRequestDetailOut.model_fields["case_summary"].annotation
    assert nested is ReferralCaseOut


@pytest.mark.django_db
def test_openapi_schema_is_generated(client: Client) -> None:
    """The OpenAPI document builds and lists the placement endpoints."""
    schema = client.get("/api/v1/openapi.json").json()
    paths = [p for p in schema["paths"] if p.startswith("/api/v1/referrals/")]
    assert "/api/v1/referrals/cases/{code}/confirm" in paths
    assert len(paths) >= 15
