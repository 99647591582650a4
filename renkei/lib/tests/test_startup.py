"""Production is the default, and it refuses the published demo key or no key (issue 17 §7)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from renkei.lib.crypto import DEMO_SECRET_KEY, new_key

ROOT = Path(__file__).resolve().parents[3]
CLEARED = ("DEBUG", "SECRET_KEY", "SECRET_KEY_FILE", "FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY")


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in CLEARED}
    base.update({"DJANGO_SETTINGS_MODULE": "renkei.settings", **env})
    return subprocess.run(
        [sys.executable, *args], env=base, cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def _keys() -> dict[str, str]:
    return {"FIELD_ENCRYPTION_KEYS": f"k1:{new_key()}", "BLIND_INDEX_KEY": new_key()}


def test_debug_is_off_unless_asked_for() -> None:
    code = "from django.conf import settings; print(settings.DEBUG)"
    assert _run("-c", code).stdout.strip() == "False"
    assert _run("-c", code, DEBUG="True").stdout.strip() == "True"


def test_the_server_refuses_to_start_without_a_key() -> None:
    r = _run("-c", "import renkei.wsgi", **_keys())
    assert r.returncode != 0
    assert "SECRET_KEY (or SECRET_KEY_FILE) is not set" in r.stderr
    assert "DEBUG=True for development" in r.stderr


def test_the_server_refuses_the_demo_key_outside_debug() -> None:
    r = _run("-c", "import renkei.wsgi", SECRET_KEY=DEMO_SECRET_KEY, **_keys())
    assert r.returncode != 0
    assert "SECRET_KEY is the demo key published with the code" in r.stderr


def test_the_server_starts_with_its_own_keys_and_in_debug_with_none() -> None:
    r = _run("-c", "import renkei.wsgi; print('started')", SECRET_KEY="s" * 60, **_keys())
    assert r.returncode == 0, r.stderr
    r = _run("-c", "import renkei.wsgi; print('started')", DEBUG="True")
    assert r.returncode == 0, r.stderr


def test_runserver_and_the_worker_refuse_with_the_message_alone() -> None:
    for command in ("runserver", "run_worker"):
        r = _run("manage.py", command, SECRET_KEY=DEMO_SECRET_KEY, **_keys())
        assert r.returncode == 1
        assert r.stderr.startswith("Renkei refuses to start:\n- SECRET_KEY is the demo key")
        assert "Traceback" not in r.stderr


def test_check_deploy_reports_the_same_problems_and_tools_still_load() -> None:
    r = _run("manage.py", "check", "--deploy")
    assert r.returncode != 0
    assert "renkei.E001" in r.stderr and "FIELD_ENCRYPTION_KEYS" in r.stderr
    # mypy's Django plugin and makemigrations only read the settings: no keys needed.
    r = _run("manage.py", "makemigrations", "--check", "--dry-run")
    assert r.returncode == 0, r.stderr


def test_the_server_imports_its_urls_before_the_first_request() -> None:
    code = (
        "import sys, renkei.wsgi; print('renkei.urls' in sys.modules, 'renkei.api' in sys.modules)"
    )
    r = _run("-c", code, SECRET_KEY="s" * 60, **_keys())
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["True", "True"]
