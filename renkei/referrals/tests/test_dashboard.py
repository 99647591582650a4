"""効果検証 figures on a small dataset whose answers are worked out by hand in the docstrings."""

from __future__ import annotations

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse

from renkei.accounts.models import Membership
from renkei.directory.models import Facility
from renkei.referrals import actions, metrics
from renkei.referrals.inputs import RequestAnswerInput, WithdrawCaseInput
from renkei.referrals.models import (
    Answer,
    PlacementCase,
    PlacementRequest,
    WithdrawalReason,
)
from renkei.referrals.testing import make_case, send
from renkei.referrals.tests.conftest import login
from renkei.testing import sign_in

pytestmark = pytest.mark.django_db
JST = ZoneInfo("Asia/Tokyo")


def at(month: int, day: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=JST)


def _times(case: PlacementCase, created: dt.datetime, decided: dt.datetime | None = None) -> None:
    PlacementCase.objects.filter(pk=case.pk).update(
        created_at=created, registered_at=created, decided_at=decided
    )


def _answered(req: PlacementRequest, sent: dt.datetime, hours: float | None) -> None:
    PlacementRequest.objects.filter(pk=req.pk).update(
        sent_at=sent,
        answered_at=sent + dt.timedelta(hours=hours) if hours is not None else None,
    )


@pytest.fixture
def dataset(
    msw: Membership,
    tokuyo: tuple[Facility, Membership],
    roken: tuple[Facility, Membership],
    third: tuple[Facility, Membership],
    unsent: tuple[Facility, Membership],
) -> None:
    """A (藤沢, April): 2 requests, decided in 3 days; answers after 2 h (accept) and 10 h (満床).
    B (藤沢, April): 4 requests, decided in 9 days; answers after 5 h (accept) and 20 h (費用).
    C (平塚, May): 1 request declined 満床 after 1 h, withdrawn: 受入先が見つからない.
    D (平塚, May): 1 request, unanswered, still open."""
    t, r, th, u = tokuyo, roken, third, unsent
    a = make_case(msw)
    ra = send(a, msw, [t[0], r[0]])
    actions.answer_request(ra[0], by=t[1], data=RequestAnswerInput(answer=Answer.ACCEPTED))
    actions.answer_request(
        ra[1], by=r[1], data=RequestAnswerInput(answer=Answer.DECLINED, decline_reason="full")
    )
    actions.confirm_placement(a, ra[0], by=msw)
    _times(a, at(4, 1), at(4, 4))
    _answered(ra[0], at(4, 1), 2)
    _answered(ra[1], at(4, 1), 10)

    b = make_case(msw)
    rb = send(b, msw, [t[0], r[0], th[0], u[0]])
    actions.answer_request(rb[0], by=t[1], data=RequestAnswerInput(answer=Answer.ACCEPTED))
    actions.answer_request(
        rb[1], by=r[1], data=RequestAnswerInput(answer=Answer.DECLINED, decline_reason="cost")
    )
    actions.confirm_placement(b, rb[0], by=msw)
    _times(b, at(4, 10), at(4, 19))
    _answered(rb[0], at(4, 10), 5)
    _answered(rb[1], at(4, 10), 20)
    _answered(rb[2], at(4, 10), None)
    _answered(rb[3], at(4, 10), None)

    c = make_case(msw, residence_code="142034")
    (rc,) = send(c, msw, [r[0]])
    actions.answer_request(
        rc, by=r[1], data=RequestAnswerInput(answer=Answer.DECLINED, decline_reason="full")
    )
    actions.withdraw_case(c, by=msw, data=WithdrawCaseInput(reason=WithdrawalReason.NO_ACCEPTANCE))
    _times(c, at(5, 3))
    _answered(rc, at(5, 3), 1)

    d = make_case(msw, residence_code="142034")
    (rd,) = send(d, msw, [th[0]])
    _times(d, at(5, 20))
    _answered(rd, at(5, 20), None)


def test_totals(dataset: None, prefecture_officer: Membership) -> None:
    """Days to placement [3, 9]: median 6, p90 8.4. Requests per placement (2+4)/2 = 3.
    Answer hours [1, 2, 5, 10, 20]: median 5, p90 16. 5 of 8 answered (62.5 %), 2 of 5 accept (40 %)."""
    board = metrics.build(metrics.cases_for(prefecture_officer.organization))
    t = board.total
    assert (t.cases, t.decided, t.withdrawn, t.open) == (4, 2, 1, 1)
    assert (t.days_median, t.days_p90) == (6.0, 8.4)
    assert t.requests_per_placement_mean == 3.0
    assert (t.answer_hours_median, t.answer_hours_p90) == (5.0, 16.0)
    assert (t.requests, t.answer_rate, t.acceptance_rate) == (8, 62.5, 40.0)
    assert t.placement_rate == pytest.approx(66.7)


