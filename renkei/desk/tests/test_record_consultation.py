from __future__ import annotations

import datetime as dt

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from renkei.accounts.models import Membership
from renkei.desk.models import Consultation, Desk, FollowUp
from renkei.desk.tally import yearly_tally
from renkei.desk.testing import topics
from renkei.desk.tests.conftest import login
from renkei.lib.dates import fiscal_year
from renkei.testing import make_facility


def form_data(desk: Desk, **overrides: object) -> dict[str, object]:
    today = timezone.localdate()
    data: dict[str, object] = {
        "received_date": today.isoformat(),
        "received_time": "10:30",
        "channel": "phone",
        "asker_type": "care_manager",
        "asker_detail": "見本居宅介護支援事業所（仮名）",
        "topics": [t.pk for t in topics(desk, "訪問看護", "医療処置・服薬")],
        "scene": "discharge",
        "programme_item": "o",
        "subject_name": "相談 太郎（仮名）",
        "subject_kana": "そうだん たろう",
        "subject_age": "84",
        "subject_municipality": "",
        "consent": "given",
        "consent_date": today.isoformat(),
        "summary": "退院後の点滴管理ができる訪問看護を探している。",
        "actions_taken": "訪問看護ステーションを2か所紹介した。",
        "status": "open",
        "followup_due": (today + dt.timedelta(days=7)).isoformat(),
        "followup_note": "利用開始できたか確認する",
    }
    data.update(overrides)
    return data


def test_recorded_consultation_with_followup_appears_in_month_tally(
    client: Client, desk: Desk, counselor: Membership
) -> None:
    """A consultation entered on the form, with a follow-up and a referred facility,
    is saved, shows its follow-up on the desk home, and counts in this month's tally."""
    nurse_station = make_facility(
        "見本訪問看護ステーション（仮名）", "visiting_nurse", municipality_code="142158"
    )
    login(client, counselor)
    response = client.post(
        reverse("desk:new", args=[desk.code]),
        form_data(desk, referred_facilities=[str(nurse_station.code)]),
    )
    assert response.status_code == 302, response.content.decode()
    c = Consultation.objects.get()
    assert response["Location"] == c.get_absolute_url()
    assert c.entered_by == counselor.user
    assert list(c.referred_facilities.all()) == [nurse_station]
    assert sorted(t.name for t in c.topics.all()) == ["医療処置・服薬", "訪問看護"]
    followup = FollowUp.objects.get()
    assert followup.consultation == c and followup.note == "利用開始できたか確認する"

    home = client.get(reverse("desk:home"))
    assert "利用開始できたか確認する" in home.content.decode()

    today = timezone.localdate()
    tally = client.get(reverse("desk:tally", args=[desk.code]), {"month": f"{today:%Y-%m}"})
    assert tally.status_code == 200
    assert tally.context["month_total"] == 1
    by_channel = dict(tally.context["month_tables"][0][1])
    assert by_channel["電話"] == 1 and by_channel["FAX"] == 0

    t = yearly_tally(desk, fiscal_year(today))
    scene = next(tb for tb in t.tables if tb.key == "scene")
    assert dict(scene.totals())["入退院支援"] == 1


def test_form_keeps_input_after_error(client: Client, desk: Desk, counselor: Membership) -> None:
    """A rejected form comes back with what was typed, including the picked facility."""
    facility = make_facility("見本診療所（仮名）", "clinic", municipality_code="142158")
    login(client, counselor)
    response = client.post(
        reverse("desk:new", args=[desk.code]),
        form_data(desk, summary="", referred_facilities=[str(facility.code)]),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "相談 太郎（仮名）" in html
    assert "見本診療所（仮名）" in html and "checked" in html
    assert Consultation.objects.count() == 0
