"""Indicator screens: a municipality's trend, the comparison with its rollups, 和暦 labels,
and a recomputation run as a job with its progress."""

from __future__ import annotations

import pytest
from django.test import Client

from renkei.accounts.models import Membership
from renkei.lib.dates import fiscal_year_label
from renkei.pdca import tables
from renkei.pdca.catalogue import ensure_indicators
from renkei.pdca.compute import SOURCES
from renkei.pdca.models import ComputeRun, IndicatorValue, RunStatus
from renkei.testing import municipality, sign_in


def _put(code: str, muni: str, fy: int, num: float, den: float | None = None) -> None:
    ind = ensure_indicators()[code]
    IndicatorValue.objects.create(
        indicator=ind,
        municipality=municipality(muni),
        fiscal_year=fy,
        numerator=num,
        denominator=den,
        value=ind.rate(num, den),
    )


@pytest.mark.parametrize(
    ("fy", "label"),
    [
        (2018, "平成30年度（2018年度）"),
        (2019, "令和元年度（2019年度）"),  # April 2019 was still 平成: the year is named 令和元年度
        (2020, "令和2年度（2020年度）"),
        (2015, "平成27年度（2015年度）"),
    ],
)
def test_fiscal_year_labels_cross_the_era_boundary(fy: int, label: str) -> None:
    assert fiscal_year_label(fy) == label


@pytest.mark.django_db
def test_rollups_are_ratios_of_sums(pref: Membership) -> None:
    """An area's rate is its municipalities' summed numerators over summed denominators, and
    a municipality without a denominator stays out of both."""
    code = "directory.clinic.per65"
    _put(code, "142158", 2026, 30, 30_000)  # 海老名 10.0
    _put(code, "142123", 2026, 10, 50_000)  # 厚木 2.0
    _put(code, "142131", 2026, 99, None)  # 大和: no population entered
    _put(code, "142018", 2026, 5, 10_000)  # 横須賀 5.0 (横須賀・三浦)
    table = tables.compare(
        ensure_indicators()[code], 2026, municipality("142158").prefecture.municipalities.all()
    )
    kenou = next(a for a in table.areas if a.name == "県央")
    assert kenou.total.value == 5.0  # 40 / 80,000 × 10,000
    assert table.prefecture.value == 5.0  # 45 / 90,000 × 10,000
    assert {r.label: r.value for r in kenou.rows}["大和市"] is None


@pytest.mark.django_db
def test_dashboard_draws_each_indicators_years(client: Client, ebina: Membership) -> None:
    _put("desk.consultations", "142158", 2025, 120)
    _put("desk.consultations", "142158", 2026, 150)
    sign_in(client, ebina.user)
    page = client.get("/pdca/indicators/142158/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in body and "令和7年度" in body and "令和8年度" in body
    assert "150" in body and "値を入力する" in body
    xlsx = client.get("/pdca/indicators/142158/?format=xlsx")
    assert xlsx.status_code == 200


@pytest.mark.django_db
def test_compare_page_and_export(client: Client, pref: Membership) -> None:
    _put("desk.consultations", "142158", 2026, 7)
    sign_in(client, pref.user)
    page = client.get("/pdca/indicators/compare?indicator=desk.consultations&fiscal_year=2026")
    body = page.content.decode()
    assert page.status_code == 200 and "海老名市" in body and "県央 計" in body
    csv = client.get(
        "/pdca/indicators/compare?indicator=desk.consultations&fiscal_year=2026&format=csv"
    )
    assert "海老名市" in csv.content.decode("utf-8-sig")
    api = client.get(
        "/api/v1/programmes/indicators/compare?indicator=desk.consultations&fiscal_year=2026"
    ).json()
    assert api["total"]["value"] == 7.0


@pytest.mark.django_db
def test_recompute_runs_as_a_job_with_progress(
    client: Client, ebina: Membership, django_capture_on_commit_callbacks: object
) -> None:
    """A municipality's recomputation covers its own municipality, and records its steps."""
    sign_in(client, ebina.user)
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        got = client.post("/pdca/indicators/compute")
    run = ComputeRun.objects.get()
    assert got.status_code == 302 and got["Location"] == f"/pdca/indicators/runs/{run.code}"
    assert run.status == RunStatus.DONE
    assert run.steps_done == run.steps_total == len(SOURCES) + 1
    assert run.municipality == municipality("142158")
    assert set(IndicatorValue.objects.values_list("municipality__code", flat=True).distinct()) == {
        "142158"
    }
    assert "完了" in client.get(f"/pdca/indicators/runs/{run.code}").content.decode()
