"""The events' demo. The two past events follow seed 002's flyers (海老名's
「在宅・施設での急変時対応」 for about 30, 愛川町's 多職種研修会 for 80) with invented
lecturers, offices and contact numbers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from renkei.accounts.models import Organization, OrgKind
from renkei.events import actions
from renkei.events.models import (
    Applicant,
    Event,
    EventKind,
    Occupation,
    ProgrammeItem,
    Scene,
)
from renkei.events.testing import FAMILY, make_application, make_event, person, resident_data
from renkei.regions.models import Municipality

OFFICES = [
    "さくら訪問看護ステーション",
    "ひまわり居宅介護支援事業所",
    "みどり内科クリニック",
    "あおば薬局",
    "かえで特別養護老人ホーム",
    "つばさデイサービスセンター",
    "やまびこ歯科医院",
    "はなみずき地域包括支援センター",
]


def _org(name: str, kind: str, municipality_code: str, **extra: Any) -> Organization:
    muni = Municipality.objects.get(code=municipality_code)
    org, _ = Organization.objects.get_or_create(
        name=name,
        defaults={"kind": kind, "municipality": muni, "prefecture": muni.prefecture, **extra},
    )
    return org


def _fill(
    event: Event, count: int, *, tag: str, group: int = 3, now: dt.datetime | None = None
) -> None:
    """`count` synthetic applicants in applications of `group` colleagues from rotating offices."""
    i = 0
    n = 0
    while i < count:
        size = min(group if n % 2 == 0 else 1, count - i)
        people = [person(i + k, tag=tag) for k in range(size)]
        make_application(
            event,
            people,
            office_name=OFFICES[n % len(OFFICES)],
            contact_name=f"{FAMILY[n % len(FAMILY)][0]} 担当",
            contact_email=f"{tag}-office{n:02d}@example.jp",
            contact_phone=f"046-000-{n:04d}",
            question_to=Occupation.DOCTOR if n % 4 == 0 else "",
            question="夜間に急変したとき、どの時点で主治医に連絡すればよいか知りたいです。"
            if n % 4 == 0
            else "",
            now=now,
            notify=False,
        )
        i += size
        n += 1


def _residents(event: Event, count: int = 8) -> None:
    """Residents applying to a public lecture, some with family and some who need help."""
    needs = [("wheelchair",), (), ("sign_language",), (), ("front_seat", "captions"), (), (), ()]
    for i in range(count):
        actions.apply(
            event,
            resident_data(i, party_size=1 + i % 3, needs=needs[i % len(needs)]),
            notify=False,
        )


def _attend_and_survey(event: Event, share: int = 4) -> None:
    """Mark about (share-1)/share of the confirmed as present and let half of them answer."""
    confirmed = list(event.applicants.confirmed().order_by("position"))
    present = [a for k, a in enumerate(confirmed) if k % share != share - 1]
    Applicant.objects.filter(pk__in=[a.pk for a in present]).update(
        attended=True, attended_at=event.starts_at, feedback_sent_at=event.ends_at
    )
    for k, a in enumerate(present):
        if k % 2 == 0:
            actions.submit_feedback(
                a,
                actions.EventFeedbackInput(
                    satisfaction=5 - (k % 3),
                    usefulness=5 - (k % 2),
                    comment="顔の見える関係ができました。" if k % 6 == 0 else "",
                ),
            )


FRIDAY, SATURDAY = 4, 5


def _on_weekday(
    now: dt.datetime, days: int, weekday: int, at: dt.time
) -> tuple[dt.datetime, dt.datetime]:
    """The first given weekday at least `days` ahead, with a deadline ten days before at 23:59."""
    tz = timezone.get_current_timezone()
    day = timezone.localdate(now) + dt.timedelta(days=days)
    day += dt.timedelta(days=(weekday - day.weekday()) % 7)
    deadline = dt.datetime.combine(day - dt.timedelta(days=10), dt.time(23, 59, 59), tzinfo=tz)
    return dt.datetime.combine(day, at, tzinfo=tz), deadline


def seed_events(
    *,
    ebina: Organization | None = None,
    aikawa: Organization | None = None,
    now: dt.datetime | None = None,
) -> list[Event]:
    """Demo events: the two flyers of seed 002 (past, with attendance and survey answers),
    and three upcoming ones (one nearly full, one full with a waiting list). Idempotent."""
    now = now or timezone.now()
    tz = timezone.get_current_timezone()
    ebina = ebina or _org(
        "えびな在宅医療相談室", OrgKind.COORDINATION_CENTER, "142158", phone="046-000-8650"
    )
    aikawa = aikawa or _org("愛川町 高齢介護課", OrgKind.MUNICIPALITY, "144011")
    existing = Event.objects.filter(organization__in=[ebina, aikawa])
    if existing.exists():
        return list(existing.order_by("starts_at"))

    events: list[Event] = []
    ebina_contact = "えびな在宅医療相談室（デモ）\nTEL 046-000-8650（平日9:00〜17:00）"
    e1 = make_event(
        ebina,
        title="在宅・施設での急変時対応",
        subtitle="令和7年度 第1回多職種向け研修会",
        starts_at=dt.datetime(2025, 10, 24, 18, 30, tzinfo=tz),
        ends_at=dt.datetime(2025, 10, 24, 20, 30, tzinfo=tz),
        reception_time=dt.time(18, 0),
        apply_until=dt.datetime(2025, 10, 10, 23, 59, 59, tzinfo=tz),
        capacity=30,
        capacity_note="程度",
        venue_name="海老名市医療センター 3階 大会議室",
        target_area="海老名市内の医療・介護従事者および関係機関職員",
        programme_item=ProgrammeItem.KA,
        scene=Scene.EMERGENCY,
        description=(
            "在宅療養者の救急搬送を未然に防ぐとともに、いざ救急搬送が必要になった場合でも適切に"
            "対応できるよう、医師と救急の現場から現状を知り、具体的な対応策を学びましょう。"
        ),
        contact=ebina_contact,
        fax="046-000-8651",
        lecturers=[
            (
                "相模 一郎",
                "さがみ台中央病院（架空）",
                "院長 循環器内科",
                "在宅医療における心不全の理解・急変時対応等",
            ),
            (
                "大山 健",
                "市消防本部（架空）",
                "救急救命担当課長",
                "救急活動の状況—救急車の適正利用について等",
            ),
        ],
    )
    _fill(e1, 28, tag="ebina1", now=dt.datetime(2025, 10, 1, 12, 0, tzinfo=tz))
    _attend_and_survey(e1)
    events.append(e1)

    e2 = make_event(
        aikawa,
        title="安心して過ごせる場をどう作っていくか",
        subtitle="令和7年度 多職種研修会 ◇わたしたちができることを考えよう◇",
        organiser_label="愛川町在宅医療・介護連携推進協議会",
        co_organiser="医療法人社団 みなみ会 あいかわ南病院（架空）",
        starts_at=dt.datetime(2026, 2, 13, 18, 30, tzinfo=tz),
        ends_at=dt.datetime(2026, 2, 13, 20, 30, tzinfo=tz),
        reception_time=dt.time(18, 0),
        apply_until=dt.datetime(2026, 1, 23, 23, 59, 59, tzinfo=tz),
        capacity=80,
        venue_name="愛川町文化会館 3階 大会議室",
        target_area="愛川町で働く医療・介護職",
        programme_item=ProgrammeItem.KA,
        scene=Scene.DAILY,
        description=(
            "立場の違う同職種の人同士（例：医療機関の看護師と在宅サービスの看護師、病院の栄養士と"
            "介護施設の栄養士など）を中心としたグループで意見交換を行います。"
        ),
        how_to_apply="申込書をFAXまたはメールでお送りいただくこともできます。",
        contact="愛川町 高齢介護課 介護保険班（デモ）\nTEL 046-000-2111",
        fax="046-000-2112",
    )
    _fill(e2, 66, tag="aikawa1", now=dt.datetime(2026, 1, 10, 12, 0, tzinfo=tz))
    _attend_and_survey(e2, share=5)
    events.append(e2)

    e3_start, e3_deadline = _on_weekday(now, 40, FRIDAY, dt.time(18, 30))
    e3 = make_event(
        ebina,
        title="在宅での看取りを支える多職種連携",
        subtitle="第2回多職種向け研修会",
        starts_at=e3_start,
        apply_until=e3_deadline,
        capacity=30,
        capacity_note="程度",
        reception_time=dt.time(18, 0),
        venue_name="海老名市医療センター 3階 大会議室",
        target_area="海老名市内の医療・介護従事者および関係機関職員",
        scene=Scene.END_OF_LIFE,
        contact=ebina_contact,
        fax="046-000-8651",
        lecturers=[("丹沢 みどり", "みどり在宅クリニック（架空）", "院長", "在宅看取りの実際")],
    )
    _fill(e3, 27, tag="ebina2")
    events.append(e3)

    e4_start, e4_deadline = _on_weekday(now, 55, SATURDAY, dt.time(14, 0))
    e4 = make_event(
        aikawa,
        title="人生会議（ACP）を知ろう",
        kind=EventKind.PUBLIC_LECTURE,
        programme_item=ProgrammeItem.KI,
        scene=Scene.END_OF_LIFE,
        starts_at=e4_start,
        apply_until=e4_deadline,
        capacity=50,
        venue_name="愛川町 中津公民館 講堂",
        target_area="愛川町にお住まいの方",
        target_occupations=[Occupation.CITIZEN],
        contact="愛川町 高齢介護課（デモ）\nTEL 046-000-2111",
    )
    _residents(e4)
    events.append(e4)

    e5_start, e5_deadline = _on_weekday(now, 21, FRIDAY, dt.time(18, 30))
    e5 = make_event(
        ebina,
        title="介護職のための褥瘡ケア入門",
        kind=EventKind.CARE_MEDICAL_SEMINAR,
        starts_at=e5_start,
        apply_until=e5_deadline,
        capacity=10,
        venue_name="さくら訪問看護ステーション 研修室（架空）",
        target_occupations=[Occupation.CARE_WORKER, Occupation.CARE_MANAGER],
        scene=Scene.DAILY,
        contact=ebina_contact,
    )
    _fill(e5, 12, tag="ebina3", group=2)
    events.append(e5)
    return events
