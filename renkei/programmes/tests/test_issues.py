"""Issues and countermeasures, each linked to the programme lines that fund it; the trace from
decision to money to result prints one page per issue."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from renkei.accounts.models import Membership
from renkei.lib.actions import ActionError
from renkei.programmes import actions
from renkei.programmes.models import Countermeasure, IssueStatus, MeasureStatus, ProgrammeTable
from renkei.programmes.testing import make_body, make_issue, make_meeting, make_table
from renkei.testing import sign_in

pytestmark = pytest.mark.django_db


def test_trace_from_decision_to_money_to_result(
    client: Client, city: Membership, table: ProgrammeTable
) -> None:
    body = make_body(city, "在宅療養連携会議 全体会議", "plenary")
    meeting = make_meeting(body, city, dt.date(2019, 5, 29), 1)
    decision = actions.add_decision(
        meeting, by=city, data=actions.MeetingDecisionInput(text="同行研修を拡充する")
    )
    issue = make_issue(
        city,
        "在宅医が足りない",
        dt.date(2019, 5, 29),
        source="meeting",
        meeting=str(meeting.code),
        scenes=["daily", "end_of_life"],
        items=["ka"],
    )
    line = table.lines.get(name="在宅医同行研修")
    sign_in(client, city.user)
    response = client.post(
        f"/programmes/issues/{issue.code}/measures/new/",
        {
            "title": "同行研修を年2回にする",
            "status": "active",
            "due_on": "2020-03-31",
            "decision": str(decision.code),
            "programme_lines": [str(line.code)],
            "responsible_name": "地域医療推進課",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    measure = Countermeasure.objects.get()
    assert list(measure.programme_lines.all()) == [line]
    issue.refresh_from_db()
    assert issue.status == IssueStatus.ACTING
    client.post(
        f"/programmes/measures/{measure.code}/progress/",
        {"written_on": "2019-11-07", "text": "第1回を実施（受講 12名）", "status": "done"},
    )
    measure.refresh_from_db()
    assert measure.status == MeasureStatus.DONE
    other = make_issue(city, "退院時の情報共有が遅れる", dt.date(2019, 7, 1), scenes=["discharge"])
    page = client.get("/programmes/issues/trace/").content.decode()
    assert page.count('class="sheet page"') == 2
    one = page.split('class="sheet page"')[1]
    for text in (
        "在宅医が足りない",
        "同行研修を年2回にする",
        "決定1: 同行研修を拡充する",
        "在宅医同行研修・地域支援事業交付金 800千円",
        "第1回：9月26日 定員 50名",
        "第1回を実施（受講 12名）",
    ):
        assert text in one, text
    assert other.title in page


def test_only_own_lines_and_decisions_can_be_linked(
    city: Membership, outsider: Membership, table: ProgrammeTable
) -> None:
    theirs = make_table(outsider, 2019, lines=[{"name": "他市の事業"}])
    issue = make_issue(city, "課題", dt.date(2019, 6, 1))
    line = theirs.lines.get()
    with pytest.raises(ActionError, match="財源となる事業が見つかりません"):
        actions.save_countermeasure(
            issue,
            by=city,
            data=actions.CountermeasureInput(title="x", programme_lines=[str(line.code)]),
        )
    with pytest.raises(ActionError, match="会議で提起された課題は"):
        make_issue(city, "会議なし", dt.date(2019, 6, 1), source="meeting")
    assert not Countermeasure.objects.exists()


def test_issue_api_round_trip(client: Client, city: Membership, table: ProgrammeTable) -> None:
    sign_in(client, city.user)
    line = table.lines.first()
    assert line is not None
    created = client.post(
        "/api/v1/programmes/issues",
        {
            "title": "看取りの相談先が分からない",
            "source": "desk",
            "raised_on": "2026-10-01",
            "scenes": ["end_of_life"],
            "items": ["o", "ki"],
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    code = created.json()["code"]
    measure = client.post(
        f"/api/v1/programmes/issues/{code}/countermeasures",
        {
            "title": "市民向け出前講座で相談窓口を知らせる",
            "programme_lines": [str(line.code)],
        },
        content_type="application/json",
    )
    assert measure.status_code == 201
    detail = client.get(f"/api/v1/programmes/issues/{code}").json()
    assert detail["items"] == ["o", "ki"]
    assert detail["countermeasures"][0]["title"] == "市民向け出前講座で相談窓口を知らせる"
    bad = client.post(
        "/api/v1/programmes/issues",
        {"title": "", "source": "desk", "raised_on": "1800-01-01"},
        content_type="application/json",
    )
    assert bad.status_code in (400, 422)


def test_countermeasure_names_the_indicators_that_should_move(
    client: Client, city: Membership, table: ProgrammeTable
) -> None:
    from renkei.pdca.catalogue import ensure_indicators
    from renkei.pdca.models import IndicatorValue

    catalogue = ensure_indicators()
    done = catalogue["mentoring.done"]
    muni = city.organization.municipality
    assert muni is not None
    for fy, n in ((2018, 3.0), (2019, 7.0)):
        IndicatorValue.objects.create(
            indicator=done, municipality=muni, fiscal_year=fy, numerator=n, value=n
        )
    issue = make_issue(city, "在宅医が足りない", dt.date(2019, 6, 1))
    sign_in(client, city.user)
    response = client.post(
        f"/programmes/issues/{issue.code}/measures/new/",
        {"title": "同行研修を年2回にする", "status": "planned", "indicators": ["mentoring.done"]},
    )
    assert response.status_code == 302
    measure = Countermeasure.objects.get()
    assert [i.code for i in measure.indicators.all()] == ["mentoring.done"]
    page = client.get(f"/programmes/issues/{issue.code}/trace/").content.decode()
    assert f"{done.name}: 2018年度 3.0{done.unit} → 2019年度 7.0{done.unit}" in page
    api = client.get(f"/api/v1/programmes/issues/{issue.code}").json()
    assert api["countermeasures"][0]["indicators"] == ["mentoring.done"]
    with pytest.raises(ActionError, match="指標が見つかりません"):
        actions.save_countermeasure(
            issue, by=city, data=actions.CountermeasureInput(title="x", indicators=["no.such"])
        )
