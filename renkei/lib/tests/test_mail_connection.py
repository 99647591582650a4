"""A worker's mail jobs share its SMTP connection; a failure drops it and fails the job (ADR 0076)."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator

import pytest
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.test import override_settings

from renkei.lib import mail
from renkei.ops.testing import SmtpSink


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    server = SmtpSink(0)
    server.start()
    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=server.port,
            EMAIL_USE_TLS=False,
            EMAIL_HOST_USER="",
            EMAIL_HOST_PASSWORD="",
        ):
            yield server
    finally:
        mail.close_connection()
        server.stop()


def send(to: str) -> None:
    mail.deliver(to=to, subject="受入れ依頼", body="確認してください")


def delivered(sink: SmtpSink) -> list[str]:
    return [str(m["To"]) for m in sink.messages]


def test_a_workers_messages_go_over_one_connection(sink: SmtpSink) -> None:
    """Five mail jobs in a row: five messages, each once, over one connection."""
    for i in range(5):
        send(f"m{i}@example.jp")
    assert delivered(sink) == [f"m{i}@example.jp" for i in range(5)]
    assert sink.connections == 1


def test_a_connection_is_replaced_after_its_share_of_messages(
    sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Servers cap the messages a connection: a new one after SMTP_MESSAGES_A_CONNECTION."""
    monkeypatch.setattr(mail, "SMTP_MESSAGES_A_CONNECTION", 2)
    for i in range(5):
        send(f"m{i}@example.jp")
    assert delivered(sink) == [f"m{i}@example.jp" for i in range(5)]
    assert sink.connections == 3


def test_a_connection_the_server_closed_while_idle_is_replaced_before_the_message(
    sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server hangs up after each message; with the NOOP check before reuse every job
    still delivers its message once, each on a new connection."""
    monkeypatch.setattr(mail, "SMTP_CHECK_IDLE_SECONDS", 0.0)
    sink.hang_up_after_message = True
    for i in range(3):
        send(f"m{i}@example.jp")
    assert delivered(sink) == ["m0@example.jp", "m1@example.jp", "m2@example.jp"]
    assert sink.connections == 3


def test_a_message_that_fails_fails_its_job_and_is_not_sent_again_by_it(
    sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refused recipient: the job raises for the queue to retry, sends nothing twice, and the
    next job opens a new connection."""
    monkeypatch.setattr(mail, "SMTP_CHECK_IDLE_SECONDS", 3600.0)
    sink.refuse = {"gone@example.jp"}
    send("a@example.jp")
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send("gone@example.jp")
    send("b@example.jp")
    assert sink.connections == 2  # the failure dropped the first
    assert delivered(sink) == ["a@example.jp", "b@example.jp"]


def test_a_kept_connection_that_broke_unchecked_is_replaced_once_for_the_message(
    sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server hangs up after each message and the kept connection is reused without a NOOP
    (idle under the check's threshold): the next message goes once, on a new connection,
    instead of failing its job and waiting for the queue's retry."""
    monkeypatch.setattr(mail, "SMTP_CHECK_IDLE_SECONDS", 3600.0)
    sink.hang_up_after_message = True
    for i in range(3):
        send(f"m{i}@example.jp")
    assert delivered(sink) == ["m0@example.jp", "m1@example.jp", "m2@example.jp"]
    assert sink.connections == 3


def test_a_new_connection_that_breaks_fails_the_job_without_a_second_try(
    sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only a kept connection is tried again: a message whose own new connection the server
    closes fails its job (the queue retries it later), sent once at most."""
    real_open = SmtpBackend.open

    def open_then_lose(self: SmtpBackend) -> bool | None:
        result = real_open(self)
        assert self.connection is not None
        self.connection.close()  # as a server that hangs up at once
        return result

    monkeypatch.setattr(SmtpBackend, "open", open_then_lose)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        send("x@example.jp")
    assert delivered(sink) == []
    assert sink.connections == 1


def test_without_smtp_nothing_is_kept(settings: object) -> None:
    """The memory backend of the tests (and the demo's console) sends as before."""
    from django.core import mail as django_mail

    send("x@example.jp")
    assert [m.to for m in django_mail.outbox] == [["x@example.jp"]]
    assert getattr(mail._kept, "current", None) is None
