"""Refuse free text that identifies a patient (security R14).

A placement case travels to many facilities before anyone has agreed to anything, so its
free text must not carry a name, phone number, birth date, address or insurance number.
The rules lean towards precision on clinical shorthand (要介護3, ADL, 2週間, 1-2錠, R6.4.1認定)
because a screen that cries wolf teaches staff to work around it; they still catch the
forms these details take in real discharge notes.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Words that end a "…さん/様" phrase without naming anyone: relations, roles, places.
_NOT_NAMES = (
    "患者",
    "本人",
    "家族",
    "親族",
    "身内",
    "利用者",
    "入居者",
    "入所者",
    "相談者",
    "介護者",
    "同居者",
    "息子",
    "娘",
    "長男",
    "次男",
    "三男",
    "長女",
    "次女",
    "三女",
    "父",
    "母",
    "祖父",
    "祖母",
    "兄",
    "姉",
    "弟",
    "妹",
    "夫",
    "妻",
    "奥",
    "嫁",
    "婿",
    "孫",
    "叔父",
    "叔母",
    "伯父",
    "伯母",
    "甥",
    "姪",
    "隣人",
    "近所",
    "大家",
    "管理人",
    "後見人",
    "保佐人",
    "補助人",
    "主治医",
    "担当医",
    "医師",
    "先生",
    "看護師",
    "職員",
    "相談員",
    "担当者",
    "担当",
    "院長",
    "施設長",
    "理事長",
    "病院",
    "医院",
    "施設",
    "薬局",
    "事業所",
    "事務所",
    "苑",
    "県",
    "府",
    "都",
    "道",
    "荘",
    "園",
    "会",
    "課",
    "社",
    "市",
    "町",
    "村",
    "区",
    "皆",
    "主人",
    "旦那",
    "配偶者",
    "親戚",
    "兄弟",
    "姉妹",
    "家主",
    "包括",
    "社協",
    "役所",
    "役場",
    "者",
    "員",
    "師",
    "士",
    "医",
    "ケアマネ",
    "ケアマネジャー",
    "ケアマネージャー",
    "ヘルパー",
    "ナース",
    "ドクター",
    "スタッフ",
    "ワーカー",
    "ソーシャルワーカー",
    "クリニック",
    "ホーム",
    "センター",
    "ステーション",
)

_KANJI = r"[一-龥々〆ヶ]"
_HYPHEN = r"[-‐‑–—ー−]"
_HONORIFIC = r"(?:さん|様|さま|氏|殿|くん|ちゃん)"

_NAME_WITH_HONORIFIC = re.compile(rf"({_KANJI}{{2,6}}|[ァ-ヴ]{{2,10}}){_HONORIFIC}")
# The most common two-kanji surnames: with a given name after a space (「山田 花子」) or after
# a role (「患者 山田」), they are a name; alone in care vocabulary they do not occur.
_SURNAMES = [
    "佐藤",
    "鈴木",
    "高橋",
    "田中",
    "伊藤",
    "渡辺",
    "山本",
    "中村",
    "小林",
    "加藤",
    "吉田",
    "山田",
    "佐々木",
    "山口",
    "松本",
    "井上",
    "木村",
    "斎藤",
    "清水",
    "山崎",
    "阿部",
    "森田",
    "池田",
    "橋本",
    "山下",
    "石川",
    "中島",
    "前田",
    "藤田",
    "後藤",
    "小川",
    "岡田",
    "長谷川",
    "村上",
    "近藤",
    "石井",
    "坂本",
    "遠藤",
    "青木",
    "藤井",
    "西村",
    "福田",
    "太田",
    "三浦",
    "藤原",
    "岡本",
    "松田",
    "中川",
    "中野",
    "原田",
    "小野",
    "田村",
    "竹内",
    "金子",
    "和田",
    "中山",
    "石田",
    "上田",
    "森本",
    "原口",
    "柴田",
    "酒井",
    "工藤",
    "横山",
    "宮崎",
    "宮本",
    "内田",
    "高木",
    "安藤",
    "島田",
    "谷口",
    "大野",
    "高田",
    "丸山",
    "今井",
    "河野",
    "藤本",
    "村田",
    "武田",
    "上野",
    "杉山",
    "増田",
    "小山",
    "大塚",
    "平野",
    "菅原",
    "久保",
    "松井",
    "千葉",
    "岩崎",
    "桜井",
    "木下",
    "野口",
    "松尾",
    "菊地",
    "野村",
    "新井",
    "渡部",
    "鈴村",
    "小島",
    "北村",
    "大西",
]
_SURNAME = "(?:" + "|".join(sorted(_SURNAMES, key=len, reverse=True)) + ")"
_ROLES = (
    r"(?:患者|本人|利用者|入居者|入所者|家族|キーパーソン|長男|次男|三男|長女|次女|三女|息子|娘|"
    r"夫|妻|主治医|担当医|医師|看護師|担当|ケアマネ(?:ジャー)?)"
)
_END = r"(?=[\s、。,.)）]|$|は|が|の|に|を|と|へ|も|先生|医師|氏)"
# 「患者 山田花子」「担当医 佐藤一郎 先生」: a role, a space or colon, then a surname.
_ROLE_NAME = re.compile(rf"{_ROLES}[\s:：・]+({_SURNAME}{_KANJI}{{0,4}}){_END}")
# 「山田 花子」: a common surname, a space, a given name.
_SPACED_NAME = re.compile(rf"(?<!{_KANJI})({_SURNAME}[\s]{_KANJI}{{1,3}}){_END}")
# 「佐藤一郎 先生」「鈴木医師」: a kanji run directly before a doctor's title.
_NAME_WITH_TITLE = re.compile(rf"({_KANJI}{{2,6}})[\s]*(?:先生|医師|Dr)")
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
_NAME_LABEL = re.compile(r"(氏名|患者名|名前|フリガナ|ふりがな|本名)\s*[:：は]")

_PHONE = re.compile(
    rf"(?<![\d.])0\d{{1,4}}(?:{_HYPHEN}|[()（） ])?\d{{1,4}}(?:{_HYPHEN}|[)） ])?\d{{3,4}}(?![\d.])"
)
_PHONE_LABEL = re.compile(r"(電話|TEL|Tel|tel|携帯|連絡先)\s*[:：]?\s*\d")

_ERA_DATE = re.compile(
    r"(明治|大正|昭和|平成|令和|[MTSHR])\s*(\d{1,2}|元)\s*[年./]\s*(\d{1,2})\s*[月./]\s*(\d{1,2})\s*日?\s*(生まれ|生)?"
)
_WESTERN_DATE = re.compile(
    r"(?<!\d)(19\d\d|20\d\d)\s*[年/.-]\s*(\d{1,2})\s*[月/.-]\s*(\d{1,2})\s*日?\s*(生まれ|生)?"
)
_BIRTH_LABEL = re.compile(r"(生年月日|誕生日)")

_ADDRESS_BLOCK = re.compile(r"[\d一二三四五六七八九十]+\s*丁目|番地|\d+番\d+号")
_ADDRESS_NUMBER = re.compile(
    rf"{_KANJI}+[都道府県市区町村]{_KANJI}*[ぁ-んァ-ヴ{_KANJI[1:-1]}]*?"
    rf"(\d{{1,4}}{_HYPHEN}\d{{1,4}}(?:{_HYPHEN}\d{{1,4}})?)(?!\d|\s*(?:錠|回|週|日|時|歳|割|度|名|人|本|%|mg|ml|mL|L|包|枚|個|か月|ヶ月|分|点|cm|kg))"
)
_POSTAL = re.compile(rf"〒\s*\d{{3}}{_HYPHEN}?\d{{4}}|(?<!\d)\d{{3}}{_HYPHEN}\d{{4}}(?!\d)")
_ADDRESS_LABEL = re.compile(r"(住所|現住所|所在地)\s*[:：は]")

_INSURANCE_LABEL = re.compile(
    r"(被保険者番号|保険者番号|保険証|記号番号|マイナンバー|個人番号|カルテ番号|患者ID|ID番号)"
)
_LONG_NUMBER = re.compile(r"(?<![\d.])(\d{10}|\d{12})(?![\d.])")


@dataclass(frozen=True)
class Finding:
    kind: str
    text: str

    def __str__(self) -> str:
        return f"{self.kind}（「{self.text}」）"


class IdentifyingText(ValueError):
    """The text names or locates a person; the message says what was found."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        listed = "、".join(str(f) for f in findings[:5])
        super().__init__(
            f"個人を特定できる情報が含まれている可能性があります: {listed}。"
            "案件は匿名で扱います。氏名・電話番号・生年月日・住所・保険者番号などは削除し、"
            "年齢帯や市区町村までにとどめてください。"
        )


