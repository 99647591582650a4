"""E-mails to applicants, rendered inside the action and delivered by the job queue.

Each person is sent only what is theirs: the application's contact gets the whole
application and its link; an applicant with an address of their own gets their own place
and a link that reaches only that place (issue 9 §5: a co-applicant's mail carried everyone
on the form and the link that cancels them all).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings

from renkei.events.models import Applicant, Application, Event, public_page
from renkei.lib.actions import notify
from renkei.lib.mail import site_url


def _send(
    to: Iterable[str], tag: str, event: Event, template: str, context: Mapping[str, Any]
) -> None:
    # Titles come from organisers; a line break in a header would be refused by the mailer.
    subject = " ".join(f"【{tag}】{event.title}".split())
    notify(
        to=to,
        subject=subject,
        template=template,
        context={**context, "event": event, "SITE_NAME": settings.SITE_NAME},
    )


def confirmation(app: Application) -> None:
    """One message to the contact listing everyone, and one to each applicant whose own
    address differs (the paper form lets the contact pass it on instead)."""
    applicants = list(app.applicants.order_by("position"))
    common = {"app": app, "event_url": site_url(public_page(app.event))}
    whole = {"applicants": applicants, "link": site_url(app.get_absolute_url())}
    _send([app.contact_email], "申込受付", app.event, "events_confirmation.txt", common | whole)
    for a in applicants:
        a.application = app
        if a.has_own_address:
            own = {"personal": a, "link": site_url(a.get_personal_url())}
            _send([a.email], "申込受付", app.event, "events_confirmation.txt", common | own)


def cancellation(app: Application, cancelled: list[Applicant]) -> None:
    """The application's contact is told who was cancelled."""
    _send(
        [app.contact_email],
        "申込取消",
        app.event,
        "events_cancelled.txt",
        {"app": app, "cancelled": cancelled},
    )


def promotion(event: Event, promoted: list[Applicant]) -> None:
    """Each promoted applicant with an address of their own, and their application's contact."""
    for a in promoted:
        app = a.application
        if a.has_own_address:
            _send(
                [a.email],
                "参加確定のお知らせ",
                event,
                "events_promoted.txt",
                {"a": a, "app": app, "personal": True, "link": site_url(a.get_personal_url())},
            )
        _send(
            [app.contact_email],
            "参加確定のお知らせ",
            event,
            "events_promoted.txt",
            {"a": a, "app": app, "link": site_url(app.get_absolute_url())},
        )


def feedback_requests(event: Event, applicants: list[Applicant]) -> None:
    for a in applicants:
        _send(
            [a.mail_to],
            "アンケートのお願い",
            event,
            "events_feedback.txt",
            {"a": a, "link": site_url(a.get_feedback_url())},
        )
