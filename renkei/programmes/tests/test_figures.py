"""The table shows the year's trainings and events from the indicators, and beside a line
linked to courses each course's rounds and participants, as courses.tally.yearly() counts
them; on the screen, the print, the exports and the API, in queries that do not grow with the
number of lines."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from renkei.accounts.models import Membership
from renkei.courses.models import Course
from renkei.courses.tally import yearly
from renkei.courses.testing import apply_nurses, make_course
from renkei.lib.dates import fiscal_year
from renkei.pdca.catalogue import ensure_indicators
from renkei.pdca.models import IndicatorValue
from renkei.programmes.models import ProgrammeTable
from renkei.programmes.testing import add_line, make_table
from renkei.testing import municipality, sign_in

pytestmark = pytest.mark.django_db


def _year() -> int:
    # make_course's rounds are 40 and 47 days ahead: the year they fall in.
    return fiscal_year(timezone.localdate() + dt.timedelta(days=40))


@pytest.fixture
def courses(city: Membership) -> list[Course]:
    first = make_course(city, title="訪問看護導入研修")
    apply_nurses(first, 1, 3)
    apply_nurses(first, 2, 2, start=10)
    second = make_course(city, title="多職種連携研修")
    apply_nurses(second, 1, 4, start=20)
    return [first, second]


@pytest.fixture
def year_table(city: Membership, courses: list[Course]) -> ProgrammeTable:
    table = make_table(city, _year(), "在宅医療・介護連携推進事業一覧")
    add_line(
        city,
        table,
        name="訪問看護の人材育成",
        items=["ka"],
        courses=[str(courses[0].code)],
        budget=[("地域支援事業交付金", 500)],
    )
    add_line(city, table, name="多職種研修", items=["ka"], courses=[str(courses[1].code)])
    ind = ensure_indicators()
    yokosuka = municipality("142018")
    for code, n in [("events.trainings", 6), ("events.public", 3), ("events.attended", 140)]:
        IndicatorValue.objects.create(
            indicator=ind[code], municipality=yokosuka, fiscal_year=_year(), numerator=n, value=n
        )
    return table


def test_figures_on_screen_print_exports_and_api(
    client: Client, city: Membership, courses: list[Course], year_table: ProgrammeTable
) -> None:
    sign_in(client, city)
    page = client.get(f"/programmes/tables/{year_table.code}/").content.decode()
    assert "研修「訪問看護導入研修」: 2回・受講者5人" in page
    assert "研修「多職種連携研修」: 2回・受講者4人" in page
    assert "研修の受講者数" in page and "140" in page
    printed = client.get(f"/programmes/tables/{year_table.code}/print/").content.decode()
    assert "研修「訪問看護導入研修」: 2回・受講者5人" in printed and "普及啓発の回数" in printed
    xlsx = client.get(f"/programmes/tables/{year_table.code}/export.xlsx")
    wb = load_workbook(io.BytesIO(xlsx.content))
    events = list(wb["研修・普及啓発の実績"].iter_rows(values_only=True))
    assert events[1:] == [("研修の回数", 6), ("普及啓発の回数", 3), ("研修の受講者数", 140)]
    main = list(wb.worksheets[0].iter_rows(values_only=True))
    assert main[1][-1] == "訪問看護導入研修: 2回・受講者5人"
    api = client.get(f"/api/v1/programmes/tables/{year_table.code}").json()
    assert api["event_figures"][2] == {"label": "研修の受講者数", "value": 140}
    figures = api["lines"][0]["course_figures"]
    assert figures == [
        {
            "course": str(courses[0].code),
            "title": "訪問看護導入研修",
            "rounds": 2,
            "participants": 5,
        }
    ]
    assert api["lines"][1]["courses"] == [str(courses[1].code)]


def test_course_figures_count_as_the_courses_tally_does(
    city: Membership, courses: list[Course], year_table: ProgrammeTable
) -> None:
    from renkei.programmes.exports import table_view

    view = table_view(year_table, year_table.lines.order_by("sort_order"))
    got = [(f.rounds, f.participants) for ln in view.lines for f in ln.course_figures]  # type: ignore[attr-defined]
    total = yearly(city.organization, _year())
    assert (sum(r for r, _ in got), sum(p for _, p in got)) == (total.rounds, total.participants)
    assert (total.rounds, total.participants) == (4, 9)


def test_linking_a_course_is_the_owners_and_an_unknown_one_is_refused(
    client: Client, city: Membership, year_table: ProgrammeTable
) -> None:
    sign_in(client, city)
    line = year_table.lines.first()
    assert line is not None
    bad = {"name": line.name, "courses": ["00000000-0000-0000-0000-000000000000"]}
    api = client.put(
        f"/api/v1/programmes/lines/{line.code}", json.dumps(bad), content_type="application/json"
    )
    assert api.status_code == 400 and api.json()["detail"] == "研修コースが見つかりません"
    assert line.courses.count() == 1


def _count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_queries_do_not_grow_with_lines_and_courses(
    client: Client, city: Membership, courses: list[Course], year_table: ProgrammeTable
) -> None:
    sign_in(client, city)
    urls = [
        f"/programmes/tables/{year_table.code}/",
        f"/programmes/tables/{year_table.code}/print/",
        f"/programmes/tables/{year_table.code}/export.xlsx",
        f"/api/v1/programmes/tables/{year_table.code}",
    ]
    before = [_count(client, u) for u in urls]
    for i in range(4):
        extra = make_course(city, title=f"追加研修{i}")
        apply_nurses(extra, 1, 1, start=40 + i)
        add_line(
            city,
            year_table,
            name=f"追加事業{i}",
            items=["ka"],
            courses=[str(extra.code), str(courses[0].code)],
            budget=[("一般財源", 10 + i)],
        )
    assert [_count(client, u) for u in urls] == before
