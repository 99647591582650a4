"""The events API means what its schema says (issue 17 §2): bodies are JSON objects of the
typed inputs, and the OpenAPI schema states the rules the server enforces."""

from __future__ import annotations

import json
from typing import Any

import pydantic
import pytest
from django.test import Client

from renkei.events import actions
from renkei.events.models import Application, Event, EventKind, Occupation
from renkei.events.testing import make_application, person

pytestmark = pytest.mark.django_db

API = "/api/v1/events"
NOT_OBJECTS = ['"zz"', "[1, 2]", "7", "null", '"title"']


@pytest.mark.parametrize("body", NOT_OBJECTS)
def test_a_patch_that_is_not_an_object_changes_nothing(
    alice_client: Client, event: Event, body: str
) -> None:
    """PATCH with the body "zz" answered 200 and renamed the event 「Zz」 (the schema library
    read str.title); [1,2], 7 and null answered 200 too. Now each is refused."""
    title = event.title
    r = alice_client.patch(
        f"{API}/manage/events/{event.code}", body, content_type="application/json"
    )
    assert r.status_code in (400, 415, 422)
    assert "detail" in r.json()
    event.refresh_from_db()
    assert event.title == title


@pytest.mark.parametrize("body", NOT_OBJECTS)
def test_no_write_of_the_events_api_takes_a_body_that_is_not_an_object(
    client: Client, alice_client: Client, event: Event, body: str
) -> None:
    """Creating, applying (both forms), cancelling and marking attendance: 4xx, nothing written."""
    app = make_application(event, [person(1)])
    a = app.applicants.get()
    before = (Event.objects.count(), Application.objects.count())
    for c, url in [
        (alice_client, f"{API}/manage/events"),
        (client, f"{API}/{event.code}/applications"),
        (client, f"{API}/{event.code}/resident-applications"),
        (client, f"{API}/applications/{app.signed_token}/cancel"),
        (alice_client, f"{API}/manage/events/{event.code}/applicants/{a.code}/attendance"),
    ]:
        r = c.post(url, body, content_type="application/json")
        assert r.status_code in (400, 415, 422), (url, r.status_code)
    a.refresh_from_db()
    assert (a.status, a.attended) == ("confirmed", False)
    assert (Event.objects.count(), Application.objects.count()) == before


@pytest.mark.parametrize(
    "model",
    [
        actions.EventInput,
        actions.EventPatch,
        actions.EventApplicationInput,
        actions.ResidentApplicationInput,
        actions.EventCancelInput,
        actions.AttendanceInput,
        actions.EventFeedbackInput,
    ],
)
def test_the_inputs_themselves_take_only_objects(model: type[pydantic.BaseModel]) -> None:
    """Strict models, whatever door: a string, a list, a number or null is not an input."""
    for value in ("zz", [1, 2], 7, None):
        with pytest.raises(pydantic.ValidationError) as caught:
            model.model_validate(value)
        assert caught.value.errors()[0]["type"] == "model_type"


def test_unknown_fields_are_refused_not_ignored(alice_client: Client, event: Event) -> None:
    """A misspelt field is an error the client sees, not a silent no-op."""
    r = alice_client.patch(
        f"{API}/manage/events/{event.code}",
        json.dumps({"titel": "新しいタイトル"}),
        content_type="application/json",
    )
    assert r.status_code == 400 and "titel" in r.json()["detail"]


def _schema(client: Client) -> dict[str, Any]:
    schema: dict[str, Any] = client.get("/api/v1/openapi.json").json()
    return schema


