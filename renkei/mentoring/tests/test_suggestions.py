from __future__ import annotations

import datetime as dt

from pytest_django import DjangoAssertNumQueries

from renkei.accounts.models import Membership
from renkei.mentoring.models import Mentor, TrainingProgram, suggestions
from renkei.mentoring.testing import decide, make_application, make_mentor


def test_ranking_by_area_then_weekday_then_load_in_one_query(
    program: TrainingProgram, office: Membership, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    """Area match first, then a preferred weekday, then the lighter load this year; inactive and other offices' mentors never appear."""
    org = office.organization
    far = make_mentor(org, "遠方（仮名）", kana="あ", area_codes=["142042"], weekdays=[1])
    busy = make_mentor(org, "多忙（仮名）", kana="い", area_codes=["142018"], weekdays=[1])
    free = make_mentor(org, "余裕（仮名）", kana="う", area_codes=["142018"], weekdays=[1])
    wrong_day = make_mentor(org, "曜日違い（仮名）", kana="え", area_codes=["142018"], weekdays=[5])
    make_mentor(
        org, "休止中（仮名）", kana="お", area_codes=["142018"], weekdays=[1], is_active=False
    )
    for i in range(2):
        a = make_application(
            program,
            f"先客{i}（仮名）",
            kana=f"せん{i}",
            email=f"s{i}@example.jp",
            today=dt.date(2025, 6, 1),
        )
        decide(a, busy, by=office, today=dt.date(2025, 6, 1))
    applicant = make_application(
        program, area_codes=["142018"], weekdays=[1], today=dt.date(2025, 6, 2)
    )
    with django_assert_num_queries(1):
        ranked = list(Mentor.objects.suggest_for(applicant))
    assert ranked == [free, busy, wrong_day, far]
    reasons = {s.mentor.name: s.reasons for s in suggestions(applicant)}
    assert reasons["多忙（仮名）"][2] == "今年度の担当 2件"
    assert reasons["曜日違い（仮名）"][1] == "希望曜日は受入れ不可"
    assert reasons["遠方（仮名）"][0] == "希望地域は対象外"
