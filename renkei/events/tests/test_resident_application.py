"""A public lecture (市民向け) asks a resident's questions (issue 9 §5): name, kana, how to
reach them, how many come and what help they need; not 事業所名 or 聞いてみたい職種. The
professional training keeps seed 002's form."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from renkei.accounts.models import Organization
from renkei.events import actions
from renkei.events.models import Application, Event, EventKind
from renkei.events.testing import application_data, make_event, person, resident_data
from renkei.lib.actions import ActionError

pytestmark = pytest.mark.django_db

API = "/api/v1/events"


@pytest.fixture
def lecture(organiser: Organization) -> Event:
    return make_event(
        organiser, title="人生会議（ACP）を知ろう", kind=EventKind.PUBLIC_LECTURE, capacity=5
    )


def resident_form(**changes: str | list[str]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "海老名 春子",
        "kana": "えびな はるこ",
        "email": "haruko@example.jp",
        "phone": "",
        "party_size": "2",
        "needs": ["wheelchair"],
        "needs_note": "",
        "question": "",
        "agree": "on",
        "form_token": "r-1",
    }
    data.update(changes)
    return data


def test_the_lecture_asks_a_resident_and_the_training_keeps_the_paper_form(
    client: Client, lecture: Event, event: Event
) -> None:
    """The lecture's form: name, kana, e-mail, phone, number of people and needs such as a
    wheelchair or sign language; no office, occupation or question to an occupation. The
    training's form is seed 002's."""
    body = client.get(reverse("events:apply", args=[lecture.code])).content.decode()
    for name in ("name", "kana", "email", "phone", "party_size", "needs", "needs_note"):
        assert f'name="{name}"' in body, name
    assert "車椅子で来場" in body and "手話通訳" in body and "要約筆記" in body
    assert "事業所名" not in body and "聞いてみたい職種" not in body and "職種" not in body
    training = client.get(reverse("events:apply", args=[event.code])).content.decode()
    assert "事業所名" in training and 'name="question_to"' in training
    assert 'name="a-0-occupation"' in training and 'name="party_size"' not in training


def test_a_family_of_two_takes_two_places_and_the_needs_reach_the_organiser(
    client: Client,
    alice_client: Client,
    lecture: Event,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Two people, one wheelchair: two places, one e-mail to the resident that repeats the
    number and the need, and the organiser's list and API show what to prepare."""
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(reverse("events:apply", args=[lecture.code]), resident_form())
    assert r.status_code == 302
    app = Application.objects.get()
    assert (app.office_name, app.contact_name, app.needs) == ("", "海老名 春子", ["wheelchair"])
    assert lecture.places_left() == 3
    (message,) = mail.outbox
    assert message.to == ["haruko@example.jp"]
    assert message.body.startswith("海老名 春子 様")
    assert "（2名）" in message.body and "車椅子で来場" in message.body
    page = alice_client.get(reverse("events:manage_event", args=[lecture.code])).content.decode()
    assert "車椅子で来場: 1件" in page
    rows = alice_client.get(f"{API}/manage/events/{lecture.code}/applicants").json()
    assert [r["needs"] for r in rows] == [["wheelchair"], ["wheelchair"]]


def test_a_party_larger_than_the_places_left_waits_in_order(lecture: Event) -> None:
    """Capacity counts people (ADR 0009): with two places left, a party of three gets two
    places and the third waits."""
    actions.apply(lecture, resident_data(1, party_size=3))
    app, _ = actions.apply(lecture, resident_data(2, party_size=3))
    assert list(app.applicants.order_by("position").values_list("status", flat=True)) == [
        "confirmed",
        "confirmed",
        "waitlisted",
    ]


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"kana": "海老名春子"}, "kana", "ひらがなで入力してください"),
        ({"email": ""}, "email", "このフィールドは必須です"),
        ({"email": "haruko@"}, "email", "メールアドレスの形式が正しくありません"),
        ({"phone": "0462"}, "phone", "電話番号の形式が正しくありません"),
        ({"party_size": "11"}, "party_size", "正しく選択してください"),
    ],
)
def test_a_bad_resident_form_is_shown_again_with_the_message(
    client: Client, lecture: Event, change: dict[str, str], field: str, message: str
) -> None:
    """400, the message under its field, what was typed kept, nothing saved."""
    r = client.post(reverse("events:apply", args=[lecture.code]), resident_form(**change))
    body = r.content.decode()
    assert r.status_code == 400
    assert message in body
    assert 'value="海老名 春子"' in body or field == "name"
    assert Application.objects.count() == 0


