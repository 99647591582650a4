"""効果検証アンケート: a government body asks the network's institutions how the work changed.

The typed inputs are the API's bodies and what the screens' forms feed; the refusals are the
action layer's (Forbidden for the wrong side, Conflict outside the answering period).
"""

from __future__ import annotations

from typing import Annotated

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from pydantic import Field

from renkei.accounts.models import AuditEntry, Membership
from renkei.lib.actions import ActionError, Conflict, Forbidden, full_clean
from renkei.lib.inputs import CalendarDate, Input, required
from renkei.referrals.models import Survey, SurveyResponse
from renkei.referrals.screening import IdentifyingText, screen

CLOSED = "このアンケートは受付期間外です。"


class PlacementSurveyInput(Input):
    title: Annotated[str, Field(min_length=1, max_length=120), required("題名を入力してください")]
    description: str = Field("", max_length=2000)
    opens_on: CalendarDate
    closes_on: CalendarDate


class SurveyAnswerInput(Input):
    minutes_before: int = Field(
        ..., ge=0, le=6000, description="電話・FAXで調整していた頃の1件あたりの所要時間（分）"
    )
    minutes_now: int = Field(
        ..., ge=0, le=6000, description="ネットワーク利用後の1件あたりの所要時間（分）"
    )
    satisfaction: int = Field(..., ge=1, le=5, description="満足度（1〜5）")
    comment: str = Field("", max_length=2000)


@transaction.atomic
def create_survey(
    *, by: Membership, data: PlacementSurveyInput, request: HttpRequest | None = None
) -> Survey:
    """A prefecture or municipality opens a survey for the institutions in its network."""
    if not by.organization.is_government:
        raise Forbidden("アンケートを作成できるのは都道府県・市区町村の担当者です")
    if data.closes_on < data.opens_on:
        raise ActionError("締切日は開始日以降にしてください", field="closes_on")
    survey = Survey(**data.model_dump(), owner=by.organization, created_by=by.user)
    full_clean(survey)
    survey.save()
    AuditEntry.record("referrals.survey_created", request=request, by=by, target=survey)
    return survey


@transaction.atomic
def answer_survey(
    survey: Survey,
    *,
    by: Membership,
    data: SurveyAnswerInput,
    request: HttpRequest | None = None,
) -> SurveyResponse:
    """One answer per institution: answering again replaces the earlier answer."""
    if by.organization.is_government:
        raise Forbidden("アンケートに回答するのは参加機関です")
    if not survey.is_open():
        raise Conflict(CLOSED)
    try:
        comment = screen(data.comment) if data.comment else ""
    except IdentifyingText as e:
        raise ActionError(str(e), field="comment") from e
    response = SurveyResponse.objects.select_for_update().filter(
        survey=survey, organization=by.organization
    ).first() or SurveyResponse(survey=survey, organization=by.organization)
    for name, value in {**data.model_dump(), "comment": comment}.items():
        setattr(response, name, value)
    response.respondent = by.user
    response.submitted_at = timezone.now()
    full_clean(response, exclude=["survey", "organization", "respondent"])
    response.save()
    AuditEntry.record("referrals.survey_answered", request=request, by=by, target=survey)
    return response
