"""The read-replica router (ADR 0039), with a second database alias mirroring the test database.

The alias `replica` points at the same test database as `default` (what TEST MIRROR does), so
the tests are transactional: a second connection sees only committed rows. Which connection
ran a query tells where a request read.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from renkei.lib import replica
from renkei.testing import (
    DEMO_PASSWORD,
    make_facility,
    make_member,
    make_org,
    pass_second_factor,
    sign_in,
)

REPLICA_DB = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


@pytest.fixture
def replica_alias(settings: Any) -> None:
    """conftest.py's `replica` alias mirrors the test database; reads are routed through it."""
    assert connections[replica.REPLICA].settings_dict["TEST"]["MIRROR"] == "default"
    settings.REPLICA_READS = True


@pytest.fixture
def facility(replica_alias: None) -> Any:
    return make_facility("さくら苑", capability_codes=())


def _reads(client: Client, url: str, **extra: Any) -> tuple[int, list[str], list[str]]:
    """(status, SQL run on the primary, SQL run on the replica) for one GET."""
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections[replica.REPLICA]) as rep,
    ):
        response = client.get(url, **extra)
    return (
        response.status_code,
        [q["sql"] for q in primary.captured_queries],
        [q["sql"] for q in rep.captured_queries],
    )


def _touches(queries: list[str], table: str) -> bool:
    return any(table in sql for sql in queries)


@pytest.mark.parametrize(
    "url",
    [
        "/directory/?q=さくら",
        "/directory/points.json?q=さくら",
        "/api/v1/directory/facilities?q=さくら",
        "/api/hsds/services",
        "/api/fhir/Organization",
    ],
)
@REPLICA_DB
def test_anonymous_directory_reads_go_to_the_replica(facility: Any, url: str) -> None:
    status, primary, rep = _reads(Client(), url)
    assert status == 200
    assert _touches(rep, "directory_facility")
    assert not _touches(primary, "directory_facility")


@REPLICA_DB
def test_a_signed_in_search_reads_the_primary(facility: Any) -> None:
    member = make_member(make_org("病院"))
    client = Client()
    sign_in(client, member.user)
    status, primary, rep = _reads(client, "/directory/?q=さくら")
    assert status == 200
    assert _touches(primary, "directory_facility")
    assert rep == []


@REPLICA_DB
def test_sessions_and_accounts_stay_on_the_primary_during_a_replica_read(facility: Any) -> None:
    member = make_member(make_org("病院"))
    client = Client()
    sign_in(client, member.user)
    # HSDS is served from the replica to signed-in users too; who they are is read from the primary.
    status, primary, rep = _reads(client, "/api/hsds/services")
    assert status == 200
    assert _touches(rep, "directory_facility")
    assert _touches(primary, "accounts_session") and not _touches(rep, "accounts_session")
    assert not any("accounts_" in sql for sql in rep)


@REPLICA_DB
def test_who_has_just_written_reads_the_primary_for_a_while(facility: Any) -> None:
    member = make_member(make_org("病院"))
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": member.user.username, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 302
    cookie = response.cookies[replica.COOKIE]
    assert cookie["max-age"] == 15 and cookie["httponly"]
    pass_second_factor(client, member.user)  # a member who reads named data (care: MSW)
    status, primary, rep = _reads(client, "/directory/export.csv?q=さくら")
    assert status == 200
    assert _touches(primary, "directory_facility") and rep == []

    # An API client keeps no cookie: the marker of the signed-in user keeps it on the primary.
    del client.cookies[replica.COOKIE]
    status, primary, rep = _reads(client, "/directory/export.csv?q=さくら")
    assert status == 200 and rep == []

    # Once the marker has expired, the same export is read from the replica.
    cache.delete(replica.sticky_key(member.user.pk))
    status, primary, rep = _reads(client, "/directory/export.csv?q=さくら")
    assert status == 200
    assert _touches(rep, "directory_facility") and not _touches(primary, "directory_facility")
    # The audit entry of the export is written on the primary.
    assert _touches(primary, "accounts_auditentry")


