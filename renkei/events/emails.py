"""E-mails to applicants. Called from transaction.on_commit, so they read committed rows."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string

from renkei.events.models import Applicant, Application

log = logging.getLogger(__name__)


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _send(subject: str, template: str, to: list[str], context: dict[str, Any]) -> None:
    # Titles come from organisers; a line break in a header would be refused by the mailer.
    subject = " ".join(subject.split())
    body = render_to_string(f"emails/{template}", {**context, "SITE_NAME": settings.SITE_NAME})
    EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, to).send()


def _application(application_id: int) -> Application:
    return Application.objects.select_related("event", "event__organization").get(pk=application_id)


def send_confirmation(application_id: int) -> None:
    """One message to the contact address listing everyone, and one to each applicant
    whose own address differs (the paper form lets the contact pass it on instead)."""
    app = _application(application_id)
    applicants = list(app.applicants.order_by("position"))
    ctx = {
        "app": app,
        "event": app.event,
        "applicants": applicants,
        "link": absolute(app.get_absolute_url()),
        "event_url": absolute(app.event.get_absolute_url()),
    }
    subject = f"【申込受付】{app.event.title}"
    _send(subject, "events_confirmation.txt", [app.contact_email], ctx)
    contact = app.contact_email.lower()
    for a in applicants:
        if a.email and a.email_key != contact:
            _send(subject, "events_confirmation.txt", [a.email], {**ctx, "personal": a})


def send_cancelled(application_id: int, applicant_ids: Iterable[int]) -> None:
    app = _application(application_id)
    cancelled = list(Applicant.objects.filter(pk__in=list(applicant_ids)).order_by("position"))
    _send(
        f"【申込取消】{app.event.title}",
        "events_cancelled.txt",
        [app.contact_email],
        {"app": app, "event": app.event, "cancelled": cancelled},
    )


def send_promoted(applicant_ids: Iterable[int]) -> None:
    for a in Applicant.objects.filter(pk__in=list(applicant_ids)).select_related(
        "application", "event"
    ):
        recipients = sorted({a.mail_to, a.application.contact_email})
        _send(
            f"【参加確定のお知らせ】{a.event.title}",
            "events_promoted.txt",
            recipients,
            {
                "a": a,
                "app": a.application,
                "event": a.event,
                "link": absolute(a.application.get_absolute_url()),
            },
        )


def send_feedback_requests(applicant_ids: Iterable[int]) -> None:
    ids = list(applicant_ids)
    for a in Applicant.objects.filter(pk__in=ids).select_related("application", "event"):
        _send(
            f"【アンケートのお願い】{a.event.title}",
            "events_feedback.txt",
            [a.mail_to],
            {"a": a, "event": a.event, "link": absolute(a.get_feedback_url())},
        )
    log.info("feedback requests sent: %d", len(ids))
