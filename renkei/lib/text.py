"""Japanese text normalisation for search: width, kana and case insensitive."""

from __future__ import annotations

import re
import unicodedata

_KATA_TO_HIRA = {cp: cp - 0x60 for cp in range(ord("ァ"), ord("ヶ") + 1)}
_DROP = re.compile(r"[\s・･\-‐－ー―〜~、。,.（）()「」]+")


def normalize_search(text: str) -> str:
    """Fold width, kana and case so that 「ｻｸﾗ」, 「サクラ」 and 「さくら」 compare equal.

    NFKC turns half-width katakana and full-width ASCII into their standard forms;
    katakana is then mapped to hiragana. Separators and the long-vowel mark are
    dropped because data sources write them inconsistently (ケアプラン・センター).
    """
    folded = unicodedata.normalize("NFKC", text or "").translate(_KATA_TO_HIRA).lower()
    return _DROP.sub("", folded)


def to_katakana(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text or "")
    return "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in folded)


def nfkc(text: str | None) -> str:
    return unicodedata.normalize("NFKC", text or "").strip()


# Dashes that people and spreadsheets put between digits: hyphen-minus in all widths, the
# Unicode hyphens and minus, en/em dashes, and the long-vowel marks typed by mistake.
_DASHES = re.compile(r"[‐‑‒–—―−－ｰー]")
_SPACES = re.compile(r"\s+")


def fold_digits_and_dashes(text: str | None) -> str:
    """「０４６－２８８－１１４８」 → 「046-288-1148」: NFKC (full-width digits, brackets and
    spaces to ASCII), every dash-like character to '-', surrounding space dropped."""
    folded = unicodedata.normalize("NFKC", text or "").strip()
    return _DASHES.sub("-", folded)


def normalize_phone(text: str | None) -> str:
    """A phone or FAX number as typed, in ASCII: digits, '-', brackets; inner spaces kept once."""
    return _SPACES.sub(" ", fold_digits_and_dashes(text))


def normalize_postal_code(text: str | None) -> str:
    """「〒２５２－１１２３」, 「252 1123」 → 「252-1123」; anything else is returned folded, for
    the validator to refuse with its message."""
    folded = fold_digits_and_dashes(text).removeprefix("〒").strip()
    digits = re.sub(r"[-\s]", "", folded)
    if len(digits) == 7 and digits.isascii() and digits.isdigit():
        return f"{digits[:3]}-{digits[3:]}"
    return folded


PHONE_MESSAGE = "電話番号の形式が正しくありません（例: 046-231-8650）"


def phone_problem(value: str) -> str:
    """PHONE_MESSAGE when the text is not a Japanese phone number (10–11 digits from 0, an
    extension after 内線/ext/# allowed), else ''."""
    main = re.split(r"内線|ext\.?|#", normalize_phone(value), maxsplit=1)[0]
    digits = re.sub(r"\D", "", main)
    if re.search(r"[^0-9\-() ]", main.strip()) or not (10 <= len(digits) <= 11) or digits[0] != "0":
        return PHONE_MESSAGE
    return ""
