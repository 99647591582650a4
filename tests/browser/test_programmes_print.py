"""The programme table prints on A4 landscape in seed 000's layout: headings per section, the
four columns 事業名称・事業内容・令和元年度実績（2月末時点）・令和2年度実施予定, totals by 財源
and by item (issue 15 §1, §5)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from renkei.demo.programmes import PREFECTURE_LINES
from renkei.programmes.testing import make_prefecture_office, make_table
from tests.browser.conftest import screenshot, signed_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_programme_table_prints_in_seed_000_layout(page, live_server) -> None:  # type: ignore[no-untyped-def]
    pref = make_prefecture_office(username="pref_print")
    table = make_table(
        pref,
        2019,
        "在宅医療と介護の連携に係る県の主な取組み",
        lines=PREFECTURE_LINES,
        results_as_of=dt.date(2020, 2, 29),
    )
    signed_in(page.context, live_server, pref)
    page.set_default_timeout(60_000)  # a loaded CI machine renders the first page slowly
    page.goto(f"{live_server.url}/programmes/tables/{table.code}/print/")
    headers = page.locator("table.programme >> nth=0 >> thead th").all_inner_texts()
    assert headers == ["事業名称", "事業内容", "令和元年度実績（2月末時点）", "令和2年度実施予定"]
    assert (
        page.locator("h1").inner_text() == "在宅医療と介護の連携に係る県の主な取組み（令和元年度）"
    )
    sections = page.locator("h2").all_inner_texts()
    assert sections[0] == "県全域での在宅医療と介護の連携の推進体制の整備"
    assert "小児在宅医療の体制整備、人材育成" in sections
    assert "（令和2年2月29日時点）" in page.locator(".as-of").inner_text()
    # The 財源 totals add up to the lines' budgets.
    total = sum(amount for line in PREFECTURE_LINES for _, amount in line["budget"])
    assert f"{total:,}" in page.locator("table.totals-source tfoot").inner_text()

    page.emulate_media(media="print")
    pdf = page.pdf(print_background=True, prefer_css_page_size=True)
    box = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert box is not None
    width, height = float(box.group(1)), float(box.group(2))
    assert (round(width), round(height)) == (842, 595), "A4 landscape"
    page.set_viewport_size({"width": 1123, "height": 794})  # A4 landscape at 96 dpi
    screenshot(page, "programmes-table-print-a4-landscape")
    page.emulate_media(media="screen")
