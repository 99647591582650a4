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
from renkei.lib.actions import Notice, notify_all
from renkei.lib.mail import site_url


def _notice(
    to: Iterable[str], tag: str, event: Event, template: str, context: Mapping[str, Any]
) -> Notice:
    # Titles come from organisers; a line break in a header would be refused by the mailer.
    subject = " ".join(f"【{tag}】{event.title}".split())
    return Notice(
        to, subject, template, {**context, "event": event, "SITE_NAME": settings.SITE_NAME}
    )


def _send(
    to: Iterable[str], tag: str, event: Event, template: str, context: Mapping[str, Any]
) -> None:
    notify_all([_notice(to, tag, event, template, context)])


def confirmation(
    app: Application, applicants: list[Applicant] | None = None, *, event_url: str = ""
) -> None:
    """One message to the contact listing everyone, and one to each applicant whose own
    address differs (the paper form lets the contact pass it on instead); enqueued together.
    `applicants`: the application's, in order, when the caller has just written them;
    `event_url`: the event's public page when the caller has read it already."""
    if applicants is None:
        applicants = list(app.applicants.order_by("position"))
    common = {"app": app, "event_url": event_url or site_url(public_page(app.event))}
    whole = {"applicants": applicants, "link": site_url(app.get_absolute_url())}
    tag, template = "申込受付", "events_confirmation.txt"
    notices = [_notice([app.contact_email], tag, app.event, template, common | whole)]
    for a in applicants:
        a.application = app
        if a.has_own_address:
            own = {"personal": a, "link": site_url(a.get_personal_url())}
            notices.append(_notice([a.email], tag, app.event, template, common | own))
    notify_all(notices)


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
