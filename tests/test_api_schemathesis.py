"""Schemathesis over the whole /api/v1/ schema: no 5xx, no undocumented status, no response that
breaks the schema — anonymously and signed in, in the roles that unlock each app's endpoints.

The schema is the one the WSGI application serves. Generation is derandomised and bounded, so a
run is deterministic; RENKEI_API_FUZZ_EXAMPLES raises the bound for a deeper local run. One
seeded world (tests/api_world.py) is shared by the module; each operation's test runs in its own
savepoint, so what one operation's examples change (a withdrawn case, a cancelled application) is
gone before the next. About half of the generated path parameters, and of the body fields that
name other records (municipality codes, topics, facilities, mentors), are replaced by values of
seeded objects, so handlers run past their 404 and 400 into the actions behind them.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import Client
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from renkei.accounts.models import OrgKind, Role
from renkei.desk.models import Consultation
from renkei.desk.testing import make_desk, make_desk_member
from renkei.events.models import Event
from renkei.referrals.models import Survey
from renkei.testing import make_facility, make_member, make_org, sign_in
from renkei.wsgi import application
from tests.api_world import CSRF_TOKEN, World, build_world

EXAMPLES = int(os.environ.get("RENKEI_API_FUZZ_EXAMPLES", "12"))

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20260401,
        "generation": {"mode": "all", "deterministic": True, "database": "none"},
        # No examples in the schema, and the coverage phase's boundary cases are unbounded in
        # number; fuzzing alone keeps the run's length fixed.
        "phases": {
            "examples": {"enabled": False},
            "coverage": {"enabled": False},
            "fuzzing": {"enabled": True},
        },
    }
)

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application, config=CONFIG)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=EXAMPLES,
    suppress_health_check=[
        # `db` and `world` are shared on purpose: examples build on each other's changes
        # inside one operation's savepoint.
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
# Without a session every member-only operation stops at the same 401, whatever the input.
FEW = settings(FUZZ, max_examples=max(EXAMPLES // 4, 2))

# Filled by the `world` fixture before any example is drawn; read by the hooks below.
REAL: dict[str, Any] = {"path": {}, "body": {}}


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
    """Half of the time, point the path at seeded objects."""
    known = REAL["path"].get(context.operation.path)
    if not known or path_parameters is None:
        return st.just(path_parameters)
    return st.one_of(
        st.just(path_parameters),
        st.sampled_from(known).map(lambda real: {**path_parameters, **real}),
    )


@schema.hook
def flatmap_body(context: Any, body: Any) -> Any:
    """Half of the time, fill the fields that name other records with values that exist."""
    keys = [k for k in body if k in REAL["body"]] if isinstance(body, dict) else []
    if not keys:
        return st.just(body)
    real = st.fixed_dictionaries({k: st.sampled_from(REAL["body"][k]) for k in keys})
    return st.one_of(st.just(body), real.map(lambda values: {**body, **values}))


def _members_only(context: Any) -> bool:
    return bool(context.operation.definition.raw.get("security"))


def _public(context: Any) -> bool:
    return not _members_only(context)


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """The seeded organisations, members, records and signed-in sessions for this module.

    Built once inside a transaction that is rolled back at the end, so no other module sees it;
    every test's own `db` savepoint nests inside it.
    """
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            built = build_world()
            REAL["path"], REAL["body"] = built.path_parameters, built.body_values
            yield built
        finally:
            REAL["path"], REAL["body"] = {}, {}
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@contextmanager
def _connection_kept_open() -> Iterator[None]:
    """The calls go through the real WSGI handler, whose request signals would close the
    connection holding the test transaction (on PostgreSQL); Django's test client does the same."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        yield
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)


