"""The demo's API token: approved, read-only, acting for the care demo's visiting nurse, and
printed with the logins as a curl line that works."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from renkei.accounts.models import ApiToken
from renkei.care.models import Patient
from renkei.demo.tokens import ACTS_FOR, PREFIX, demo_token_text, seed_token

pytestmark = pytest.mark.django_db


def test_the_printed_curl_line_reads_the_nurses_patients() -> None:
    out = StringIO()
    call_command("seed_demo", "--facilities", "20", stdout=out)
    printed = out.getvalue()
    lines = re.findall(r'curl -H "Authorization: Bearer (rk_\S+)" http://\S+(/api/\S+)', printed)
    assert {path for _, path in lines} == {"/api/v1/care/patients", "/api/fhir/Patient"}
    raw = lines[0][0]
    assert raw == demo_token_text()
    token = ApiToken.objects.get(prefix=PREFIX)
    assert token.state == "利用可"
    assert token.membership.user.username == ACTS_FOR
    assert token.created_by.user.username != ACTS_FOR  # issued by the administrator, approved
    assert token.scope_list() == ["care:read", "fhir:read"]
    client = Client()
    rows = client.get("/api/v1/care/patients", headers={"Authorization": f"Bearer {raw}"}).json()
    nurse = token.membership
    assert {r["code"] for r in rows} == {
        str(c) for c in Patient.objects.on_team_of(nurse).values_list("code", flat=True)
    }
    assert len(rows) == 2
    # Read-only: a write is refused.
    write = client.post("/api/v1/care/patients", {}, headers={"Authorization": f"Bearer {raw}"})
    assert write.status_code == 403
    # Seeding again issues nothing more and prints the same line.
    again = StringIO()
    call_command("seed_demo", stdout=again)
    assert raw in again.getvalue()
    assert seed_token() == token
    assert ApiToken.objects.count() == 1


def test_a_revoked_or_expired_demo_token_works_again_after_seeding() -> None:
    """The printed line keeps working: seeding renews an expired token and reissues a revoked
    one (same text), and prints nothing while it cannot be used."""
    import datetime as dt

    from django.utils import timezone

    from renkei.accounts import tokens
    from renkei.demo.tokens import usage_lines

    call_command("seed_demo", "--facilities", "20", stdout=StringIO())
    token = ApiToken.objects.get(prefix=PREFIX)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(1))
    assert usage_lines() == []
    seed_token()
    assert tokens.authenticate(demo_token_text()).pk == token.pk
    tokens.revoke_token(token, by=token.membership)
    assert usage_lines() == []
    again = seed_token()
    assert again is not None and again.pk != token.pk
    assert tokens.authenticate(demo_token_text()).pk == again.pk
    assert len(usage_lines()) == 3
