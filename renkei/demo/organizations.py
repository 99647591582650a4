"""The demo's organisations, their people (the printed logins) and their own facilities, which
their staff can edit. Built through renkei.testing's builders."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.hashers import make_password

from renkei.accounts.models import Membership, Organization, OrgKind, Role, User
from renkei.demo.common import DEMO_SOURCE, PREFECTURE_CODE, demo_uuid, phone_area, synthetic_phone
from renkei.demo.places import Place
from renkei.demo.vocabulary import SERVICE_NAMES, SPECIALTY_NAMES, K
from renkei.directory.models import (
    CareLevel,
    Facility,
    FacilityService,
    Specialty,
    VacancyStatus,
    Ward,
    WardKind,
)
from renkei.regions.models import Municipality
from renkei.testing import (
    DEMO_PASSWORD,
    make_facility,
    make_member_with_password_hash,
    make_org,
)


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
              "二次医療圏で絞り込み、県内の施設情報を確認・修正する。"
              "入退院支援の実績ダッシュボード（/referrals/dashboard/）で効果を見る。"
              "調査・指標（/pdca/）で県央の市町村調査の比較表と市町村の指標を比べる", True),
    DemoLogin("city-fujisawa", "藤沢 みどり（デモ）", R.MUNICIPAL_OFFICER, "city-142051",
              "「担当の施設」で空き情報が古い施設を探し、藤沢市のハンドブックを開く", True),
    DemoLogin("city-yokohama", "横浜 港（デモ）", R.MUNICIPAL_OFFICER, "city-141003",
              "市区町村で「横浜市」を選び、18区すべての施設を一覧する", True),
    DemoLogin("city-yokosuka", "横須賀 健（デモ）", R.MUNICIPAL_OFFICER, "city-142018",
              "横須賀市内の訪問看護ステーションの訪問範囲を確認する", True),
    DemoLogin("city-atsugi", "厚木 さくら（デモ）", R.MUNICIPAL_OFFICER, "city-142123",
              "県央の医療・介護資源を地図で確認する。調査・指標（/pdca/）で今年度の調査に答え、"
              "厚木市の指標の推移を見る", True),
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
              "空床のある病院を探す。当番表で自院の夜間当番を確かめ、交代を頼む", True),
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
              "県央の夜間・休日当番表（今月・来月）を編集しA4で印刷する。在支診も一覧する", True),
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


def demo_logins() -> list[tuple[DemoLogin, str]]:
    """Each demo login with its organisation's name, for the table the command prints."""
    names = {o.key: o.name for o in DEMO_ORGS}
    for m in Municipality.objects.filter(prefecture__code=PREFECTURE_CODE, parent__isnull=True):
        names[f"city-{m.code}"] = city_office_name(m)
    return [(login, names.get(login.org_key, login.org_key)) for login in DEMO_LOGINS]


def create_orgs() -> dict[str, Organization]:
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


def create_logins(orgs: dict[str, Organization]) -> None:
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


def create_own_facilities(
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
