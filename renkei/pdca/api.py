"""/api/v1/programmes/surveys/ and /api/v1/programmes/indicators/: the same actions and
tables as the screens. Outsiders get 404, anonymous callers 401."""

from __future__ import annotations

import base64
import datetime as dt
import uuid

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from ninja.security import SessionAuth
from pydantic import Field

from renkei.accounts.http import api_membership
from renkei.accounts.models import OrgKind
from renkei.lib.actions import ActionError, NotFound
from renkei.lib.api import READ_ERRORS, WRITE_ERRORS
from renkei.lib.inputs import FiscalYear, Input
from renkei.pdca import actions, population, tables
from renkei.pdca.access import (
    sent_survey,
    visible_municipality,
    visible_response,
    visible_survey,
)
from renkei.pdca.catalogue import ensure_indicators
from renkei.pdca.models import (
    ComputeRun,
    Indicator,
    IndicatorValue,
    Response,
    Survey,
    readable_municipalities,
)

surveys_router = Router(tags=["programmes: surveys"], auth=SessionAuth())
indicators_router = Router(tags=["programmes: indicators"], auth=SessionAuth())


class QuestionOut(Schema):
    key: str
    number: str
    label: str
    help_text: str


class SurveyOut(Schema):
    code: uuid.UUID
    title: str
    fiscal_year: int
    fiscal_year_label: str
    deadline: dt.date
    area: str | None = None
    organization: str
    questions: list[QuestionOut]

    @staticmethod
    def resolve_area(obj: Survey) -> str | None:
        return obj.area.name if obj.area else None

    @staticmethod
    def resolve_organization(obj: Survey) -> str:
        return obj.organization.name

    @staticmethod
    def resolve_questions(obj: Survey) -> list[QuestionOut]:
        return list(obj.questions.all())  # type: ignore[arg-type]


class SubmissionOut(Schema):
    number: int
    submitted_at: dt.datetime
    answers: dict[str, str]


class ResponseOut(Schema):
    code: uuid.UUID
    survey: uuid.UUID
    municipality_code: str
    municipality: str
    status: str
    answers: dict[str, str]
    version: int
    submitted_at: dt.datetime | None
    submissions: list[SubmissionOut]

    @staticmethod
    def resolve_survey(obj: Response) -> uuid.UUID:
        return obj.survey.code

    @staticmethod
    def resolve_municipality_code(obj: Response) -> str:
        return obj.municipality.code

    @staticmethod
    def resolve_municipality(obj: Response) -> str:
        return obj.municipality.name

    @staticmethod
    def resolve_submissions(obj: Response) -> list[SubmissionOut]:
        return list(obj.submissions.all())  # type: ignore[arg-type]


class TableRowOut(Schema):
    area: str
    municipality_code: str
    municipality: str
    status: str
    submitted_at: dt.datetime | None
    submissions: int
    answers: dict[str, str]


@surveys_router.get(
    "", response={200: list[SurveyOut], **READ_ERRORS}, summary="送った・回答する市町村調査"
)
def list_surveys(request: HttpRequest) -> QuerySet[Survey]:
    return (
        Survey.objects.readable_by(api_membership(request))
        .select_related("organization", "area")
        .prefetch_related("questions")
    )


@surveys_router.post(
    "", response={201: SurveyOut, **WRITE_ERRORS}, summary="市町村調査を送る（都道府県）"
)
def post_survey(request: HttpRequest, payload: actions.SurveyInput) -> Status[Survey]:
    survey = actions.send_survey(by=api_membership(request), data=payload, request=request)
    return Status(201, survey)


@surveys_router.get("/{code}", response={200: SurveyOut, **READ_ERRORS}, summary="市町村調査")
def get_survey(request: HttpRequest, code: uuid.UUID) -> Survey:
    return visible_survey(api_membership(request), code)


