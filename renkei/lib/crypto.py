"""Identifying fields encrypted at rest, with key ids for rotation, and keyed blind indexes.

Why our own small module (ADR 0027): no package is both maintained and searchable today;
django-fernet-encrypted-fields derives its key from SECRET_KEY, so rotating the signing key
would lose the data, and it has no exact-match lookups.

- Values are sealed with AES-256-GCM (an AEAD: tampering is detected, not decrypted into
  garbage). The token is ``e1$<key id>$<nonce>$<ciphertext>`` (URL-safe base64), so a value
  names the key that sealed it and old keys can keep reading while a rotation re-seals rows.
- The associated data binds a value to its column (``app_label.model.field``): a ciphertext
  copied into another column does not open there.
- Exact lookups (kana + birth date, 被保険者番号, phone) go through blind indexes: an HMAC of
  the normalised value under a separate key, per purpose, stored beside the ciphertext. Equal
  inputs give equal indexes; without the key nothing can be learned from them by guessing.

Keys come from settings, never from SECRET_KEY: ``FIELD_ENCRYPTION_KEYS`` is a list of
``kid:base64(32 bytes)``, the first one sealing new values; ``BLIND_INDEX_KEY`` is base64 of
32 bytes. The demo (DEBUG) has published demo keys; a system check refuses them otherwise.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "e1"
NONCE_BYTES = 12
KEY_BYTES = 32


class DecryptionError(Exception):
    """A stored value does not open: unknown key id, wrong column, or tampered bytes."""


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_key() -> str:
    """A fresh random key as base64, for FIELD_ENCRYPTION_KEYS or BLIND_INDEX_KEY."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii")


@dataclass(frozen=True)
class KeyRing:
    keys: dict[str, bytes]
    current: str
    index_key: bytes


def parse_keys(entries: list[str]) -> dict[str, bytes]:
    keys: dict[str, bytes] = {}
    for entry in entries:
        kid, sep, encoded = entry.strip().partition(":")
        if not sep or not kid or "$" in kid:
            raise ImproperlyConfigured(
                "FIELD_ENCRYPTION_KEYS entries are 'kid:base64key', comma-separated"
            )
        key = base64.b64decode(encoded)
        if len(key) != KEY_BYTES:
            raise ImproperlyConfigured(f"field encryption key {kid!r} must be 32 bytes")
        keys[kid] = key
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty")
    return keys


@cache
def _ring(entries: tuple[str, ...], index_key: str) -> KeyRing:
    if not entries or not index_key:
        raise ImproperlyConfigured(
            "Set FIELD_ENCRYPTION_KEYS and BLIND_INDEX_KEY (or their _FILE) when DEBUG is False"
        )
    keys = parse_keys(list(entries))
    index = base64.b64decode(index_key)
    if len(index) != KEY_BYTES:
        raise ImproperlyConfigured("BLIND_INDEX_KEY must be 32 bytes (base64)")
    return KeyRing(keys=keys, current=next(iter(keys)), index_key=index)


def keyring() -> KeyRing:
    """The keys in the settings now (cached per value, so tests may swap settings)."""
    return _ring(tuple(settings.FIELD_ENCRYPTION_KEYS), settings.BLIND_INDEX_KEY)


def encrypt(plaintext: str, *, context: str) -> str:
    ring = keyring()
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(ring.keys[ring.current]).encrypt(
        nonce, plaintext.encode("utf-8"), context.encode("utf-8")
    )
    return f"{PREFIX}${ring.current}${_b64e(nonce)}${_b64e(sealed)}"


def key_id(token: str) -> str:
    """The id of the key that sealed `token` (DecryptionError for anything else)."""
    parts = token.split("$")
    if len(parts) != 4 or parts[0] != PREFIX:
        raise DecryptionError("not an encrypted value")
    return parts[1]


def decrypt(token: str, *, context: str) -> str:
    kid = key_id(token)
    _, _, nonce, sealed = token.split("$")
    key = keyring().keys.get(kid)
    if key is None:
        raise DecryptionError(f"no key {kid!r} in FIELD_ENCRYPTION_KEYS")
    try:
        opened = AESGCM(key).decrypt(_b64d(nonce), _b64d(sealed), context.encode("utf-8"))
    except (InvalidTag, ValueError) as e:
        raise DecryptionError("the value does not open with its key (tampered or moved)") from e
    return opened.decode("utf-8")


def needs_rotation(token: str) -> bool:
    return key_id(token) != keyring().current


def blind_index(value: str, *, purpose: str) -> str:
    """A keyed, deterministic index of an already-normalised value (hex, 32 chars).

    `purpose` separates indexes of different fields, so equal phone numbers and insurance
    numbers do not collide or reveal that they are equal.
    """
    digest = hmac.new(
        keyring().index_key, f"{purpose}\x00{value}".encode(), hashlib.sha256
    ).hexdigest()
    return digest[:32]


# Published with the code: only ever accepted with DEBUG on (renkei.lib.startup refuses them
# otherwise).
DEMO_SECRET_KEY = "renkei-demo-secret-key-change-me-in-production-0123456789"  # noqa: S105 (published on purpose, refused outside DEBUG)
DEMO_FIELD_KEYS = [
    "demo1:" + base64.b64encode(hashlib.sha256(b"renkei-demo-field-key-1").digest()).decode()
]
DEMO_INDEX_KEY = base64.b64encode(hashlib.sha256(b"renkei-demo-blind-index").digest()).decode()
