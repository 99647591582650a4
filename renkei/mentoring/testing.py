"""Deterministic builders for 同行研修, shared by tests and the demo seed (synthetic people only)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from renkei.accounts.models import Membership, Organization, OrgKind, Role
from renkei.lib.dates import fiscal_year
from renkei.mentoring import actions
from renkei.mentoring.models import (
    Match,
    Mentor,
    Profession,
    TraineeApplication,
    TrainingProgram,
    weekday_mask,
)
from renkei.regions.models import Municipality
from renkei.testing import DEMO_PASSWORD, make_member, make_org


def make_program(
    organizer: Organization | None = None,
    *,
    fiscal_year: int = 2025,
    planned_count: int = 10,
    honorarium_amount: int = 20_000,
    is_open: bool = True,
) -> TrainingProgram:
    organizer = organizer or make_org(
        "横須賀市 地域医療推進課", OrgKind.MUNICIPALITY, municipality_code="142018"
    )
    return TrainingProgram.objects.create(
        organizer=organizer,
        co_organizer="横須賀市医師会",
        fiscal_year=fiscal_year,
        planned_count=planned_count,
        honorarium_amount=honorarium_amount,
        is_open=is_open,
        contact="地域医療推進課 046-000-0000",
    )


def make_mentor(
    office: Organization,
    name: str = "指導 一郎（仮名）",
    *,
    kana: str = "しどう いちろう",
    affiliation: str = "見本在宅クリニック（仮名）",
    email: str = "",
    area_codes: Iterable[str] = ("142018",),
    weekdays: Iterable[int] = (1, 3),
    recommended: bool = True,
    is_active: bool = True,
) -> Mentor:
    mentor = Mentor.objects.create(
        office=office,
        name=name,
        kana=kana,
        affiliation=affiliation,
        email=email or f"mentor{Mentor.objects.count() + 1}@example.jp",
        recommended=recommended,
        recommended_on=dt.date(2025, 4, 1) if recommended else None,
        weekdays=weekday_mask(list(weekdays)),
        is_active=is_active,
    )
    mentor.areas.set(Municipality.objects.filter(code__in=list(area_codes)))
    return mentor


def make_application(
    program: TrainingProgram,
    name: str = "受講 花子（仮名）",
    *,
    kana: str = "じゅこう はなこ",
    email: str = "trainee@example.jp",
    profession: str = Profession.CLINIC_NEW,
    area_codes: Iterable[str] = ("142018",),
    weekdays: Iterable[int] = (1,),
    today: dt.date | None = None,
    by: Membership | None = None,
) -> TraineeApplication:
    data = actions.TraineeApplicationInput.model_validate(
        {
            "trainee_name": name,
            "trainee_kana": kana,
            "profession": profession,
            "affiliation": "見本診療所（仮名）",
            "email": email,
            "phone": "046-000-0001",
            "preferred_areas": list(area_codes),
            "preferred_weekdays": list(weekdays),
            "preferred_dates": "平日の午後",
            "motivation": "在宅医療を始めるにあたり、現場を見て学びたい。",
        }
    )
    return actions.apply(program, data=data, by=by, today=today)


def decide(
    application: TraineeApplication, mentor: Mentor, *, by: Membership, today: dt.date | None = None
) -> Match:
    """The office's decision for `mentor`, as the application page makes it."""
    return actions.decide_match(
        application, by=by, data=actions.MentorDecisionInput(mentor=mentor.code), today=today
    )


def schedule(match: Match, visit_date: dt.date, *, by: Membership | None = None) -> Match:
    return actions.set_visit_date(match, data=actions.VisitDateInput(visit_date=visit_date), by=by)


def report(match: Match, side: str, text: str, *, today: dt.date | None = None) -> Match:
    return actions.file_report(
        match, side=side, data=actions.MentoringReportInput(text=text), today=today
    )


def pay(match: Match, *, by: Membership, amount: int, paid_at: dt.date) -> Match:
    return actions.record_honorarium(
        match, by=by, data=actions.HonorariumInput(amount=amount, paid_at=paid_at)
    )


def make_office_member(program: TrainingProgram, username: str = "office") -> Membership:
    return make_member(
        program.organizer, Role.MUNICIPAL_OFFICER, username=username, is_org_admin=True
    )


# Demo seed -------------------------------------------------------------------------------