def _normalize(text: str) -> str:
    # Full-width digits and letters to ASCII so that one set of patterns covers both.
    return unicodedata.normalize("NFKC", text)


def _is_relation_or_role(word: str) -> bool:
    return any(word.endswith(w) for w in _NOT_NAMES)


def find_identifiers(text: str) -> list[Finding]:
    """Everything in the text that looks like it identifies a person, in order of appearance."""
    if not text:
        return []
    s = _normalize(text)
    found: list[tuple[int, Finding]] = []

    def add(pos: int, kind: str, snippet: str) -> None:
        found.append((pos, Finding(kind, snippet.strip())))

    for m in _NAME_WITH_HONORIFIC.finditer(s):
        if not _is_relation_or_role(m.group(1)):
            add(m.start(), "氏名", m.group(0))
    for m in _NAME_LABEL.finditer(s):
        add(m.start(), "氏名", m.group(0))
    for m in _ROLE_NAME.finditer(s):
        add(m.start(1), "氏名", m.group(0))
    for m in _SPACED_NAME.finditer(s):
        given = m.group(1).split()[-1]
        if not (_is_relation_or_role(given) or given[0] in "都道府県市区町村郡"):  # 「中村 区」
            add(m.start(1), "氏名", m.group(1))
    for m in _NAME_WITH_TITLE.finditer(s):
        if not _is_relation_or_role(m.group(1)):
            add(m.start(1), "氏名", m.group(0))
    for m in _EMAIL.finditer(s):
        add(m.start(), "メールアドレス", m.group(0))

    phone_spans: list[tuple[int, int]] = []
    for m in _PHONE.finditer(s):
        digits = re.sub(r"\D", "", m.group(0))
        if 10 <= len(digits) <= 11:
            add(m.start(), "電話番号", m.group(0))
            phone_spans.append(m.span())
    for m in _PHONE_LABEL.finditer(s):
        if not any(a <= m.end() - 1 < b for a, b in phone_spans):
            add(m.start(), "電話番号", m.group(0))

    for m in _ERA_DATE.finditer(s):
        era, birth_suffix = m.group(1), m.group(5)
        # A date in 明治〜昭和 in a discharge note is a birth date; later ones need 生/生まれ.
        if era in ("明治", "大正", "昭和", "M", "T", "S") or birth_suffix:
            add(m.start(), "生年月日", m.group(0))
    for m in _WESTERN_DATE.finditer(s):
        year, birth_suffix = int(m.group(1)), m.group(4)
        if any(a <= m.start() < b for a, b in phone_spans):
            continue
        if year < 1990 or birth_suffix:
            add(m.start(), "生年月日", m.group(0))
    for m in _BIRTH_LABEL.finditer(s):
        add(m.start(), "生年月日", m.group(0))

    for m in _ADDRESS_BLOCK.finditer(s):
        add(m.start(), "住所", m.group(0))
    for m in _ADDRESS_NUMBER.finditer(s):
        if not any(a <= m.start(1) < b for a, b in phone_spans):
            add(m.start(), "住所", m.group(0))
    for m in _POSTAL.finditer(s):
        if not any(a <= m.start() < b for a, b in phone_spans):
            add(m.start(), "郵便番号", m.group(0))
    for m in _ADDRESS_LABEL.finditer(s):
        add(m.start(), "住所", m.group(0))

    for m in _INSURANCE_LABEL.finditer(s):
        add(m.start(), "保険者番号等", m.group(0))
    for m in _LONG_NUMBER.finditer(s):
        if m.group(0).startswith("0"):
            continue  # already reported as a phone number
        add(m.start(), "被保険者番号等の番号", m.group(0))

    found.sort(key=lambda pair: pair[0])
    unique: list[Finding] = []
    for _, finding in found:
        if finding not in unique:
            unique.append(finding)
    return unique


def screen(text: str) -> str:
    """Return the text unchanged, or raise IdentifyingText naming what was found."""
    findings = find_identifiers(text)
    if findings:
        raise IdentifyingText(findings)
    return text
