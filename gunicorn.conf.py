"""Gunicorn settings, read from the working directory (docs/operations.md).

With PROMETHEUS_MULTIPROC_DIR set, each worker process writes its metrics to files there and
/metrics adds them up; a worker that exits must be marked dead so its gauges stop counting.
Empty that directory before gunicorn starts (systemd: ExecStartPre=/bin/rm -rf …/*).
"""

from __future__ import annotations

import os
from typing import Any


def child_exit(server: Any, worker: Any) -> None:
    if os.getenv("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
