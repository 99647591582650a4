"""The consultation desk's demo: えびな在宅医療相談室 with a year of records (people marked （仮名））."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from renkei.accounts.models import Membership, Organization, OrgKind, Role
from renkei.desk.models import Desk
from renkei.desk.testing import make_consultation, make_desk
from renkei.directory.models import Facility
from renkei.lib.dates import fiscal_year
from renkei.testing import DEMO_PASSWORD, make_member, make_org

# Demo seed ---------------------------------------------------------------------------

_CHANNELS = ["phone", "phone", "visit_desk", "phone", "email", "home_visit", "fax", "phone"]
_ASKERS = [
    "family",
    "care_manager",
    "hospital",
    "self",
    "care_manager",
    "visiting_nurse",
    "community_center",
    "clinic",
    "care_provider",
    "family",
    "government",
]
_SCENES = ["discharge", "daily", "daily", "emergency", "end_of_life", "discharge", "daily"]
_TOPICS = [
    ("在宅医・かかりつけ医の紹介",),
    ("訪問看護", "医療処置・服薬"),
    ("入退院・転院の調整",),
    ("介護サービス・施設", "費用・制度"),
    ("看取り・ACP（人生会議）",),
    ("認知症", "家族の介護負担"),
    ("急変時の対応",),
    ("精神疾患", "関係機関との連携"),
]
_SUMMARIES = [
    "退院後に自宅で点滴を続けたい。訪問診療をしてくれる医師を探している。",
    "胃ろうの管理ができる訪問看護ステーションを知りたい。",
    "病院から来週の退院を告げられたが、在宅の準備が間に合わない。",
    "介護老人保健施設の費用と申込み方法を知りたい。",
    "自宅で最期を迎えたいという本人の希望をどう支えればよいか。",
    "認知症の母の介護で家族が疲れている。使えるサービスはないか。",
    "夜間に容体が急変したときの連絡先を決めておきたい。",
    "精神科の通院が途切れている利用者への対応を相談したい。",
]
_PEOPLE = [
    ("相談 太郎（仮名）", "そうだん たろう", 82),
    ("連携 花子（仮名）", "れんけい はなこ", 77),
    ("在宅 一郎（仮名）", "ざいたく いちろう", 88),
    ("見本 和子（仮名）", "みほん かずこ", 91),
]


def _org(name: str, kind: str, municipality_code: str) -> Organization:
    org = Organization.objects.filter(name=name, kind=kind).first()
    return org or make_org(name, kind, municipality_code=municipality_code)


def _member(org: Organization, username: str, role: str, display: str, admin: bool) -> Membership:
    existing = Membership.objects.filter(user__username=username, organization=org).first()
    if existing:
        return existing
    return make_member(
        org,
        role,
        username=username,
        password=DEMO_PASSWORD,
        display_name=display,
        is_org_admin=admin,
    )


def seed_desk(*, today: dt.date | None = None, count: int = 48) -> dict[str, Any]:
    """えびな在宅医療相談室 (run by the 医師会, contracted by 海老名市) with a year of records.

    Idempotent per desk name: a second call returns the existing desk untouched.
    """
    today = today or timezone.localdate()
    city = _org("海老名市 地域包括ケア推進課", OrgKind.MUNICIPALITY, "142158")
    operator = _org("海老名市医師会", OrgKind.MEDICAL_ASSOCIATION, "142158")
    desk = Desk.objects.filter(name="えびな在宅医療相談室").first()
    counselor = _member(operator, "desk-counselor", Role.COUNSELOR, "相談員 見本（仮名）", True)
    nurse = _member(operator, "desk-nurse", Role.NURSE, "看護師 見本（仮名）", False)
    city_officer = _member(
        city, "city-ebina", Role.MUNICIPAL_OFFICER, "海老名市 担当（仮名）", True
    )
    if desk is not None:
        return {"desk": desk, "members": [counselor, nurse, city_officer], "created": 0}
    desk = make_desk(
        "えびな在宅医療相談室",
        organization=operator,
        municipality_codes=["142158"],
        contractors=[city],
    )
    desk.phone, desk.hours = "046-000-0000", "平日 9:00〜17:00"
    desk.save(update_fields=["phone", "hours"])
    facilities = list(
        Facility.objects.public().filter(municipality__code="142158").order_by("pk")[:6]
    )
    start = dt.date(fiscal_year(today), 4, 1)
    span = max((today - start).days, 1)
    created = 0
    for i in range(count):
        day = start + dt.timedelta(days=(i * span) // count)
        received = timezone.make_aware(dt.datetime.combine(day, dt.time(9 + i % 8, (i * 7) % 60)))
        named = i % 3 == 0
        person = _PEOPLE[i % len(_PEOPLE)]
        closed = day < today - dt.timedelta(days=30) and i % 4 != 0
        followup = None
        if not closed and i % 2 == 0:
            followup = {
                "due_date": day + dt.timedelta(days=14),
                "note": "利用開始後の状況を電話で確認する",
                "assignee": nurse.user,
            }
        c = make_consultation(
            desk,
            counselor if i % 2 else nurse,
            received_at=received,
            channel=_CHANNELS[i % len(_CHANNELS)],
            asker_type=_ASKERS[i % len(_ASKERS)],
            topic_names=_TOPICS[i % len(_TOPICS)],
            scene=_SCENES[i % len(_SCENES)],
            subject_name=person[0] if named else "",
            subject_kana=person[1] if named else "",
            subject_age=person[2] if named else None,
            subject_municipality_code="142158" if named else None,
            consent="given" if named else "not_asked",
            consent_date=day if named else None,
            summary=_SUMMARIES[i % len(_SUMMARIES)],
            actions_taken="地域の資源を紹介し、ケアマネジャーと情報を共有した。",
            status="closed" if closed else "open",
            facilities=facilities[i % 3 : i % 3 + 2] if facilities and i % 2 == 0 else [],
            followup=followup,
            confirm=closed,
        )
        created += 1
        del c
    return {"desk": desk, "members": [counselor, nurse, city_officer], "created": created}
