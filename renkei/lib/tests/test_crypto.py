"""Field encryption at rest: AEAD with key ids, column binding, rotation, blind indexes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from renkei.lib import crypto
from renkei.lib.fields import EncryptedDateField, EncryptedTextField


@pytest.fixture
def two_keys(settings: Any) -> tuple[str, str]:
    old, new = crypto.new_key(), crypto.new_key()
    settings.FIELD_ENCRYPTION_KEYS = [f"old:{old}"]
    settings.BLIND_INDEX_KEY = crypto.new_key()
    return old, new


def test_a_value_round_trips_and_holds_no_plaintext(two_keys: tuple[str, str]) -> None:
    """The token names its key and carries neither the text nor its bytes."""
    token = crypto.encrypt("山田 花子", context="care.patient.name")
    assert token.startswith("e1$old$")
    assert "山田" not in token and "花子" not in token
    assert crypto.decrypt(token, context="care.patient.name") == "山田 花子"
    assert crypto.encrypt("山田 花子", context="care.patient.name") != token  # random nonce


def test_a_value_does_not_open_in_another_column_or_after_tampering(
    two_keys: tuple[str, str],
) -> None:
    token = crypto.encrypt("0120-000-000", context="care.patient.phone")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token, context="care.patient.name")
    head, sealed = token.rsplit("$", 1)
    flipped = head + "$" + ("A" if sealed[0] != "A" else "B") + sealed[1:]
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(flipped, context="care.patient.phone")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt("plain text", context="care.patient.phone")


def test_rotation_old_values_open_until_resealed(settings: Any, two_keys: tuple[str, str]) -> None:
    """A new first key seals new values; the old key still opens old ones; without it they fail."""
    old, new = two_keys
    token = crypto.encrypt("要介護2", context="c")
    settings.FIELD_ENCRYPTION_KEYS = [f"new:{new}", f"old:{old}"]
    assert crypto.needs_rotation(token)
    assert crypto.decrypt(token, context="c") == "要介護2"
    resealed = crypto.encrypt(crypto.decrypt(token, context="c"), context="c")
    assert crypto.key_id(resealed) == "new" and not crypto.needs_rotation(resealed)
    settings.FIELD_ENCRYPTION_KEYS = [f"new:{new}"]
    assert crypto.decrypt(resealed, context="c") == "要介護2"
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token, context="c")


def test_blind_indexes_are_keyed_deterministic_and_per_purpose(
    settings: Any, two_keys: tuple[str, str]
) -> None:
    a = crypto.blind_index("やまだはなこ|1940-04-01", purpose="kana_birth")
    assert a == crypto.blind_index("やまだはなこ|1940-04-01", purpose="kana_birth")
    assert a != crypto.blind_index("やまだはなこ|1940-04-01", purpose="phone")
    settings.BLIND_INDEX_KEY = crypto.new_key()
    assert a != crypto.blind_index("やまだはなこ|1940-04-01", purpose="kana_birth")


def test_keys_are_checked(settings: Any) -> None:
    from django.core.exceptions import ImproperlyConfigured

    settings.FIELD_ENCRYPTION_KEYS = ["short:AAAA"]
    with pytest.raises(ImproperlyConfigured):
        crypto.encrypt("x", context="c")
    settings.FIELD_ENCRYPTION_KEYS = ["nocolon"]
    with pytest.raises(ImproperlyConfigured):
        crypto.encrypt("x", context="c")


def test_fields_seal_and_refuse_lookups(two_keys: tuple[str, str]) -> None:
    """The model fields seal on the way in, open on the way out, and refuse equality lookups
    that could never match (a randomised ciphertext equals nothing)."""
    field = EncryptedTextField(max_length=10)
    field.set_attributes_from_name("name")
    field.model = type("M", (), {"_meta": type("Meta", (), {"label_lower": "care.patient"})})
    token = field.get_prep_value("さくら")
    assert token.startswith("e1$") and field.from_db_value(token, None, None) == "さくら"
    assert field.get_prep_value(None) is None
    with pytest.raises(NotImplementedError):
        field.get_lookup("exact")
    assert field.get_lookup("isnull") is not None

    born = EncryptedDateField()
    born.set_attributes_from_name("birth_date")
    born.model = field.model
    sealed = born.get_prep_value(dt.date(1940, 4, 1))
    assert born.from_db_value(sealed, None, None) == dt.date(1940, 4, 1)
