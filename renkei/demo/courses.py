"""Courses, specialist dispatch and public materials for the demo (seed 000 カ キ, seed 003).

- 訪問看護導入研修 by the prefecture: two rounds of two days each; round 1 is over (attendance
  taken, certificates issued), round 2 is open for applications.
- 訪問看護師養成講習会: one five-month round of weekly 講習 and a block of 実習.
- 専門職員等派遣: the prefecture's roster and this fiscal year's dispatches to the 県央 cities.
- Published guides: a 在宅療養ガイドブック (two versions), a 退院調整ルール, an エチケット集 and a
  リビング・ウィル leaflet.

People are synthetic （仮名）. Idempotent: a second call changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from renkei.accounts.models import Membership, Organization, OrgKind, Role, User
from renkei.courses import actions, completion, dispatch, materials
from renkei.courses.models import (
    Audience,
    Course,
    DispatchPurpose,
    DispatchRequest,
    MaterialKind,
    SessionKind,
    Specialist,
    SpecialistKind,
)
from renkei.courses.testing import course_application, nurse, two_day_round
from renkei.demo.common import demo_uuid
from renkei.events.models import Applicant
from renkei.lib.dates import fiscal_year
from renkei.lib.programme import ProgrammeItem
from renkei.testing import DEMO_PASSWORD, make_member, make_org

INTRO_COURSE = "【デモ】訪問看護導入研修"
LONG_COURSE = "【デモ】訪問看護師養成講習会"
KENOU = ["142123", "142131", "142158", "142166", "142182", "144011", "144029"]

COURSE_LOGINS = [
    (
        "courses-pref",
        "研修コース: 第1回の2日目の出席簿を確認し、修了証を印刷する。専門職派遣を決定する",
    ),
    ("courses-houkan", "研修コース: 事業所として職員の受講状況（/courses/staff/）を見る"),
    ("dispatch-atsugi", "専門職派遣: 地域ケア会議にリハ職の派遣を依頼する"),
]


def _member(org: Organization, role: str, username: str, name: str) -> Membership:
    found = Membership.objects.filter(user__username=username, organization=org).first()
    if found is not None:
        return found
    # After `seed_demo --reset` the account survives its retired organisation: join it anew.
    user = User.objects.filter(username=username).first()
    if user is not None:
        return Membership.objects.create(user=user, organization=org, role=role)
    return make_member(org, role, username=username, password=DEMO_PASSWORD, display_name=name)


def _org(name: str, kind: str, code: str) -> Organization:
    return Organization.objects.filter(name=name, is_active=True).first() or make_org(
        name, kind, municipality_code=code
    )


def _prefecture() -> Organization:
    return Organization.objects.filter(kind=OrgKind.PREFECTURE, prefecture__code="14").order_by(
        "pk"
    ).first() or make_org(
        "神奈川県 在宅医療・介護連携担当", OrgKind.PREFECTURE, prefecture_code="14"
    )


def _city(code: str) -> Organization:
    """The demo's office of the municipality (as renkei.demo.pdca finds it), else any."""
    return (
        Organization.objects.filter(code=demo_uuid("org", f"city-{code}"), is_active=True).first()
        or Organization.objects.filter(
            kind=OrgKind.MUNICIPALITY, municipality__code=code, is_active=True
        )
        .order_by("pk")
        .first()
        or make_org(
            f"{code} 在宅医療・介護連携担当（デモ）", OrgKind.MUNICIPALITY, municipality_code=code
        )
    )


def _pdf(title: str) -> SimpleUploadedFile:
    # A one-page PDF whose only text is the title in ASCII: enough to open and print.
    body = (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )
    return SimpleUploadedFile(f"{title}.pdf", body, content_type="application/pdf")


def _apply(
    rnd_course: Course,
    number: int,
    people: int,
    start: int,
    office: str,
    when: dt.datetime,
    employer: Membership | None = None,
) -> list[Applicant]:
    rnd = rnd_course.rounds.get(number=number)
    data = course_application(
        [nurse(start + i, years=2 + i % 5, tag="demo-course") for i in range(people)],
        office_name=office,
        contact_email=f"office{start}@example.jp",
    )
    app, _ = actions.apply(rnd, data, by=employer, notify=False, now=when)
    return list(app.applicants.order_by("position"))


def _attend(
    course: Course, number: int, people: list[Applicant], days: list[int], by: Membership
) -> None:
    sessions = list(course.rounds.get(number=number).sessions.all())
    for d in days:
        for p in people:
            completion.set_session_attendance(
                sessions[d],
                completion.SessionAttendanceInput(applicant=p.code, attended=True),
                by=by,
            )


@dataclass(frozen=True)
class CourseDemo:
    intro: Course
    long: Course
    officer: Membership
    employer: Membership
    asker: Membership


