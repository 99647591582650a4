"""Countermeasures ↔ indicators (the trace decision → money → result) and the yearly event
counts a programme table shows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from renkei.accounts.models import Membership
from renkei.pdca.catalogue import ensure_indicators
from renkei.pdca.models import IndicatorValue
from renkei.pdca.tables import event_counts
from renkei.programmes.models import Countermeasure, Issue, IssueSource
from renkei.testing import municipality


@pytest.fixture
def measure(ebina: Membership) -> Countermeasure:
    issue = Issue.objects.create(
        owner=ebina.organization,
        title="退院時の情報共有が遅れる",
        source=IssueSource.choices[0][0],
        raised_on=dt.date(2026, 5, 1),
    )
    return Countermeasure.objects.create(issue=issue, title="入退院支援ルールの研修")


@pytest.mark.django_db
def test_only_the_owner_links_indicators_and_the_prefecture_reads_them(
    client: Client, measure: Countermeasure, ebina: Membership, pref: Membership, atsugi: Membership
) -> None:
    ensure_indicators()
    url = f"/api/v1/programmes/indicators/countermeasures/{measure.code}"
    body = {"indicators": ["referrals.days", "events.trainings"]}
    client.force_login(atsugi.user)
    assert client.put(url, body, content_type="application/json").status_code == 404
    assert client.get(url).status_code == 404
    client.force_login(pref.user)
    assert client.put(url, body, content_type="application/json").status_code == 404
    client.force_login(ebina.user)
    bad = client.put(url, {"indicators": ["no.such"]}, content_type="application/json")
    assert bad.status_code == 400 and "no.such" in bad.json()["detail"]
    assert not measure.indicators.exists()
    ok = client.put(url, body, content_type="application/json")
    assert ok.status_code == 200, ok.content
    assert set(measure.indicators.values_list("code", flat=True)) == set(body["indicators"])
    client.force_login(pref.user)
    got = client.get(url).json()
    assert [i["code"] for i in got["indicators"]] == ["events.trainings", "referrals.days"]


@pytest.mark.django_db
def test_event_counts_sum_the_computed_figures(client: Client, ebina: Membership) -> None:
    ind = ensure_indicators()
    ebina_m = municipality("142158")
    for code, n in [("events.trainings", 6), ("events.public", 3), ("events.attended", 140)]:
        IndicatorValue.objects.create(
            indicator=ind[code], municipality=ebina_m, fiscal_year=2026, numerator=n, value=n
        )
    assert event_counts([ebina_m.pk], 2026) == {
        "研修の回数": 6.0,
        "普及啓発の回数": 3.0,
        "研修の受講者数": 140.0,
    }
    assert event_counts([ebina_m.pk], 2025)["研修の受講者数"] == 0.0
    client.force_login(ebina.user)
    got = client.get(
        "/api/v1/programmes/indicators/event-counts?municipality=142158&fiscal_year=2026"
    )
    assert got.json()["研修の回数"] == 6.0
    assert (
        client.get(
            "/api/v1/programmes/indicators/event-counts?municipality=142123&fiscal_year=2026"
        ).status_code
        == 404
    )
