from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from renkei.accounts.models import Membership
from renkei.directory.models import Facility
from renkei.referrals import metrics
from renkei.referrals.models import Survey, SurveyResponse
from renkei.referrals.tests.conftest import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(client: Client, prefecture_officer: Membership) -> Survey:
    login(client, prefecture_officer)
    today = timezone.localdate()
    response = client.post(
        reverse("referrals:survey_new"),
        {
            "title": "令和8年度 入退院支援ネットワーク効果検証",
            "description": "",
            "opens_on": today.isoformat(),
            "closes_on": (today + dt.timedelta(days=14)).isoformat(),
        },
    )
    assert response.status_code == 302
    return Survey.objects.get()


def answer(
    client: Client, survey: Survey, before: int, now: int, sat: int, comment: str = ""
) -> int:
    response = client.post(
        reverse("referrals:survey_answer", args=[survey.code]),
        {"minutes_before": before, "minutes_now": now, "satisfaction": sat, "comment": comment},
    )
    return response.status_code


def test_institutions_answer_once_and_the_tally_sums_up(
    client: Client,
    survey: Survey,
    msw: Membership,
    tokuyo: tuple[Facility, Membership],
    roken: tuple[Facility, Membership],
    prefecture_officer: Membership,
) -> None:
    """Three institutions answer (one corrects its answer); the tally gives the mean satisfaction,
    the median minutes before/now/saved and the comments."""
    login(client, msw)
    assert answer(client, survey, 120, 30, 4, "電話の回数が減った") == 302
    login(client, tokuyo[1])
    assert answer(client, survey, 60, 40, 3) == 302
    assert answer(client, survey, 60, 20, 5) == 302  # corrected, not duplicated
    login(client, roken[1])
    assert answer(client, survey, 90, 60, 2, "FAXの方が早い場合もある") == 302
    assert SurveyResponse.objects.count() == 3
    t = metrics.tally(survey)
    assert t.responses == 3
    assert t.satisfaction_mean == pytest.approx((4 + 5 + 2) / 3, abs=0.01)
    assert (t.minutes_before_median, t.minutes_now_median, t.minutes_saved_median) == (90, 30, 40)
    assert t.comments == ["電話の回数が減った", "FAXの方が早い場合もある"]
    login(client, prefecture_officer)
    page = client.get(reverse("referrals:survey_tally", args=[survey.code])).content.decode()
    assert "短縮 <strong>40.0</strong>分" in page


def test_bad_answers_are_refused(client: Client, survey: Survey, msw: Membership) -> None:
    """Satisfaction outside 1–5 and identifying comments are refused; nothing is stored."""
    login(client, msw)
    assert answer(client, survey, 60, 30, 6) == 400
    assert answer(client, survey, 60, 30, 3, "担当の佐藤花子さんが丁寧") == 400
    assert SurveyResponse.objects.count() == 0


def test_closed_survey_takes_no_answers(client: Client, survey: Survey, msw: Membership) -> None:
    """After the closing date the answer is refused with 409."""
    Survey.objects.filter(pk=survey.pk).update(
        closes_on=timezone.localdate() - dt.timedelta(days=1)
    )
    login(client, msw)
    assert answer(client, survey, 60, 30, 3) == 409
    assert SurveyResponse.objects.count() == 0


def test_tally_is_for_the_owner(client: Client, survey: Survey, msw: Membership) -> None:
    """A participating institution cannot read the tally."""
    login(client, msw)
    assert client.get(reverse("referrals:survey_tally", args=[survey.code])).status_code == 404
