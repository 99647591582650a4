"""The typed inputs of the placement workflows: the API's bodies and what the screens' forms feed.

The case's fields are written here once (`CaseFields`): the create and update inputs, the
PATCH body, the screen's form (`CaseForm.Meta.fields`) and the API's output schema all derive
from this class. Rules about one field's shape live here (and reach the OpenAPI schema);
rules across fields or against the database live in the actions.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated, Any, Literal

from django.db.models import TextChoices
from pydantic import BaseModel, BeforeValidator, Field

from renkei.directory.models import Capability, WardKind
from renkei.lib.actions import ActionError
from renkei.lib.inputs import (
    CalendarDate,
    CalendarDateTime,
    CapabilityCode,
    Input,
    PageNumber,
    PerPage,
    known_codes,
    one_of,
    partial,
    required,
)
from renkei.referrals.models import (
    AgeBand,
    Answer,
    CaseDementiaLevel,
    CaseHousehold,
    CaseSex,
    CaseStatus,
    DeclineReason,
    Destination,
    HandoverKind,
    HandoverMethod,
    Infection,
    KeyPerson,
    Relation,
    WithdrawalReason,
)
from renkei.regions.models import Municipality

MAX_REQUESTS_PER_SEND = 100
MAX_INTERVIEW_DATES = 5


def _known(choices: type[TextChoices], message: str) -> Any:
    """A list of codes from one vocabulary, refused with the domain's own words (and the codes)."""
    return known_codes(choices.values, message)


_one_of = one_of


CASE_LIST_STATUSES = ["", "open", *CaseStatus.values]


def _blank_is_none(value: Any) -> Any:
    return None if value == "" else value


MunicipalityCode = Annotated[
    str, Field(pattern=r"^\d{6}$", description="市区町村コード（6桁）", max_length=6)
]


class CaseFields(BaseModel):
    """What a case says about the patient (anonymous by construction; ADR 0008)."""

    age_band: AgeBand = Field(..., title="年齢")
    sex: CaseSex = Field(..., title="性別")
    care_level: int | None = Field(
        ..., ge=0, le=7, title="要介護度", description="0=自立 … 7=要介護5、null=申請中"
    )
    dementia: CaseDementiaLevel = Field(CaseDementiaLevel.NONE, title="認知症の自立度")
    required_capabilities: list[CapabilityCode] = Field(
        default_factory=list, max_length=40, title="必要な処置", description="処置項目のコード"
    )
    infections: Annotated[list[Infection], _known(Infection, "感染症の値が正しくありません")] = (
        Field(default_factory=list, max_length=20, title="感染症")
    )
    residence: Annotated[MunicipalityCode, required("居住地を選んでください")] = Field(
        ..., title="居住地"
    )
    destinations: Annotated[
        list[Destination], _known(Destination, "希望する退院・転院先の値が正しくありません")
    ] = Field(default_factory=list, max_length=20, title="希望する退院・転院先")
    desired_municipalities: list[MunicipalityCode] = Field(
        default_factory=list, max_length=50, title="希望地域"
    )
    radius_km: int = Field(20, ge=1, le=100, title="居住地からの距離")
    budget_monthly: int | None = Field(None, ge=0, le=2_000_000, title="月額予算")
    target_date: CalendarDate | None = Field(None, title="退院・転院の目標日")
    household: CaseHousehold = Field(CaseHousehold.UNKNOWN, title="同居者の有無")
    key_person: KeyPerson = Field(KeyPerson.YES, title="キーパーソン")
    key_person_relation: Annotated[Relation | None, BeforeValidator(_blank_is_none)] = Field(
        None, title="キーパーソンの続柄"
    )
    note: str = Field("", max_length=2000, title="補足")
    internal_ref: str = Field(
        "",
        max_length=40,
        title="院内メモ（管理番号）",
        description="自院の職員だけに表示（依頼先には送られない）。氏名・患者IDは書けません",
    )


CASE_FIELDS: list[str] = list(CaseFields.model_fields)


class CaseInput(CaseFields, Input):
    """A new case; `draft` keeps it as a 下書き (not searchable, destinations may be empty)."""

    draft: bool = Field(False, description="true で下書きとして保存する")


class CaseUpdate(CaseFields, Input):
    """A case as edited: its fields, the version read and whether a draft is registered now."""

    complete_draft: bool = Field(False, description="true で下書きを登録済みにする")
    version: int | None = Field(
        None, description="楽観的ロック: 読み込んだ時点の version。異なれば409"
    )


# The API's PATCH body: the same fields and rules, each optional (null clears where it may).
if TYPE_CHECKING:
    CasePatch = CaseUpdate
else:
    CasePatch = partial(CaseUpdate, "ReferralCasePatch", doc="案件の変更する項目だけ")


def _at_most(n: int, message: str) -> BeforeValidator:
    def check(value: Any) -> Any:
        if isinstance(value, list | tuple) and len(value) > n:
            raise ValueError(message)
        return value

    return BeforeValidator(check)


class SendRequestsInput(Input):
    facilities: Annotated[
        list[uuid.UUID],
        Field(min_length=1, max_length=MAX_REQUESTS_PER_SEND),
        required("依頼先の施設を1つ以上選んでください"),
        _at_most(MAX_REQUESTS_PER_SEND, f"一度に依頼できるのは{MAX_REQUESTS_PER_SEND}施設までです"),
    ]
    deadline: CalendarDateTime = Field(..., title="回答期限")