@pytest.mark.parametrize(
    "change, message",
    [
        ({"party_size": 11}, "10以下の値を指定してください"),
        ({"needs": ["wheelchair", "wheelchair"]}, "同じ値が2回指定されています"),
        ({"needs": ["helicopter"]}, "選択肢から選んでください"),
        ({"office_name": "さくら"}, "この項目は指定できません"),
        ({"agree": False}, "同意"),
    ],
)
def test_the_api_refuses_a_bad_resident_body(
    client: Client, lecture: Event, change: dict[str, Any], message: str
) -> None:
    """The same rules through the API, with the field named."""
    body = resident_data(1).model_dump(mode="json") | change
    r = client.post(
        f"{API}/{lecture.code}/resident-applications",
        json.dumps(body),
        content_type="application/json",
    )
    assert r.status_code == 400 and message in r.json()["detail"]
    assert Application.objects.count() == 0


def test_each_kind_of_event_takes_its_own_form(
    client: Client, lecture: Event, event: Event
) -> None:
    """A 事業所 body for the public lecture, or a resident's for a training: 400 naming the
    right form, nothing saved."""
    pro = application_data([person(1)]).model_dump(mode="json")
    r = client.post(
        f"{API}/{lecture.code}/applications", json.dumps(pro), content_type="application/json"
    )
    assert r.status_code == 400 and "市民向けの講座です" in r.json()["detail"]
    resident = resident_data(1).model_dump(mode="json")
    r = client.post(
        f"{API}/{event.code}/resident-applications",
        json.dumps(resident),
        content_type="application/json",
    )
    assert r.status_code == 400 and "従事者向け" in r.json()["detail"]
    assert Application.objects.count() == 0


def test_the_same_resident_cannot_take_places_twice(lecture: Event) -> None:
    """A second application from the same address is refused while the first is live."""
    actions.apply(lecture, resident_data(1, party_size=2))
    with pytest.raises(ActionError, match="既に申し込まれています"):
        actions.apply(lecture, resident_data(1))
    assert lecture.applicants.count() == 2


def test_the_organiser_types_in_a_telephoned_application(
    alice_client: Client, lecture: Event
) -> None:
    """The proxy entry of a public lecture is the resident's form and is marked as such."""
    page = alice_client.get(reverse("events:proxy_apply", args=[lecture.code])).content.decode()
    assert 'name="party_size"' in page and "主催者の連絡用アドレス" in page
    r = alice_client.post(
        reverse("events:proxy_apply", args=[lecture.code]), resident_form(needs=[])
    )
    assert r.status_code == 302
    assert Application.objects.get().source == Application.Source.FAX


def test_the_fax_sheet_of_a_lecture_asks_the_same_as_its_web_form(
    client: Client, lecture: Event, event: Event
) -> None:
    """The printed sheet of a public lecture: name, phone, number of people and needs; the
    training's sheet keeps 事業所名 and the occupations."""
    sheet = client.get(reverse("events:fax_sheet", args=[lecture.code])).content.decode()
    assert "参加人数" in sheet and "車椅子で来場" in sheet and "事業所名" not in sheet
    training = client.get(reverse("events:fax_sheet", args=[event.code])).content.decode()
    assert "事業所名" in training and "参加人数" not in training
