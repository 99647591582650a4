"""Deterministic builders for events: used by the tests and by the demo seed.

Every person here is synthetic. The two past events follow seed 002's flyers (海老名's
「在宅・施設での急変時対応」 for about 30, 愛川町's 多職種研修会 for 80) with invented
lecturers, offices and contact numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.utils import timezone

from renkei.accounts.models import Organization
from renkei.events import actions
from renkei.events.models import (
    Application,
    Event,
    EventKind,
    Lecturer,
    Occupation,
)

FAMILY = [
    ("佐藤", "さとう"),
    ("鈴木", "すずき"),
    ("高橋", "たかはし"),
    ("田中", "たなか"),
    ("伊藤", "いとう"),
    ("渡辺", "わたなべ"),
    ("山本", "やまもと"),
    ("中村", "なかむら"),
    ("小林", "こばやし"),
    ("加藤", "かとう"),
    ("吉田", "よしだ"),
]
GIVEN = [
    ("花子", "はなこ"),
    ("太郎", "たろう"),
    ("美咲", "みさき"),
    ("健", "けん"),
    ("由美", "ゆみ"),
    ("翔", "しょう"),
    ("恵", "めぐみ"),
    ("誠", "まこと"),
    ("陽子", "ようこ"),
]
# Roughly what seed 002's municipalities report: care workers and care managers come,
# doctors and nurses less often.
OCCUPATION_CYCLE = [
    Occupation.CARE_WORKER,
    Occupation.CARE_MANAGER,
    Occupation.NURSE,
    Occupation.CARE_WORKER,
    Occupation.REHAB,
    Occupation.CARE_MANAGER,
    Occupation.COUNSELOR,
    Occupation.PHARMACIST,
    Occupation.CARE_WORKER,
    Occupation.NURSE,
    Occupation.DOCTOR,
    Occupation.DENTIST,
    Occupation.GOVERNMENT,
]


def person(i: int, *, domain: str = "example.jp", tag: str = "p") -> actions.EventApplicantInput:
    """The i-th synthetic applicant: fixed name, kana, e-mail and occupation."""
    fam, fam_kana = FAMILY[i % len(FAMILY)]
    giv, giv_kana = GIVEN[(i // len(FAMILY) + i) % len(GIVEN)]
    return actions.EventApplicantInput(
        name=f"{fam} {giv}",
        kana=f"{fam_kana} {giv_kana}",
        email=f"{tag}{i:03d}@{domain}",
        occupation=OCCUPATION_CYCLE[i % len(OCCUPATION_CYCLE)],
    )


def applicant(
    name: str, kana: str, email: str = "", occupation: str = Occupation.NURSE
) -> actions.EventApplicantInput:
    """One applicant as typed on the form (the rules of the input apply)."""
    return actions.EventApplicantInput.model_validate(
        {"name": name, "kana": kana, "email": email, "occupation": occupation}
    )


def application_data(
    applicants: Sequence[actions.EventApplicantInput],
    *,
    office_name: str = "さくら訪問看護ステーション",
    contact_name: str = "連絡 担当",
    contact_email: str = "office@example.jp",
    contact_phone: str = "046-000-0001",
    question_to: str = "",
    question: str = "",
) -> actions.EventApplicationInput:
    return actions.EventApplicationInput.model_validate(
        {
            "office_name": office_name,
            "contact_name": contact_name,
            "contact_email": contact_email,
            "contact_phone": contact_phone,
            "applicants": [a.model_dump() for a in applicants],
            "question_to": question_to or None,
            "question": question,
            "agree": True,
        }
    )


def resident_data(
    i: int = 0,
    *,
    party_size: int = 1,
    needs: Sequence[str] = (),
    needs_note: str = "",
    phone: str = "",
    tag: str = "resident",
) -> actions.ResidentApplicationInput:
    """The i-th synthetic resident applying to a public lecture, with those who come along."""
    p = person(i, tag=tag)
    return actions.ResidentApplicationInput.model_validate(
        {
            "name": p.name,
            "kana": p.kana,
            "email": p.email,
            "phone": phone,
            "party_size": party_size,
            "needs": list(needs),
            "needs_note": needs_note,
            "agree": True,
        }
    )


def make_event(
    organization: Organization,
    *,
    title: str = "多職種研修会",
    kind: str = EventKind.INTERPROFESSIONAL,
    capacity: int | None = 30,
    starts_at: dt.datetime | None = None,
    apply_until: dt.datetime | None = None,
    days_ahead: int = 30,
    published: bool = True,
    lecturers: Sequence[tuple[str, str, str, str]] = (),
    now: dt.datetime | None = None,
    **fields: Any,
) -> Event:
    """An event of the organisation, by default 30 days ahead at 18:30 with a deadline a week before."""
    now = now or timezone.now()
    if starts_at is None:
        day = timezone.localdate(now) + dt.timedelta(days=days_ahead)
        starts_at = dt.datetime.combine(
            day, dt.time(18, 30), tzinfo=timezone.get_current_timezone()
        )
    if apply_until is None and "apply_until" not in fields:
        apply_until = starts_at - dt.timedelta(days=7)
    event = Event.objects.create(
        organization=organization,
        title=title,
        kind=kind,
        capacity=capacity,
        starts_at=starts_at,
        ends_at=fields.pop("ends_at", starts_at + dt.timedelta(hours=2)),
        apply_until=apply_until,
        published=published,
        municipality=fields.pop("municipality", organization.municipality),
        venue_name=fields.pop("venue_name", "市民会館 3階 大会議室"),
        **fields,
    )
    for i, (name, affiliation, title_, topic) in enumerate(lecturers):
        Lecturer.objects.create(
            event=event, name=name, affiliation=affiliation, title=title_, topic=topic, sort_order=i
        )
    return event


def make_application(
    event: Event,
    applicants: Sequence[actions.EventApplicantInput] | int = 1,
    *,
    start: int = 0,
    now: dt.datetime | None = None,
    notify: bool = True,
    **data: Any,
) -> Application:
    """Apply through the real action. An int gives that many synthetic people from `start`."""
    people = (
        [person(start + i) for i in range(applicants)]
        if isinstance(applicants, int)
        else list(applicants)
    )
    app, _ = actions.apply(event, application_data(people, **data), now=now, notify=notify)
    return app
