"""What the synthetic facilities are made of: name parts and patterns, kinds' shares, capability
odds, care levels, costs, hours and notes. Pure data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from renkei.directory.models import CareLevel, FacilityKind

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