@REPLICA_DB
def test_a_failed_write_marks_nothing(replica_alias: None) -> None:
    bad = Client().post("/api/v1/directory/facilities/not-a-uuid/vacancy", {})
    assert bad.status_code >= 400
    assert replica.COOKIE not in bad.cookies


@pytest.mark.django_db
def test_without_replica_reads_nothing_is_routed_or_marked() -> None:
    assert not replica.replica_configured()
    member = make_member(make_org("病院"))
    response = Client().post(
        "/accounts/login/", {"username": member.user.username, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 302
    assert replica.COOKIE not in response.cookies


def test_the_router_never_migrates_the_replica() -> None:
    router = replica.ReplicaRouter()
    assert router.allow_migrate("replica", "directory") is False
    assert router.allow_migrate("default", "directory") is None


# ---- settings: the environment selects the replica, the shared cache and the object store ----


def _settings_of(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_REPLICA_URL", "CACHE_URL", "S3_BUCKET", "S3_ENDPOINT_URL")
    }
    base.update({"DJANGO_SETTINGS_MODULE": "renkei.settings", **env})
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); " + code],
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_database_replica_url_adds_a_mirrored_alias() -> None:
    r = _settings_of(
        "from django.conf import settings as s; r = s.DATABASES['replica'];"
        "print(r['ENGINE'], r['HOST'], r['NAME'], r['TEST']['MIRROR'])",
        DATABASE_REPLICA_URL="postgres://reader@replica.internal:5432/renkei",
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [
        "renkei.lib.postgresql",
        "replica.internal",
        "renkei",
        "default",
    ]


def test_cache_url_shares_counters_and_sessions_in_redis() -> None:
    # Building the cache connects to nothing; the first command does.
    r = _settings_of(
        "from django.conf import settings as s; from django.core.cache import caches;"
        "print(type(caches['default']).__name__, s.SESSION_ENGINE)",
        CACHE_URL="redis://cache.internal:6379/0",
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["RedisCache", "renkei.accounts.sessions.cached_db"]
    r = _settings_of(
        "from django.conf import settings as s; from django.core.cache import caches;"
        "print(type(caches['default']).__name__, s.SESSION_ENGINE)"
    )
    assert r.stdout.split() == ["LocMemCache", "renkei.accounts.sessions.db"]


def test_s3_bucket_puts_uploads_in_the_object_store() -> None:
    # Constructing the storage reaches no network; only reading or writing a file would.
    r = _settings_of(
        "from django.core.files.storage import storages; d = storages['default'];"
        "print(type(d).__name__, d.bucket_name, d.endpoint_url, d.default_acl, d.file_overwrite)",
        S3_BUCKET="renkei-media",
        S3_ENDPOINT_URL="https://s3.example.jp",
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [
        "S3Storage",
        "renkei-media",
        "https://s3.example.jp",
        "None",
        "False",
    ]
    r = _settings_of(
        "from django.core.files.storage import storages; d = storages['default']; print(type(d).__name__)"
    )
    assert r.stdout.split() == ["FileSystemStorage"]


@REPLICA_DB
def test_a_failing_replica_sends_reads_to_the_primary_for_a_while(
    facility: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import OperationalError

    def gone(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("the replica went away")

    monkeypatch.setattr(connections[replica.REPLICA], "cursor", gone)
    client = Client(raise_request_exception=False)
    assert client.get("/directory/points.json").status_code == 500
    assert cache.get(replica.DOWN_KEY)
    monkeypatch.undo()
    status, primary, rep = _reads(Client(), "/directory/?q=さくら")
    assert status == 200 and rep == [] and _touches(primary, "directory_facility")
    cache.delete(replica.DOWN_KEY)
    status, primary, rep = _reads(Client(), "/directory/?q=さくら")
    assert status == 200 and _touches(rep, "directory_facility")