@surveys_router.get(
    "/{code}/table",
    response={200: list[TableRowOut], **READ_ERRORS},
    summary="比較表（1市町村1行）",
)
def survey_table(request: HttpRequest, code: uuid.UUID) -> list[TableRowOut]:
    c = tables.comparison(sent_survey(api_membership(request), code))
    keys = [q.key for q in c.questions]
    return [
        TableRowOut(
            area=g.name,
            municipality_code=r.municipality.code,
            municipality=r.municipality.name,
            status=r.status,
            submitted_at=r.submitted_at,
            submissions=r.submissions,
            answers=dict(zip(keys, r.answers, strict=True)),
        )
        for g in c.groups
        for r in g.rows
    ]


@surveys_router.get(
    "/responses/{code}", response={200: ResponseOut, **READ_ERRORS}, summary="回答と提出の履歴"
)
def get_response(request: HttpRequest, code: uuid.UUID) -> Response:
    return visible_response(api_membership(request), code)


@surveys_router.put(
    "/responses/{code}",
    response={200: ResponseOut, **WRITE_ERRORS},
    summary="回答を保存・提出する（市町村）",
)
def put_response(request: HttpRequest, code: uuid.UUID, payload: actions.AnswerInput) -> Response:
    m = api_membership(request)
    # The prefecture reads the response, so the action's 403 answers it; others get 404.
    r = visible_response(m, code)
    return actions.save_answers(r, by=m, data=payload, request=request)


# ---- indicators ---------------------------------------------------------------------------------


class IndicatorOut(Schema):
    code: str
    name: str
    scene: str
    item: str
    kind: str
    numerator: str
    denominator: str
    scale: int
    unit: str
    direction: str
    source: str
    source_note: str


class ValueOut(Schema):
    indicator: str
    municipality_code: str
    fiscal_year: int
    numerator: float
    denominator: float | None
    value: float | None

    @staticmethod
    def resolve_indicator(obj: IndicatorValue) -> str:
        return obj.indicator.code

    @staticmethod
    def resolve_municipality_code(obj: IndicatorValue) -> str:
        return obj.municipality.code


class CompareRowOut(Schema):
    label: str
    code: str
    value: float | None
    numerator: float | None
    denominator: float | None


class CompareAreaOut(Schema):
    name: str
    total: CompareRowOut
    rows: list[CompareRowOut]


class CompareOut(Schema):
    indicator: str
    fiscal_year: int
    areas: list[CompareAreaOut]
    total: CompareRowOut


class CompareQuery(Input):
    indicator: str = Field(..., max_length=60, pattern=r"^[a-z0-9_.]+$")
    fiscal_year: FiscalYear


class YearQuery(Input):
    fiscal_year: FiscalYear | None = None


class RunOut(Schema):
    code: uuid.UUID
    status: str
    fiscal_years: list[int]
    steps_done: int
    steps_total: int
    values_written: int


@indicators_router.get(
    "/definitions", response={200: list[IndicatorOut], **READ_ERRORS}, summary="指標の定義"
)
def definitions(request: HttpRequest) -> list[Indicator]:
    api_membership(request)
    return sorted(ensure_indicators().values(), key=lambda i: (i.sort_order, i.code))


@indicators_router.get(
    "/municipalities/{code}",
    response={200: list[ValueOut], **READ_ERRORS},
    summary="市町村の指標の値",
)
def municipality_values(
    request: HttpRequest, code: str, q: Query[YearQuery]
) -> QuerySet[IndicatorValue]:
    muni = visible_municipality(api_membership(request), code)
    qs = IndicatorValue.objects.filter(municipality=muni).select_related(
        "indicator", "municipality"
    )
    if q.fiscal_year is not None:
        qs = qs.filter(fiscal_year=q.fiscal_year)
    return qs.order_by("indicator__sort_order", "fiscal_year")


@indicators_router.get(
    "/compare",
    response={200: CompareOut, **READ_ERRORS},
    summary="市町村の比較と二次医療圏・全体の集計",
)
def compare(request: HttpRequest, q: Query[CompareQuery]) -> CompareOut:
    m = api_membership(request)
    indicator = ensure_indicators().get(q.indicator)
    if indicator is None:
        raise NotFound("指標が見つかりません")
    c = tables.compare(indicator, q.fiscal_year, readable_municipalities(m).selectable())

    def row(r: tables.CompareRow) -> CompareRowOut:
        return CompareRowOut(
            label=r.label,
            code=r.code,
            value=r.value,
            numerator=r.numerator,
            denominator=r.denominator,
        )

    return CompareOut(
        indicator=indicator.code,
        fiscal_year=q.fiscal_year,
        areas=[
            CompareAreaOut(name=a.name, total=row(a.total), rows=[row(r) for r in a.rows])
            for a in c.areas
        ],
        total=row(c.prefecture),
    )


