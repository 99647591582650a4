from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from renkei.accounts.models import Membership
from renkei.events.models import Application, Event, EventKind, Scene
from renkei.events.tests.test_apply import form_post, row

pytestmark = pytest.mark.django_db


def test_form_has_three_rows_like_the_paper_form(client: Client, event: Event) -> None:
    """Seed 002's form has room for three applicants and the question fields."""
    body = client.get(reverse("events:apply", args=[event.code])).content.decode()
    for i in range(3):
        assert f'name="a-{i}-kana"' in body
    assert 'name="a-3-kana"' not in body
    assert 'name="question_to"' in body and "聞いてみたい内容" in body
    assert "申込者を追加" in body


def test_add_row_without_javascript_keeps_typed_values(client: Client, event: Event) -> None:
    """「申込者を追加」 as a plain submit redisplays everything typed with one more row."""
    rows = [row("佐藤 花子", "さとう はなこ", "sato@example.jp", "care_worker")] + [
        row("", "", "", "")
    ] * 2
    data = form_post(event, rows, add_row="1")
    response = client.post(reverse("events:apply", args=[event.code]), data)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'name="a-3-kana"' in body and 'name="a-4-kana"' not in body
    assert 'value="佐藤 花子"' in body and 'value="himawari@example.jp"' in body
    assert Application.objects.count() == 0
    assert "errorlist" not in body


def test_added_rows_may_stay_blank(client: Client, event: Event) -> None:
    """Submitting after adding rows does not require the extra blank rows."""
    rows = [row("佐藤 花子", "さとう はなこ", "sato@example.jp", "care_worker")] + [
        row("", "", "", "")
    ] * 3
    response = client.post(reverse("events:apply", args=[event.code]), form_post(event, rows))
    assert response.status_code == 302
    assert Application.objects.get().applicants.count() == 1


def test_htmx_row_comes_with_counter_update(client: Client, event: Event) -> None:
    """The htmx endpoint returns the 4th row and out-of-band updates of the counter and button."""
    response = client.get(
        reverse("events:applicant_row", args=[event.code]) + "?index=3", HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert 'name="a-3-name"' in body and "申込者4" in body
    assert 'id="id_a-TOTAL_FORMS"' in body and 'value="4"' in body
    assert "index=4" in body


@pytest.mark.parametrize("index", ["-1", "20", "abc"])
def test_htmx_row_refuses_out_of_range(client: Client, event: Event, index: str) -> None:
    """No row beyond the 20-applicant limit, and no malformed index."""
    response = client.get(reverse("events:applicant_row", args=[event.code]) + f"?index={index}")
    assert response.status_code == 400


def test_organiser_creates_event_with_lecturers(alice_client: Client, alice: Membership) -> None:
    """The create form saves the event under the member's organisation with its lecturers."""
    data = {
        "title": "在宅での看取りを支える",
        "kind": EventKind.INTERPROFESSIONAL,
        "programme_item": "ka",
        "scene": Scene.END_OF_LIFE,
        "target_occupations": ["doctor", "nurse"],
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
        "l-MIN_NUM_FORMS": "0",
        "l-MAX_NUM_FORMS": "20",
        "l-0-name": "丹沢 みどり",
        "l-0-affiliation": "みどり在宅クリニック",
        "l-0-topic": "在宅看取りの実際",
    }
    response = alice_client.post(reverse("events:create"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    event = Event.objects.get(title="在宅での看取りを支える")
    assert event.organization == alice.organization
    assert [x.name for x in event.lecturers.all()] == ["丹沢 みどり"]
    assert event.deadline_label == "令和17年5月30日(水)"
    assert event.target_occupations == ["doctor", "nurse"]


def test_event_form_refuses_deadline_after_start(alice_client: Client) -> None:
    """A deadline after the start and an end before it are explained, nothing saved."""
    data = {
        "title": "逆転",
        "kind": EventKind.INTERPROFESSIONAL,
        "programme_item": "ka",
        "starts_at": "2035-06-12T18:30",
        "ends_at": "2035-06-12T17:00",
        "venue_name": "市民会館",
        "apply_until_date": "2035-06-20",
        "l-TOTAL_FORMS": "0",
        "l-INITIAL_FORMS": "0",
    }
    response = alice_client.post(reverse("events:create"), data)
    body = response.content.decode()
    assert response.status_code == 400
    assert "申込期限は開始日時より前" in body and "終了日時は開始日時より後" in body
    assert not Event.objects.filter(title="逆転").exists()


def test_organiser_enters_a_fax_application_after_the_deadline(
    alice_client: Client, event: Event
) -> None:
    """A FAX that arrived in time may be typed in after the deadline; it is marked as FAX."""
    import datetime as dt

    from django.utils import timezone

    event.apply_until = timezone.now() - dt.timedelta(hours=1)
    event.save()
    rows = [row("佐藤 花子", "さとう はなこ", "", "care_worker")]
    response = alice_client.post(
        reverse("events:proxy_apply", args=[event.code]), form_post(event, rows)
    )
    assert response.status_code == 302
    assert Application.objects.get().source == Application.Source.FAX
