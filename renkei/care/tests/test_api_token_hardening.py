"""API tokens, hardened (ADR 0044, review of issue 13): failed attempts are counted and
audited, `last_used_at` is written once a minute, `fhir:read` opens care's resources only,
and the token wins over a session cookie sent with it."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from renkei.accounts import tokens
from renkei.accounts.middleware import SESSION_REFRESHED_KEY, SESSION_STARTED_KEY
from renkei.accounts.models import ApiToken, AuditEntry, Membership
from renkei.care.models import Patient
from renkei.care.tests.test_api_tokens import CARE, bearer, issue

pytestmark = pytest.mark.django_db


@pytest.fixture
def tight_limits(settings: Any) -> None:
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "token_failure": "3/h",
        "token_failure_prefix": "2/h",
    }


# Failed attempts --------------------------------------------------------------------------


def test_a_refused_token_is_audited_with_its_prefix_never_its_secret(
    client: Client, station_admin: Membership, nurse: Membership, patient: Patient
) -> None:
    token, raw = issue(station_admin, nurse)
    tokens.revoke_token(token, by=station_admin)
    assert client.get(f"{CARE}/patients", headers=bearer(raw)).status_code == 401
    entry = AuditEntry.objects.get(action="accounts.token_refused")
    assert entry.detail == {
        "prefix": token.prefix,
        "reason": "revoked",
        "path": "/api/v1/care/patients",
    }
    assert entry.actor is None
    assert entry.organization == station_admin.organization  # the administrator sees it
    assert entry.target_id == str(token.pk)
    assert raw.split("_", 2)[2] not in str(entry.detail)
    assert entry.action_label == "APIトークンの拒否（認証失敗）"


@pytest.mark.parametrize(
    ("state", "reason"),
    [("unknown", "unknown"), ("secret", "secret"), ("expired", "expired"), ("pending", "pending")],
)
def test_each_kind_of_refusal_is_audited(
    client: Client,
    station_admin: Membership,
    nurse: Membership,
    patient: Patient,
    state: str,
    reason: str,
) -> None:
    token, raw = issue(station_admin, nurse, approve=state != "pending")
    if state == "unknown":
        raw = "rk_abcdefgh_" + "x" * 43
    elif state == "secret":
        raw = f"rk_{token.prefix}_{'A' * 43}"
    elif state == "expired":
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(1))
    assert client.get(f"{CARE}/patients", headers=bearer(raw)).status_code == 401
    entry = AuditEntry.objects.get(action="accounts.token_refused")
    assert entry.detail["reason"] == reason
    assert entry.detail["prefix"] == raw.split("_")[1]


def test_a_session_sent_with_a_refused_token_is_not_named_in_the_audit(
    client: Client, doctor: Membership, patient: Patient
) -> None:
    from renkei.care.tests.conftest import verified

    verified(client, doctor)
    response = client.get(f"{CARE}/patients", headers=bearer("rk_abcdefgh_" + "x" * 43))
    assert response.status_code == 401
    entry = AuditEntry.objects.get(action="accounts.token_refused")
    assert entry.actor is None
    assert entry.organization is None


def test_an_address_over_its_failures_gets_429_for_every_wrong_token(
    client: Client,
    station_admin: Membership,
    nurse: Membership,
    patient: Patient,
    tight_limits: None,
) -> None:
    _, good = issue(station_admin, nurse)
    for n in range(3):
        wrong = f"rk_abcdefg{n + 2}_" + "x" * 43
        assert client.get(f"{CARE}/patients", headers=bearer(wrong)).status_code == 401
    response = client.get(f"{CARE}/patients", headers=bearer("rk_zzzzzzzz_" + "x" * 43))
    assert response.status_code == 429
    assert "一時的に受け付けを止めています" in response.json()["detail"]
    assert int(response["Retry-After"]) > 0
    fhir = client.get(
        f"/api/fhir/Patient/{patient.code}", headers=bearer("rk_zzzzzzzy_" + "x" * 43)
    )
    assert fhir.status_code == 429
    assert fhir.json()["issue"][0]["code"] == "throttled"
    # A right token from that address still works: a stale token left in a rotated
    # gateway's cron job cannot shut the new one out.
    assert client.get(f"{CARE}/patients", headers=bearer(good)).status_code == 200
    # At most the limit's worth of audit lines per address and window.
    assert AuditEntry.objects.filter(action="accounts.token_refused").count() == 3
    # Another address is not held back.
    other = client.get(f"{CARE}/patients", headers=bearer(good), REMOTE_ADDR="192.0.2.77")
    assert other.status_code == 200


def test_a_prefix_over_its_failures_gets_429_but_its_right_secret_still_works(
    client: Client,
    station_admin: Membership,
    nurse: Membership,
    patient: Patient,
    tight_limits: None,
) -> None:
    token, good = issue(station_admin, nurse)
    forged = f"rk_{token.prefix}_{'A' * 43}"
    addresses = ["192.0.2.1", "192.0.2.2", "192.0.2.3"]
    codes = [
        client.get(f"{CARE}/patients", headers=bearer(forged), REMOTE_ADDR=a).status_code
        for a in addresses
    ]
    assert codes == [401, 401, 429]
    assert AuditEntry.objects.filter(action="accounts.token_refused").count() == 2
    # Whoever learned the prefix cannot shut the system out.
    assert client.get(f"{CARE}/patients", headers=bearer(good)).status_code == 200


def test_a_successful_token_is_not_counted(
    client: Client,
    station_admin: Membership,
    nurse: Membership,
    patient: Patient,
    tight_limits: None,
) -> None:
    _, good = issue(station_admin, nurse)
    for _ in range(6):
        assert client.get(f"{CARE}/patients", headers=bearer(good)).status_code == 200
    assert not AuditEntry.objects.filter(action="accounts.token_refused").exists()


# last_used_at ----------------------------------------------------------------------------


def test_last_used_at_is_written_at_most_once_a_refresh_interval(
    client: Client, station_admin: Membership, nurse: Membership, patient: Patient
) -> None:
    token, raw = issue(station_admin, nurse)
    assert client.get(f"{CARE}/patients", headers=bearer(raw)).status_code == 200
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first is not None
    assert client.get(f"{CARE}/patients", headers=bearer(raw)).status_code == 200
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first
    stale = first - dt.timedelta(seconds=settings.SESSION_REFRESH_SECONDS)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=stale)
    assert client.get(f"{CARE}/patients", headers=bearer(raw)).status_code == 200
    assert ApiToken.objects.get(pk=token.pk).last_used_at > first  # type: ignore[operator]


def test_the_first_use_of_a_day_is_audited_that_day_even_within_the_interval(
    client: Client, station_admin: Membership, nurse: Membership, patient: Patient
) -> None:
    """A gateway that read at 23:59:50 and reads again at 00:00:10 (Japan time) has used the
    token on a new day: the day's use line is written now, not at a later read that may
    never come."""
    token, raw = issue(station_admin, nurse)
    assert client.get(f"{CARE}/patients", headers=bearer(raw)).status_code == 200
    now = timezone.localtime()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if (now - midnight).total_seconds() < 30:
        pytest.skip("too close to midnight to place the last use on the day before")
    # The last use 10 s before midnight; with the interval made longer than any gap, only
    # the change of day can make this read write the row and the day's line.
    last = midnight - dt.timedelta(seconds=10)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=last)
    before = AuditEntry.objects.filter(action="accounts.token_used").count()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(settings, "SESSION_REFRESH_SECONDS", 10**9)  # every read is "fresh"
        assert client.get(f"{CARE}/patients", headers=bearer(raw)).status_code == 200
    assert AuditEntry.objects.filter(action="accounts.token_used").count() == before + 1
    assert ApiToken.objects.get(pk=token.pk).last_used_at > last  # type: ignore[operator]


def test_a_read_within_the_interval_writes_no_token_row(
    client: Client,
    station_admin: Membership,
    nurse: Membership,
    patient: Patient,
    django_assert_max_num_queries: Any,
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _, raw = issue(station_admin, nurse)
    client.get(f"{CARE}/patients", headers=bearer(raw))
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"{CARE}/patients", headers=bearer(raw)).status_code == 200
    updates = [q["sql"] for q in queries if q["sql"].startswith("UPDATE")]
    assert not any("accounts_apitoken" in sql for sql in updates)


# fhir:read --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/fhir/Organization",
        "/api/fhir/HealthcareService",
        "/api/fhir/Schedule",
        "/api/fhir/Measure",
        "/api/fhir/ServiceRequest",
        "/api/fhir/PatientX",
    ],
)
def test_fhir_read_opens_only_cares_resources(
    client: Client, station_admin: Membership, nurse: Membership, path: str
) -> None:
    _, raw = issue(station_admin, nurse, scopes=("fhir:read",))
    response = client.get(path, headers=bearer(raw))
    assert response.status_code == 403
    assert response.json()["resourceType"] == "OperationOutcome"


def test_fhir_read_reaches_every_type_the_capability_statement_gives_it(
    client: Client, station_admin: Membership, nurse: Membership, patient: Patient
) -> None:
    statement = client.get("/api/fhir/metadata").json()
    said = {
        r["type"]
        for r in statement["rest"][0]["resource"]
        if "fhir:read" in r.get("documentation", "")
    }
    assert said == tokens.FHIR_TYPES - {"metadata"}
    _, raw = issue(station_admin, nurse, scopes=("fhir:read",))
    for kind in sorted(said):
        response = client.get(f"/api/fhir/{kind}?patient={patient.code}", headers=bearer(raw))
        assert response.status_code == 200, (kind, response.content)
    assert client.get("/api/fhir/metadata", headers=bearer(raw)).status_code == 200


def test_a_token_reads_no_placement_network_task(
    client: Client, station_admin: Membership, nurse: Membership
) -> None:
    _, raw = issue(station_admin, nurse, scopes=("fhir:read",))
    read = client.get(f"/api/fhir/Task/{'0' * 8}-0000-0000-0000-{'0' * 12}", headers=bearer(raw))
    assert read.status_code == 404
    assert read.json()["resourceType"] == "OperationOutcome"
    search = client.get("/api/fhir/Task", headers=bearer(raw))
    assert search.status_code == 400
    assert search.json()["resourceType"] == "OperationOutcome"


# A session sent with a token -----------------------------------------------------------


def test_the_token_wins_and_the_session_it_came_with_is_neither_read_nor_refreshed(
    client: Client, station_admin: Membership, nurse: Membership, doctor: Membership
) -> None:
    """A stale session cookie in a system's jar (its absolute lifetime over) neither sends the
    system to the sign-in page nor is refreshed by the token's request."""
    from renkei.care.tests.conftest import verified

    verified(client, doctor)
    session = client.session
    long_ago = int(time.time()) - settings.SESSION_ABSOLUTE_SECONDS - 10
    session[SESSION_STARTED_KEY] = long_ago
    session[SESSION_REFRESHED_KEY] = long_ago
    session.save()
    _, raw = issue(station_admin, nurse)
    response = client.get(f"{CARE}/patients", headers=bearer(raw))
    assert response.status_code == 200
    after = client.session
    assert after[SESSION_REFRESHED_KEY] == long_ago
    assert after[SESSION_STARTED_KEY] == long_ago
    # Without the token, the same cookie is the expired session it is.
    assert client.get(f"{CARE}/patients").status_code in (302, 401)


def test_a_token_request_does_not_read_the_session_it_came_with(
    client: Client, station_admin: Membership, nurse: Membership, doctor: Membership
) -> None:
    """The session row (with its user and device, ADR 0071) is not even read: request.user
    is the token's member before anything asks for the cookie's."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from renkei.care.tests.conftest import verified

    verified(client, doctor)
    _, raw = issue(station_admin, nurse)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"{CARE}/patients", headers=bearer(raw))
    assert response.status_code == 200
    assert not any("accounts_session" in q["sql"] for q in queries)
    # The same cookie without the token is read (the statement the test looks for exists).
    with CaptureQueriesContext(connection) as queries:
        client.get(f"{CARE}/patients")
    assert any("accounts_session" in q["sql"] for q in queries)