def seed_courses(*, today: dt.date | None = None) -> CourseDemo:
    today = today or timezone.localdate()
    tz = timezone.get_current_timezone()
    pref = _prefecture()
    officer = _member(pref, Role.PREFECTURAL_OFFICER, "courses-pref", "研修担当 県（デモ）")
    station = _org("見本訪問看護ステーション（仮名）", OrgKind.VISITING_NURSE, "142158")
    employer = _member(station, Role.VISITING_NURSE, "courses-houkan", "管理者 見本（仮名）")
    atsugi = _city("142123")
    asker = _member(atsugi, Role.MUNICIPAL_OFFICER, "dispatch-atsugi", "厚木 地域包括ケア（デモ）")

    intro = Course.objects.filter(title=INTRO_COURSE, organization=pref).first()
    if intro is None:
        past, ahead = today - dt.timedelta(days=21), today + dt.timedelta(days=35)
        intro = actions.create_course(
            actions.CourseInput(
                title=INTRO_COURSE,
                description="訪問看護に就いて間もない看護職を対象に、制度・アセスメント・"
                "医療処置・多職種連携を2日間で学びます。両日の出席で修了となります。",
                eligible_occupations=["nurse"],
                employer_kinds=[OrgKind.VISITING_NURSE],
                certificate_label="訪看導入",
                contact="神奈川県 在宅医療・介護連携担当（デモ） 045-000-0000",
                published=True,
                rounds=[two_day_round(1, past, capacity=30), two_day_round(2, ahead, capacity=30)],
            ),
            by=officer,
        )
        before = dt.datetime.combine(past - dt.timedelta(days=20), dt.time(10), tzinfo=tz)
        first = _apply(intro, 1, 6, 0, "みなと訪問看護ステーション（仮名）", before)
        first += _apply(intro, 1, 3, 10, station.name, before, employer)
        _attend(intro, 1, first, [0], officer)
        _attend(intro, 1, first[:-2], [1], officer)
        completion.issue_certificates(intro.rounds.get(number=1), by=officer)
        now = timezone.now()
        _apply(intro, 2, 4, 20, "やまびこ訪問看護ステーション（仮名）", now)
        _apply(intro, 2, 2, 30, station.name, now, employer)

    long = Course.objects.filter(title=LONG_COURSE, organization=pref).first()
    if long is None:
        start = today - dt.timedelta(days=120)
        sessions = [
            actions.SessionInput(
                date=start + dt.timedelta(days=14 * i),
                starts=dt.time(13, 30),
                ends=dt.time(16, 30),
                kind=SessionKind.LECTURE,
                title=f"講習{i + 1}",
                venue="県看護協会 研修室",
            )
            for i in range(8)
        ] + [
            actions.SessionInput(
                date=start + dt.timedelta(days=120 + 7 * i),
                starts=dt.time(9),
                ends=dt.time(17),
                kind=SessionKind.PRACTICUM,
                title=f"訪問看護ステーション実習{i + 1}",
                venue="県内の受入れステーション",
            )
            for i in range(3)
        ]
        long = actions.create_course(
            actions.CourseInput(
                title=LONG_COURSE,
                description="約5か月間の講習（隔週）と、訪問看護ステーションでの実習です。"
                "11日のうち9日以上の出席で修了となります。",
                eligible_occupations=["nurse"],
                min_years_experience=1,
                min_sessions=9,
                fee=10000,
                certificate_label="養成",
                published=True,
                rounds=[actions.RoundInput(number=1, capacity=40, sessions=sessions)],
            ),
            by=officer,
        )
        before = dt.datetime.combine(start - dt.timedelta(days=30), dt.time(10), tzinfo=tz)
        people = _apply(long, 1, 8, 40, "県央訪問看護ステーション（仮名）", before)
        _attend(long, 1, people, list(range(8)), officer)
        _attend(long, 1, people[:5], [8], officer)

    _seed_dispatch(pref, officer, today)
    _seed_materials(officer, today)
    return CourseDemo(intro, long, officer, employer, asker)


ROSTER = [
    (
        "理学 療子（仮名）",
        SpecialistKind.REHAB,
        "県央リハビリテーション病院（仮名）",
        KENOU[:4],
        [0, 2, 4],
    ),
    ("作業 療太（仮名）", SpecialistKind.REHAB, "あつぎ訪問リハ（仮名）", [], [1, 3]),
    (
        "栄養 みのり（仮名）",
        SpecialistKind.DIETITIAN,
        "えびな栄養ケアステーション（仮名）",
        KENOU,
        [],
    ),
    (
        "歯科 衛子（仮名）",
        SpecialistKind.DENTAL_HYGIENIST,
        "県央歯科医師会（仮名）",
        KENOU,
        [0, 1, 2, 3, 4],
    ),
    ("薬剤 師夫（仮名）", SpecialistKind.PHARMACIST, "やまと薬局（仮名）", KENOU[1:], []),
    (
        "認知 ささえ（仮名）",
        SpecialistKind.DEMENTIA,
        "県央認知症疾患医療センター（仮名）",
        [],
        [1, 2, 3],
    ),
]
PURPOSES = [DispatchPurpose.CARE_MEETING, DispatchPurpose.TRAINING, DispatchPurpose.CONSULTATION]


