"""E-mail through the job queue: rendered in the action, delivered by a worker.

One message per recipient, so no one sees another recipient's address. No message body may
carry identifying data about a patient or a consultation: a link to sign in and read it.
"""

from __future__ import annotations

import contextlib
import smtplib
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.utils.module_loading import import_string

from renkei.lib.jobs import job

# A worker's SMTP connection is kept between its mail jobs (ADR 0076): a new one per message
# (connect, EHLO, STARTTLS, AUTH, QUIT) was most of a mail job's CPU. It is checked with a NOOP
# when it has been idle this long (a server may have closed it meanwhile), and replaced after
# this many messages (servers limit messages a connection and answer 421 past the limit).
SMTP_CHECK_IDLE_SECONDS = 1.0
SMTP_MESSAGES_A_CONNECTION = 100


@dataclass
class _Kept:
    backend: SmtpBackend
    key: tuple[object, ...]
    last_used: float = 0.0
    sent: int = 0


# Per thread: Procrastinate runs sync jobs on a pool of threads, and Django's SMTP backend
# serialises its connection with a lock.
_kept = threading.local()


def _smtp_key() -> tuple[object, ...]:
    return (
        settings.EMAIL_BACKEND,
        settings.EMAIL_HOST,
        settings.EMAIL_PORT,
        settings.EMAIL_HOST_USER,
        settings.EMAIL_HOST_PASSWORD,
        settings.EMAIL_USE_TLS,
        settings.EMAIL_USE_SSL,
        settings.EMAIL_SSL_CERTFILE,
        settings.EMAIL_SSL_KEYFILE,
        settings.EMAIL_TIMEOUT,
    )


def _discard(kept: _Kept) -> None:
    """Drop a connection without talking to the server (it may be gone)."""
    if kept.backend.connection is not None:
        with contextlib.suppress(Exception):
            kept.backend.connection.close()
        kept.backend.connection = None
    _kept.current = None


def _kept_connection() -> _Kept:
    key = _smtp_key()
    kept: _Kept | None = getattr(_kept, "current", None)
    if kept is not None and (kept.key != key or kept.sent >= SMTP_MESSAGES_A_CONNECTION):
        with contextlib.suppress(Exception):
            kept.backend.close()
        _discard(kept)
        kept = None
    if kept is not None and time.monotonic() - kept.last_used >= SMTP_CHECK_IDLE_SECONDS:
        # Checked before the message, never by resending it: a message that fails is the
        # job's failure (retried later by the queue), as with a connection of its own.
        try:
            alive = kept.backend.connection is not None and kept.backend.connection.noop()[0] == 250
        except Exception:
            alive = False
        if not alive:
            _discard(kept)
            kept = None
    if kept is None:
        backend = get_connection()
        assert isinstance(backend, SmtpBackend)
        backend.open()
        kept = _kept.current = _Kept(backend=backend, key=key)
    return kept


def close_connection() -> None:
    """Close this thread's kept SMTP connection, if any (the tests, between their servers)."""
    kept: _Kept | None = getattr(_kept, "current", None)
    if kept is not None:
        with contextlib.suppress(Exception):
            kept.backend.close()
        _discard(kept)


@job(queue="mail", retries=10)
def deliver(*, to: str, subject: str, body: str, reply_to: list[str] | None = None) -> None:
    """One message to one address. Over SMTP the thread's connection is reused; any failure
    drops it and fails the job, so a message is sent again only by the queue's retry, exactly
    when it was before: the server failed or broke the connection before confirming it."""
    message = EmailMessage(
        subject, body, settings.DEFAULT_FROM_EMAIL, [to], reply_to=reply_to or None
    )
    if not issubclass(import_string(settings.EMAIL_BACKEND), SmtpBackend):
        # Console and memory backends (the demo, the tests) have no connection to keep.
        message.send()
        return
    # At most twice: a connection used less than SMTP_CHECK_IDLE_SECONDS ago (so not
    # NOOP-checked) that the server has closed or capped (421) gets the message once more on
    # a new one, as the queue's retry would after its wait; a new connection's failure fails
    # the job. A message is sent twice no more often than by that retry.
    for _ in range(2):
        kept = _kept_connection()
        try:
            kept.backend.send_messages([message])
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPSenderRefused) as e:
            _discard(kept)
            capped = not isinstance(e, smtplib.SMTPSenderRefused) or e.smtp_code == 421
            if kept.sent == 0 or not capped:
                raise
            continue
        except BaseException:
            _discard(kept)
            raise
        kept.sent += 1
        kept.last_used = time.monotonic()
        return
    raise AssertionError("unreachable: a new connection's failure raises above")


def subject_line(subject: str) -> str:
    return f"【{settings.SITE_NAME}】{subject}"


@dataclass(frozen=True)
class Message:
    """One text to its recipients (each gets a copy of their own)."""

    to: Iterable[str]
    subject: str
    body: str
    reply_to: Iterable[str] = ()


def send(*, to: Iterable[str], subject: str, body: str, reply_to: Iterable[str] = ()) -> int:
    """Enqueue one message per distinct non-empty address; returns how many."""
    return send_all([Message(to=to, subject=subject, body=body, reply_to=reply_to)])


def send_all(messages: Iterable[Message]) -> int:
    """`send` for several texts, enqueued together (one statement on Procrastinate)."""
    calls: list[dict[str, object]] = []
    for m in messages:
        seen: list[str] = []
        for address in m.to:
            if address and address not in seen:
                seen.append(address)
        subject, reply_to = subject_line(m.subject), list(m.reply_to)
        calls += [
            {"to": address, "subject": subject, "body": m.body, "reply_to": reply_to}
            for address in seen
        ]
    deliver.enqueue_each(calls)
    return len(calls)


def site_url(path: str) -> str:
    """An absolute link for a message (settings.SITE_URL + path)."""
    return settings.SITE_URL.rstrip("/") + path
