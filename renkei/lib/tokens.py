"""A record's code in an e-mailed link, signed for one purpose (its salt): the link cannot be
guessed or altered, and a token signed for one purpose opens nothing else (an applicant's
personal page is not their survey; a dispatch's report link is neither)."""

from __future__ import annotations

import uuid

from django.core import signing


def sign_code(code: uuid.UUID, purpose: str) -> str:
    return signing.Signer(salt=purpose).sign(str(code))


def signed_code(token: str, purpose: str) -> uuid.UUID | None:
    """The code a token carries for this purpose, or None for a forged, altered or other one."""
    try:
        return uuid.UUID(signing.Signer(salt=purpose).unsign(token))
    except (signing.BadSignature, ValueError):
        return None