@indicators_router.put(
    "/values", response={200: ValueOut, **WRITE_ERRORS}, summary="入力する指標の値（市町村）"
)
def put_value(request: HttpRequest, payload: actions.ValueInput) -> IndicatorValue:
    ensure_indicators()
    v = actions.enter_value(by=api_membership(request), data=payload, request=request)
    return IndicatorValue.objects.select_related("indicator", "municipality").get(pk=v.pk)


@indicators_router.post(
    "/compute", response={202: RunOut, **WRITE_ERRORS}, summary="指標を算出する（バックグラウンド）"
)
def post_compute(request: HttpRequest, payload: actions.ComputeInput) -> Status[ComputeRun]:
    run = actions.start_compute(by=api_membership(request), data=payload, request=request)
    run.refresh_from_db()
    return Status(202, run)


@indicators_router.get(
    "/runs/{code}", response={200: RunOut, **READ_ERRORS}, summary="算出の進み具合"
)
def get_run(request: HttpRequest, code: uuid.UUID) -> ComputeRun:
    m = api_membership(request)
    found = ComputeRun.objects.filter(organization_id=m.organization_id, code=code).first()
    if found is None:
        raise NotFound("算出の記録が見つかりません")
    return found


class PopulationImportInput(Input):
    """The screen's upload as JSON: the file's bytes in base64 and its name (which tells a
    CSV from an .xlsx, as the upload's does)."""

    fiscal_year: FiscalYear
    filename: str = Field(
        ..., min_length=1, max_length=200, description="ファイル名（.xlsx か .csv）"
    )
    content: str = Field(
        ...,
        # Standard base64 with its padding: what the schema admits decodes. A 10 MB file is
        # 13,981,016 characters; one past that is the importer's own size refusal.
        pattern=r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$",
        max_length=14_000_000,
        description="ファイルの中身（base64、10MBまで）",
    )


class PopulationIssueOut(Schema):
    line: int
    code: str
    name: str
    errors: list[str]


class PopulationOut(Schema):
    fiscal_year: int
    written: int
    skipped: int
    outside: int


@indicators_router.post(
    "/population",
    response={200: PopulationOut, **WRITE_ERRORS},
    summary="65歳以上人口を取り込む（都道府県・運営者）",
)
def post_population(
    request: HttpRequest, payload: PopulationImportInput
) -> population.PopulationReport:
    """The same import as the screen's (`population.import_population`): every row or none.
    A file with rows it cannot take is refused with each row's reasons, as the screen lists
    them, and nothing is written."""
    m = api_membership(request)
    if m.organization.kind not in (OrgKind.PREFECTURE, OrgKind.OPERATOR):
        # As the screen: a municipality or a care organisation has no such page.
        raise NotFound("ページが見つかりません")
    try:
        report = population.import_population(
            base64.b64decode(payload.content),
            payload.filename,
            fiscal_year=payload.fiscal_year,
            by=m,
            request=request,
        )
    except population.PopulationFileRefused as e:
        # The screen's field is the upload ("file"); here the bytes are "content".
        raise population.PopulationFileRefused(e.message, field="content") from None
    if not report.ok:
        raise ActionError(population.refusal_message(report), field="content")
    return report


class CountsQuery(Input):
    municipality: str = Field(..., pattern=r"^\d{6}$", description="市区町村コード（6桁）")
    fiscal_year: FiscalYear


@indicators_router.get(
    "/event-counts",
    response={200: dict[str, float], **READ_ERRORS},
    summary="研修・普及啓発の回数と受講者数（年度）",
)
def event_counts(request: HttpRequest, q: Query[CountsQuery]) -> dict[str, float]:
    muni = visible_municipality(api_membership(request), q.municipality)
    return tables.event_counts([muni.pk], q.fiscal_year)
