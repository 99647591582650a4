"""The office's settings: programmes and mentors are saved alike on the screen and the API."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from renkei.accounts.models import AuditEntry, Membership
from renkei.mentoring.models import Mentor, TrainingProgram
from renkei.mentoring.tests.conftest import login
from renkei.regions.models import Municipality


def send(client: Client, url: str, body: dict[str, Any], method: str = "post") -> Any:
    return getattr(client, method)(url, json.dumps(body), content_type="application/json")


def programme(p: TrainingProgram) -> tuple[Any, ...]:
    p.refresh_from_db()
    return (p.name, p.co_organizer, p.planned_count, p.honorarium_amount, p.is_open, p.contact)


PROGRAMME = {
    "name": "在宅医同行研修",
    "co_organizer": "横須賀市医師会",
    "planned_count": 8,
    "honorarium_amount": 15000,
    "is_open": False,
    "contact": "地域医療推進課",
}


def test_a_programme_is_created_and_changed_alike_on_both_doors(
    client: Client, program: TrainingProgram, office: Membership
) -> None:
    """Two fiscal years set up with the same values, one per door, hold the same settings;
    then each door changes its own to the same values."""
    login(client, office)
    form = {**PROGRAMME, "fiscal_year": 2026}
    del form["is_open"]  # an unticked box is not posted
    assert client.post(reverse("mentoring:program_new"), form).status_code == 302
    api = send(client, "/api/v1/mentoring/programs", {**PROGRAMME, "fiscal_year": 2027})
    assert api.status_code == 201, api.content
    by_screen = TrainingProgram.objects.get(fiscal_year=2026)
    by_api = TrainingProgram.objects.get(fiscal_year=2027)
    assert (
        programme(by_screen)
        == programme(by_api)
        == tuple(
            PROGRAMME[k]
            for k in (
                "name",
                "co_organizer",
                "planned_count",
                "honorarium_amount",
                "is_open",
                "contact",
            )
        )
    )

    changed = {"planned_count": 9, "contact": "電話 046-000-0000"}
    screen = client.post(
        reverse("mentoring:program_edit", args=[by_screen.code]),
        {**form, **changed, "is_open": "on"},
    )
    assert screen.status_code == 302
    api = send(
        client,
        f"/api/v1/mentoring/programs/{by_api.code}",
        {**PROGRAMME, "fiscal_year": 2027, **changed, "is_open": True},
        method="put",
    )
    assert api.status_code == 200
    assert programme(by_screen) == programme(by_api)
    assert programme(by_api)[2] == 9 and programme(by_api)[4] is True
    assert AuditEntry.objects.filter(action="mentoring.program_saved").count() == 4


@pytest.mark.parametrize("door", ["html", "api"])
def test_a_second_programme_for_a_year_gets_the_same_message(
    client: Client, program: TrainingProgram, office: Membership, door: str
) -> None:
    """FY2025 exists already: both doors refuse another with the same words."""
    login(client, office)
    body = {**PROGRAMME, "fiscal_year": 2025}
    if door == "html":
        response = client.post(reverse("mentoring:program_new"), body)
        text = response.content.decode()
    else:
        response = send(client, "/api/v1/mentoring/programs", body)
        text = response.json()["detail"]
    assert response.status_code == 400
    assert "この年度の同行研修は既に登録されています" in text
    assert TrainingProgram.objects.filter(organizer=program.organizer).count() == 1


def mentor_state(m: Mentor) -> tuple[Any, ...]:
    m.refresh_from_db()
    return (
        m.name,
        m.kana,
        m.affiliation,
        m.email,
        m.phone,
        m.recommended,
        m.recommended_on,
        sorted(m.areas.values_list("code", flat=True)),
        m.weekdays,
        m.availability,
        m.is_active,
    )


MENTOR = {
    "name": "指導 花子（仮名）",
    "kana": "しどう はなこ",
    "affiliation": "見本在宅クリニック（仮名）",
    "phone": "046-000-0002",
    "recommended": True,
    "recommended_on": "2025-04-01",
    "availability": "火曜午後",
    "is_active": True,
}


def mentor_form(address: str, **changes: Any) -> dict[str, Any]:
    areas = Municipality.objects.filter(code__in=["142018", "142042"])
    return {
        **MENTOR,
        "email": address,
        "recommended": "on",
        "is_active": "on",
        "areas": [m.pk for m in areas],
        "weekdays": ["1", "3"],
        **changes,
    }


def mentor_body(address: str, **changes: Any) -> dict[str, Any]:
    return {
        **MENTOR,
        "email": address,
        "areas": ["142018", "142042"],
        "weekdays": [1, 3],
        **changes,
    }


def test_a_mentor_is_registered_and_changed_alike_on_both_doors(
    client: Client, program: TrainingProgram, office: Membership
) -> None:
    """Areas (picked on the screen, codes in the API) and weekdays land alike."""
    login(client, office)
    assert (
        client.post(reverse("mentoring:mentor_new"), mentor_form("a@example.jp")).status_code == 302
    )
    api = send(client, "/api/v1/mentoring/mentors", mentor_body("b@example.jp"))
    assert api.status_code == 201, api.content
    a, b = Mentor.objects.get(email="a@example.jp"), Mentor.objects.get(email="b@example.jp")
    assert mentor_state(a)[:3] == mentor_state(b)[:3]
    assert mentor_state(a)[4:] == mentor_state(b)[4:]
    assert mentor_state(b)[7:9] == (["142018", "142042"], 0b1010)

    screen = client.post(
        reverse("mentoring:mentor_edit", args=[a.code]),
        mentor_form("a@example.jp", weekdays=["5"], availability="土曜のみ"),
    )
    assert screen.status_code == 302
    api = send(
        client,
        f"/api/v1/mentoring/mentors/{b.code}",
        mentor_body("b@example.jp", weekdays=[5], availability="土曜のみ"),
        method="put",
    )
    assert api.status_code == 200
    assert mentor_state(a)[4:] == mentor_state(b)[4:]
    assert mentor_state(b)[8:10] == (0b100000, "土曜のみ")


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"recommended_on": None}, "医師会の推薦がある場合は推薦日を入力してください"),
        (
            {"recommended_on": (timezone.localdate() + dt.timedelta(days=1)).isoformat()},
            "推薦日に未来の日付は入力できません",
        ),
        ({"areas": ["131016"]}, "選べない市区町村が含まれています"),
        ({"phone": "電話して"}, "電話番号の形式が正しくありません"),
        ({"email": "a@"}, "メールアドレスの形式が正しくありません"),
    ],
)
@pytest.mark.parametrize("door", ["html", "api"])
def test_a_bad_mentor_gets_the_same_message_on_both_doors(
    client: Client,
    program: TrainingProgram,
    office: Membership,
    door: str,
    changes: dict[str, Any],
    message: str,
) -> None:
    """The rules hold on both doors (the API used to accept a future 推薦日 and any area)."""
    login(client, office)
    if door == "html":
        form_changes = dict(changes)
        if "areas" in changes:
            form_changes["areas"] = list(
                Municipality.objects.filter(code__in=changes["areas"]).values_list("pk", flat=True)
            )
        if form_changes.get("recommended_on") is None and "recommended_on" in form_changes:
            form_changes["recommended_on"] = ""
        response = client.post(
            reverse("mentoring:mentor_new"), mentor_form("c@example.jp", **form_changes)
        )
        text = response.content.decode()
    else:
        response = send(client, "/api/v1/mentoring/mentors", mentor_body("c@example.jp", **changes))
        text = response.json()["detail"]
    assert response.status_code == 400
    assert message in text
    assert not Mentor.objects.exists()