def _seed_dispatch(pref: Organization, officer: Membership, today: dt.date) -> None:
    if Specialist.objects.organised_by(pref).exists():
        return
    roster = [
        dispatch.add_specialist(
            dispatch.SpecialistInput(
                name=name,
                kind=kind,
                affiliation=aff,
                email=f"specialist{i}@example.jp",
                areas=areas,
                weekdays=days,
            ),
            by=officer,
        )
        for i, (name, kind, aff, areas, days) in enumerate(ROSTER)
    ]
    start = dt.date(fiscal_year(today), 4, 1)
    day = start + dt.timedelta(days=10)
    n = 0
    while day < today + dt.timedelta(days=30) and n < 40:
        code = KENOU[n % len(KENOU)]
        city = _city(code)
        # The same member renkei.demo.pdca gives a city office without one (kenou-<code>).
        asker = Membership.objects.filter(organization=city, is_active=True).first() or _member(
            city, Role.MUNICIPAL_OFFICER, f"kenou-{code}", f"{city.name} 担当（仮名）"
        )
        wanted = roster[n % len(roster)]
        req = dispatch.request_dispatch(
            dispatch.DispatchRequestInput(
                date=day,
                starts=dt.time(14),
                ends=dt.time(16),
                purpose=PURPOSES[n % len(PURPOSES)],
                kind=wanted.kind,
                venue=f"{city.name} 会議室",
                detail="事例検討への助言をお願いします。",
            ),
            by=asker,
            today=day - dt.timedelta(days=14),
        )
        n += 1
        day += dt.timedelta(days=5)
        if req.date > today + dt.timedelta(days=14):
            continue  # still waiting for the prefecture
        chosen = next((s for s in dispatch.candidates(req) if s.kind == wanted.kind), None)
        decision = (
            dispatch.DispatchDecisionInput(specialist=chosen.code)
            if chosen
            else dispatch.DispatchDecisionInput(note="ご希望の日に派遣できる専門職がいません")
        )
        req = dispatch.decide(req, decision, by=officer)
        if req.status == DispatchRequest.Status.CONFIRMED and req.date < today:
            dispatch.file_report(
                req,
                dispatch.DispatchReportInput(
                    report="事例2件について助言し、質疑に応じた。", participants=8 + n % 12
                ),
                today=req.date,
            )
            dispatch.record_fee(req, dispatch.FeeInput(fee=15000), by=officer)


GUIDES = [
    (
        "在宅療養ガイドブック（デモ）",
        MaterialKind.GUIDEBOOK,
        Audience.RESIDENTS,
        "142018",
        ProgrammeItem.KI,
    ),
    (
        "退院調整ルール（県央版・デモ）",
        MaterialKind.RULE,
        Audience.PROFESSIONALS,
        None,
        ProgrammeItem.U,
    ),
    (
        "在宅療養連携エチケット集（デモ）",
        MaterialKind.ETIQUETTE,
        Audience.PROFESSIONALS,
        "142018",
        ProgrammeItem.E,
    ),
    (
        "わたしのリビング・ウィル（デモ）",
        MaterialKind.ACP,
        Audience.RESIDENTS,
        None,
        ProgrammeItem.KI,
    ),
]


def _seed_materials(officer: Membership, today: dt.date) -> None:
    from renkei.courses.models import Material

    if Material.objects.filter(organization=officer.organization).exists():
        return
    for i, (title, kind, audience, code, item) in enumerate(GUIDES):
        m = materials.publish(
            materials.MaterialInput(
                title=title,
                kind=kind,
                audience=audience,
                municipality_code=code,
                programme_item=item,
                description="デモ用の資料です。実際の冊子ではありません。",
            ),
            materials.VersionInput(published_on=today - dt.timedelta(days=400 + 30 * i)),
            _pdf(f"guide{i}"),
            by=officer,
        )
        if i == 0:
            materials.add_version(
                m,
                materials.VersionInput(
                    published_on=today - dt.timedelta(days=30),
                    note="第2版（相談窓口の連絡先を更新）",
                ),
                _pdf("guide0-v2"),
                by=officer,
            )
        for back in range(3):
            month = timezone.now() - dt.timedelta(days=31 * back)
            for _ in range(3 + 2 * i + back):
                materials.count_download(m, now=month)
