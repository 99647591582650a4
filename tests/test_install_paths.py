"""What a fresh installation needs beyond a green test run (issue 9 §1): the production static
storage collects every file, the pages link only collected files, /healthz fails when pages
would, and the demo links to the port it serves."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import OperationalError, connections
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client

from renkei import views

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["/", "/directory/", "/accounts/login/", "/events/"]


@pytest.fixture(autouse=True)
def _migration_state_per_test() -> None:
    views._Migrated.done = False


def _production_static(settings: Any, root: Path) -> None:
    settings.STATIC_ROOT = root
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }


def test_collectstatic_with_the_production_storage_and_every_linked_file_exists(
    settings: Any, tmp_path: Path, client: Client
) -> None:
    _production_static(settings, tmp_path)
    call_command("collectstatic", "--noinput", verbosity=0)
    assert (tmp_path / "staticfiles.json").exists()
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 200, url
        links = re.findall(r'(?:href|src)="/static/([^"?#]+)', response.content.decode())
        assert links, url
        for link in links:
            assert (tmp_path / link).is_file(), f"{url} links /static/{link}, not collected"
    assert client.get("/healthz").status_code == 200


def test_no_static_file_references_a_missing_source_map() -> None:
    # The production storage refuses to collect these (ManifestStaticFilesStorage rewrites the
    # reference and needs the target); checked here without running collectstatic.
    for path in (ROOT / "static").rglob("*"):
        if path.suffix not in (".js", ".css"):
            continue
        for ref in re.findall(r"sourceMappingURL=(\S+?)(?:\s*\*/)?\s*$", path.read_text(), re.M):
            assert (path.parent / ref).is_file(), f"{path} references missing {ref}"


def test_healthz_ok(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_fails_when_the_static_manifest_is_missing(
    settings: Any, tmp_path: Path, client: Client
) -> None:
    _production_static(settings, tmp_path)  # collectstatic never ran
    response = client.get("/healthz")
    assert response.status_code == 503
    assert "collectstatic" in response.json()["failures"]["static"]
    # ... which is exactly when the pages fail.
    with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
        client.get("/")


def test_healthz_fails_with_an_unapplied_migration(client: Client) -> None:
    last = MigrationRecorder.Migration.objects.filter(app="events").latest("id")
    last.delete()
    response = client.get("/healthz")
    assert response.status_code == 503
    failure = response.json()["failures"]["migrations"]
    assert f"events.{last.name}" in failure and "1 件" in failure


def test_healthz_fails_when_the_database_is_unreachable(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(connections["default"], "cursor", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert "データベース" in response.json()["failures"]["database"]


def _run_py() -> Any:
    spec = importlib.util.spec_from_file_location("renkei_run", ROOT / "run.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_demo_links_to_the_port_it_serves() -> None:
    env = _run_py().demo_env("8123", base={})
    assert env["SITE_URL"] == "http://127.0.0.1:8123"
    assert env["DEBUG"] == "True"
    # An operator's own SITE_URL wins.
    env = _run_py().demo_env("8123", base={"SITE_URL": "https://demo.example.jp"})
    assert env["SITE_URL"] == "https://demo.example.jp"
