"""Test helpers for the job queue: a worker in a subprocess and a tiny SMTP sink."""

from __future__ import annotations

import os
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

MANAGE = Path(settings.BASE_DIR) / "manage.py"


def worker_env(**extra: str) -> dict[str, str]:
    """The environment of a worker that uses this test's database and the Procrastinate queue."""
    db = connection.settings_dict
    url = (
        f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        f"/{db['NAME']}"
    )
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "JOBS_BACKEND": "procrastinate",
        "DEBUG": "True",
        "LOG_LEVEL": "WARNING",
        "DB_CONN_MAX_AGE": "0",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }
    env.update(extra)
    return env


def start_worker(*worker_args: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`manage.py run_worker` in a subprocess, polling every 0.2 s (no LISTEN/NOTIFY needed)."""
    return subprocess.Popen(
        [
            sys.executable,
            str(MANAGE),
            "run_worker",
            "--",
            "--fetch-job-polling-interval",
            "0.2",
            *worker_args,
        ],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def stop(worker: subprocess.Popen[bytes], timeout: float = 30) -> str:
    """Stop a worker (SIGTERM: it finishes its job first) and return what it printed."""
    if worker.poll() is None:
        worker.terminate()
    try:
        out, _ = worker.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        worker.kill()
        out, _ = worker.communicate()
    return out.decode(errors="replace")


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class SmtpSink:
    """An SMTP server on 127.0.0.1:port that keeps every message it accepts (no TLS, no auth).

    Port 0 takes a free one (read `port` after `start`). `connections` counts the connections
    accepted; `refuse` holds addresses whose RCPT is refused (550); with `hang_up_after_message`
    the server closes each connection after it has accepted one message, without a word, as a
    server does whose idle timeout has passed."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list[Message] = []
        self.connections = 0
        self.refuse: set[str] = set()
        self.hang_up_after_message = False
        self._server: socketserver.ThreadingTCPServer | None = None

    def start(self) -> None:
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                sink.connections += 1
                self.wfile.write(b"220 sink ESMTP\r\n")
                while line := self.rfile.readline():
                    verb = line.strip().split(b" ")[0].upper()
                    if verb == b"DATA":
                        self.wfile.write(b"354 go ahead\r\n")
                        data = b""
                        while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                            data += chunk[1:] if chunk.startswith(b"..") else chunk
                        sink.messages.append(message_from_bytes(data))
                        self.wfile.write(b"250 queued\r\n")
                        if sink.hang_up_after_message:
                            return
                    elif verb == b"RCPT" and any(f"<{a}>".encode() in line for a in sink.refuse):
                        self.wfile.write(b"550 no such user\r\n")
                    elif verb == b"QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:
                        self.wfile.write(b"250 ok\r\n")

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
