"""効果検証アンケート in /api/v1/referrals/surveys: the same actions as the survey screens."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db.models import Count, Exists, OuterRef, QuerySet
from django.http import HttpRequest
from ninja import Router, Schema, Status

from renkei.accounts.http import api_membership as _membership
from renkei.accounts.models import Membership
from renkei.lib.actions import Forbidden, get_visible
from renkei.referrals import metrics, surveys
from renkei.referrals.models import Survey, SurveyResponse
from renkei.referrals.schemas import ERRORS
from renkei.referrals.surveys import PlacementSurveyInput, SurveyAnswerInput

router = Router(tags=["referrals"])


class ReferralSurveyOut(Schema):
    code: uuid.UUID
    title: str
    description: str
    owner: str
    opens_on: dt.date
    closes_on: dt.date
    is_open: bool
    responses: int
    answered_by_my_organization: bool

    @staticmethod
    def resolve_owner(obj: Survey) -> str:
        return obj.owner.name

    @staticmethod
    def resolve_is_open(obj: Survey) -> bool:
        return obj.is_open()

    @staticmethod
    def resolve_responses(obj: Survey) -> int:
        return int(getattr(obj, "n", 0))

    @staticmethod
    def resolve_answered_by_my_organization(obj: Survey) -> bool:
        return bool(getattr(obj, "answered", False))


class ReferralSurveyAnswerOut(Schema):
    survey: uuid.UUID
    minutes_before: int
    minutes_now: int
    satisfaction: int
    comment: str
    submitted_at: dt.datetime

    @staticmethod
    def resolve_survey(obj: SurveyResponse) -> uuid.UUID:
        return obj.survey.code


class ReferralSurveyKindOut(Schema):
    label: str
    count: int


class ReferralSurveyTallyOut(Schema):
    responses: int
    satisfaction_mean: float | None
    satisfaction_counts: list[list[int]]
    minutes_before_median: float | None
    minutes_now_median: float | None
    minutes_saved_median: float | None
    comments: list[str]
    # Objects rather than [label, count] pairs: tuples become `prefixItems`, which many OpenAPI
    # tools (client generators, Schemathesis's response check) cannot read.
    by_kind: list[ReferralSurveyKindOut]

    @staticmethod
    def resolve_satisfaction_counts(obj: metrics.SurveyTally) -> list[list[int]]:
        return [[s, n] for s, n in obj.satisfaction_counts]

    @staticmethod
    def resolve_by_kind(obj: metrics.SurveyTally) -> list[ReferralSurveyKindOut]:
        return [ReferralSurveyKindOut(label=k, count=n) for k, n in obj.by_kind]


def _surveys(membership: Membership) -> QuerySet[Survey]:
    """Surveys with their answer counts and whether the caller's organisation answered."""
    mine = SurveyResponse.objects.filter(
        survey=OuterRef("pk"), organization_id=membership.organization_id
    )
    return Survey.objects.select_related("owner").annotate(
        n=Count("responses"), answered=Exists(mine)
    )


@router.get(
    "", response={200: list[ReferralSurveyOut], **ERRORS}, summary="効果検証アンケートの一覧"
)
def list_surveys(request: HttpRequest) -> QuerySet[Survey]:
    return _surveys(_membership(request))


@router.post(
    "",
    response={201: ReferralSurveyOut, **ERRORS},
    summary="効果検証アンケートを作成する（都道府県・市区町村）",
)
def create_survey(request: HttpRequest, payload: PlacementSurveyInput) -> Status[Survey]:
    membership = _membership(request)
    survey = surveys.create_survey(by=membership, data=payload, request=request)
    return Status(201, _surveys(membership).get(pk=survey.pk))


@router.put(
    "/{code}/answer",
    response={200: ReferralSurveyAnswerOut, **ERRORS},
    summary="アンケートに回答する（回答済みなら上書き）",
)
def answer_survey(
    request: HttpRequest, code: uuid.UUID, payload: SurveyAnswerInput
) -> SurveyResponse:
    membership = _membership(request)
    if membership.organization.is_government:
        raise Forbidden("アンケートに回答するのは参加機関です")
    survey = get_visible(Survey.objects.all(), "アンケートが見つかりません", code=code)
    return surveys.answer_survey(survey, by=membership, data=payload, request=request)


@router.get(
    "/{code}/tally",
    response={200: ReferralSurveyTallyOut, **ERRORS},
    summary="アンケートの集計（実施した都道府県・市区町村）",
)
def survey_tally(request: HttpRequest, code: uuid.UUID) -> metrics.SurveyTally:
    membership = _membership(request)
    survey = get_visible(
        Survey.objects.filter(owner=membership.organization),
        "アンケートが見つかりません",
        code=code,
    )
    return metrics.tally(survey)
