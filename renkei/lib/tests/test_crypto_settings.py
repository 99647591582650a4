"""Production refuses to start without its own encryption keys (DEBUG off)."""

from __future__ import annotations

import os
import subprocess
import sys

from renkei.lib.crypto import DEMO_FIELD_KEYS, DEMO_INDEX_KEY, new_key


def _start(**env: str) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY", "DEBUG", "SECRET_KEY")
    }
    base.update(
        {"DJANGO_SETTINGS_MODULE": "renkei.settings", "DEBUG": "False", "SECRET_KEY": "x" * 60}
    )
    base.update(env)
    # What gunicorn does first (renkei.lib.startup refuses there).
    code = "import renkei.wsgi; print('started')"
    return subprocess.run(
        [sys.executable, "-c", code], env=base, capture_output=True, text=True, timeout=60
    )


def test_production_needs_both_keys() -> None:
    r = _start()
    assert r.returncode != 0 and "FIELD_ENCRYPTION_KEYS" in r.stderr


def test_production_refuses_the_demo_keys() -> None:
    r = _start(FIELD_ENCRYPTION_KEYS=DEMO_FIELD_KEYS[0], BLIND_INDEX_KEY=DEMO_INDEX_KEY)
    assert r.returncode != 0 and "demo encryption keys" in r.stderr


def test_production_starts_with_its_own_keys() -> None:
    r = _start(FIELD_ENCRYPTION_KEYS=f"k1:{new_key()}", BLIND_INDEX_KEY=new_key())
    assert r.returncode == 0, r.stderr
    assert "started" in r.stdout
