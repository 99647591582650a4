"""The demo's API token: a read-only token for a synthetic system acting for the care demo's
visiting nurse, issued by her station's administrator and approved by her, so a tester can try
`/api/v1/care/` and `/api/fhir/` from curl (ADR 0044).

Its text is derived from a fixed name and printed with the logins, like the demo's TOTP
secrets (renkei.demo.authenticators): demo only, never in production.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib

from django.conf import settings
from django.utils import timezone

from renkei.accounts import tokens
from renkei.accounts.models import ApiToken, Membership, TokenScope

PREFIX = "democare"
ISSUER = "vnurse"  # the station's administrator (renkei.demo.organizations)
ACTS_FOR = "care-nurse"  # on two of the three demo patients' teams (renkei.demo.care)
NAME = "デモ 訪問看護記録システム（架空）"


def demo_token_text() -> str:
    secret = base64.urlsafe_b64encode(
        hashlib.sha256(f"renkei-demo-token:{ACTS_FOR}".encode()).digest()
    ).decode()
    return f"rk_{PREFIX}_{secret.rstrip('=')}"


def seed_token() -> ApiToken | None:
    """Idempotent: issues the demo token once and keeps the printed text working: an expired
    one gets 90 more days (a demo database outlives the token's longest life); one that cannot
    be used any more (revoked by a tester, or left acting for an account a reset retired) is
    issued anew. None without the care demo's people."""
    existing = ApiToken.objects.filter(prefix=PREFIX).first()
    if existing is not None:
        if existing.expires_at <= timezone.now():
            existing.expires_at = timezone.now() + dt.timedelta(days=tokens.MAX_DAYS)
            existing.save(update_fields=["expires_at"])
        try:
            return tokens.authenticate(demo_token_text())
        except tokens.TokenRefused:
            existing.delete()
    issuer = Membership.objects.filter(
        user__username=ISSUER, is_org_admin=True, is_active=True
    ).first()
    member = Membership.objects.filter(user__username=ACTS_FOR, is_active=True).first()
    if issuer is None or member is None or issuer.organization_id != member.organization_id:
        return None
    _, _, secret = demo_token_text().split("_", 2)
    token, _ = tokens.issue_token(
        by=issuer,
        data=tokens.IssueTokenInput(
            name=NAME,
            acts_for=member.pk,
            scopes=[TokenScope.CARE_READ, TokenScope.FHIR_READ],
            days=tokens.MAX_DAYS,
        ),
        published=(PREFIX, secret),
    )
    return tokens.approve_token(token, by=member)


def usage_lines() -> list[str]:
    """How to use it, for the logins output (nothing when the demo has no usable token)."""
    try:
        token = tokens.authenticate(demo_token_text())
    except tokens.TokenRefused:
        return []
    base = settings.SITE_URL.rstrip("/")
    header = f'-H "Authorization: Bearer {demo_token_text()}"'
    return [
        f"APIトークン（読み取り専用・{token.name}、{ACTS_FOR} の代理、範囲 care:read・fhir:read）:",
        f"  curl {header} {base}/api/v1/care/patients",
        f"  curl {header} {base}/api/fhir/Patient",
    ]
