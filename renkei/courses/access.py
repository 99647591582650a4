"""How a request reaches one course record: published for everyone, the organiser's own for
its members, an application's signed link for the employer. Anything else is the same 404."""

from __future__ import annotations

import uuid

from renkei.accounts.models import Membership, Organization
from renkei.accounts.named import require_named_reader
from renkei.courses.models import Course, CourseRound, CourseSession
from renkei.events.models import Applicant, Application
from renkei.lib.actions import NotFound, get_visible

COURSE_NOT_FOUND = "研修が見つかりません"
ROUND_NOT_FOUND = "研修の回が見つかりません"


def public_course(org: Organization | None, code: uuid.UUID) -> Course:
    return get_visible(
        Course.objects.visible_to(org).select_related("organization", "municipality"),
        COURSE_NOT_FOUND,
        code=code,
    )


def public_round(org: Organization | None, code: uuid.UUID, number: int) -> CourseRound:
    return get_visible(
        CourseRound.objects.filter(course__in=Course.objects.visible_to(org)).for_display(),
        ROUND_NOT_FOUND,
        course__code=code,
        number=number,
    )


def own_course(m: Membership | None, code: uuid.UUID) -> Course:
    return get_visible(
        Course.objects.organised_by(m.organization if m else None).select_related(
            "organization", "municipality"
        ),
        COURSE_NOT_FOUND,
        code=code,
    )


def own_round(m: Membership | None, code: uuid.UUID, number: int) -> CourseRound:
    """A round of the organiser's course, for its participants' pages (the list, the day's
    attendance, certificates, the completers' export): named records, so only for the
    organisation's named-read roles (403 for its other members, ADR 0043)."""
    rnd = get_visible(
        CourseRound.objects.filter(
            course__in=Course.objects.organised_by(m.organization if m else None)
        ).for_display(),
        ROUND_NOT_FOUND,
        course__code=code,
        number=number,
    )
    require_named_reader(m)
    return rnd


def own_session(rnd: CourseRound, code: uuid.UUID) -> CourseSession:
    return get_visible(rnd.sessions.all(), "日程が見つかりません", code=code)


def round_applicant(rnd: CourseRound, code: uuid.UUID) -> Applicant:
    """One applicant of the round (any status), with their application."""
    return get_visible(
        Applicant.objects.select_related("application", "application__event").filter(
            event_id=rnd.event_id
        ),
        "この回の申込者が見つかりません",
        code=code,
    )


def application_by_token(token: str) -> tuple[Application, CourseRound]:
    """The employer's application to a round, from the e-mailed link (events' signed token)."""
    value = Application.token_value(token)
    if value is None:
        raise NotFound("申込が見つかりません")
    app = get_visible(
        Application.objects.select_related("event"), "申込が見つかりません", cancel_token=value
    )
    rnd = CourseRound.objects.for_display().filter(event_id=app.event_id).first()
    if rnd is None:
        raise NotFound("申込が見つかりません")
    return app, rnd
