"""Field rules shared by the events inputs: names, kana, addresses, phones, consent."""

from __future__ import annotations

from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from pydantic import AfterValidator, Field

from renkei.events.models import (
    normalize_email,
    normalize_kana,
    validate_hiragana,
    validate_phone,
)
from renkei.lib.inputs import PHONE_PATTERN
from renkei.lib.text import nfkc, normalize_phone


def clipped(limit: int) -> AfterValidator:
    # NFKC can lengthen a string (「㈱」 → 「(株)」): clip to the column's width after it.
    return AfterValidator(lambda v: nfkc(v)[:limit])


def _kana(value: str) -> str:
    kana = normalize_kana(value)
    try:
        validate_hiragana(kana)
    except ValidationError as e:
        raise ValueError(e.messages[0]) from e
    return kana[:80]


_ADDRESS = (
    r"[A-Za-z0-9_%+-]+(\.[A-Za-z0-9_%+-]+)*@([A-Za-z0-9]([A-Za-z0-9-]{0,20}[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,10}"
)


def _email(value: str) -> str:
    email = normalize_email(value)
    try:
        validate_email(email)
    except ValidationError as e:
        raise ValueError("メールアドレスの形式が正しくありません（例: info@example.jp）") from e
    return email


def _email_or_blank(value: str) -> str:
    return _email(value) if normalize_email(value) else ""


def _phone_or_blank(value: str) -> str:
    phone = normalize_phone(value)
    if phone:
        try:
            validate_phone(phone)
        except ValidationError as e:
            raise ValueError(e.messages[0]) from e
    return phone


def _consent(value: bool) -> bool:
    if not value:
        raise ValueError("情報の共有に同意（agree: true）のうえお申し込みください")
    return value


def distinct(values: list[Any]) -> list[Any]:
    if len(set(values)) != len(values):
        raise ValueError("同じ値が2回指定されています")
    return values


Name = Annotated[str, Field(min_length=1, max_length=60), clipped(60)]
Kana = Annotated[
    str,
    Field(
        min_length=1,
        max_length=80,
        description="ふりがな（ひらがな。カタカナも可）",
        # What the validator takes, after folding katakana to hiragana (a documentation
        # pattern: the validator's own message says what is wrong).
        json_schema_extra={"pattern": r"^[ぁ-ゖァ-ヶー][ぁ-ゖァ-ヶー・ ]*$"},
    ),
    AfterValidator(_kana),
]
Email = Annotated[
    str,
    Field(min_length=1, max_length=254, json_schema_extra={"format": "email"}),
    AfterValidator(_email),
]
# Blank, 「同上」 (the contact's address, as the paper form allows) or an address.
EmailOrBlank = Annotated[
    str,
    # A documentation pattern within what the validator takes (Django's validate_email).
    Field(json_schema_extra={"pattern": rf"^(同上|〃|{_ADDRESS})?$"}),
    AfterValidator(_email_or_blank),
]
# Blank or a phone number (the pattern documents the ASCII form; see lib.inputs.Phone).
Phone = Annotated[
    str,
    Field(json_schema_extra={"pattern": f"^({PHONE_PATTERN[1:-1]})?$"}),
    AfterValidator(_phone_or_blank),
]
Consent = Annotated[
    bool,
    Field(
        description="情報を主催者が共有することへの同意（true のみ）",
        json_schema_extra={"const": True},
    ),
    AfterValidator(_consent),
]
