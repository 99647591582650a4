"""Seeing it run (ADR 0039): request ids, JSON logs, and the request metrics of /metrics.

Every request gets an id — the load balancer's `X-Request-ID` when it sends a sane one, else
a new one — returned in the response's `X-Request-ID`, written on every log line of the
request, and carried into the jobs it enqueues (renkei.lib.jobs), whose log lines carry it
too: one id follows a placement request from the click to the mail's delivery.

`LOG_FORMAT=json` (the default with DEBUG off) writes one JSON object per line for the log
collector; `text` is for people at a terminal.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from prometheus_client import Counter, Histogram

HEADER = "X-Request-ID"
META_KEY = "HTTP_X_REQUEST_ID"
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("renkei_request_id", default="")
job_label: contextvars.ContextVar[str] = contextvars.ContextVar("renkei_job", default="")

REQUEST_SECONDS = Histogram(
    "renkei_http_request_duration_seconds",
    "Time to answer a request, by view",
    ["view", "method"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
REQUESTS = Counter(
    "renkei_http_requests",
    "Requests answered, by view and status class",
    ["view", "method", "status"],
)


def new_id() -> str:
    return uuid.uuid4().hex


@contextmanager
def bound(rid: str, job: str = "") -> Iterator[None]:
    """Log lines (and jobs enqueued) inside carry this request id (and job)."""
    token = request_id.set(rid)
    job_token = job_label.set(job) if job else None
    try:
        yield
    finally:
        request_id.reset(token)
        if job_token is not None:
            job_label.reset(job_token)


def view_label(request: HttpRequest) -> str:
    """The URL pattern's name (a bounded set), not the path (one label per facility)."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    if match.view_name:
        return str(match.view_name)
    return str(match.route or "unnamed")[:100]


class RequestIdMiddleware:
    """First in MIDDLEWARE: ids the request, times it for /metrics."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        # META, not request.headers: building the headers' mapping (every HTTP_ key of the
        # environ) was a fifth of this middleware's time on a JSON search (docs/benchmarks.md).
        incoming = request.META.get(META_KEY, "")
        rid = incoming if _SANE_ID.match(incoming) else new_id()
        request.request_id = rid  # type: ignore[attr-defined]
        started = time.perf_counter()
        with bound(rid):
            response = self.get_response(request)
        view = view_label(request)
        REQUEST_SECONDS.labels(view, request.method or "").observe(time.perf_counter() - started)
        REQUESTS.labels(view, request.method or "", f"{response.status_code // 100}xx").inc()
        response[HEADER] = rid
        return response


class ContextFilter(logging.Filter):
    """Puts the request id and the job on every record (for either format)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.job = job_label.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, job, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", "") or request_id.get()
        job = getattr(record, "job", "") or job_label.get()
        if rid:
            entry["request_id"] = rid
        if job:
            entry["job"] = job
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)
