"""The screens and the API run the same actions with the same inputs: the same submission
leaves the same database state through either door, and the same bad input is refused with
the same message on the page, the htmx fragment and the API."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from renkei.accounts.models import Organization
from renkei.events.models import Applicant, Application, Event, EventKind
from renkei.events.testing import make_application, make_event, person
from renkei.events.tests.test_apply import form_post, row

pytestmark = pytest.mark.django_db

API = "/api/v1/events"


def api_post(client: Client, url: str, data: Any) -> Any:
    return client.post(url, json.dumps(data), content_type="application/json")


def applied(event: Event) -> list[tuple[Any, ...]]:
    """Everything an application wrote, except how it arrived (web or API)."""
    return [
        (
            app.office_name,
            app.contact_name,
            app.contact_email,
            app.contact_phone,
            app.question_to,
            app.question,
            app.needs,
            app.needs_note,
            app.status,
            [
                (a.name, a.kana, a.email, a.occupation, a.status, a.position)
                for a in app.applicants.order_by("position")
            ],
        )
        for app in Application.objects.filter(event=event).order_by("pk")
    ]


ROWS = [
    row("佐藤 花子", "サトウ ハナコ", "sato@example.jp", "care_worker"),
    row("鈴木 太郎", "すずき たろう", "同上", "nurse"),
]
BODY: dict[str, Any] = {
    "office_name": "ひまわり居宅介護支援事業所",
    "contact_name": "連絡 担当",
    "contact_email": "himawari@example.jp",
    "contact_phone": "046-000-0002",
    "question_to": "doctor",
    "question": "急変時に何を準備しておけばよいですか。",
    "agree": True,
    "applicants": [
        {
            "name": "佐藤 花子",
            "kana": "サトウ ハナコ",
            "email": "sato@example.jp",
            "occupation": "care_worker",
        },
        {"name": "鈴木 太郎", "kana": "すずき たろう", "email": "同上", "occupation": "nurse"},
    ],
}


@pytest.mark.parametrize("door", ["html", "api"])
def test_an_application_leaves_the_same_rows_through_either_door(
    client: Client, organiser: Organization, door: str
) -> None:
    """Two colleagues on one form: kana stored in hiragana, 「同上」 as no address, both
    confirmed in order, whichever door."""
    event = make_event(organiser, capacity=1)
    if door == "html":
        r = client.post(reverse("events:apply", args=[event.code]), form_post(event, ROWS))
        assert r.status_code == 302
    else:
        r = api_post(client, f"{API}/{event.code}/applications", BODY)
        assert r.status_code == 201
    assert applied(event) == [
        (
            "ひまわり居宅介護支援事業所",
            "連絡 担当",
            "himawari@example.jp",
            "046-000-0002",
            "doctor",
            "急変時に何を準備しておけばよいですか。",
            [],
            "",
            "active",
            [
                ("佐藤 花子", "さとう はなこ", "sato@example.jp", "care_worker", "confirmed", 1),
                ("鈴木 太郎", "すずき たろう", "", "nurse", "waitlisted", 2),
            ],
        )
    ]


BAD_APPLICATIONS = [
    (
        {"a-0-kana": "佐藤花子"},
        {"applicants": [{**BODY["applicants"][0], "kana": "佐藤花子"}]},
        "申込者1: ふりがなは、ひらがなで入力してください",
    ),
    (
        {"a-1-email": "sato@example.jp"},
        {
            "applicants": [
                BODY["applicants"][0],
                {**BODY["applicants"][1], "email": "sato@example.jp"},
            ]
        },
        "同じメールアドレス（sato@example.jp）が申込者に2回入力されています",
    ),
    (
        {"contact_phone": "12-34"},
        {"contact_phone": "12-34"},
        "電話番号の形式が正しくありません",
    ),
    (
        {"contact_email": "office@"},
        {"contact_email": "office@"},
        "メールアドレスの形式が正しくありません",
    ),
]


@pytest.mark.parametrize("form_change, body_change, message", BAD_APPLICATIONS)
@pytest.mark.parametrize("door", ["html", "api"])
def test_a_bad_application_gets_the_same_message_on_both_doors(
    client: Client,
    event: Event,
    door: str,
    form_change: dict[str, str],
    body_change: dict[str, Any],
    message: str,
) -> None:
    """The input's rules, not the form's, refuse it: one message, 400, nothing saved."""
    if door == "html":
        r = client.post(
            reverse("events:apply", args=[event.code]), {**form_post(event, ROWS), **form_change}
        )
        text = r.content.decode()
    else:
        r = api_post(client, f"{API}/{event.code}/applications", {**BODY, **body_change})
        text = r.json()["detail"]
    assert r.status_code == 400
    assert message in text
    assert Application.objects.count() == 0


RESIDENT = {
    "name": "海老名 春子",
    "kana": "えびな はるこ",
    "email": "haruko@example.jp",
    "phone": "046-000-1234",
    "party_size": 3,
    "needs": ["wheelchair", "sign_language"],
    "needs_note": "杖を使っています",
    "question": "家族と話し合うきっかけを知りたいです。",
    "agree": True,
}


@pytest.mark.parametrize("door", ["html", "api"])
def test_a_resident_application_leaves_the_same_rows_through_either_door(
    client: Client, organiser: Organization, door: str
) -> None:
    """A resident and two companions take three places; the needs reach the application."""
    lecture = make_event(organiser, kind=EventKind.PUBLIC_LECTURE, title="人生会議を知ろう")
    if door == "html":
        form = {k: v for k, v in RESIDENT.items() if k != "agree"} | {"agree": "on"}
        r = client.post(reverse("events:apply", args=[lecture.code]), form)
        assert r.status_code == 302, r.content.decode()[:3000]
    else:
        r = api_post(client, f"{API}/{lecture.code}/resident-applications", RESIDENT)
        assert r.status_code == 201, r.content
    assert applied(lecture) == [
        (
            "",
            "海老名 春子",
            "haruko@example.jp",
            "046-000-1234",
            "",
            "家族と話し合うきっかけを知りたいです。",
            ["wheelchair", "sign_language"],
            "杖を使っています",
            "active",
            [
                ("海老名 春子", "えびな はるこ", "haruko@example.jp", "citizen", "confirmed", 1),
                ("海老名 春子さんの同行者1", "えびな はるこ", "", "citizen", "confirmed", 2),
                ("海老名 春子さんの同行者2", "えびな はるこ", "", "citizen", "confirmed", 3),
            ],
        )
    ]


def event_form(**changes: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "在宅での看取りを支える",
        "kind": EventKind.INTERPROFESSIONAL,
        "programme_item": "ka",
        "scene": "end_of_life",
        "target_occupations": ["doctor", "nurse"],
        "municipality": "",
        "starts_at": "2035-06-12T18:30",
        "ends_at": "2035-06-12T20:30",
        "reception_time": "18:00",
        "venue_name": "市民会館",
        "capacity": "40",
        "apply_until_date": "2035-05-30",
        "fax": "046-000-8651",
        "published": "on",
        "l-TOTAL_FORMS": "2",
        "l-INITIAL_FORMS": "0",
        "l-0-name": "丹沢 みどり",
        "l-0-affiliation": "みどり在宅クリニック",
        "l-0-topic": "在宅看取りの実際",
    }
    data.update(changes)
    return data


def event_body(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "在宅での看取りを支える",
        "kind": "interprofessional",
        "programme_item": "ka",
        "scene": "end_of_life",
        "target_occupations": ["doctor", "nurse"],
        "municipality_code": None,
        "starts_at": "2035-06-12T18:30:00",
        "ends_at": "2035-06-12T20:30:00",
        "reception_time": "18:00",
        "venue_name": "市民会館",
        "capacity": 40,
        "apply_until": "2035-05-30T23:59:59",
        "fax": "046-000-8651",
        "published": True,
        "lecturers": [
            {
                "name": "丹沢 みどり",
                "affiliation": "みどり在宅クリニック",
                "topic": "在宅看取りの実際",
            }
        ],
    }
    data.update(changes)
    return data


def saved_event(title: str) -> tuple[Any, ...]:
    e = Event.objects.get(title=title)
    return (
        e.organization_id,
        e.kind,
        e.programme_item,
        e.scene,
        e.target_occupations,
        e.municipality_id,
        e.starts_at,
        e.ends_at,
        e.reception_time,
        e.venue_name,
        e.capacity,
        e.apply_until,
        e.fax,
        e.published,
        list(e.lecturers.values_list("name", "affiliation", "title", "topic")),
    )


def test_an_event_is_created_the_same_through_either_door(alice_client: Client) -> None:
    """The edit screen and POST /manage/events give the same event and lecturers."""
    r = alice_client.post(reverse("events:create"), event_form(title="画面から"))
    assert r.status_code == 302, r.content.decode()[:3000]
    r = api_post(alice_client, f"{API}/manage/events", event_body(title="APIから"))
    assert r.status_code == 201, r.content
    assert saved_event("画面から") == saved_event("APIから")


BAD_EVENTS = [
    # Refused by the form only before: the API took any FAX number and no venue at all.
    ({"fax": "abc"}, {"fax": "abc"}, "電話番号の形式が正しくありません"),
    (
        {"venue_name": ""},
        {"venue_name": ""},
        "会場かオンライン参加URLのどちらかを入力してください",
    ),
    (
        {"apply_until_date": "2035-06-20"},
        {"apply_until": "2035-06-20T23:59:59"},
        "申込期限は開始日時より前にしてください",
    ),
    ({"capacity": "0"}, {"capacity": 0}, "1以上の値を指定してください"),
    (
        {"starts_at": "9999-06-12T18:30", "ends_at": ""},
        {"starts_at": "9999-06-12T18:30:00", "ends_at": None},
        "日時は2000年〜2100年の範囲で入力してください",
    ),
]


@pytest.mark.parametrize("form_change, body_change, message", BAD_EVENTS)
@pytest.mark.parametrize("door", ["html", "api"])
def test_a_bad_event_gets_the_same_message_on_both_doors(
    alice_client: Client,
    door: str,
    form_change: dict[str, str],
    body_change: dict[str, Any],
    message: str,
) -> None:
    """One set of rules for the event, whichever door: 400, the message, nothing saved."""
    if door == "html":
        r = alice_client.post(reverse("events:create"), event_form(**form_change))
        text = r.content.decode()
    else:
        r = api_post(alice_client, f"{API}/manage/events", event_body(**body_change))
        text = r.json()["detail"]
    assert r.status_code == 400
    assert message in text
    assert not Event.objects.exists()


def statuses(event: Event) -> list[tuple[str, str]]:
    return list(event.applicants.order_by("position").values_list("name", "status"))


@pytest.mark.parametrize("door", ["html", "api", "organiser-html", "organiser-api"])
def test_a_cancellation_leaves_the_same_state_through_every_door(
    client: Client, alice_client: Client, organiser: Organization, door: str
) -> None:
    """Cancelling the first of two promotes the one waiting, by the link or by the organiser,
    on the page or through the API."""
    event = make_event(organiser, capacity=2)
    app = make_application(event, [person(1), person(2)], contact_email="a@example.jp")
    make_application(event, [person(3)], contact_email="b@example.jp")
    first = app.applicants.order_by("position")[0]
    if door == "html":
        r = client.post(app.get_absolute_url(), {"applicant": str(first.code)})
    elif door == "api":
        r = api_post(
            client,
            f"{API}/applications/{app.signed_token}/cancel",
            {"applicants": [str(first.code)]},
        )
    elif door == "organiser-html":
        r = alice_client.post(reverse("events:organiser_cancel", args=[event.code, first.code]))
    else:
        r = api_post(
            alice_client, f"{API}/manage/events/{event.code}/applicants/{first.code}/cancel", {}
        )
    assert r.status_code in (200, 302)
    assert statuses(event) == [
        (person(1).name, "cancelled"),
        (person(2).name, "confirmed"),
        (person(3).name, "confirmed"),
    ]


@pytest.mark.parametrize("door", ["html", "htmx", "api"])
def test_attendance_is_refused_for_a_cancelled_place_with_one_message(
    alice_client: Client, event: Event, door: str
) -> None:
    """Marking a cancelled applicant present: 409 and the same sentence on every door."""
    a = make_application(event, [person(1)]).applicants.get()
    Applicant.objects.filter(pk=a.pk).update(status=Applicant.Status.CANCELLED)
    message = "取消済みの申込者は出席にできません。"
    if door == "api":
        r = api_post(
            alice_client,
            f"{API}/manage/events/{event.code}/applicants/{a.code}/attendance",
            {"attended": True},
        )
        assert (r.status_code, r.json()["detail"]) == (409, message)
    else:
        headers = {"HX-Request": "true"} if door == "htmx" else {}
        r = alice_client.post(
            reverse("events:attendance_toggle", args=[event.code, a.code]),
            {"attended": "1"},
            headers=headers,
            follow=door == "html",
        )
        assert message in r.content.decode()
        if door == "htmx":
            assert r.status_code == 409
    a.refresh_from_db()
    assert a.attended is False


@pytest.mark.parametrize("door", ["html", "api"])
def test_the_public_list_filters_alike_and_refuses_an_unknown_municipality(
    client: Client, organiser: Organization, door: str
) -> None:
    """One set of filters: the kind narrows both lists; an unknown code is a 400 with the same
    message instead of an empty list that reads as "nothing planned"."""
    make_event(organiser, title="研修会")
    make_event(organiser, title="市民講座", kind=EventKind.PUBLIC_LECTURE)
    if door == "html":
        ok = client.get(reverse("events:list"), {"kind": "public_lecture"}).content.decode()
        assert "市民講座" in ok and "研修会" not in ok
        bad = client.get(reverse("events:list"), {"municipality": "999999"})
        text = bad.content.decode()
    else:
        ok_items = client.get(f"{API}/", {"kind": "public_lecture"}).json()["items"]
        assert [e["title"] for e in ok_items] == ["市民講座"]
        bad = client.get(f"{API}/", {"municipality": "999999"})
        text = bad.json()["detail"]
    assert bad.status_code == 400
    assert "市区町村コードが見つかりません: 999999" in text