def _component(schema: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = schema["components"]["schemas"][name]
    return found


def test_the_schema_lists_the_kinds_and_ranges_of_the_public_list(client: Client) -> None:
    """Kinds as an enum, page and per_page with their ranges, the municipality's format."""
    schema = _schema(client)
    params = {p["name"]: p["schema"] for p in schema["paths"][f"{API}/"]["get"]["parameters"]}
    assert params["kind"]["anyOf"][0]["$ref"].endswith("/EventKind")
    assert _component(schema, "EventKind")["enum"] == list(EventKind.values)
    assert (params["page"]["minimum"], params["page"]["maximum"]) == (1, 10_000)
    assert (params["per_page"]["minimum"], params["per_page"]["maximum"]) == (1, 100)
    assert params["municipality"]["anyOf"][0]["pattern"] == "^[0-9]{6}$"


def test_the_schema_shows_required_what_the_server_requires(client: Client) -> None:
    """事業所名 and the phone are required for a training (they were shown optional); a
    resident's form asks neither, and 聞いてみたい職種 lists exactly the form's choices."""
    schema = _schema(client)
    pro = _component(schema, "EventApplicationInput")
    assert {"office_name", "contact_phone", "contact_name", "contact_email", "agree"} <= set(
        pro["required"]
    )
    assert pro["properties"]["office_name"]["minLength"] == 1
    assert pro["properties"]["contact_phone"]["minLength"] == 1
    assert pro["properties"]["agree"]["const"] is True
    question = pro["properties"]["question_to"]["anyOf"][0]["enum"]
    assert question == [v for v, _ in Occupation.question_choices()]
    resident = _component(schema, "ResidentApplicationInput")
    assert set(resident["required"]) == {"name", "kana", "email", "agree"}
    assert "office_name" not in resident["properties"]
    assert "question_to" not in resident["properties"]
    assert resident["properties"]["party_size"]["maximum"] == actions.MAX_PARTY


def test_the_schema_states_the_date_range_and_what_null_may_clear(client: Client) -> None:
    """Times are 2000–2100 in the schema as on the server; in a PATCH, null is offered only
    where it clears something (not for the title, the kind or the start)."""
    schema = _schema(client)
    full = _component(schema, "EventInput")
    assert full["properties"]["starts_at"]["pattern"] == "^(20[0-9]{2}|2100)-"
    assert "starts_at" in full["required"] and "title" in full["required"]
    patch = _component(schema, "EventPatch")
    assert "required" not in patch
    for name in ("title", "starts_at", "published", "kind"):
        assert "anyOf" not in patch["properties"][name], name
        assert "default" not in patch["properties"][name], name
    assert {"type": "null"} in patch["properties"]["co_organiser"]["anyOf"]
    assert patch["properties"]["title"]["maxLength"] == 200


def test_a_null_title_is_refused_and_a_null_note_clears(alice_client: Client, event: Event) -> None:
    """The two meanings of null in a PATCH, as the schema shows them."""
    url = f"{API}/manage/events/{event.code}"
    r = alice_client.patch(url, json.dumps({"kind": None}), content_type="application/json")
    assert r.status_code == 400 and "種類は空にできません" in r.json()["detail"]
    event.co_organiser = "共催の会"
    event.save()
    r = alice_client.patch(url, json.dumps({"co_organiser": None}), content_type="application/json")
    assert r.status_code == 200 and r.json()["co_organiser"] == ""


def test_the_survey_summary_reads_the_same_on_the_page_and_the_api(
    alice_client: Client, organiser: Any
) -> None:
    """One summary for both doors: the averages, distributions and comments."""
    import datetime as dt

    from django.utils import timezone

    from renkei.events.testing import make_event

    held = make_event(organiser, starts_at=timezone.now() - dt.timedelta(hours=2))
    a = make_application(held, [person(1)], now=held.starts_at - dt.timedelta(days=9))
    actions.submit_feedback(
        a.applicants.get(),
        actions.EventFeedbackInput(satisfaction=4, usefulness=5, comment="顔が見えました"),
    )
    data = alice_client.get(f"{API}/manage/events/{held.code}/feedback").json()
    assert (data["count"], data["satisfaction_avg"], data["comments"]) == (
        1,
        4.0,
        ["顔が見えました"],
    )
    assert data["usefulness_dist"] == [0, 0, 0, 0, 1]
    page = alice_client.get(f"/events/manage/{held.code}/feedback/").content.decode()
    assert "4.0 / 5" in page and "顔が見えました" in page
