"""効果検証アンケート in /api/v1/referrals/surveys: the same actions as the survey screens."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from renkei.accounts.http import api_membership as _membership
from renkei.accounts.models import Membership
from renkei.referrals import actions, metrics
from renkei.referrals.models import Survey, SurveyResponse
from renkei.referrals.screening import IdentifyingText

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


class ReferralSurveyIn(Schema):
    title: str = Field(..., min_length=1, max_length=120)
    description: str = Field("", max_length=2000)
    opens_on: dt.date
    closes_on: dt.date


class ReferralSurveyAnswerIn(Schema):
    minutes_before: int = Field(
        ..., ge=0, le=6000, description="電話・FAXで調整していた頃の1件あたりの所要時間（分）"
    )
    minutes_now: int = Field(
        ..., ge=0, le=6000, description="ネットワーク利用後の1件あたりの所要時間（分）"
    )
    satisfaction: int = Field(..., ge=1, le=5, description="満足度（1〜5）")
    comment: str = Field("", max_length=2000)


class ReferralSurveyAnswerOut(Schema):
    survey: uuid.UUID
    minutes_before: int
    minutes_now: int
    satisfaction: int
    comment: str
    submitted_at: dt.datetime


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


class ReferralSurveyError(Schema):
    detail: str


def _out(survey: Survey, membership: Membership, responses: int) -> dict[str, Any]:
    return {
        "code": survey.code,
        "title": survey.title,
        "description": survey.description,
        "owner": survey.owner.name,
        "opens_on": survey.opens_on,
        "closes_on": survey.closes_on,
        "is_open": survey.is_open(),
        "responses": responses,
        "answered_by_my_organization": SurveyResponse.objects.filter(
            survey=survey, organization=membership.organization
        ).exists(),
    }


@router.get(
    "",
    response={200: list[ReferralSurveyOut], 403: ReferralSurveyError},
    summary="効果検証アンケートの一覧",
)
def list_surveys(request: HttpRequest) -> list[dict[str, Any]]:
    membership = _membership(request)
    answered = set(
        SurveyResponse.objects.filter(organization=membership.organization).values_list(
            "survey_id", flat=True
        )
    )
    surveys = Survey.objects.select_related("owner").annotate(n=Count("responses"))
    return [
        {
            "code": s.code,
            "title": s.title,
            "description": s.description,
            "owner": s.owner.name,
            "opens_on": s.opens_on,
            "closes_on": s.closes_on,
            "is_open": s.is_open(),
            "responses": s.n,
            "answered_by_my_organization": s.pk in answered,
        }
        for s in surveys
    ]


@router.post(
    "",
    response={201: ReferralSurveyOut, 400: ReferralSurveyError, 403: ReferralSurveyError},
    summary="効果検証アンケートを作成する（都道府県・市区町村）",
)
def create_survey(request: HttpRequest, payload: ReferralSurveyIn) -> Status[dict[str, Any]]:
    membership = _membership(request)
    try:
        survey = actions.create_survey(by=membership, fields=payload.dict(), request=request)
    except PermissionError as e:
        return Status(403, {"detail": str(e)})
    except ValidationError as e:
        return Status(
            400, {"detail": " ".join(m for msgs in e.message_dict.values() for m in msgs)}
        )
    return Status(201, _out(survey, membership, 0))


@router.put(
    "/{code}/answer",
    response={
        200: ReferralSurveyAnswerOut,
        400: ReferralSurveyError,
        403: ReferralSurveyError,
        404: ReferralSurveyError,
        409: ReferralSurveyError,
    },
    summary="アンケートに回答する（回答済みなら上書き）",
)
def answer_survey(
    request: HttpRequest, code: uuid.UUID, payload: ReferralSurveyAnswerIn
) -> Status[dict[str, Any]]:
    membership = _membership(request)
    if membership.organization.is_government:
        return Status(403, {"detail": "アンケートに回答するのは参加機関です"})
    survey = get_object_or_404(Survey, code=code)
    try:
        response = actions.answer_survey(
            survey, by=membership, fields=payload.dict(), request=request
        )
    except actions.SurveyClosed as e:
        return Status(409, {"detail": str(e)})
    except IdentifyingText as e:
        return Status(400, {"detail": str(e)})
    except ValidationError as e:
        return Status(
            400, {"detail": " ".join(m for msgs in e.message_dict.values() for m in msgs)}
        )
    return Status(
        200,
        {
            "survey": survey.code,
            "minutes_before": response.minutes_before,
            "minutes_now": response.minutes_now,
            "satisfaction": response.satisfaction,
            "comment": response.comment,
            "submitted_at": response.submitted_at,
        },
    )


@router.get(
    "/{code}/tally",
    response={200: ReferralSurveyTallyOut, 403: ReferralSurveyError, 404: ReferralSurveyError},
    summary="アンケートの集計（実施した都道府県・市区町村）",
)
def survey_tally(request: HttpRequest, code: uuid.UUID) -> dict[str, Any]:
    membership = _membership(request)
    survey = get_object_or_404(Survey, code=code, owner=membership.organization)
    t = metrics.tally(survey)
    return {
        "responses": t.responses,
        "satisfaction_mean": t.satisfaction_mean,
        "satisfaction_counts": [[s, n] for s, n in t.satisfaction_counts],
        "minutes_before_median": t.minutes_before_median,
        "minutes_now_median": t.minutes_now_median,
        "minutes_saved_median": t.minutes_saved_median,
        "comments": t.comments,
        "by_kind": [{"label": k, "count": n} for k, n in t.by_kind],
    }