def _call(case: schemathesis.Case, world: World, role: str | None) -> None:
    # The CSRF pair goes with every call, so that writes reach the session check (401) or the
    # handler rather than stopping at the CSRF check (403).
    cookies = {"csrftoken": CSRF_TOKEN}
    if role is not None:
        cookies["sessionid"] = world.sessions[role]
    with _connection_kept_open():
        case.call_and_validate(headers={"X-CSRFToken": CSRF_TOKEN}, cookies=cookies, checks=CHECKS)


@schema.include(_public).parametrize()
@FUZZ
def test_public_operations_never_fail_or_break_the_schema(
    case: schemathesis.Case, world: World, db: None
) -> None:
    """The public operations (directory search, event applications, report links), anonymously."""
    _call(case, world, None)


@schema.include(_members_only).parametrize()
@FEW
def test_members_only_operations_answer_401_without_a_session(
    case: schemathesis.Case, world: World, db: None
) -> None:
    """Every member-only operation without a session: a documented 401/400, never a 5xx."""
    _call(case, world, None)


@schema.include(path_regex=r"^/api/v1/referrals/").parametrize()
@FUZZ
def test_hospital_msw_calls_never_fail_or_break_the_schema(
    case: schemathesis.Case, world: World, db: None
) -> None:
    """入退院支援 as the hospital's MSW, on cases in every state."""
    _call(case, world, "msw")


@schema.include(
    path_regex=r"^/api/v1/referrals/(requests|unread|cases/\{code\}/(events|handovers|requests)$)"
).parametrize()
@FUZZ
def test_receiving_facility_calls_never_fail_or_break_the_schema(
    case: schemathesis.Case, world: World, db: None
) -> None:
    """入退院支援 as a receiving facility's staff: the inbox, answers, messages and handovers."""
    _call(case, world, "receiver")


@schema.include(path_regex=r"^/api/v1/(directory/|referrals/(dashboard|surveys))").parametrize()
@FUZZ
def test_municipal_officer_calls_never_fail_or_break_the_schema(
    case: schemathesis.Case, world: World, db: None
) -> None:
    """The directory (curating the city's facilities) and 効果検証 (the dashboard, surveys) as the
    city."""
    _call(case, world, "officer")


@schema.include(path_regex=r"^/api/v1/desk/").parametrize()
@FUZZ
def test_desk_counselor_calls_never_fail_or_break_the_schema(
    case: schemathesis.Case, world: World, db: None
) -> None:
    """相談窓口 as the desk's counselor."""
    _call(case, world, "counselor")


@schema.include(path_regex=r"^/api/v1/events/manage/").parametrize()
@FUZZ
def test_events_organiser_calls_never_fail_or_break_the_schema(
    case: schemathesis.Case, world: World, db: None
) -> None:
    """研修の管理 as a member of the organising body, on past, open and full events."""
    _call(case, world, "organiser")


@schema.include(path_regex=r"^/api/v1/mentoring/").exclude(_public).parametrize()
@FUZZ
def test_mentoring_office_calls_never_fail_or_break_the_schema(
    case: schemathesis.Case, world: World, db: None
) -> None:
    """同行研修 as the city office that runs the programme, at every stage of the workflow."""
    _call(case, world, "office")


API_MODULES = (
    "renkei.directory.api",
    "renkei.referrals.api",
    "renkei.referrals.survey_api",
    "renkei.desk.api",
    "renkei.events.api",
    "renkei.mentoring.api",
    "renkei.programmes.actions",
    "renkei.programmes.api",
    "renkei.programmes.schemas",
)


def test_no_two_apps_publish_different_schemas_under_one_name() -> None:
    """The OpenAPI document keys components by class name: a second schema or enum of the same
    name would silently replace the first, and one app's requests and responses would be
    documented with another's fields (events' and mentoring's ApplicationOut did)."""
    seen: dict[str, tuple[str, Any]] = {}
    clashes = []
    for name in API_MODULES:
        module = importlib.import_module(name)
        for model in vars(module).values():
            if not (isinstance(model, type) and issubclass(model, BaseModel)):
                continue
            if not model.__module__.startswith("renkei."):
                continue
            js = model.model_json_schema(ref_template="#/components/schemas/{model}")
            defs = js.pop("$defs", {})
            for key, definition in {model.__name__: js, **defs}.items():
                owner = f"{model.__module__}.{model.__qualname__}"
                first = seen.setdefault(key, (owner, definition))
                if first[1] != definition:
                    clashes.append(f"{key}: {first[0]} / {owner}")
    assert clashes == []


