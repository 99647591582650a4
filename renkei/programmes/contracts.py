"""Contractors on a programme line (issue 15): an organisation working on a line under
contract (a 医師会, a センター) reads the lines it works on and enters their 実績; one the
owner lets edit changes the line's text as well. Everyone else still gets 404 (access.py)."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest
from pydantic import Field

from renkei.accounts.models import Membership, Organization
from renkei.lib.actions import ActionError, bump_version
from renkei.lib.inputs import Input
from renkei.programmes.actions import LONG, audit, parse_code, require_owner
from renkei.programmes.models import LineContractor, ProgrammeLine


class ResultsInput(Input):
    """The 実績 of one line, entered by the owner or by a contractor working on it."""

    results: str = Field(..., max_length=LONG, description="実績（日付・回数・人数など）")
    version: int | None = None


@transaction.atomic
def enter_results(
    line: ProgrammeLine, *, by: Membership, data: ResultsInput, request: HttpRequest | None = None
) -> ProgrammeLine:
    contractor = line.contracts.filter(organization_id=by.organization_id).exists()
    if not contractor:
        require_owner(line.table.owner_id, by, "事業")
    bump_version(line, data.version)
    line.results = data.results
    line.save(update_fields=["results", "version", "updated_at"])
    audit("programmes.results_entered", line, by, request, contractor=contractor)
    return line


class ContractorInput(Input):
    """An organisation working on a line under contract (a 医師会, a センター)."""

    organization: str = Field(..., min_length=1, max_length=40, description="組織のコード")
    may_edit: bool = Field(False, description="実績だけでなく事業の内容も編集できる")


@transaction.atomic
def add_contractor(
    line: ProgrammeLine,
    *,
    by: Membership,
    data: ContractorInput,
    request: HttpRequest | None = None,
) -> LineContractor:
    """Name a contractor, or change what it may do when it is already named."""
    require_owner(line.table.owner_id, by, "事業一覧")
    org = Organization.objects.filter(
        code=parse_code(data.organization, "organization"), is_active=True
    ).first()
    if org is None or org.pk == by.organization_id:
        raise ActionError("受託者の組織が見つかりません", field="organization")
    contract, _ = LineContractor.objects.update_or_create(
        line=line, organization=org, defaults={"may_edit": data.may_edit}
    )
    audit(
        "programmes.contractor_saved", line, by, request, organization=org.name, edit=data.may_edit
    )
    return contract


@transaction.atomic
def remove_contractor(
    contract: LineContractor, *, by: Membership, request: HttpRequest | None = None
) -> None:
    require_owner(contract.line.table.owner_id, by, "事業一覧")
    audit(
        "programmes.contractor_removed",
        contract.line,
        by,
        request,
        organization=contract.organization.name,
    )
    contract.delete()
