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


PHONE_MESSAGE = "電話番号の形式が正しくありません（例: 046-231-8650）"


def normalize_phone(value: str | None) -> str:
    """Full-width digits and the dashes people type (‐ ー －) as the ASCII the data keeps."""
    return nfkc(value).replace("‐", "-").replace("ー", "-").replace("－", "-")


def phone_problem(value: str) -> str:
    """PHONE_MESSAGE when the text is not a Japanese phone number (10–11 digits from 0, an
    extension after 内線/ext/# allowed), else ''."""
    main = re.split(r"内線|ext\.?|#", normalize_phone(value), maxsplit=1)[0]
    digits = re.sub(r"\D", "", main)
    if re.search(r"[^0-9\-() ]", main.strip()) or not (10 <= len(digits) <= 11) or digits[0] != "0":
        return PHONE_MESSAGE
    return ""
