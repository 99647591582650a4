from __future__ import annotations

import datetime as dt

import pytest

from renkei.accounts.models import Membership
from renkei.programmes.models import ProgrammeTable
from renkei.programmes.testing import make_city_office, make_prefecture_office, make_table


@pytest.fixture
def city(db: None) -> Membership:
    return make_city_office(username="yokosuka")


@pytest.fixture
def pref(db: None) -> Membership:
    return make_prefecture_office(username="kanagawa")


@pytest.fixture
def outsider(db: None) -> Membership:
    """A city in another prefecture (Iwate's 一関市): sees none of Kanagawa's records."""
    return make_city_office("一関市 長寿社会課", "032093", username="ichinoseki")


@pytest.fixture
def other_pref(db: None) -> Membership:
    return make_prefecture_office("岩手県 長寿社会課", "03", username="iwate")


@pytest.fixture
def table(city: Membership) -> ProgrammeTable:
    return make_table(
        city,
        2019,
        "在宅医療と介護の連携に係る主な取組み（令和元年度）",
        results_as_of=dt.date(2020, 2, 29),
        lines=[
            {
                "section": "推進体制の整備",
                "name": "在宅療養連携会議の開催",
                "items": ["a", "i", "e", "o"],
                "content": "多職種連携を図り、課題解決策を検討する会議を開催する。",
                "results": "全体会議 4回\n専門部会 3部会 各4回",
                "plan": "全体会議 4回開催予定",
                "budget": [("地域支援事業交付金", 1200), ("一般財源", 300)],
            },
            {
                "section": "人材育成",
                "name": "在宅医同行研修",
                "items": ["ka"],
                "scenes": ["daily", "end_of_life"],
                "content": "在宅医療の現場を体験する同行研修を実施する。",
                "results": "第1回：9月26日 定員 50名",
                "plan": "2回開催(予定)",
                "budget": [("地域支援事業交付金", 800)],
            },
        ],
    )