@pytest.mark.parametrize("starts_at", ["0001-01-01T00:00:00+13:01", "9999-12-31T23:59:59-13:00"])
def test_event_times_at_the_ends_of_the_calendar_get_a_400(
    client: Client, db: None, starts_at: str
) -> None:
    """Found by this fuzzing: such a time overflowed on its way to UTC for storage (a 500). Now it
    gets a Japanese message and no event is created."""
    org = make_org("研修主催（テスト）", OrgKind.COORDINATION_CENTER, municipality_code="142158")
    sign_in(client, make_member(org, Role.COUNSELOR, username="calendar-ends").user)
    before = Event.objects.count()
    response = client.post(
        "/api/v1/events/manage/events",
        {"title": "多職種研修会", "starts_at": starts_at},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "2000年〜2100年" in response.json()["detail"]
    assert Event.objects.count() == before


def test_null_on_the_facility_note_clears_it(client: Client, db: None) -> None:
    """Found by this fuzzing: PATCH with "conditions_note": null reached the NOT NULL column (a
    500). null now clears the note, like the other optional fields it is sent with."""
    city = make_org("藤沢市（テスト）", OrgKind.MUNICIPALITY, municipality_code="142051")
    sign_in(client, make_member(city, Role.MUNICIPAL_OFFICER, username="null-note").user)
    facility = make_facility(
        "特養テスト苑",
        municipality_code="142051",
        conditions_note="夜間は要相談",
        accepts_dementia=True,
    )
    response = client.patch(
        f"/api/v1/directory/facilities/{facility.code}",
        {"conditions_note": None, "accepts_dementia": None, "care_level_max": None},
        content_type="application/json",
    )
    assert response.status_code == 200
    facility.refresh_from_db()
    assert (facility.conditions_note, facility.accepts_dementia) == ("", None)


def test_a_topic_id_beyond_the_column_gets_a_400(client: Client, db: None) -> None:
    """Found by this fuzzing: a topic id past 64 bits reached the database lookup (a 500)."""
    desk = make_desk()
    sign_in(client, make_desk_member(desk).user)
    response = client.post(
        f"/api/v1/desk/desks/{desk.code}/consultations",
        {
            "received_at": "2026-04-01T10:00:00+09:00",
            "channel": "phone",
            "asker_type": "family",
            "topics": [2**70],
            "scene": "daily",
            "summary": "訪問看護について",
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "topics" in response.json()["detail"]
    assert not Consultation.objects.filter(desk=desk).exists()


def test_nul_characters_and_non_json_bodies_get_a_japanese_400(client: Client, db: None) -> None:
    """Found by this fuzzing on PostgreSQL: a NUL in a text field reached the insert (a 500).
    Every body and query string with a NUL is refused (renkei.lib.badinput), and a body that
    is not JSON gets a Japanese message that says so, instead of Ninja's English one."""
    city = make_org("藤沢市（テスト）", OrgKind.MUNICIPALITY, municipality_code="142051")
    sign_in(client, make_member(city, Role.MUNICIPAL_OFFICER, username="nul-test").user)
    survey = {"title": "所要時間\x00調査", "opens_on": "2026-04-01", "closes_on": "2026-05-01"}
    response = client.post("/api/v1/referrals/surveys", survey, content_type="application/json")
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]
    response = client.post(
        "/api/v1/referrals/surveys", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"] and "NUL" not in response.json()["detail"]
    assert not Survey.objects.filter(owner=city).exists()
    response = client.get("/api/v1/directory/facilities", {"q": "特養\x00"})
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]
