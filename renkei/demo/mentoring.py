"""同行研修's demo: 横須賀市's programme for the current fiscal year at every stage (people （仮名））."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from renkei.accounts.models import Membership, Organization, OrgKind, Role
from renkei.lib.dates import fiscal_year
from renkei.mentoring import actions
from renkei.mentoring.models import (
    Match,
    Profession,
    TrainingProgram,
)
from renkei.mentoring.testing import make_application, make_mentor, make_program
from renkei.testing import DEMO_PASSWORD, make_member, make_org

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
    m0 = actions.decide_match(apps[0], mentors[0], by=member, today=today)
    actions.set_visit_date(m0, visited, by=member)
    actions.file_report(
        m0,
        Match.Side.MENTOR,
        "訪問診療4件に同行。看取り期の患者宅での家族支援を中心に指導した。",
        today=today,
    )
    actions.file_report(
        m0,
        Match.Side.TRAINEE,
        "在宅での点滴管理と家族への説明の実際を学んだ。来年度から訪問診療を始めたい。",
        today=today,
    )
    actions.record_honorarium(m0, by=member, amount=program.honorarium_amount, paid_at=today)
    m1 = actions.decide_match(apps[1], mentors[1], by=member, today=today)
    actions.set_visit_date(m1, visited, by=member)
    actions.file_report(
        m1,
        Match.Side.MENTOR,
        "病院勤務医の方に、退院後の生活の場での診療を見ていただいた。",
        today=today,
    )
    m2 = actions.decide_match(apps[2], mentors[2], by=member, today=today)
    later = min(today + dt.timedelta(days=14), dt.date(fy + 1, 3, 31))
    actions.set_visit_date(m2, later, by=member)
    actions.decide_match(apps[3], mentors[0], by=member, today=today)
    return {"program": program, "office": member, "created": len(apps)}
