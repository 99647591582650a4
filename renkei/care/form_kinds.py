"""The items of the three shared forms (issue 13 §4), as typed inputs with their sections.

- 入院時情報提供書: the items of the 2018 様式例 (厚生労働省「入院時情報提供書」) as the
  厚木・愛川・清川 common form arranges them.
- 退院・退所情報記録書: the 2018 様式例 (hospital or facility → care manager).
- 医師とケアマネジャーの連絡票: 8 purposes with a reply section (海老名市医師会's form per seed 002;
  the purposes are unverified, ADR 0046).

Each kind is one pydantic model (the API body's `content`, discriminated by `kind`) and a list
of sections in the order of the paper form; the edit screen, the printed A4 page and the API
all read the same definitions, so a field added here appears on every door. Choices are
written as on the paper (the stored value is the printed word), so the print can show every
option with ☑/☐ as the paper does.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, Any, Literal

from django.utils import timezone
from pydantic import AfterValidator, ConfigDict, Field

from renkei.lib.inputs import CalendarDate, Input, item_type


def text(title: str, max_length: int = 100, rows: int = 0) -> Any:
    """A free-text item; `rows` > 0 makes it a text area on the screen and a tall cell in print."""
    return Field("", title=title, max_length=max_length, json_schema_extra={"rows": rows})


def _birth(value: dt.date) -> dt.date:
    if not dt.date(1900, 1, 1) <= value <= timezone.localdate():
        raise ValueError("生年月日は1900年以降、今日までの日付を入力してください")
    return value


def choice(title: str) -> Any:
    return Field(None, title=title)


def choices(title: str) -> Any:
    return Field(default_factory=list, title=title)


class Housing(enum.StrEnum):
    HOUSE = "戸建て"
    APARTMENT = "集合住宅"


class Household(enum.StrEnum):
    ALONE = "独居"
    ELDERLY = "高齢者世帯"
    WITH_CHILD = "子と同居"
    OTHER = "その他"


class CarerCapacity(enum.StrEnum):
    ABLE = "介護力が見込める"
    UNABLE = "介護力は見込めない"
    NONE = "家族や支援者はいない"


class BedriddenLevel(enum.StrEnum):
    """障害高齢者の日常生活自立度."""

    INDEPENDENT = "自立"
    J1 = "J1"
    J2 = "J2"
    A1 = "A1"
    A2 = "A2"
    B1 = "B1"
    B2 = "B2"
    C1 = "C1"
    C2 = "C2"


class DementiaLevel(enum.StrEnum):
    """認知症高齢者の日常生活自立度."""

    INDEPENDENT = "自立"
    I = "Ⅰ"  # noqa: E741
    IIA = "Ⅱa"
    IIB = "Ⅱb"
    IIIA = "Ⅲa"
    IIIB = "Ⅲb"
    IV = "Ⅳ"
    M = "M"


class CopayRate(enum.StrEnum):
    ONE = "1割"
    TWO = "2割"
    THREE = "3割"
    UNKNOWN = "不明"


class Disability(enum.StrEnum):
    NONE = "なし"
    PHYSICAL = "身体"
    MENTAL = "精神"
    INTELLECTUAL = "知的"


class Pension(enum.StrEnum):
    NATIONAL = "国民年金"
    EMPLOYEES = "厚生年金"
    DISABILITY = "障害年金"
    WELFARE = "生活保護"
    OTHER = "その他"


class Conference(enum.StrEnum):
    WARD = "院内の多職種カンファレンスへの参加"
    DISCHARGE = "退院前カンファレンスへの参加"
    HOME_VISIT = "退院前訪問指導を行う場合の同行"


class Severity(enum.StrEnum):
    NONE = "なし"
    MILD = "軽度"
    MODERATE = "中度"
    SEVERE = "重度"


class Assist(enum.StrEnum):
    INDEPENDENT = "自立"
    WATCH = "見守り"
    PARTIAL = "一部介助"
    FULL = "全介助"


class MealForm(enum.StrEnum):
    NORMAL = "普通"
    MINCED = "きざみ"
    DYSPHAGIA = "嚥下障害食"
    BLENDED = "ミキサー"
    TUBE = "経管栄養"


class Choking(enum.StrEnum):
    NONE = "むせなし"
    SOMETIMES = "時々むせる"
    ALWAYS = "常にむせる"


class Excretion(enum.StrEnum):
    TOILET = "トイレ"
    PORTABLE = "ポータブルトイレ"
    DIAPER = "おむつ・パッド"
    CATHETER = "カテーテル・パウチ"


class GoodPoor(enum.StrEnum):
    GOOD = "良"
    POOR = "不良"


class Behaviour(enum.StrEnum):
    HALLUCINATION = "幻視・幻聴"
    EXCITEMENT = "興奮"
    RESTLESS = "焦燥・不穏"
    DELUSION = "妄想"
    AGGRESSION = "暴力・攻撃性"
    RESISTANCE = "介護への抵抗"
    INSOMNIA = "不眠"
    DAY_NIGHT = "昼夜逆転"
    WANDERING = "徘徊"
    DANGER = "危険行為"
    UNCLEAN = "不潔行為"
    DELIRIUM = "せん妄"


class History(enum.StrEnum):
    CANCER = "悪性腫瘍"
    DEMENTIA = "認知症"
    RESPIRATORY = "急性呼吸器感染症"
    STROKE = "脳血管障害"
    FRACTURE = "骨折"
    OTHER = "その他"


class Procedure(enum.StrEnum):
    DRIP = "点滴"
    OXYGEN = "酸素療法"
    SUCTION = "喀痰吸引"
    TRACHEOSTOMY = "気管切開"
    GASTROSTOMY = "胃ろう"
    NASAL = "経鼻栄養"
    ENTERAL = "経腸栄養"
    ULCER = "褥瘡"
    URETHRAL = "尿道カテーテル"
    UROSTOMY = "尿路ストーマ"
    COLOSTOMY = "消化管ストーマ"
    PAIN = "痛みコントロール"
    BOWEL = "排便コントロール"
    INJECTION = "自己注射"
    OTHER = "その他"


class MedicineManagement(enum.StrEnum):
    SELF = "自己管理"
    OTHERS = "他者による管理"


class Adherence(enum.StrEnum):
    AS_PRESCRIBED = "処方通り服用"
    SOMETIMES = "時々飲み忘れ"
    OFTEN = "飲み忘れが多い"
    REFUSES = "服薬拒否"


class VisitMethod(enum.StrEnum):
    OUTPATIENT = "通院"
    HOME = "訪問診療"


class Stability(enum.StrEnum):
    STABLE = "安定"
    UNSTABLE = "不安定"


class Mobility(enum.StrEnum):
    INDEPENDENT = "自立"
    CANE = "杖"
    WALKER = "歩行器"
    WHEELCHAIR = "車いす"
    OTHER = "その他"


class Bathing(enum.StrEnum):
    INDEPENDENT = "自立"
    SHOWER = "シャワー浴"
    GENERAL = "一般浴"
    MACHINE = "機械浴"
    NONE = "行わず"


class OralHygiene(enum.StrEnum):
    GOOD = "良"
    POOR = "不良"
    VERY_POOR = "著しく不良"


class NursingPoint(enum.StrEnum):
    BLOOD_PRESSURE = "血圧"
    FLUID = "水分制限"
    DIET = "食事制限"
    MEAL_FORM = "食事形態"
    SWALLOWING = "嚥下"
    ORAL = "口腔ケア"
    HYGIENE = "清潔ケア"
    GLUCOSE = "血糖コントロール"
    EXCRETION = "排泄"
    SKIN = "皮膚状態"
    SLEEP = "睡眠"
    COGNITION = "認知機能・精神面"
    MEDICATION = "服薬指導"
    GUIDANCE = "療養上の指導"
    TERMINAL = "ターミナル"


class RehabPoint(enum.StrEnum):
    SELF = "本人指導"
    FAMILY = "家族指導"
    RANGE = "関節可動域練習"
    STRENGTH = "筋力増強練習"
    BALANCE = "バランス練習"
    BASIC = "起居・立位等基本動作練習"
    SWALLOW = "摂食・嚥下訓練"
    SPEECH = "言語訓練"
    ADL = "ADL練習"
    IADL = "IADL練習"
    PAIN = "疼痛管理"
    AIDS = "福祉用具等管理"


class Direction(enum.StrEnum):
    CM_TO_DOCTOR = "ケアマネジャーから医師へ"
    DOCTOR_TO_CM = "医師からケアマネジャーへ"


class Purpose(enum.StrEnum):
    """The 8 purposes of the 医師とケアマネジャーの連絡票 (海老名市医師会; unverified, ADR 0046)."""

    HOSPITAL = "入院・退院に関する連絡"
    OPINION = "主治医意見書に関すること"
    CARE_PLAN = "ケアプランの作成・変更についての意見"
    MEETING = "サービス担当者会議について（開催・照会）"
    MEDICAL_SERVICE = "医療系サービス（訪問看護・訪問リハビリ等）の利用について"
    CONDITION = "病状・治療方針の確認"
    AIDS = "福祉用具・住宅改修について"
    OTHER = "その他"


class ReplyWanted(enum.StrEnum):
    YES = "返信を希望する"
    NO = "返信は不要"


class ReplyMethod(enum.StrEnum):
    FORM = "本票で"
    PHONE = "電話で"
    FAX = "FAXで"
    MEETING = "面談で"


Long = 1000


def _kind_required(schema: dict[str, Any]) -> None:
    """`kind` has a default for the code that builds a form, but a body must send it: the
    union of the three forms is told apart by it (ADR 0042, the schema is the contract)."""
    if "kind" in schema.get("properties", {}) and "kind" not in schema.get("required", []):
        schema["required"] = [*schema.get("required", []), "kind"]


class PatientItems(Input):
    """The patient's identity as it is printed on the form: copied from the record when the
    draft is made and editable (the form shows what was sent, even after the record changes)."""

    model_config = ConfigDict(json_schema_extra=_kind_required)

    patient_name: str = text("氏名", 60)
    patient_kana: str = text("ふりがな", 100)
    birth_date: Annotated[dt.date, AfterValidator(_birth)] | None = Field(None, title="生年月日")
    sex: str = text("性別", 10)
    care_level: str = text("要介護度", 20)


class AdmissionContent(PatientItems):
    """入院時情報提供書 (居宅介護支援事業所 → 医療機関)."""

    kind: Literal["admission"] = "admission"
    hospital_name: str = text("医療機関名", 100)
    hospital_staff: str = text("ご担当者名", 60)
    office_name: str = text("居宅介護支援事業所名", 100)
    care_manager: str = text("ケアマネジャー氏名", 60)
    office_phone: str = text("電話番号", 20)
    office_fax: str = text("FAX番号", 20)
    address: str = text("住所", 200)
    phone: str = text("電話番号（本人宅）", 20)
    housing: Housing | None = choice("住環境")
    housing_note: str = text("住環境の特記事項（階数・エレベーター等）", 200)
    care_period: str = text("認定の有効期間", 60)
    bedridden: BedriddenLevel | None = choice("障害高齢者の日常生活自立度")
    dementia: DementiaLevel | None = choice("認知症高齢者の日常生活自立度")
    copay: CopayRate | None = choice("介護保険の自己負担割合")
    disability: list[Disability] = choices("障害等認定")
    pension: list[Pension] = choices("年金などの種類")
    household: Household | None = choice("世帯構成")
    daytime_alone: bool = Field(False, title="日中独居")
    main_carer: str = text("主介護者（氏名・続柄・年齢）", 100)
    carer_capacity: CarerCapacity | None = choice("介護力")
    abuse_suspected: bool = Field(False, title="家族や同居者等による虐待の疑い")
    key_person: str = text("キーパーソン（氏名・続柄・連絡先）", 200)
    family_note: str = text("家族についての特記事項", 500, rows=2)
    interests: str = text("本人の趣味・興味・関心領域等", 500, rows=2)
    life_history: str = text("本人の生活歴", 500, rows=2)
    patient_wishes: str = text("入院前の本人の生活に対する意向", 500, rows=2)
    family_wishes: str = text("入院前の家族の生活に対する意向", 500, rows=2)
    services: str = text("入院前の介護サービスの利用状況", Long, rows=3)
    care_plan_attached: bool = Field(False, title="居宅サービス計画書1〜3表を添付")
    home_requirements: str = text(
        "在宅生活に必要な要件（ケアマネジャーとしての意見）", Long, rows=3
    )
    household_after: Household | None = choice("退院後の世帯状況")
    conference: list[Conference] = choices("カンファレンス等への参加の希望")
    paralysis: Severity | None = choice("麻痺の状況")
    pressure_ulcer: str = text("褥瘡の有無・部位", 100)
    adl_move: Assist | None = choice("ADL 移動")
    adl_transfer: Assist | None = choice("ADL 移乗")
    adl_dressing: Assist | None = choice("ADL 更衣")
    adl_eating: Assist | None = choice("ADL 食事")
    adl_toilet: Assist | None = choice("ADL 排泄")
    adl_bathing: Assist | None = choice("ADL 入浴")
    meal_form: MealForm | None = choice("食事形態")
    choking: Choking | None = choice("嚥下機能")
    dentures: bool = Field(False, title="義歯あり")
    excretion: list[Excretion] = choices("排泄")
    sleep: GoodPoor | None = choice("睡眠の状態")
    communication: str = text("コミュニケーション（視力・聴力・意思疎通）", 300, rows=2)
    behaviour: list[Behaviour] = choices("精神面における療養上の問題")
    history: list[History] = choices("疾患歴")
    recent_admissions: str = text("最近半年間の入院（時期・理由）", 200)
    procedures: list[Procedure] = choices("入院前に実施している医療処置")
    medicines: str = text("内服薬", Long, rows=3)
    medicine_management: MedicineManagement | None = choice("薬剤管理")
    adherence: Adherence | None = choice("服薬状況")
    medicine_note: str = text("お薬に関する特記事項", 300, rows=2)
    doctor_clinic: str = text("かかりつけ医療機関", 100)
    doctor_name: str = text("医師名", 60)
    doctor_phone: str = text("電話番号（医療機関）", 20)
    visit_method: VisitMethod | None = choice("診察方法")
    visit_frequency: str = text("診察の頻度", 60)


class DischargeContent(PatientItems):
    """退院・退所情報記録書 (医療機関・施設 → ケアマネジャー)."""

    kind: Literal["discharge"] = "discharge"
    office_name: str = text("居宅介護支援事業所名", 100)
    care_manager: str = text("ケアマネジャー氏名", 60)
    hospital_name: str = text("医療機関・施設名", 100)
    ward: str = text("病棟・居室", 60)
    staff: str = text("担当者（職種・氏名）", 100)
    hospital_phone: str = text("電話番号（医療機関）", 20)
    discharge_date: CalendarDate | None = Field(None, title="退院（所）予定日")
    admission_reason: str = text("入院原因疾患（入所目的等）", 300, rows=2)
    medical_management: str = text("今後の医学管理（医療機関名）", 100)
    management_method: VisitMethod | None = choice("医学管理の方法")
    diseases: str = text("現在治療中の疾患", 500, rows=2)
    disease_state: Stability | None = choice("疾患の状況")
    mobility: Mobility | None = choice("移動手段")
    excretion: list[Excretion] = choices("排泄方法")
    bathing: Bathing | None = choice("入浴方法")
    meal_form: MealForm | None = choice("食事形態")
    choking: Choking | None = choice("嚥下機能")
    dentures: bool = Field(False, title="義歯あり")
    oral_hygiene: OralHygiene | None = choice("口腔清潔")
    sleep: GoodPoor | None = choice("睡眠")
    cognition: list[Behaviour] = choices("認知・精神")
    disclosed: bool = Field(False, title="本人への病名告知あり")
    patient_intent: str = text("本人の退院後の生活に関する意向", 500, rows=2)
    family_intent: str = text("家族の退院後の生活に関する意向", 500, rows=2)
    procedures: list[Procedure] = choices("退院後に必要な医療処置")
    nursing_points: list[NursingPoint] = choices("看護の視点")
    rehab_points: list[RehabPoint] = choices("リハビリの視点")
    contraindications: str = text("禁忌事項・留意点", 500, rows=2)
    prognosis: str = text("症状・病状の予後・予測", 500, rows=2)
    obstacles: str = text("退院に際しての日常生活の阻害要因（心身状態・環境等）", 500, rows=2)
    requirements: str = text("在宅復帰のために整えなくてはならない要件", 500, rows=2)
    heard_on: CalendarDate | None = Field(None, title="聞き取り日")
    informant: str = text("情報提供を受けた職種（氏名）", 100)
    conference_attended: bool = Field(False, title="退院前カンファレンスに出席")


class DoctorNoteContent(PatientItems):
    """医師とケアマネジャーの連絡票 (either way), its reply written by the recipient."""

    kind: Literal["doctor_cm"] = "doctor_cm"
    direction: Direction | None = choice("連絡の方向")
    to_org: str = text("宛先（医療機関・事業所）", 100)
    to_name: str = text("宛先（医師・ケアマネジャー氏名）", 60)
    from_org: str = text("差出人（医療機関・事業所）", 100)
    from_name: str = text("差出人（氏名）", 60)
    from_phone: str = text("電話番号", 20)
    from_fax: str = text("FAX番号", 20)
    purposes: list[Purpose] = choices("連絡の目的")
    message: str = text("連絡・相談の内容", 2000, rows=6)
    reply_wanted: ReplyWanted | None = choice("返信")
    reply_method: ReplyMethod | None = choice("返信の方法")


Content = Annotated[
    AdmissionContent | DischargeContent | DoctorNoteContent, Field(discriminator="kind")
]
CONTENT_MODELS: dict[str, type[PatientItems]] = {
    "admission": AdmissionContent,
    "discharge": DischargeContent,
    "doctor_cm": DoctorNoteContent,
}

PATIENT = ("patient_name", "patient_kana", "birth_date", "sex", "care_level")

# (section title, field names) in the order of the paper form.
SECTIONS: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "admission": [
        (
            "宛先・送付元",
            (
                "hospital_name",
                "hospital_staff",
                "office_name",
                "care_manager",
                "office_phone",
                "office_fax",
            ),
        ),
        (
            "1. 利用者（患者）基本情報",
            (
                *PATIENT,
                "address",
                "phone",
                "housing",
                "housing_note",
                "care_period",
                "bedridden",
                "dementia",
                "copay",
                "disability",
                "pension",
            ),
        ),
        (
            "2. 家族構成／連絡先",
            (
                "household",
                "daytime_alone",
                "main_carer",
                "carer_capacity",
                "abuse_suspected",
                "key_person",
                "family_note",
            ),
        ),
        (
            "3. 本人／家族の意向",
            ("interests", "life_history", "patient_wishes", "family_wishes"),
        ),
        ("4. 入院前の介護サービスの利用状況", ("services", "care_plan_attached")),
        (
            "5. 今後の在宅生活の展望（ケアマネジャーとしての意見）",
            ("home_requirements", "household_after"),
        ),
        ("6. カンファレンス等について（ケアマネジャーからの希望）", ("conference",)),
        (
            "7. 身体・生活機能の状況／療養生活上の課題",
            (
                "paralysis",
                "pressure_ulcer",
                "adl_move",
                "adl_transfer",
                "adl_dressing",
                "adl_eating",
                "adl_toilet",
                "adl_bathing",
                "meal_form",
                "choking",
                "dentures",
                "excretion",
                "sleep",
                "communication",
                "behaviour",
                "history",
                "recent_admissions",
                "procedures",
            ),
        ),
        (
            "8. お薬について",
            ("medicines", "medicine_management", "adherence", "medicine_note"),
        ),
        (
            "9. かかりつけ医について",
            ("doctor_clinic", "doctor_name", "doctor_phone", "visit_method", "visit_frequency"),
        ),
    ],
    "discharge": [
        (
            "宛先・記入者",
            (
                "office_name",
                "care_manager",
                "hospital_name",
                "ward",
                "staff",
                "hospital_phone",
            ),
        ),
        (
            "1. 基本情報・現在の状態等",
            (
                *PATIENT,
                "discharge_date",
                "admission_reason",
                "medical_management",
                "management_method",
                "diseases",
                "disease_state",
                "mobility",
                "excretion",
                "bathing",
                "meal_form",
                "choking",
                "dentures",
                "oral_hygiene",
                "sleep",
                "cognition",
            ),
        ),
        (
            "2. 受け止め／意向",
            ("disclosed", "patient_intent", "family_intent"),
        ),
        (
            "3. 退院後に必要な事柄",
            ("procedures", "nursing_points", "rehab_points", "contraindications"),
        ),
        ("4. 症状・病状の予後・予測", ("prognosis",)),
        ("5. 退院に際しての日常生活の阻害要因", ("obstacles", "requirements")),
        ("6. 聞き取りの記録", ("heard_on", "informant", "conference_attended")),
    ],
    "doctor_cm": [
        (
            "宛先・差出人",
            (
                "direction",
                "to_org",
                "to_name",
                "from_org",
                "from_name",
                "from_phone",
                "from_fax",
            ),
        ),
        ("利用者", PATIENT),
        ("連絡の目的（該当するものすべて）", ("purposes",)),
        ("連絡・相談の内容", ("message", "reply_wanted", "reply_method")),
    ],
}


def labels(kind: str) -> dict[str, str]:
    model = CONTENT_MODELS[kind]
    return {name: f.title or name for name, f in model.model_fields.items()}


def _options(annotation: Any) -> tuple[list[str], bool] | None:
    """The printed options of a choice item, and whether several may be ticked."""
    annotation, many = item_type(annotation)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return [str(e.value) for e in annotation], many
    return None


def printable(content: PatientItems) -> list[dict[str, Any]]:
    """The form as the paper lays it out: sections of items; a choice shows every option
    with ☑ or ☐, a long text takes the whole row."""
    model = type(content)
    sections = []
    for title, names in SECTIONS[content.kind]:  # type: ignore[attr-defined]
        items = []
        for name in names:
            info = model.model_fields[name]
            value = getattr(content, name)
            item: dict[str, Any] = {"name": name, "label": info.title or name, "wide": False}
            opts = _options(info.annotation)
            if opts is not None:
                chosen = {str(v) for v in value} if opts[1] else {str(value)}
                item["options"] = [(o, o in chosen) for o in opts[0]]
                item["wide"] = opts[1] or len(opts[0]) > 4
            elif isinstance(value, bool):
                item["options"] = [("あり" if value else "なし", value)]
                item["flag"] = True
            elif isinstance(value, dt.date):
                item["text"] = f"{value.year}年{value.month}月{value.day}日"
            else:
                item["text"] = value or ""
                rows = (info.json_schema_extra or {}).get("rows", 0)  # type: ignore[union-attr]
                item["wide"] = bool(rows)
            items.append(item)
        sections.append({"title": title, "items": items})
    return sections
