from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from renkei.accounts.models import AuditEntry, Membership, Organization
from renkei.events.models import Applicant, Application, Event
from renkei.events.testing import make_application, make_event, person
from renkei.testing import sign_in

pytestmark = pytest.mark.django_db

BASE = "/api/v1/events"


def body(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "office_name": "さくら訪問看護ステーション",
        "contact_name": "連絡 担当",
        "contact_email": "sakura@example.jp",
        "contact_phone": "046-000-0001",
        "question_to": "doctor",
        "question": "夜間の連絡方法",
        "agree": True,
        "applicants": [
            {
                "name": "佐藤 花子",
                "kana": "さとう はなこ",
                "email": "sato@example.jp",
                "occupation": "nurse",
            },
            {
                "name": "鈴木 太郎",
                "kana": "すずき たろう",
                "email": "",
                "occupation": "care_worker",
            },
        ],
    }
    data.update(overrides)
    return data


def post(client: Client, url: str, data: Any, **headers: Any) -> Any:
    return client.post(url, json.dumps(data), content_type="application/json", **headers)


def test_public_list_and_detail(client: Client, event: Event, organiser: Organization) -> None:
    """Published upcoming events with 和暦 dates and places left; drafts are hidden."""
    make_event(organiser, title="下書き", published=False)
    data = client.get(f"{BASE}/").json()
    assert [e["title"] for e in data["items"]] == [event.title]
    item = data["items"][0]
    assert item["places_left"] == 30 and item["date_label"].startswith("令和")
    assert item["lecturers"][0]["name"] == "相模 一郎"
    assert client.get(f"{BASE}/{event.code}").json()["code"] == str(event.code)


