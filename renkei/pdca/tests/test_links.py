"""The yearly event counts a programme table shows (the countermeasure ↔ indicator link is
programmes' Countermeasure.indicators)."""

from __future__ import annotations

import pytest
from django.test import Client

from renkei.accounts.models import Membership
from renkei.pdca.catalogue import ensure_indicators
from renkei.pdca.models import IndicatorValue
from renkei.pdca.tables import event_counts
from renkei.testing import municipality, sign_in


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
    sign_in(client, ebina.user)
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
