"""Deterministic builders for the consultation desk, shared by tests and the demo seed.

Every person here is synthetic and marked （仮名）.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.utils import timezone

from renkei.accounts.models import Membership, Organization, OrgKind, Role, User
from renkei.desk import actions
from renkei.desk.models import Consultation, Desk, FollowUp, Topic
from renkei.directory.models import Facility
from renkei.lib.dates import fiscal_year
from renkei.regions.models import Municipality
from renkei.testing import DEMO_PASSWORD, make_member, make_org


def make_desk(
    name: str = "えびな在宅医療相談室",
    *,
    organization: Organization | None = None,
    municipality_codes: Iterable[str] = ("142158",),
    contractors: Iterable[Organization] = (),
) -> Desk:
    codes = list(municipality_codes)
    if organization is None:
        organization = make_org(
            f"{name}（運営）",
            OrgKind.COORDINATION_CENTER,
            municipality_code=codes[0] if codes else None,
        )
    desk = Desk.objects.create(organization=organization, name=name)
    desk.municipalities.set(Municipality.objects.filter(code__in=codes))
    desk.contractors.set(list(contractors))
    return desk


def make_desk_member(
    desk: Desk,
    role: str = Role.COUNSELOR,
    *,
    username: str | None = None,
    display_name: str = "",
    is_org_admin: bool = False,
) -> Membership:
    return make_member(
        desk.organization,
        role,
        username=username or f"desk{desk.pk}-{role}",
        display_name=display_name,
        is_org_admin=is_org_admin,
    )


def topics(desk: Desk, *names: str) -> list[Topic]:
    found = {t.name: t for t in desk.topics().filter(name__in=names)}
    missing = [n for n in names if n not in found]
    if missing:
        raise LookupError(f"unknown topics: {missing}")
    return [found[n] for n in names]


def make_consultation(
    desk: Desk,
    by: Membership,
    *,
    received_at: dt.datetime | None = None,
    channel: str = "phone",
    asker_type: str = "family",
    topic_names: Sequence[str] = ("訪問看護",),
    scene: str = "daily",
    programme_item: str = "o",
    subject_name: str = "",
    subject_kana: str = "",
    subject_age: int | None = None,
    subject_municipality_code: str | None = None,
    consent: str = "not_asked",
    consent_date: dt.date | None = None,
    summary: str = "訪問看護を利用したいが、どこに相談すればよいか。",
    actions_taken: str = "",
    status: str = "open",
    facilities: Iterable[Facility] = (),
    followup: dict[str, Any] | None = None,
    confirm: bool = False,
) -> Consultation:
    """Record a consultation through the action, as the entry form would.

    `followup` is {"due_date", "note", "assignee" (a User or None)}.
    """
    data = actions.NewConsultationInput.model_validate(
        {
            "received_at": received_at or timezone.now(),
            "channel": channel,
            "asker_type": asker_type,
            "topics": [t.pk for t in topics(desk, *topic_names)],
            "programme_item": programme_item,
            "scene": scene,
            "subject_name": subject_name,
            "subject_kana": subject_kana,
            "subject_age": subject_age,
            "subject_municipality": subject_municipality_code,
            "consent": consent,
            "consent_date": consent_date,
            "summary": summary,
            "actions_taken": actions_taken,
            "referred_facilities": [f.code for f in facilities],
            "status": status,
            "followup": _followup_input(**followup) if followup else None,
            "confirm": confirm,
        }
    )
    return actions.create_consultation(desk, by=by, data=data)


def _followup_input(
    *, due_date: dt.date, note: str, assignee: User | None = None
) -> actions.FollowUpInput:
    return actions.FollowUpInput(
        due_date=due_date, note=note, assignee=assignee.username if assignee else None
    )


def make_followup(
    consultation: Consultation,
    by: Membership,
    *,
    due_date: dt.date,
    note: str = "ケアマネジャーに状況を確認する",
) -> FollowUp:
    return actions.add_followup(
        consultation, by=by, data=_followup_input(due_date=due_date, note=note)
    )


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
