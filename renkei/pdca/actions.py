"""Surveys and indicators: the workflows both doors (screens and /api/v1/programmes/) call."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from pydantic import Field, field_validator

from renkei.accounts.models import AuditEntry, Membership, Organization, OrgKind
from renkei.lib.actions import ActionError, Forbidden, bump_version, notify
from renkei.lib.dates import fiscal_year, wareki_date
from renkei.lib.inputs import CalendarDate, FiscalYear, Input, required
from renkei.lib.mail import site_url
from renkei.pdca.models import (
    ComputeRun,
    Indicator,
    IndicatorValue,
    Question,
    Response,
    ResponseStatus,
    Source,
    Submission,
    Survey,
    own_municipality_id,
)
from renkei.regions.models import Municipality, SecondaryArea

# Seed 002: 県央's survey of its municipalities, 設問1 and 設問2 (1)–(3).
SEED_QUESTIONS: list[tuple[str, str, str]] = [
    ("torikumi", "1", "貴自治体において実施している病院・在宅医療・介護連携の取組・事業の概要"),
    ("uketome", "2(1)", "病院・在宅医療・介護連携の取組・事業に係る貴自治体の受け止め"),
    ("kadai", "2(2)", "病院・在宅医療・介護連携の取組・事業に係る貴自治体としての課題"),
    (
        "iken",
        "2(3)",
        "病院・在宅医療・介護連携の取組・事業に係る市町村議会や地域の医療・介護関係団体からの意見・要望等",
    ),
]
ANSWER_MAX = 8000
REMIND_DAYS = 3


class QuestionInput(Input):
    key: str = Field(
        ..., pattern=r"^[a-z][a-z0-9_]{0,39}$", description="識別子（年度をまたいで回答を引き継ぐ）"
    )
    number: str = Field("", max_length=10)
    label: Annotated[str, Field(min_length=1, max_length=300), required("設問を入力してください")]
    help_text: str = Field("", max_length=500)


class SurveyInput(Input):
    """A survey as the prefecture sends it; without questions, seed 002's four."""

    title: Annotated[str, Field(min_length=1, max_length=200), required("調査名を入力してください")]
    fiscal_year: FiscalYear
    deadline: CalendarDate = Field(..., description="回答期限")
    area_id: int | None = Field(
        None, ge=1, le=2**31 - 1, description="二次医療圏（保健福祉事務所の所管区域）"
    )
    instructions: str = Field("", max_length=2000)
    questions: list[QuestionInput] | None = Field(None, max_length=30)

    @field_validator("questions")
    @classmethod
    def _distinct_keys(cls, v: list[QuestionInput] | None) -> list[QuestionInput] | None:
        if v is not None:
            if not v:
                raise ValueError("設問を1つ以上入れてください")
            keys = [q.key for q in v]
            if len(set(keys)) != len(keys):
                raise ValueError("設問の識別子が重複しています")
        return v


def seed_questions() -> list[QuestionInput]:
    return [QuestionInput(key=k, number=n, label=label) for k, n, label in SEED_QUESTIONS]


