from __future__ import annotations

import datetime as dt

import pytest

from renkei.accounts.models import Membership, OrgKind
from renkei.demo.common import demo_uuid
from renkei.demo.programmes import CITY_LOGIN, ISHIKAI_LOGIN, PREF_LOGIN, seed_programmes
from renkei.programmes.models import (
    Countermeasure,
    Issue,
    Meeting,
    MeetingBody,
    ProgrammeLine,
    ProgrammeTable,
    totals_by_source,
)
from renkei.testing import make_org

pytestmark = pytest.mark.django_db


def test_seed_builds_the_tables_a_meeting_year_and_three_issues_once() -> None:
    city = make_org(
        "横須賀市 地域医療推進課", OrgKind.MUNICIPALITY, municipality_code="142018",
        code=demo_uuid("org", "city-142018"),
    )  # fmt: skip
    pref = make_org(
        "神奈川県 在宅医療・介護連携担当", OrgKind.PREFECTURE, prefecture_code="14",
        code=demo_uuid("org", "pref"),
    )  # fmt: skip
    table = seed_programmes(today=dt.date(2026, 12, 6))
    assert table is not None and table.owner == city and table.fiscal_year == 2026
    assert table.lines.count() == 8
    lines = list(table.lines.prefetch_related("budget_lines__source"))
    assert sum(t for _, t in totals_by_source(lines)) > 0
    # Seed 000's table for 令和元年度, and 令和2年度 made from its 予定.
    r1, r2 = ProgrammeTable.objects.filter(owner=pref).order_by("fiscal_year")
    assert (r1.era_year, r2.era_year) == ("令和元年度", "令和2年度")
    assert r2.copied_from == r1
    kinds = sorted(MeetingBody.objects.filter(owner=city).values_list("kind", flat=True))
    assert kinds == ["block", "committee", "committee", "committee", "liaison", "plenary"]
    assert Meeting.objects.filter(body__owner=city, fiscal_year=2026).count() == 4 * 4 + 3 + 2
    assert Issue.objects.filter(owner=city).count() == 3
    assert Countermeasure.objects.filter(issue__owner=city).count() == 4
    assert Countermeasure.objects.filter(indicators__isnull=False).exists()
    logins = dict(Membership.objects.values_list("user__username", "organization"))
    assert logins[CITY_LOGIN] == city.pk and logins[PREF_LOGIN] == pref.pk
    # The 医師会 that runs the センター line is its contractor and reads only that line.
    contracted = ProgrammeLine.objects.filter(contracts__organization_id=logins[ISHIKAI_LOGIN])
    assert list(contracted.values_list("name", flat=True)) == ["センター連携拠点運営委託"]
    assert seed_programmes(today=dt.date(2026, 12, 6)) is None
    assert Issue.objects.count() == 3
