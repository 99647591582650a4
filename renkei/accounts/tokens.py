"""API tokens for systems (ADR 0044 part 2): issue, approve, revoke, and authenticate.

A token acts for one member and reaches only the read operations of its scopes; every access
rule of that member applies unchanged. The secret is shown once; the table keeps its SHA-256.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from typing import Annotated

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from pydantic import Field

from renkei.accounts.models import ApiToken, AuditEntry, Membership, TokenScope
from renkei.lib import mail
from renkei.lib.actions import ActionError, Forbidden, get_visible, notify
from renkei.lib.inputs import Input, known_codes, required

MAX_DAYS = 90
PREFIX_CHARS = "abcdefghijkmnpqrstuvwxyz23456789"  # no 0/o, 1/l: read aloud over the phone
TOKEN_RE = re.compile(r"^rk_([a-z0-9]{8})_([A-Za-z0-9_-]{20,100})$")
NOT_FOUND = "トークンが見つかりません"
NOT_ADMIN = "APIトークンを発行できるのは組織の管理者です"

# The read operations a scope opens: (path prefix, scope). Nothing else is reachable by token.
SCOPED_PATHS: tuple[tuple[str, str], ...] = (("/api/v1/care/", TokenScope.CARE_READ),)
# `fhir:read` opens only the FHIR resource types registered here (care's, by its AppConfig:
# what the CapabilityStatement says a token reads) and the public CapabilityStatement; the
# directory's, on-call's, indicators' and the placement network's stay the session's.
FHIR_TYPES: set[str] = {"metadata"}


def register_fhir_types(kinds: list[str]) -> None:
    FHIR_TYPES.update(kinds)


class TokenRefused(Exception):
    """The token cannot be used (unknown, expired, revoked, awaiting approval): 401.

    `reason` is a short code for the audit line; `token` the row when the prefix named one
    (its prefix, never the secret, goes into the audit)."""

    def __init__(self, message: str, reason: str, token: ApiToken | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.token = token


class IssueTokenInput(Input):
    name: Annotated[
        str,
        Field(min_length=1, max_length=60, description="接続するシステムの名称"),
        required("名称（接続するシステム）を入力してください"),
    ]
    acts_for: int = Field(
        ..., ge=1, le=2**31 - 1, description="トークンが代理する所属（同じ組織のメンバー）"
    )
    scopes: Annotated[
        list[str],
        Field(min_length=1, max_length=len(TokenScope.values)),
        known_codes(TokenScope.values, "範囲は選択肢から選んでください"),
        required("範囲を1つ以上選んでください"),
    ]
    days: int = Field(30, ge=1, le=MAX_DAYS, description=f"有効日数（1〜{MAX_DAYS}日）")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_prefix() -> str:
    while True:
        prefix = "".join(secrets.choice(PREFIX_CHARS) for _ in range(8))
        if not ApiToken.objects.filter(prefix=prefix).exists():
            return prefix


def visible_tokens(m: Membership) -> QuerySet[ApiToken]:
    """The organisation's administrator sees every token of the organisation; a member sees
    those that act for them."""
    qs = ApiToken.objects.select_related(
        "membership__user", "membership__organization", "created_by__user", "revoked_by__user"
    )
    if m.is_org_admin:
        return qs.filter(membership__organization_id=m.organization_id)
    return qs.filter(membership=m)


def visible_token(m: Membership, pk: int) -> ApiToken:
    return get_visible(visible_tokens(m), NOT_FOUND, pk=pk)


def members_to_act_for(m: Membership) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(organization_id=m.organization_id, is_active=True)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "pk")
    )


@transaction.atomic
def issue_token(
    *,
    by: Membership,
    data: IssueTokenInput,
    request: HttpRequest | None = None,
    published: tuple[str, str] | None = None,
) -> tuple[ApiToken, str]:
    """The token and its full text, which the caller shows once and never again.

    `published` (prefix, secret) is for the demo's token only, whose text is printed with the
    demo logins (renkei.demo.tokens); every other token's secret is random."""
    if not by.is_org_admin:
        raise Forbidden(NOT_ADMIN)
    member = members_to_act_for(by).filter(pk=data.acts_for).first()
    if member is None:
        raise ActionError(
            "代理するメンバーは、この組織の有効なメンバーから選んでください", field="acts_for"
        )
    now = timezone.now()
    prefix, secret = published or (_new_prefix(), secrets.token_urlsafe(32))
    token = ApiToken.objects.create(
        membership=member,
        name=data.name,
        prefix=prefix,
        digest=_digest(secret),
        scopes="," + ",".join(sorted(set(data.scopes))) + ",",
        created_at=now,
        created_by=by,
        # Acting for oneself needs no one's approval; acting for another member does.
        approved_at=now if member.pk == by.pk else None,
        expires_at=now + dt.timedelta(days=data.days),
    )
    AuditEntry.record(
        "accounts.token_created",
        request=request,
        by=by,
        target=token,
        detail={
            "prefix": token.prefix,
            "acts_for": member.pk,
            "scopes": token.scope_list(),
            "expires_at": token.expires_at.isoformat(),
        },
    )
    if token.approved_at is None:
        # The member learns of it from the mail, not only if they happen to open the page.
        notify(
            to=[member.user.email] if member.user.email else [],
            subject="あなたを代理するAPIトークンの承認依頼",
            template="accounts_token_issued.txt",
            context={
                "user": member.user,
                "issuer": by.user,
                "organization": by.organization,
                "name": token.name,
                "scopes": "、".join(token.scope_labels()),
                "expires_at": timezone.localtime(token.expires_at).strftime("%Y-%m-%d %H:%M"),
                "url": mail.site_url(reverse("accounts:tokens")),
            },
        )
    return token, f"rk_{token.prefix}_{secret}"