def _recipients(municipality_ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for muni, email in (
        Membership.objects.filter(
            is_active=True,
            organization__is_active=True,
            organization__kind=OrgKind.MUNICIPALITY,
            organization__municipality_id__in=municipality_ids,
        )
        .exclude(user__email="")
        .values_list("organization__municipality_id", "user__email")
    ):
        out.setdefault(muni, []).append(email)
    return out


@transaction.atomic
def send_survey(*, by: Membership, data: SurveyInput, request: HttpRequest | None = None) -> Survey:
    org = by.organization
    if org.kind != OrgKind.PREFECTURE or org.prefecture_id is None:
        raise Forbidden("市町村調査を送れるのは都道府県（保健福祉事務所）です")
    # Cities, towns and villages answer; a 政令市 answers once, not ward by ward.
    targets = Municipality.objects.filter(prefecture_id=org.prefecture_id, parent__isnull=True)
    area = None
    if data.area_id is not None:
        area = SecondaryArea.objects.filter(
            pk=data.area_id, prefecture_id=org.prefecture_id
        ).first()
        if area is None:
            raise ActionError("二次医療圏が見つかりません", field="area_id")
        targets = targets.in_area(area)
    if data.deadline < timezone.localdate():
        raise ActionError("回答期限が過ぎた日付です", field="deadline")
    munis = list(targets.order_by("code"))
    if not munis:
        raise ActionError("対象の市町村がありません", field="area_id")
    survey = Survey.objects.create(
        organization=org,
        area=area,
        title=data.title,
        fiscal_year=data.fiscal_year,
        deadline=data.deadline,
        instructions=data.instructions,
        created_by=by.user,
    )
    questions = data.questions or seed_questions()
    Question.objects.bulk_create(
        Question(
            survey=survey,
            key=q.key,
            number=q.number,
            label=q.label,
            help_text=q.help_text,
            sort_order=i,
        )
        for i, q in enumerate(questions)
    )
    # Last year's submitted answers of the same sender, carried by question key: a
    # municipality edits what changed instead of retyping its programme.
    keys = {q.key for q in questions}
    previous: dict[int, Response] = {}
    for r in (
        Response.objects.filter(
            survey__organization=org,
            survey__fiscal_year__lt=data.fiscal_year,
            municipality__in=munis,
            status=ResponseStatus.SUBMITTED,
        )
        .order_by("municipality_id", "-survey__fiscal_year", "-survey__created_at")
        .select_related("survey")
    ):
        previous.setdefault(r.municipality_id, r)
    responses = Response.objects.bulk_create(
        Response(
            survey=survey,
            municipality=m,
            answers={
                k: v
                for k, v in (previous[m.pk].answers if m.pk in previous else {}).items()
                if k in keys
            },
            prefilled_from=previous.get(m.pk),
        )
        for m in munis
    )
    emails = _recipients([m.pk for m in munis])
    for r in responses:
        notify(
            to=emails.get(r.municipality.pk, []),
            subject=f"【回答のお願い】{survey.title}",
            template="pdca_survey_sent.txt",
            context={
                "survey": survey,
                "municipality": r.municipality,
                "deadline": wareki_date(survey.deadline),
                "url": site_url(reverse("pdca:response", args=[r.code])),
            },
        )
    AuditEntry.record(
        "pdca.survey_sent",
        request=request,
        by=by,
        target=survey,
        detail={"municipalities": len(munis), "questions": len(questions)},
    )
    return survey


class AnswerInput(Input):
    """A municipality's answers, by question key; `submit` sends them, else a draft."""

    answers: dict[str, Annotated[str, Field(max_length=ANSWER_MAX)]] = Field(
        default_factory=dict, max_length=30
    )
    submit: bool = False
    version: int | None = Field(None, ge=1, le=2**31 - 1)


@transaction.atomic
def save_answers(
    response: Response,
    *,
    by: Membership,
    data: AnswerInput,
    request: HttpRequest | None = None,
) -> Response:
    if own_municipality_id(by) != response.municipality_id:
        raise Forbidden("回答できるのは対象の市町村だけです")
    keys = list(response.survey.questions.values_list("key", flat=True))
    unknown = sorted(set(data.answers) - set(keys))
    if unknown:
        raise ActionError(f"この調査にない設問です: {', '.join(unknown)}", field="answers")
    answers = {k: data.answers.get(k, response.answer(k)) for k in keys}
    if data.submit and not any(v.strip() for v in answers.values()):
        raise ActionError("回答が空のままでは提出できません", field="answers")
    bump_version(response, data.version)
    now = timezone.now()
    response.answers = answers
    response.updated_at = now
    fields = ["answers", "updated_at"]
    if data.submit:
        number = response.submissions.count() + 1
        Submission.objects.create(
            response=response,
            number=number,
            answers=answers,
            submitted_at=now,
            submitted_by=by.user,
        )
        response.status = ResponseStatus.SUBMITTED
        response.submitted_at = now
        fields += ["status", "submitted_at"]
    elif response.status == ResponseStatus.NOT_STARTED:
        response.status = ResponseStatus.DRAFT
        fields.append("status")
    # A draft saved after a submission leaves the submission standing: the table shows what
    # was sent, and the draft is sent again when it is ready.
    response.save(update_fields=fields)
    AuditEntry.record(
        "pdca.response_submitted" if data.submit else "pdca.response_saved",
        request=request,
        by=by,
        target=response,
    )
    return response


def send_reminders(today: dt.date | None = None) -> int:
    """Remind once the municipalities whose answer is not in, REMIND_DAYS before the deadline."""
    today = today or timezone.localdate()
    due = Response.objects.filter(
        ~Q(status=ResponseStatus.SUBMITTED),
        reminded_at__isnull=True,
        survey__deadline__gte=today,
        survey__deadline__lte=today + dt.timedelta(days=REMIND_DAYS),
    ).select_related("survey", "municipality")
    sent = 0
    for r in due:
        with transaction.atomic():
            # The claim: a second worker (or a second run) finds the row already reminded.
            if not Response.objects.filter(pk=r.pk, reminded_at__isnull=True).update(
                reminded_at=timezone.now()
            ):
                continue
            notify(
                to=_recipients([r.municipality_id]).get(r.municipality_id, []),
                subject=f"【回答期限のお知らせ】{r.survey.title}",
                template="pdca_survey_reminder.txt",
                context={
                    "survey": r.survey,
                    "municipality": r.municipality,
                    "deadline": wareki_date(r.survey.deadline),
                    "status": r.get_status_display(),
                    "url": site_url(reverse("pdca:response", args=[r.code])),
                },
            )
            sent += 1
    return sent


# ---- indicators --------------------------------------------------------------------------------


class ValueInput(Input):
    """An entered figure (population, a survey's own count) for the member's municipality."""

    indicator: str = Field(..., max_length=60, pattern=r"^[a-z0-9_.]+$", description="指標コード")
    fiscal_year: FiscalYear
    numerator: float = Field(..., ge=0, le=1e12, description="値（分子）")
    denominator: float | None = Field(None, gt=0, le=1e12)


@transaction.atomic
def enter_value(
    *, by: Membership, data: ValueInput, request: HttpRequest | None = None
) -> IndicatorValue:
    muni = own_municipality_id(by)
    if muni is None:
        raise Forbidden("値を入力できるのは市町村です")
    indicator = Indicator.objects.filter(code=data.indicator).first()
    if indicator is None:
        raise ActionError("指標が見つかりません", field="indicator")
    if indicator.source == Source.COMPUTED:
        raise ActionError("この指標は記録から算出されるため入力できません", field="indicator")
    if indicator.denominator and data.denominator is None:
        raise ActionError("分母を入力してください", field="denominator")
    den = data.denominator if indicator.denominator else None
    value, _ = IndicatorValue.objects.update_or_create(
        indicator=indicator,
        municipality_id=muni,
        fiscal_year=data.fiscal_year,
        defaults={
            "numerator": data.numerator,
            "denominator": den,
            "value": indicator.rate(data.numerator, den),
            "computed_at": timezone.now(),
            "entered_by": by.user,
        },
    )
    AuditEntry.record(
        "pdca.value_entered",
        request=request,
        by=by,
        target=value,
        detail={"indicator": indicator.code, "fiscal_year": data.fiscal_year},
    )
    return value


class ComputeInput(Input):
    fiscal_years: list[FiscalYear] = Field(..., min_length=1, max_length=10)


def _may_compute(org: Organization) -> int | None:
    """None: all municipalities (prefecture, operator); an id: that municipality only."""
    if org.kind in (OrgKind.PREFECTURE, OrgKind.OPERATOR):
        return None
    if org.kind == OrgKind.MUNICIPALITY and org.municipality_id:
        return org.municipality_id
    raise Forbidden("指標を算出できるのは自治体の担当者です")


@transaction.atomic
def start_compute(
    *, by: Membership, data: ComputeInput, request: HttpRequest | None = None
) -> ComputeRun:
    from renkei.pdca.jobs import compute_indicators

    muni = _may_compute(by.organization)
    run = ComputeRun.objects.create(
        organization=by.organization,
        fiscal_years=sorted(set(data.fiscal_years)),
        municipality_id=muni,
    )
    compute_indicators.enqueue(run_id=run.pk)
    AuditEntry.record(
        "pdca.compute_started",
        request=request,
        by=by,
        target=run,
        detail={"fiscal_years": run.fiscal_years, "municipality": muni},
    )
    return run


def default_years() -> list[int]:
    current = fiscal_year(timezone.localdate())
    return [current - 1, current]
