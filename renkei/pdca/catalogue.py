"""The indicators Renkei defines itself: computed from its records, or entered.

Definitions are rows (`Indicator`), so that a prefecture's own indicators sit beside these;
this catalogue only makes sure the platform's own exist with their current wording.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

from renkei.care.models import ADMISSION_INFO_DAYS
from renkei.directory.models import FacilityKind
from renkei.events.models import EventKind, Occupation
from renkei.lib.programme import ProgrammeItem, Scene
from renkei.pdca.models import Direction, Indicator, IndicatorType, Source

POPULATION_65 = "population.aged65"

# Event kinds that are trainings of professionals (カ); the rest is 普及啓発 (キ).
TRAINING_KINDS: tuple[str, ...] = (
    EventKind.INTERPROFESSIONAL,
    EventKind.HOSPITAL_SEMINAR,
    EventKind.CARE_MEDICAL_SEMINAR,
    EventKind.OTHER,
)
PUBLIC_KINDS: tuple[str, ...] = (EventKind.PUBLIC_LECTURE, EventKind.SYMPOSIUM)

# Facility kinds counted per 10,000 people aged 65+: each kind alone, and the residential
# kinds together (a placement's destinations).
FACILITY_GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "hospital": ("病院", (FacilityKind.HOSPITAL,)),
    "clinic": ("診療所", (FacilityKind.CLINIC,)),
    "dental": ("歯科診療所", (FacilityKind.DENTAL,)),
    "pharmacy": ("薬局", (FacilityKind.PHARMACY,)),
    "visiting_nurse": ("訪問看護ステーション", (FacilityKind.VISITING_NURSE,)),
    "care_management": ("居宅介護支援事業所", (FacilityKind.CARE_MANAGEMENT,)),
    "residential": ("入所・居住系の介護施設", tuple(FacilityKind.residential())),
}


@dataclass(frozen=True)
class Definition:
    code: str
    name: str
    kind: str
    numerator: str
    unit: str
    direction: str = Direction.UP
    denominator: str = ""
    scale: int = 1
    scene: str = ""
    item: str = ""
    source: str = Source.COMPUTED
    source_note: str = ""


def _breakdown(
    parent: str,
    choices: list[tuple[str, str]],
    name: str,
    numerator: str,
    unit: str,
    *,
    item: str,
    source_note: str,
    by_scene: bool = False,
) -> list[Definition]:
    """One count per choice (scene, occupation …) under `parent`'s code; `name` and
    `numerator` take the choice's label as {label}."""
    return [
        Definition(
            f"{parent}.{key}",
            name.format(label=label),
            IndicatorType.PROCESS,
            numerator.format(label=label),
            unit,
            scene=key if by_scene else "",
            item=item,
            source_note=source_note,
        )
        for key, label in choices
    ]


ADMISSION_NOTE = "連携様式（care）。送った組織（居宅介護支援事業所など）の市町村"
BED_NOTE = "後方ベッド（oncall）。事前登録した主治医の医療機関の市町村"


class _Context(TypedDict):
    scene: str
    item: str
    source_note: str


REFERRALS: _Context = {
    "scene": Scene.DISCHARGE,
    "item": ProgrammeItem.U,
    "source_note": "入退院支援（referrals）",
}


def _share(
    code: str,
    name: str,
    numerator: str,
    denominator: str,
    *,
    scene: str,
    source_note: str,
    item: str = ProgrammeItem.U,
    kind: str = IndicatorType.PROCESS,
    direction: str = Direction.UP,
) -> Definition:
    """A percentage: numerator over denominator × 100."""
    return Definition(
        code,
        name,
        kind,
        numerator,
        "%",
        direction=direction,
        denominator=denominator,
        scale=100,
        scene=scene,
        item=item,
        source_note=source_note,
    )


