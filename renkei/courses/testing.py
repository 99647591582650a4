"""Deterministic builders for courses: used by the tests and by the demo seed. Synthetic people."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.utils import timezone

from renkei.accounts.models import Membership, OrgKind
from renkei.courses import actions
from renkei.courses.models import Course
from renkei.events.models import Application, Occupation
from renkei.events.testing import person


def two_day_round(
    number: int,
    first_day: dt.date,
    *,
    capacity: int | None = 30,
    venue: str = "県総合医療会館 2階 講堂",
    apply_until: dt.datetime | None = None,
) -> actions.RoundInput:
    """A round of two consecutive days of 講義, 9:30–16:30, closing a week before."""
    tz = timezone.get_current_timezone()
    return actions.RoundInput(
        number=number,
        capacity=capacity,
        apply_until=apply_until
        or dt.datetime.combine(first_day - dt.timedelta(days=7), dt.time(23, 59), tzinfo=tz),
        sessions=[
            actions.SessionInput(
                date=first_day + dt.timedelta(days=i),
                starts=dt.time(9, 30),
                ends=dt.time(16, 30),
                title=f"{i + 1}日目",
                venue=venue,
            )
            for i in range(2)
        ],
    )


def make_course(
    by: Membership,
    *,
    title: str = "訪問看護導入研修",
    rounds: Sequence[actions.RoundInput] | None = None,
    days_ahead: int = 40,
    published: bool = True,
    **fields: Any,
) -> Course:
    """A course of the member's organisation through the real action; by default two rounds
    of two days, a week apart, for nurses at a 訪問看護ステーション."""
    if rounds is None:
        first = timezone.localdate() + dt.timedelta(days=days_ahead)
        rounds = [two_day_round(1, first), two_day_round(2, first + dt.timedelta(days=7))]
    data = {
        "title": title,
        "eligible_occupations": [Occupation.NURSE],
        "employer_kinds": [OrgKind.VISITING_NURSE],
        "certificate_label": "訪看導入",
        "published": published,
        "rounds": list(rounds),
        **fields,
    }
    return actions.create_course(actions.CourseInput.model_validate(data), by=by)


def nurse(i: int, *, years: int = 3, tag: str = "n") -> actions.CourseApplicantInput:
    p = person(i, tag=tag)
    return actions.CourseApplicantInput(
        name=p.name,
        kana=p.kana,
        email=p.email,
        occupation=Occupation.NURSE,
        years_experience=years,
    )


def course_application(
    people: Sequence[actions.CourseApplicantInput],
    *,
    office_name: str = "さくら訪問看護ステーション",
    contact_email: str = "office@example.jp",
    employer_kind: str = OrgKind.VISITING_NURSE,
    municipality_code: str | None = "142158",
) -> actions.CourseApplicationInput:
    return actions.CourseApplicationInput.model_validate(
        {
            "office_name": office_name,
            "contact_name": "連絡 担当",
            "contact_email": contact_email,
            "contact_phone": "046-000-0001",
            "employer_kind": employer_kind,
            "municipality_code": municipality_code,
            "applicants": [a.model_dump() for a in people],
            "agree": True,
        }
    )


def apply_nurses(
    course: Course, number: int, count: int, *, start: int = 0, **kwargs: Any
) -> Application:
    rnd = course.rounds.get(number=number)
    data = course_application(
        [nurse(start + i) for i in range(count)],
        contact_email=kwargs.pop("contact_email", f"office{start}@example.jp"),
        **kwargs,
    )
    app, _ = actions.apply(rnd, data, notify=False)
    return app