class RequestAnswerInput(Input):
    answer: Annotated[Answer, _one_of(Answer.values, "回答を選んでください")] = Field(
        ..., title="回答"
    )
    decline_reason: Annotated[DeclineReason | None, BeforeValidator(_blank_is_none)] = None
    conditions: str = Field("", max_length=1000)
    interview_dates: list[CalendarDateTime] = Field(
        default_factory=list, max_length=MAX_INTERVIEW_DATES
    )
    note: str = Field("", max_length=1000)


class MessageInput(Input):
    body: Annotated[str, Field(min_length=1, max_length=1000), required("本文を入力してください")]


class PlacementConfirmInput(Input):
    request: uuid.UUID = Field(..., description="決定する依頼のコード")


class WithdrawCaseInput(Input):
    reason: WithdrawalReason = Field(..., title="取下げの理由")


class WithdrawRequestInput(Input):
    note: str = Field("", max_length=200)


class CaseAssignInput(Input):
    username: str | None = Field(None, max_length=150, description="省略すると自分が担当する")


class HandoverInput(Input):
    kind: HandoverKind = Field(..., title="書類")
    method: HandoverMethod = Field(HandoverMethod.HAND, title="方法")
    exchanged_on: CalendarDate = Field(..., title="受け渡した日")


def values_of(obj: Any) -> dict[str, Any]:
    """A stored case as `CaseFields` values (codes for its relations): the base of a PATCH."""
    out: dict[str, Any] = {}
    for name in CASE_FIELDS:
        if name == "residence":
            out[name] = obj.residence.code
        elif name in ("required_capabilities", "desired_municipalities"):
            out[name] = [x.code for x in getattr(obj, name).all()]
        else:
            out[name] = getattr(obj, name)
    return out


# Queries: the screens read their query strings into the same models (parse_query) -------


class CaseListQuery(Input):
    scope: Literal["team", "mine"] = Field("team", description="team=自院すべて、mine=自分の担当")
    status: Annotated[str, _one_of(CASE_LIST_STATUSES, "状態の指定が正しくありません")] = ""
    page: PageNumber = 1
    per_page: PerPage = 20


class InboxQuery(Input):
    show: Literal["open", "all"] = "open"
    page: PageNumber = 1
    per_page: PerPage = 20


class AdmissionQuery(Input):
    """受入れ病院を探す: from the searcher's own municipality unless another is given."""

    municipality: Annotated[
        str, Field(pattern=r"^(\d{6})?$", max_length=6, description="市区町村コード（6桁）")
    ] = ""
    ward_kind: Annotated[list[str], _known(WardKind, "病棟の種類が正しくありません")] = Field(
        default_factory=list, max_length=20
    )
    capability: list[CapabilityCode] = Field(default_factory=list, max_length=40)
    vacant_only: bool = False
    backup_only: bool = False
    radius_km: float = Field(20.0, gt=0, le=100)
    sort: Literal["backup", "near", "vacant"] = Field(
        "backup",
        description="backup=在宅療養後方支援病院を先に近い順、near=近い順、vacant=空床の多い順",
    )


ADMISSION_SORTS = {
    "backup": "在宅療養後方支援病院を先に、近い順",
    "near": "近い順",
    "vacant": "選んだ病棟の空床が多い順（同数は近い順）",
}


class DashboardQuery(Input):
    area: int | None = Field(None, ge=1, le=2**31 - 1)
    since: CalendarDate | None = None
    until: CalendarDate | None = None


# A case's input as the model stores it --------------------------------------------------


def case_relations(
    data: CaseInput | CaseUpdate,
) -> tuple[Municipality, list[Capability], list[Municipality]]:
    """The case's codes as rows: unknown codes are refused with the code named."""
    residence = Municipality.objects.filter(code=data.residence).first()
    if residence is None:
        raise ActionError(f"市区町村コードが見つかりません（{data.residence}）", field="residence")
    codes = list(dict.fromkeys(data.required_capabilities))
    # Read, not the process's vocabulary: a capability deleted in another process within the
    # vocabulary's minute would pass here and fail the case at COMMIT (a 500, not a message).
    caps = list(Capability.objects.filter(code__in=codes))
    missing = sorted(set(codes) - {c.code for c in caps})
    if missing:
        raise ActionError(
            f"処置項目が見つかりません: {', '.join(missing)}", field="required_capabilities"
        )
    wanted = set(data.desired_municipalities)
    munis = list(Municipality.objects.filter(code__in=wanted))
    if len(munis) != len(wanted):
        raise ActionError(
            "希望地域に存在しない市区町村コードがあります", field="desired_municipalities"
        )
    return residence, caps, munis


def case_fields(data: CaseInput | CaseUpdate, residence: Municipality) -> dict[str, Any]:
    """The input's values as the model stores them (relations apart, "" for no relation)."""
    values = data.model_dump(include=set(CASE_FIELDS))
    values.pop("required_capabilities")
    values.pop("desired_municipalities")
    values["residence"] = residence
    values["key_person_relation"] = values["key_person_relation"] or ""
    values["infections"] = [str(v) for v in values["infections"]]
    values["destinations"] = [str(v) for v in values["destinations"]]
    return values
