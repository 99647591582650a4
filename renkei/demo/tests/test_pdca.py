from __future__ import annotations

import pytest

from renkei.demo.pdca import TITLE, seed_pdca
from renkei.demo.seed import seed_demo, seed_feature_demos
from renkei.pdca import actions
from renkei.pdca.models import IndicatorValue, Response, ResponseStatus, Submission, Survey

pytestmark = pytest.mark.django_db


def test_the_demo_has_two_years_of_survey_and_indicators() -> None:
    """Last year's survey answered by all seven of 県央, this year's partly (one twice, one
    draft), two fiscal years of indicators; a second run adds nothing."""
    seed_demo(facilities=20)
    seed_feature_demos()
    last, this = actions.default_years()
    surveys = {s.fiscal_year: s for s in Survey.objects.filter(title=TITLE)}
    assert set(surveys) == {last, this}
    old = Response.objects.filter(survey=surveys[last])
    assert old.count() == 7 and set(old.values_list("status", flat=True)) == {
        ResponseStatus.SUBMITTED
    }
    now = Response.objects.filter(survey=surveys[this])
    statuses = sorted(now.values_list("status", flat=True))
    assert statuses.count(ResponseStatus.SUBMITTED) == 4
    assert statuses.count(ResponseStatus.DRAFT) == 1
    assert Submission.objects.filter(response__survey=surveys[this], number=2).count() == 1
    drafted = now.get(municipality__code="142182")
    assert drafted.answers["torikumi"].startswith("近隣市と共同で")  # carried from last year
    years = set(IndicatorValue.objects.values_list("fiscal_year", flat=True))
    assert {last, this} <= years
    assert (
        IndicatorValue.objects.filter(
            indicator__code="desk.consultations", municipality__code="142158", fiscal_year=this
        )
        .get()
        .numerator
        > 0
    )
    assert seed_pdca() is None
    assert Survey.objects.filter(title=TITLE).count() == 2
