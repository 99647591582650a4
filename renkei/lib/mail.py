"""E-mail through the job queue: rendered in the action, delivered by a worker.

One message per recipient, so no one sees another recipient's address. No message body may
carry identifying data about a patient or a consultation: a link to sign in and read it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage

from renkei.lib.jobs import job


@job(queue="mail", retries=10)
def deliver(*, to: str, subject: str, body: str, reply_to: list[str] | None = None) -> None:
    EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [to], reply_to=reply_to or None).send()


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