def test_unknown_event_is_404_in_japanese(client: Client) -> None:
    """Errors are {"detail": ...} in Japanese."""
    response = client.get(f"{BASE}/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
    assert response.json() == {"detail": "研修・イベントが見つかりません"}


def test_apply_by_api_then_replay_with_idempotency_key(
    client: Client, event: Event, django_capture_on_commit_callbacks: Any
) -> None:
    """201 with statuses and a token; the same key and body returns the same application
    with 200; the same key with another body is a 409."""
    url = f"{BASE}/{event.code}/applications"
    with django_capture_on_commit_callbacks(execute=True):
        first = post(client, url, body(), HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201
    data = first.json()
    assert [a["status"] for a in data["applicants"]] == ["confirmed", "confirmed"]
    assert len(mail.outbox) == 2
    again = post(client, url, body(), HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.status_code == 200 and again.json()["code"] == data["code"]
    changed = post(client, url, body(question="別の質問"), HTTP_IDEMPOTENCY_KEY="k-1")
    assert changed.status_code == 409
    assert Application.objects.count() == 1


def test_api_duplicate_deadline_and_bad_email(
    client: Client, event: Event, organiser: Organization
) -> None:
    """Duplicates 409, after the deadline 409, malformed e-mail 400 — nothing saved."""
    url = f"{BASE}/{event.code}/applications"
    assert post(client, url, body()).status_code == 201
    dup = post(client, url, body(contact_email="other@example.jp"))
    assert dup.status_code == 409 and "既に申し込まれています" in dup.json()["detail"]
    closed = make_event(organiser, apply_until=timezone.now() - dt.timedelta(minutes=1))
    late = post(client, f"{BASE}/{closed.code}/applications", body())
    assert late.status_code == 409 and "申込期限" in late.json()["detail"]
    bad = body(applicants=[{"name": "x", "kana": "えっくす", "email": "x@", "occupation": "nurse"}])
    bad_resp = post(client, url, bad | {"contact_email": "new@example.jp"})
    assert bad_resp.status_code == 400 and "メールアドレス" in bad_resp.json()["detail"]
    assert Applicant.objects.count() == 2


@pytest.mark.parametrize(
    "change",
    [
        {"agree": False},
        {"applicants": []},
        {"applicants": [{"name": "x", "kana": "x", "email": "", "occupation": "wizard"}]},
        {"contact_email": "a@b@c"},
        {"question_to": "wizard"},
        {"contact_name": "\x00"},
    ],
)
def test_api_refuses_bad_bodies_with_400(
    client: Client, event: Event, change: dict[str, Any]
) -> None:
    """Malformed bodies get a 400 with a detail, never a 500."""
    response = post(client, f"{BASE}/{event.code}/applications", body(**change))
    assert response.status_code == 400
    assert "detail" in response.json()
    assert Applicant.objects.count() == 0


def test_token_endpoints_show_and_cancel_only_that_application(
    client: Client, event: Event
) -> None:
    """The token reads one application; cancelling one applicant leaves the other."""
    app = make_application(event, [person(1), person(2)])
    other = make_application(event, [person(3)], contact_email="o@example.jp")
    got = client.get(f"{BASE}/applications/{app.signed_token}").json()
    assert {a["name"] for a in got["applicants"]} == {person(1).name, person(2).name}
    first = app.applicants.order_by("position").first()
    assert first is not None
    stranger = other.applicants.get()
    refused = post(
        client,
        f"{BASE}/applications/{app.signed_token}/cancel",
        {"applicants": [str(stranger.code)]},
    )
    assert refused.status_code == 404
    done = post(
        client, f"{BASE}/applications/{app.signed_token}/cancel", {"applicants": [str(first.code)]}
    )
    assert done.status_code == 200 and done.json()["cancelled"] == [str(first.code)]
    assert client.get(f"{BASE}/applications/{app.cancel_token}").status_code == 404


def test_organiser_endpoints_need_login_and_membership(
    client: Client, charlie_client: Client, event: Event
) -> None:
    """Anonymous 401; another organisation's member 404 — both in Japanese."""
    assert client.get(f"{BASE}/manage/events").status_code == 401
    r = charlie_client.get(f"{BASE}/manage/events/{event.code}/applicants")
    assert r.status_code == 404 and r.json()["detail"] == "研修・イベントが見つかりません"
    assert charlie_client.get(f"{BASE}/manage/events").json() == []


def test_organiser_reads_applicants_audited_and_marks_attendance(
    alice_client: Client, alice: Membership, event: Event
) -> None:
    """The applicant list is audited; attendance toggles through the API."""
    a = make_application(event, [person(1)]).applicants.get()
    rows = alice_client.get(f"{BASE}/manage/events/{event.code}/applicants").json()
    assert rows[0]["email"] == person(1).email
    assert AuditEntry.objects.filter(action="events.applicants_viewed", actor=alice.user).exists()
    r = post(
        alice_client,
        f"{BASE}/manage/events/{event.code}/applicants/{a.code}/attendance",
        {"attended": True},
    )
    assert r.status_code == 200 and r.json()["attended"] is True
    tally = alice_client.get(f"{BASE}/manage/events/{event.code}/tally").json()
    assert tally["total"]["attended"] == 1


def test_session_api_enforces_csrf(alice: Membership, event: Event) -> None:
    """A cookie-authenticated POST without the CSRF token is refused."""
    c = Client(enforce_csrf_checks=True)
    sign_in(c, alice.user)
    a = make_application(event, [person(1)]).applicants.get()
    r = post(
        c, f"{BASE}/manage/events/{event.code}/applicants/{a.code}/attendance", {"attended": True}
    )
    assert r.status_code == 403
    a.refresh_from_db()
    assert not a.attended


def test_organiser_creates_and_patches_event(alice_client: Client, alice: Membership) -> None:
    """Create with lecturers (naive times are Japan time); raising capacity promotes."""
    r = post(
        alice_client,
        f"{BASE}/manage/events",
        {
            "title": "API研修",
            "starts_at": "2035-06-12T18:30:00",
            "venue_name": "市民会館",
            "capacity": 1,
            "published": True,
            "lecturers": [{"name": "丹沢 みどり", "topic": "看取り"}],
        },
    )
    assert r.status_code == 201, r.content
    event = Event.objects.get(title="API研修")
    assert timezone.localtime(event.starts_at).hour == 18
    assert event.organization == alice.organization
    make_application(event, 2)
    patched = alice_client.patch(
        f"{BASE}/manage/events/{event.code}",
        json.dumps({"capacity": 2}),
        content_type="application/json",
    )
    assert patched.status_code == 200 and patched.json()["waitlisted"] == 0
    bad = alice_client.patch(
        f"{BASE}/manage/events/{event.code}",
        json.dumps({"apply_until": "2035-07-01T00:00:00"}),
        content_type="application/json",
    )
    assert bad.status_code == 400 and "申込期限" in bad.json()["detail"]


def test_year_tally_endpoint(alice_client: Client) -> None:
    """The yearly summary is labelled in 和暦."""
    data = alice_client.get(f"{BASE}/manage/tally?fy=2025").json()
    assert data["label"].startswith("令和7年度")


def test_every_events_endpoint_is_in_openapi(client: Client) -> None:
    """The schema lists the public and organiser endpoints with summaries."""
    schema = client.get("/api/v1/openapi.json").json()
    paths = {p for p in schema["paths"] if p.startswith("/api/v1/events")}
    for expected in (
        "/api/v1/events/",
        "/api/v1/events/{code}",
        "/api/v1/events/{code}/applications",
        "/api/v1/events/applications/{token}",
        "/api/v1/events/applications/{token}/cancel",
        "/api/v1/events/manage/events",
        "/api/v1/events/manage/events/{code}/applicants",
        "/api/v1/events/manage/tally",
    ):
        assert expected in paths, expected
    apply_op = schema["paths"]["/api/v1/events/{code}/applications"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in apply_op["parameters"])


def test_malformed_multipart_is_a_400_not_a_500(alice: Membership, event: Event) -> None:
    """A multipart type without a boundary on a session endpoint (where the CSRF check
    reads the body) is refused with 400, not a server error."""
    token = "abcdefghijklmnopqrstuvwxyz012345"
    c = Client(enforce_csrf_checks=True)
    sign_in(c, alice.user)
    c.cookies["csrftoken"] = token
    response = c.post(
        f"{BASE}/manage/events/{event.code}/feedback-requests",
        b"x",
        content_type="multipart/form-data",
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 400
    assert "detail" in response.json()


def test_patch_null_clears_text_but_not_required_fields(alice_client: Client, event: Event) -> None:
    """null on an optional text field clears it; on the title it is refused in Japanese."""
    url = f"{BASE}/manage/events/{event.code}"
    ok = alice_client.patch(
        url,
        json.dumps({"co_organiser": None, "reception_time": "18:00:00+09:00"}),
        content_type="application/json",
    )
    assert ok.status_code == 200, ok.content
    assert ok.json()["co_organiser"] == "" and ok.json()["reception_time"] == "18:00"
    bad = alice_client.patch(url, json.dumps({"title": None}), content_type="application/json")
    assert bad.status_code == 400 and "タイトル" in bad.json()["detail"]