_MENTORS = [
    ("指導 一郎（仮名）", "しどう いちろう", "見本在宅クリニック（仮名）", ["142018"], [1, 3]),
    (
        "同行 次郎（仮名）",
        "どうこう じろう",
        "見本内科医院（仮名）",
        ["142018", "142042"],
        [0, 2, 4],
    ),
    ("訪問 三郎（仮名）", "ほうもん さぶろう", "見本ファミリークリニック（仮名）", ["142018"], [5]),
    ("在宅 四郎（仮名）", "ざいたく しろう", "見本診療所（仮名）", ["142042"], [1, 2]),
]
_TRAINEES = [
    ("受講 花子（仮名）", "じゅこう はなこ", Profession.CLINIC_NEW),
    ("研修 太郎（仮名）", "けんしゅう たろう", Profession.HOSPITAL_DOCTOR),
    ("見学 一美（仮名）", "けんがく かずみ", Profession.NURSE),
    ("学習 健（仮名）", "がくしゅう けん", Profession.CLINIC_ACTIVE),
    ("体験 直子（仮名）", "たいけん なおこ", Profession.OTHER),
    ("初心 誠（仮名）", "しょしん まこと", Profession.CLINIC_NEW),
]


def seed_mentoring(*, today: dt.date | None = None) -> dict[str, Any]:
    """横須賀市's 在宅医同行研修 for the current fiscal year, at every stage of the workflow.

    Idempotent: a second call returns the existing programme.
    """
    today = today or timezone.localdate()
    fy = fiscal_year(today)
    office = Organization.objects.filter(name="横須賀市 地域医療推進課").first() or make_org(
        "横須賀市 地域医療推進課", OrgKind.MUNICIPALITY, municipality_code="142018"
    )
    member = Membership.objects.filter(
        user__username="mentoring-office", organization=office
    ).first()
    if member is None:
        member = make_member(
            office,
            Role.MUNICIPAL_OFFICER,
            username="mentoring-office",
            password=DEMO_PASSWORD,
            display_name="横須賀市 同行研修担当（仮名）",
            is_org_admin=True,
        )
    existing = TrainingProgram.objects.filter(organizer=office, fiscal_year=fy).first()
    if existing is not None:
        return {"program": existing, "office": member, "created": 0}
    program = make_program(office, fiscal_year=fy, planned_count=12, honorarium_amount=20_000)
    mentors = [
        make_mentor(
            office,
            name,
            kana=kana,
            affiliation=aff,
            email=f"mentor{i + 1}@example.jp",
            area_codes=areas,
            weekdays=days,
            recommended=i != 3,
        )
        for i, (name, kana, aff, areas, days) in enumerate(_MENTORS)
    ]
    apps = [
        make_application(
            program,
            name,
            kana=kana,
            email=f"trainee{i + 1}@example.jp",
            profession=prof,
            area_codes=["142018"],
            weekdays=[i % 5],
            today=today,
        )
        for i, (name, kana, prof) in enumerate(_TRAINEES)
    ]
    start = dt.date(fy, 4, 1)
    visited = max(start, today - dt.timedelta(days=7))
    # Stages: reported and paid, done (mentor only), scheduled, matched, open, open.
    m0 = decide(apps[0], mentors[0], by=member, today=today)
    schedule(m0, visited, by=member)
    report(
        m0,
        Match.Side.MENTOR,
        "訪問診療4件に同行。看取り期の患者宅での家族支援を中心に指導した。",
        today=today,
    )
    report(
        m0,
        Match.Side.TRAINEE,
        "在宅での点滴管理と家族への説明の実際を学んだ。来年度から訪問診療を始めたい。",
        today=today,
    )
    pay(m0, by=member, amount=program.honorarium_amount, paid_at=today)
    m1 = decide(apps[1], mentors[1], by=member, today=today)
    schedule(m1, visited, by=member)
    report(
        m1,
        Match.Side.MENTOR,
        "病院勤務医の方に、退院後の生活の場での診療を見ていただいた。",
        today=today,
    )
    m2 = decide(apps[2], mentors[2], by=member, today=today)
    later = min(today + dt.timedelta(days=14), dt.date(fy + 1, 3, 31))
    schedule(m2, later, by=member)
    decide(apps[3], mentors[0], by=member, today=today)
    return {"program": program, "office": member, "created": len(apps)}
