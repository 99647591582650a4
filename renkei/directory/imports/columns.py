"""The official files' vocabularies: column names, required columns, service and weekday codes."""

from __future__ import annotations

import re
import unicodedata

from renkei.directory.imports.results import IRYOU_FACILITY, IRYOU_HOURS, KAIGO
from renkei.directory.models import (
    FacilityKind,
)


def _hkey(name: str) -> str:
    """Header names compared width-insensitively and without spaces: （ and ( are the same column."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name.replace("\ufeff", "")))


KAIGO_COLUMNS = [
    "都道府県コード又は市町村コード",
    "No",
    "都道府県名",
    "市区町村名",
    "事業所名",
    "事業所名カナ",
    "サービスの種類",
    "住所",
    "方書（ビル名等）",
    "緯度",
    "経度",
    "電話番号",
    "FAX番号",
    "法人番号",
    "法人の名称",
    "事業所番号",
    "利用可能曜日",
    "利用可能曜日特記事項",
    "定員",
    "URL",
    "高齢者の方と障害者の方が同時一体的に利用できるサービス",
    "介護保険の通常の指定基準を満たしている",
    "障害福祉の通常の指定基準を満たしている",
    "備考",
]
# The columns the importer reads, in the file's order: not the serial number, the names the codes
# already give, nor the 共生型 flags and remarks it does not keep.
KAIGO_READ = tuple(
    c
    for c in KAIGO_COLUMNS
    if c
    not in {
        "No",
        "都道府県名",
        "市区町村名",
        "高齢者の方と障害者の方が同時一体的に利用できるサービス",
        "介護保険の通常の指定基準を満たしている",
        "障害福祉の通常の指定基準を満たしている",
        "備考",
    }
)
ALIASES = {"都道府県コード又は市町村コード": ["都道府県コード又は市区町村コード"]}

REQUIRED: dict[str, list[str]] = {
    KAIGO: [
        "都道府県コード又は市町村コード",
        "事業所名",
        "サービスの種類",
        "住所",
        "緯度",
        "経度",
        "事業所番号",
    ],
    IRYOU_FACILITY: [
        "ID",
        "正式名称",
        "都道府県コード",
        "市区町村コード",
        "所在地",
        "所在地座標（緯度）",
        "所在地座標（経度）",
    ],
    IRYOU_HOURS: ["ID", "診療科目コード", "診療科目名", "診療時間帯"],
}


def _aliased(column: str, present: set[str]) -> bool:
    return any(_hkey(a) in present for a in ALIASES.get(column, []))


# 公表 file code -> the 「サービスの種類」 text. The exact strings in the files are unverified,
# so matching is width- and space-insensitive and the file name (jigyosho_130.csv) is the fallback.
KAIGO_SERVICE_NAMES = {
    "110": "訪問介護",
    "120": "訪問入浴介護",
    "130": "訪問看護",
    "140": "訪問リハビリテーション",
    "150": "通所介護",
    "155": "療養通所介護",
    "160": "通所リハビリテーション",
    "170": "福祉用具貸与",
    "210": "短期入所生活介護",
    "220": "短期入所療養介護（介護老人保健施設）",
    "230": "短期入所療養介護（療養病床を有する病院等）",
    "551": "短期入所療養介護（介護医療院）",
    "320": "認知症対応型共同生活介護",
    "331": "特定施設入居者生活介護（有料老人ホーム）",
    "332": "特定施設入居者生活介護（軽費老人ホーム）",
    "334": "特定施設入居者生活介護（サービス付き高齢者向け住宅）",
    "335": "特定施設入居者生活介護（有料老人ホーム・外部サービス利用型）",
    "336": "特定施設入居者生活介護（軽費老人ホーム・外部サービス利用型）",
    "337": "特定施設入居者生活介護（サービス付き高齢者向け住宅・外部サービス利用型）",
    "361": "地域密着型特定施設入居者生活介護（有料老人ホーム）",
    "362": "地域密着型特定施設入居者生活介護（軽費老人ホーム）",
    "364": "地域密着型特定施設入居者生活介護（サービス付き高齢者向け住宅）",
    "410": "特定福祉用具販売",
    "430": "居宅介護支援",
    "510": "介護老人福祉施設",
    "520": "介護老人保健施設",
    "530": "介護療養型医療施設",
    "540": "地域密着型介護老人福祉施設入所者生活介護",
    "550": "介護医療院",
    "710": "夜間対応型訪問介護",
    "720": "認知症対応型通所介護",
    "730": "小規模多機能型居宅介護",
    "760": "定期巡回・随時対応型訪問介護看護",
    "770": "看護小規模多機能型居宅介護",
    "780": "地域密着型通所介護",
}
_SERVICE_ALIASES = {
    "通所介護（療養通所介護）": "155",
    "複合型サービス": "770",
    "複合型サービス（看護小規模多機能型居宅介護）": "770",
}
SERVICE_CODE_BY_NAME = {
    _hkey(name): code
    for code, name in [*KAIGO_SERVICE_NAMES.items(), *((v, k) for k, v in _SERVICE_ALIASES.items())]
}

DAYS = [
    ("月", "mon"),
    ("火", "tue"),
    ("水", "wed"),
    ("木", "thu"),
    ("金", "fri"),
    ("土", "sat"),
    ("日", "sun"),
    ("祝", "hol"),
]
IRYOU_KIND = {"1": FacilityKind.HOSPITAL, "2": FacilityKind.CLINIC, "3": FacilityKind.DENTAL}
IRYOU_KIND_LABEL = {"4": "助産所", "5": "薬局"}
