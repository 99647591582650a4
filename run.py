#!/usr/bin/env python3
"""Set up and run Renkei with nothing but Python 3.11+ and git.

    python3 run.py demo [--port 8000]   create .venv, install, migrate, seed the demo region, serve
    python3 run.py test [pytest args]   create .venv, install dev tools, run the whole test suite

Everything lands in .venv/ and var/ inside the checkout; delete them to start over.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")


def say(msg: str) -> None:
    print(f"\033[1m[renkei]\033[0m {msg}", flush=True)


def run(*args: str | Path, env: dict[str, str] | None = None) -> None:
    result = subprocess.run([str(a) for a in args], cwd=ROOT, env=env)
    if result.returncode != 0:
        sys.exit(result.returncode)


def ensure_venv(lock: str) -> None:
    if not PY.exists():
        say("仮想環境を作成しています (.venv)")
        venv.EnvBuilder(with_pip=True).create(VENV)
    lock_path = ROOT / lock
    stamp = VENV / f".installed-{lock}"
    digest = hashlib.sha256(lock_path.read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    say(f"依存パッケージをインストールしています ({lock})")
    # --no-compile: bytecode is written on first import, for the modules actually used.
    run(
        PY,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-compile",
        "--disable-pip-version-check",
        "-r",
        lock_path,
    )
    stamp.write_text(digest)


def demo_env(port: str, base: dict[str, str] | None = None) -> dict[str, str]:
    """The demo's environment: debug on (production is the default), and links in e-mails and
    on flyers' QR codes pointing at the port actually served, unless SITE_URL is set."""
    env = dict(os.environ if base is None else base)
    env["DJANGO_SETTINGS_MODULE"] = "renkei.settings"
    env["DEBUG"] = "True"  # runserver and the published demo keys are for debug only
    env.setdefault("SITE_URL", f"http://127.0.0.1:{port}")
    return env


def demo(argv: list[str]) -> None:
    port = os.environ.get("PORT", "8000")
    if "--port" in argv:
        port = argv[argv.index("--port") + 1]
    ensure_venv("requirements.lock")
    (ROOT / "var").mkdir(exist_ok=True)
    env = demo_env(port)
    say("データベースを準備しています (SQLite: var/renkei.sqlite3)")
    run(PY, "manage.py", "migrate", "--noinput", "-v", "0", env=env)
    run(PY, "manage.py", "seed_demo", env=env)
    say(f"http://127.0.0.1:{port}/ で起動します（終了は Ctrl+C）")
    with contextlib.suppress(KeyboardInterrupt):
        subprocess.run(
            [str(PY), "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
        )


def test(argv: list[str]) -> None:
    ensure_venv("requirements-dev.lock")
    # Debug asked for explicitly (production is the default); tests/debug_env.py does the same
    # for pytest run any other way.
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "renkei.settings", "DEBUG": "True"}
    if (
        shutil.which("chromium") is None
        and not Path(os.environ.get("RENKEI_CHROMIUM", "/usr/bin/chromium")).exists()
    ):
        say(
            "Chromium が見つかりません: ブラウザテストはスキップされます (apt-get install chromium fonts-noto-cjk)"
        )
    parallel = [] if any(a == "-n" or a.startswith("-n") for a in argv) else ["-n", "auto"]
    # pytest-xdist spreads the suite over the cores; each worker has its own test database.
    result = subprocess.run([str(PY), "-m", "pytest", *parallel, *argv], cwd=ROOT, env=env)
    sys.exit(result.returncode)


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in ("demo", "test"):
        print(__doc__)
        sys.exit(2)
    {"demo": demo, "test": test}[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