REVOKED = "このトークンは失効しています"
EXPIRED = "このトークンは有効期限が切れています"


def _usable(token: ApiToken) -> None:
    if token.revoked_at is not None:
        raise ActionError(REVOKED)
    if token.expires_at <= timezone.now():
        raise ActionError(EXPIRED)


@transaction.atomic
def approve_token(
    token: ApiToken, *, by: Membership, request: HttpRequest | None = None
) -> ApiToken:
    """The member a token acts for lets it act for them."""
    if token.membership_id != by.pk:
        raise Forbidden("承認できるのは、トークンが代理する本人だけです")
    _usable(token)
    if token.approved_at is not None:
        raise ActionError("このトークンは承認済みです")
    token.approved_at = timezone.now()
    token.save(update_fields=["approved_at"])
    AuditEntry.record(
        "accounts.token_approved",
        request=request,
        by=by,
        target=token,
        detail={"prefix": token.prefix},
    )
    return token


@transaction.atomic
def revoke_token(
    token: ApiToken, *, by: Membership, request: HttpRequest | None = None
) -> ApiToken:
    """The organisation's administrator, or the member it acts for, ends a token at once."""
    mine = token.membership_id == by.pk
    admin = by.is_org_admin and token.membership.organization_id == by.organization_id
    if not (mine or admin):
        raise Forbidden("失効できるのは組織の管理者か、トークンが代理する本人です")
    if token.revoked_at is not None:
        raise ActionError("このトークンは失効済みです")
    token.revoked_at = timezone.now()
    token.revoked_by = by
    token.save(update_fields=["revoked_at", "revoked_by"])
    AuditEntry.record(
        "accounts.token_revoked",
        request=request,
        by=by,
        target=token,
        detail={"prefix": token.prefix},
    )
    return token


def scope_for(path: str) -> str | None:
    if path.startswith("/api/fhir/"):
        kind = path.removeprefix("/api/fhir/").split("/", 1)[0]
        return TokenScope.FHIR_READ if kind in FHIR_TYPES else None
    for prefix, scope in SCOPED_PATHS:
        if path.startswith(prefix):
            return scope
    return None


def authenticate(raw: str) -> ApiToken:
    """The usable token whose full text is `raw`, with its member; TokenRefused otherwise.

    Looked up on every request, so a revocation or a deactivated member counts from the next
    one."""
    match = TOKEN_RE.match(raw)
    token = (
        ApiToken.objects.select_related(
            "membership__user",
            "membership__organization",
            "membership__organization__municipality",
            "membership__organization__prefecture",
        )
        .filter(prefix=match.group(1))
        .first()
        if match
        else None
    )
    if (
        token is None
        or match is None
        or not hmac.compare_digest(token.digest, _digest(match.group(2)))
    ):
        raise TokenRefused("トークンが正しくありません", "unknown" if token is None else "secret")
    try:
        _usable(token)
    except ActionError as e:
        reason = "revoked" if e.message == REVOKED else "expired"
        raise TokenRefused(e.message, reason, token) from None
    if token.approved_at is None:
        raise TokenRefused("このトークンは、代理するメンバーの承認待ちです", "pending", token)
    m = token.membership
    if not (m.is_active and m.organization.is_active and m.user.is_active):
        raise TokenRefused("このトークンが代理するメンバーは現在無効です", "inactive", token)
    return token


def prefix_of(raw: str) -> str | None:
    """The prefix of a well-formed token text, the only part of it an audit line may keep."""
    match = TOKEN_RE.match(raw)
    return match.group(1) if match else None


def mark_used(token: ApiToken, request: HttpRequest) -> None:
    """Record the time of use; the first use of each day is audited (the reads it makes are
    audited on their own, as the token).

    `last_used_at` is written when it is SESSION_REFRESH_SECONDS old, as the session is
    (ADR 0054): a gateway polling every second cost an UPDATE per read, for a time the list
    shows to the minute."""
    now = timezone.now()
    last = token.last_used_at
    new_day = last is None or timezone.localdate(last) != timezone.localdate(now)
    fresh = last is not None and (now - last).total_seconds() < settings.SESSION_REFRESH_SECONDS
    if fresh and not new_day:
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now
    if new_day:
        # Even within the interval: the day's first use is audited that day.
        AuditEntry.record(
            "accounts.token_used",
            request=request,
            by=token.membership,
            target=token,
            detail={"prefix": token.prefix, "path": request.path[:200]},
        )