def test_by_area_month_kind_and_reasons(dataset: None, prefecture_officer: Membership) -> None:
    """湘南東部 holds A and B, 湘南西部 C and D; April has 2 cases, May 2; declines are 満床 2, 費用 1;
    the failed case is counted under its reason with its decline breakdown."""
    board = metrics.build(metrics.cases_for(prefecture_officer.organization))
    areas = {r.label: (r.cases, r.decided, r.days_median) for r in board.by_area}
    assert areas == {"湘南東部": (2, 2, 6.0), "湘南西部": (2, 0, None)}
    assert [(r.label, r.cases) for r in board.by_month] == [("2026-04", 2), ("2026-05", 2)]
    assert board.decline_reasons == [("満床", 2), ("費用", 1)]
    assert board.failures == [("受入先が見つからない", 1)]
    assert board.failed_cases == [
        {
            "month": "2026-05",
            "area": "湘南西部",
            "reason": "受入先が見つからない",
            "requests": 1,
            "declines": "満床1",
        }
    ]
    kinds = {k[0]: k[1:] for k in board.by_kind}
    # 老健: 3 requests (A, B, C), 3 answered, none accepted.
    assert kinds["介護老人保健施設（老健）"] == (3, 3, 0, 0.0)
    # 特養: 5 requests (A, B×3, D), 2 answered, both accepted.
    assert kinds["介護老人福祉施設（特養）"] == (5, 2, 2, 100.0)


def test_filters(dataset: None, prefecture_officer: Membership) -> None:
    """Filtering by area and by registration date narrows every figure."""
    from renkei.regions.models import SecondaryArea

    west = SecondaryArea.objects.get(name="湘南西部")
    board = metrics.build(metrics.cases_for(prefecture_officer.organization), area=west)
    assert board.total.cases == 2
    board = metrics.build(
        metrics.cases_for(prefecture_officer.organization), since=dt.date(2026, 5, 1)
    )
    assert board.total.cases == 2 and board.total.decided == 0


def test_a_municipality_counts_its_residents_only(dataset: None) -> None:
    """平塚市 sees C and D (its residents), not 藤沢's cases."""
    from renkei.accounts.models import OrgKind
    from renkei.testing import make_org

    hiratsuka = make_org("平塚市", OrgKind.MUNICIPALITY, municipality_code="142034")
    board = metrics.build(metrics.cases_for(hiratsuka))
    assert board.total.cases == 2


def test_screen_and_exports(client: Client, dataset: None, prefecture_officer: Membership) -> None:
    """The dashboard shows the median and draws bars; CSV and Excel carry the same numbers."""
    login(client, prefecture_officer)
    page = client.get(reverse("referrals:dashboard")).content.decode()
    assert "中央値 <strong>6.0</strong>日" in page
    assert "<svg" in page and "<rect" in page
    response = client.get(reverse("referrals:dashboard_export", args=["csv"]))
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["区分", "集計単位", "案件数"]
    assert rows[1][:4] == ["全体", "全体", "4", "2"]
    assert rows[1][6] == "6.0"
    response = client.get(reverse("referrals:dashboard_export", args=["xlsx"]))
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(response.content))
    assert wb.sheetnames == ["効果検証", "施設種別", "受入不可の理由", "不成立の案件"]
    assert wb["効果検証"]["C2"].value == 4
    assert wb["受入不可の理由"]["A2"].value == "満床"


def test_dashboard_is_for_government_members(client: Client, msw: Membership) -> None:
    """A hospital member gets 404 for the dashboard and its exports."""
    login(client, msw)
    assert client.get(reverse("referrals:dashboard")).status_code == 404
    assert client.get(reverse("referrals:dashboard_export", args=["csv"])).status_code == 404


def test_percentile_interpolates() -> None:
    """Linear interpolation between ranks; empty input has no percentile."""
    assert metrics.percentile([1, 2, 3, 4], 0.5) == 2.5
    assert metrics.percentile([10], 0.9) == 10
    assert metrics.percentile([], 0.5) is None


def test_home_counts_each_open_case_once(
    client: Client,
    msw: Membership,
    tokuyo: tuple[Facility, Membership],
    roken: tuple[Facility, Membership],
) -> None:
    """調整中 N件 counts cases, not their requests: one case sent to two facilities is 1件."""
    from renkei.referrals.testing import make_case as _make_case
    from renkei.referrals.testing import send as _send

    _send(_make_case(msw), msw, [tokuyo[0], roken[0]])
    _make_case(msw)
    sign_in(client, msw.user)
    r = client.get("/referrals/")
    assert r.context["case_counts"]["open"] == 2