def _definitions() -> list[Definition]:
    out = [
        Definition(
            POPULATION_65,
            "65歳以上人口",
            IndicatorType.STRUCTURE,
            "65歳以上人口（年度当初）",
            "人",
            direction=Direction.NONE,
            source=Source.ENTERED,
            source_note="住民基本台帳による年度当初の人数（市町村の入力、またはe-Statの取込み）",
        ),
        Definition(
            "desk.consultations",
            "相談窓口の相談件数",
            IndicatorType.PROCESS,
            "受け付けた相談の件数（受付日の年度）",
            "件",
            item=ProgrammeItem.O,
            source_note="相談窓口（desk）の相談記録。居住地、なければ窓口の組織の市町村",
        ),
        *_breakdown(
            "desk.consultations",
            Scene.choices,
            "相談件数（{label}）",
            "場面が「{label}」の相談の件数",
            "件",
            item=ProgrammeItem.O,
            source_note="相談窓口（desk）の相談記録",
            by_scene=True,
        ),
        Definition(
            "events.trainings",
            "医療・介護関係者の研修の開催回数",
            IndicatorType.PROCESS,
            "開催日が年度内の研修（多職種研修・出前セミナー等）の回数",
            "回",
            item=ProgrammeItem.KA,
            source_note="研修・講座（events）。開催市町村、なければ主催組織の市町村",
        ),
        Definition(
            "events.public",
            "地域住民への普及啓発の開催回数",
            IndicatorType.PROCESS,
            "開催日が年度内の市民向け講座・シンポジウムの回数",
            "回",
            item=ProgrammeItem.KI,
            source_note="研修・講座（events）",
        ),
        Definition(
            "events.attended",
            "研修の受講者数",
            IndicatorType.PROCESS,
            "研修で出席が確認された受講者の人数",
            "人",
            item=ProgrammeItem.KA,
            source_note="研修・講座（events）の出席確認",
        ),
        *_breakdown(
            "events.attended",
            Occupation.choices,
            "研修の受講者数（{label}）",
            "研修で出席が確認された{label}の人数",
            "人",
            item=ProgrammeItem.KA,
            source_note="研修・講座（events）の出席確認",
        ),
        Definition(
            "referrals.placements",
            "入退院支援の決定件数",
            IndicatorType.OUTCOME,
            "決定日が年度内の入退院支援の案件数（居住地の市町村）",
            "件",
            **REFERRALS,
        ),
        *(
            Definition(
                f"referrals.{key}",
                name,
                kind,
                numerator,
                unit,
                direction=Direction.DOWN,
                denominator="決定した案件の数",
                **REFERRALS,
            )
            for key, name, kind, numerator, unit in (
                (
                    "days",
                    "登録から決定までの平均日数",
                    IndicatorType.OUTCOME,
                    "決定した案件の登録から決定までの日数の合計",
                    "日",
                ),
                (
                    "requests_per_placement",
                    "決定1件あたりの依頼数",
                    IndicatorType.PROCESS,
                    "決定した案件で送った依頼の数",
                    "件",
                ),
            )
        ),
        Definition(
            "mentoring.done",
            "同行研修の実施数",
            IndicatorType.PROCESS,
            "年度の同行研修で、指導医または受講者の報告があったもの",
            "件",
            item=ProgrammeItem.KA,
            source_note="同行研修（mentoring）。主催組織の市町村",
        ),
        _share(
            "oncall.gaps",
            "夜間・休日当番の空き枠の割合",
            "公開した当番表で当番が決まっていない枠の数",
            "公開した当番表の枠の数",
            scene=Scene.EMERGENCY,
            source_note="当番表（oncall）。主催組織の市町村",
            direction=Direction.DOWN,
        ),
        *(
            _share(
                f"care.admission_info.{key}",
                name,
                f"{when}に最初に送った入院時情報提供書の数",
                "送った入院時情報提供書の数（入院日の年度）",
                scene=Scene.DISCHARGE,
                item=ProgrammeItem.E,
                source_note=ADMISSION_NOTE,
            )
            for key, name, when in (
                (
                    "within",
                    f"入院後{ADMISSION_INFO_DAYS}日以内の情報提供の割合",
                    f"入院日から{ADMISSION_INFO_DAYS}日以内（入院日を含む）",
                ),
                ("same_day", "入院当日の情報提供の割合", "入院日のうち"),
            )
        ),
        Definition(
            "oncall.bed_uses",
            "後方ベッドの利用件数",
            IndicatorType.PROCESS,
            "受診・入院日が年度内の後方ベッドの利用の数",
            "件",
            scene=Scene.EMERGENCY,
            item=ProgrammeItem.U,
            source_note=BED_NOTE,
        ),
        _share(
            "oncall.bed_uses.home",
            "後方ベッド利用後の在宅復帰の割合",
            "転帰が「在宅に復帰」の利用の数",
            "転帰が入院継続中でない利用の数",
            scene=Scene.EMERGENCY,
            source_note=BED_NOTE,
            kind=IndicatorType.OUTCOME,
        ),
    ]
    for key, (label, _kinds) in FACILITY_GROUPS.items():
        out.append(
            Definition(
                f"directory.{key}.per65",
                f"{label}数（65歳以上人口1万人あたり）",
                IndicatorType.STRUCTURE,
                f"掲載中の{label}の数（年度中の算出時点）",
                "か所",
                denominator="65歳以上人口",
                scale=10_000,
                item=ProgrammeItem.A,
                source_note="資源情報（directory）と65歳以上人口（入力値）",
            )
        )
    return out


DEFINITIONS: list[Definition] = _definitions()
COMPUTED_CODES: list[str] = [d.code for d in DEFINITIONS if d.source == Source.COMPUTED]


def ensure_indicators() -> dict[str, Indicator]:
    """The catalogue's rows, created or brought up to date; every indicator by code."""
    existing = {i.code: i for i in Indicator.objects.all()}
    for order, d in enumerate(DEFINITIONS):
        fields = {
            "name": d.name,
            "kind": d.kind,
            "numerator": d.numerator,
            "denominator": d.denominator,
            "scale": d.scale,
            "unit": d.unit,
            "direction": d.direction,
            "source": d.source,
            "source_note": d.source_note,
            "scene": d.scene,
            "item": d.item,
            "sort_order": order * 10,
        }
        row = existing.get(d.code)
        if row is None:
            existing[d.code] = Indicator.objects.create(code=d.code, **fields)
        elif any(getattr(row, k) != v for k, v in fields.items()):
            for k, v in fields.items():
                setattr(row, k, v)
            row.save()
    return existing
