"""事業一覧: 和暦 fiscal years across the era change, totals by 財源 and by item, the roll-over
to next year, the print and the exports."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from renkei.accounts.models import Membership
from renkei.lib.actions import ActionError, Conflict
from renkei.lib.dates import fiscal_year_label
from renkei.programmes import actions
from renkei.programmes.models import ProgrammeTable, totals_by_item, totals_by_source
from renkei.programmes.testing import make_table
from renkei.testing import sign_in

pytestmark = pytest.mark.django_db


def test_fiscal_year_labels_across_the_era_change() -> None:
    # Seed 001 is 平成27年度; seed 000 spans 令和元年度 and 令和2年度.
    assert fiscal_year_label(2015) == "平成27年度（2015年度）"
    assert fiscal_year_label(2018) == "平成30年度（2018年度）"
    # April 2019 was still 平成31年, but the fiscal year is named 令和元年度.
    assert fiscal_year_label(2019) == "令和元年度（2019年度）"
    assert fiscal_year_label(2020) == "令和2年度（2020年度）"
    # The 昭和→平成 change (7 January 1989) fell in 昭和63年度.
    assert fiscal_year_label(1988) == "昭和63年度（1988年度）"
    assert fiscal_year_label(1989) == "平成元年度（1989年度）"


def test_table_headings_in_wareki(table: ProgrammeTable, city: Membership) -> None:
    assert table.era_year == "令和元年度"
    assert table.next_era_year == "令和2年度"
    assert table.as_of_label == "令和2年2月29日時点"
    h27 = make_table(city, 2015, "在宅医療関連予算")
    assert (h27.era_year, h27.next_era_year) == ("平成27年度", "平成28年度")
    h30 = make_table(city, 2018, "平成30年度事業一覧")
    assert h30.next_era_year == "令和元年度"


def test_totals_by_source_and_item(table: ProgrammeTable) -> None:
    lines = list(table.lines.prefetch_related("budget_lines__source"))
    by_source = {s.name: total for s, total in totals_by_source(lines)}
    assert by_source == {"地域支援事業交付金": 2000, "一般財源": 300}
    by_item = {label: (n, total) for label, n, total in totals_by_item(lines)}
    assert by_item["（カ）医療・介護関係者の研修"] == (1, 800)
    assert by_item["（イ）課題の抽出と対応策の検討"] == (1, 1500)
    assert by_item["（ク）関係市区町村の連携"] == (0, 0)


def test_roll_over_copies_the_plan_into_next_years_results(
    table: ProgrammeTable, city: Membership
) -> None:
    new = actions.roll_over(table, by=city)
    assert new.fiscal_year == 2020 and new.copied_from == table
    assert new.title == "在宅医療と介護の連携に係る主な取組み（令和2年度）"
    old_lines = list(table.lines.all())
    new_lines = list(new.lines.prefetch_related("budget_lines__source"))
    assert [ln.name for ln in new_lines] == [ln.name for ln in old_lines]
    assert [ln.results for ln in new_lines] == [ln.plan for ln in old_lines]
    assert all(ln.plan == "" for ln in new_lines)
    assert new_lines[0].items == ["a", "i", "e", "o"]
    assert sum(b.amount for b in new_lines[0].budget_lines.all()) == 1500
    # This year's table is untouched, and a second roll-over is refused.
    assert [ln.results for ln in table.lines.all()] == [ln.results for ln in old_lines]
    assert old_lines[0].results.startswith("全体会議 4回")
    with pytest.raises(Conflict):
        actions.roll_over(table, by=city)


def test_roll_over_asks_first(client: Client, city: Membership, table: ProgrammeTable) -> None:
    sign_in(client, city.user)
    page = client.get(f"/programmes/tables/{table.code}/rollover/")
    assert page.status_code == 200
    assert "令和2年度の事業一覧を作りますか" in page.content.decode()
    assert not ProgrammeTable.objects.filter(fiscal_year=2020).exists()
    done = client.post(f"/programmes/tables/{table.code}/rollover/")
    assert done.status_code == 302
    assert ProgrammeTable.objects.filter(fiscal_year=2020, owner=city.organization).exists()


def test_print_in_seed_000_layout(client: Client, city: Membership, table: ProgrammeTable) -> None:
    sign_in(client, city.user)
    page = client.get(f"/programmes/tables/{table.code}/print/").content.decode()
    assert "size: A4 landscape" in page
    for heading in ("事業名称", "事業内容", "令和元年度実績（2月末時点）", "令和2年度実施予定"):
        assert heading in page
    assert "推進体制の整備" in page and "人材育成" in page
    assert "全体会議 4回<br>専門部会 3部会 各4回" in page
    assert "地域支援事業交付金" in page and "2,000" in page and "2,300" in page


def test_exports_in_wareki(client: Client, city: Membership, table: ProgrammeTable) -> None:
    sign_in(client, city.user)
    csv = client.get(f"/programmes/tables/{table.code}/export.csv")
    assert csv.status_code == 200
    text = csv.content.decode("utf-8-sig")
    header = text.splitlines()[0]
    assert "令和元年度実績（令和2年2月29日時点）" in header and "令和2年度実施予定" in header
    assert "（ア、イ、エ、オ）" in text
    assert "地域支援事業交付金,2000" in text.replace("\r", "")
    xlsx = client.get(f"/programmes/tables/{table.code}/export.xlsx")
    wb = load_workbook(io.BytesIO(xlsx.content))
    assert wb.sheetnames == ["令和元年度事業一覧", "財源別", "事業項目別", "研修・普及啓発の実績"]
    rows = list(wb["財源別"].iter_rows(values_only=True))
    assert rows[-1] == ("合計", 2300)
    main = list(wb["令和元年度事業一覧"].iter_rows(values_only=True))
    assert main[1][1] == "在宅療養連携会議の開催" and main[1][10] == 1500
    assert client.get(f"/programmes/tables/{table.code}/export.pdf").status_code == 404


def test_table_form_refuses_a_second_table_for_the_year(
    client: Client, city: Membership, table: ProgrammeTable
) -> None:
    sign_in(client, city.user)
    response = client.post("/programmes/tables/new/", {"fiscal_year": "2019", "title": "二つ目"})
    assert response.status_code == 409
    assert "この年度の事業一覧はすでにあります" in response.content.decode()
    assert ProgrammeTable.objects.filter(owner=city.organization).count() == 1


def test_line_through_form_and_api_is_the_same(
    client: Client, city: Membership, table: ProgrammeTable
) -> None:
    sign_in(client, city.user)
    form = {
        "name": "市民啓発事業",
        "items": ["ki"],
        "scenes": ["end_of_life"],
        "content": "シンポジウム",
    }
    assert client.post(f"/programmes/tables/{table.code}/lines/new/", form).status_code == 302
    api = client.post(
        f"/api/v1/programmes/tables/{table.code}/lines",
        {
            "name": "市民啓発事業（API）",
            "items": ["ki"],
            "scenes": ["end_of_life"],
            "content": "シンポジウム",
        },
        content_type="application/json",
    )
    assert api.status_code == 201
    a, b = table.lines.filter(name__startswith="市民啓発事業").order_by("pk")
    assert (
        (a.items, a.scenes, a.content)
        == (b.items, b.scenes, b.content)
        == (["ki"], ["end_of_life"], "シンポジウム")
    )
    # The same bad input is refused with the same message on both doors.
    bad = client.post(f"/programmes/tables/{table.code}/lines/new/", {"name": "", "items": ["zz"]})
    assert bad.status_code == 400
    bad_api = client.post(
        f"/api/v1/programmes/tables/{table.code}/lines",
        {"name": "x", "items": ["zz"]},
        content_type="application/json",
    )
    assert bad_api.status_code in (400, 422)


def test_budget_with_unknown_source_is_refused(city: Membership, table: ProgrammeTable) -> None:
    line = table.lines.first()
    assert line is not None
    with pytest.raises(ActionError, match="財源が見つかりません"):
        actions.add_budget(line, by=city, data=actions.BudgetInput(source_id=99999, amount=10))
