"""Workflows of the accounts app that an organisation's administrator runs."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest
from pydantic import Field

from renkei.accounts.models import AuditEntry, Membership, Organization, Role, encode_roles
from renkei.lib.actions import Forbidden
from renkei.lib.inputs import Input

NOT_ADMIN = "この設定を変更できるのは組織の管理者です"


class NamedRolesInput(Input):
    """Which roles of the organisation read its named records (ADR 0043)."""

    roles: list[Role] = Field(default_factory=list, max_length=len(Role.values))


@transaction.atomic
def set_named_read_roles(
    org: Organization,
    *,
    by: Membership,
    data: NamedRolesInput,
    request: HttpRequest | None = None,
) -> Organization:
    """Change the set; the members of a removed role lose the named records on their next
    request, and with them the second factor that reading required (if nothing else does)."""
    if not (by.is_org_admin and by.organization_id == org.pk):
        raise Forbidden(NOT_ADMIN)
    before = sorted(org.named_roles())
    org.named_read_roles = encode_roles(r.value for r in data.roles)
    org.save(update_fields=["named_read_roles"])
    after = sorted(org.named_roles())
    AuditEntry.record(
        "accounts.named_roles_changed",
        request=request,
        by=by,
        target=org,
        detail={
            "added": [r for r in after if r not in before],
            "removed": [r for r in before if r not in after],
        },
    )
    return org
