"""The base 処置項目 vocabulary: 医療機能情報 在宅医療 items plus what placement needs."""

from __future__ import annotations

OFFICIAL = "在宅医療（医療機能情報）"
PLACEMENT = "入退院支援で必要な項目"

BASE_CAPABILITIES: list[tuple[str, str, str]] = [
    ("drip", "点滴の管理", OFFICIAL),
    ("ivh", "中心静脈栄養", OFFICIAL),
    ("peritoneal-dialysis", "腹膜透析", OFFICIAL),
    ("oxygen", "酸素療法", OFFICIAL),
    ("tube-feeding", "経管栄養", OFFICIAL),
    ("pain", "とう痛の管理", OFFICIAL),
    ("pressure-ulcer", "褥瘡の管理", OFFICIAL),
    ("stoma", "人工肛門の管理", OFFICIAL),
    ("urostomy", "人工膀胱の管理", OFFICIAL),
    ("ventilator", "人工呼吸器（レスピレーター）", OFFICIAL),
    ("monitor", "モニター測定", OFFICIAL),
    ("urinary-catheter", "尿カテーテル", OFFICIAL),
    ("tracheostomy", "気管切開部の処置", OFFICIAL),
    ("terminal-care", "在宅ターミナルケア", OFFICIAL),
    ("suction", "喀痰吸引", PLACEMENT),
    ("gastrostomy", "胃ろう", PLACEMENT),
    ("insulin", "インスリン注射", PLACEMENT),
    ("hemodialysis", "血液透析（通院）", PLACEMENT),
    ("bpsd", "認知症（BPSD）対応", PLACEMENT),
    ("infection", "感染症（MRSA等）対応", PLACEMENT),
    ("end-of-life", "看取り", PLACEMENT),
    ("pediatric", "医療的ケア児", PLACEMENT),
    ("narcotics", "麻薬管理", PLACEMENT),
]

# 介護サービス情報公表 file code -> (facility kind, priority). The kind of a facility
# that appears in several files is that of its highest-priority service.
KAIGO_SERVICE_KIND: dict[str, tuple[str, int]] = {
    "510": ("tokuyo", 100),
    "540": ("tokuyo", 99),
    "520": ("roken", 98),
    "550": ("kaigo_iryoin", 97),
    "530": ("kaigo_iryoin", 96),
    "320": ("group_home", 90),
    "331": ("tokutei", 85),
    "332": ("tokutei", 84),
    "335": ("tokutei", 83),
    "336": ("tokutei", 82),
    "361": ("tokutei", 81),
    "362": ("tokutei", 80),
    "334": ("sakoju", 79),
    "337": ("sakoju", 78),
    "364": ("sakoju", 77),
    "770": ("kantaki", 70),
    "730": ("shotaki", 69),
    "760": ("teiki", 68),
    "130": ("visiting_nurse", 60),
    "430": ("care_management", 55),
    "210": ("short_stay", 50),
    "220": ("short_stay", 49),
    "230": ("short_stay", 48),
    "551": ("short_stay", 47),
    "150": ("day_care", 40),
    "155": ("day_care", 39),
    "160": ("day_care", 38),
    "780": ("day_care", 37),
    "720": ("day_care", 36),
    "110": ("home_help", 30),
    "710": ("home_help", 29),
    "120": ("other_care", 10),
    "140": ("other_care", 10),
    "170": ("other_care", 5),
    "410": ("other_care", 5),
}
