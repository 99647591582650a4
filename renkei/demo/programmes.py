"""The programme office's demo (issue 15): the prefecture's table of its main programmes in seed
000's shape (令和元年度 with 実績 and 令和2年度 予定, rolled over to 令和2年度), the city's
programme table in seed 003's shape (items ア–ク and 事業効果, budgets by 財源), the city's
meeting year (全体会議, three 専門部会, a ブロック会議, the 4市1町 担当者会議) and three issues
with their countermeasures. Synthetic names only; built through the app's actions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from renkei.accounts.models import Membership, Organization, OrgKind, Role
from renkei.demo.common import demo_uuid
from renkei.lib.dates import fiscal_year
from renkei.programmes import actions, contracts
from renkei.programmes.models import AttendanceStatus, MeetingBody, ProgrammeLine, ProgrammeTable
from renkei.programmes.testing import make_body, make_issue, make_table
from renkei.testing import DEMO_PASSWORD, make_member

CITY_CODE = "142018"  # 横須賀市: seed 003's city
CITY_LOGIN = "programmes-city"
PREF_LOGIN = "programmes-pref"
ISHIKAI_LOGIN = "programmes-ishikai"

PROGRAMME_HINTS: list[tuple[str, str]] = [
    (
        CITY_LOGIN,
        "事業管理: 事業一覧（事業項目・事業効果・財源別予算）と会議の年間予定、課題と対応策、"
        "「決定→予算→実績」の印刷を見る",
    ),
    (
        PREF_LOGIN,
        "事業管理: 県の主な取組み（令和元年度・令和2年度）をA4横で印刷し、管内市町村の事業一覧を閲覧する",
    ),
    (
        ISHIKAI_LOGIN,
        "事業管理: 受託した医師会として、市の事業一覧のうち受託事業だけを見て実績を入力する",
    ),
]

K = "地域医療介護総合確保基金（医療分）"
KK = "地域医療介護総合確保基金（介護分）"
CHIIKI = "地域支援事業交付金"
IPPAN = "一般財源"

# Seed 000's table, in the demo region's words (a few lines per heading).
PREFECTURE_LINES: list[dict[str, Any]] = [
    {
        "section": "県全域での在宅医療と介護の連携の推進体制の整備",
        "name": "在宅医療推進協議会運営事業",
        "items": ["i", "ku"],
        "content": "県全域及び保健福祉事務所圏域で、市町村や関係団体の医療介護関係者等からなる会議体を設置し、"
        "在宅医療・地域包括ケアシステムに係る課題の抽出や好事例の共有等を行う。",
        "results": "○県全域：2回開催（9月、3月（書面回議））\n○保健福祉事務所圏域：資料4を参照",
        "plan": "○県全域：2回開催予定\n○保健福祉事務所圏域：7箇所で予定",
        "budget": [(K, 408)],
    },
    {
        "section": "県全域での在宅医療と介護の連携の推進体制の整備",
        "name": "専門職員等派遣事業",
        "items": ["ku"],
        "content": "市町村単独では人材確保が困難な専門職員等の調整・派遣を行う。",
        "results": "○県全域：96人派遣",
        "plan": "○県全域：90人程度派遣予定",
        "budget": [(KK, 5200)],
    },
    {
        "section": "県全域での在宅医療と介護の連携の推進体制の整備",
        "name": "在宅医療・介護連携推進事業についての研修会",
        "items": ["ku", "ka"],
        "content": "市町村担当者と事業受託者を対象に、先行する市の取組の理解と意見交換の研修会を開催する。",
        "results": "○第1回（7/10）講演「診療報酬と介護報酬」、グループワーク\n"
        "○第2回（11/21）講演「PDCAサイクルと事業評価」、グループワーク",
        "plan": "○研修：1回予定",
        "budget": [(KK, 350)],
    },
    {
        "section": "在宅医療を担う人材や訪問看護ステーション、医療機関等の増加",
        "name": "訪問看護管理者研修事業",
        "items": ["ka"],
        "content": "訪問看護ステーションの管理者に必要な知識等を身に付ける研修を実施する。",
        "results": "○制度活用管理者研修 定員150名 2回開催\n第1回：9月7日 第2回：9月14日\n"
        "○管理者スキルアップ研修 定員40名 1回開催 R2年2月2日",
        "plan": "【制度活用管理者研修】定員150名 2回開催(予定)\n【管理者スキルアップ研修】定員40名 1回開催(予定)",
        "budget": [(K, 2980)],
    },
    {
        "section": "在宅医療を担う人材や訪問看護ステーション、医療機関等の増加",
        "name": "新任訪問看護師育成事業",
        "is_new": True,
        "items": ["ka"],
        "content": "新任訪問看護師育成プログラムを活用し、訪問看護が未経験の看護師への研修を実施する。",
        "results": "",
        "plan": "【中央研修】定員200名／回 2回開催(予定)\n【ブロック研修】定員30名／回 5回開催(予定)",
        "budget": [(K, 1500)],
    },
    {
        "section": "在宅医療を担う人材や訪問看護ステーション、医療機関等の増加",
        "name": "地域医師会による在宅医療推進事業",
        "items": ["u", "ka", "ki"],
        "scenes": ["emergency"],
        "content": "郡市医師会が市町村と連携して行う、研修・普及啓発等の在宅医療の推進に資する事業に助成する。",
        "results": "5圏域の8郡市医師会で、研修・普及啓発と、休日・夜間の当番医制度・後方ベッド確保のモデル事業を実施",
        "plan": "5圏域の8郡市医師会で同様に実施",
        "contractor_name": "県央みらい医師会 ほか",
        "budget": [(K, 24000)],
    },
    {
        "section": "医療機関間や医療介護事業者間の連携構築に向けた取組み",
        "name": "入退院支援推進事業",
        "items": ["u", "e"],
        "scenes": ["discharge"],
        "content": "病院の入退院支援担当者が、必要な処置や居住地の情報を匿名で登録し、受入れ可能な施設等を検索できるネットワークを構築する。",
        "results": "湘南みらい圏域でネットワークを構築し、多職種間の連携を推進",
        "plan": "参加機関へのアンケート等を通じ、事業の効果検証を行う予定",
        "budget": [(K, 12000)],
    },
    {
        "section": "小児在宅医療の体制整備、人材育成",
        "name": "小児等在宅医療連携拠点事業",
        "items": ["u", "ka", "o"],
        "content": "医療的ケア児の在宅医療を支える体制を構築し、支援者向けの研修を実施する。",
        "results": "○小児等在宅医療推進会議（1回（書面））\n○研修：11回開催\n○相談窓口の設置：1箇所",
        "plan": "○小児等在宅医療推進会議（1回予定）\n○研修：12回開催予定\n○相談窓口の設置：1箇所",
        "budget": [(K, 8400)],
    },
]

# Seed 003's table for the city, with its items and 事業効果.
CITY_LINES: list[dict[str, Any]] = [
    {
        "name": "在宅療養連携会議の開催",
        "items": ["a", "i", "e", "o"],
        "content": "在宅療養推進のための多職種連携を図り、課題解決策を検討する会議を開催する。\n"
        "・委員数 19名（内行政職3名）\n・全体会議 4回\n・専門部会 3部会 各4回",
        "effect": "医療・福祉・行政の関係機関が一堂に会し、情報交換や相互理解を図るとともに、課題解決策を検討し、具体策を提示する。",
        "budget": [(CHIIKI, 1850)],
    },
    {
        "name": "ブロック連携拠点運営委託",
        "items": ["u", "ka", "o"],
        "scenes": ["daily", "emergency"],
        "content": "地域別ブロック連携拠点を市内4か所（4病院）に置き、ブロック会議・地区別多職種合同研修会・相談業務を行う。",
        "effect": "ブロック内の開業医の相互協力体制を構築し、新たに在宅医療を担う医師を増やす。病院が拠点を担うことで病診連携が進む。",
        "contractor_name": "市内4病院",
        "budget": [(CHIIKI, 6400)],
    },
    {
        "name": "センター連携拠点運営委託",
        "items": ["e", "ka", "ki"],
        "content": "市内全域を対象とする在宅療養推進事業のセンター拠点を医師会に置く（広域多職種合同研修会、街角出前講座、病院長会議、情報共有システム普及）。",
        "effect": "病院長会議などを通じたバックベッドの確保で病診連携が進み、在宅医が在宅患者を受け入れやすくなる。",
        "contractor_name": "横須賀みなと医師会",
        "budget": [(CHIIKI, 9800)],
    },
    {
        "name": "市民啓発事業",
        "items": ["ki"],
        "scenes": ["end_of_life"],
        "content": "在宅療養シンポジウムの開催、在宅療養ガイドブックの増刷、リビング・ウィルの普及",
        "effect": "在宅医療・在宅看取りを知ってもらい、自分や家族の終末期を考える機会を作る。",
        "budget": [(CHIIKI, 1200), (IPPAN, 300, "ガイドブック増刷")],
    },
    {
        "name": "開業医対象研修（在宅医療セミナー・在宅医同行研修）",
        "items": ["ka"],
        "scenes": ["daily", "end_of_life"],
        "content": "開業医を対象とした在宅医療セミナーと、在宅医療の現場を体験する同行研修を実施する。",
        "effect": "セミナーと現場の体感で、開業医に在宅医療参入のきっかけを作る。",
        "budget": [(CHIIKI, 950)],
    },
    {
        "name": "病院医療職対象研修（病院内在宅療養出前セミナー）",
        "items": ["ka"],
        "scenes": ["discharge"],
        "content": "病院の勤務医・看護師等を対象とした研修を病院内で開催する。",
        "effect": "在宅医療の現実を知ってもらい、退院調整がスムーズになる。",
        "budget": [(CHIIKI, 400)],
    },
    {
        "name": "介護職対象在宅医療セミナー",
        "items": ["ka"],
        "content": "ケアマネジャー・ヘルパー等の介護職を対象に、医療に関するセミナーを開催する。",
        "effect": "介護関係者が医療的知識を学び、医療と介護の連携が強化される。",
        "budget": [(CHIIKI, 380)],
    },
    {
        "name": "4市1町在宅医療・介護連携推進担当者会議",
        "items": ["ku"],
        "content": "二次医療圏内の各市町の担当者が参加する会議を開催する（横須賀市、鎌倉市、逗子市、三浦市、葉山町）。",
        "effect": "会議を通じて、二次医療圏内での連携推進を図る。",
        "budget": [(IPPAN, 60)],
    },
]


def _login(org: Organization, username: str, role: str, display_name: str) -> Membership:
    m = Membership.objects.filter(user__username=username).first()
    return m or make_member(
        org, role, username=username, password=DEMO_PASSWORD, display_name=display_name
    )


def _org(key: str, name: str, kind: str, municipality_code: str, email: str = "") -> Organization:
    from renkei.testing import make_org

    code = demo_uuid("org", key)
    found = Organization.objects.filter(code=code).first()
    return found or make_org(
        name, kind, municipality_code=municipality_code, code=code, email=email
    )


def seed_programmes(today: dt.date | None = None) -> ProgrammeTable | None:
    """Idempotent: nothing happens when the city's table exists already."""
    city_org = Organization.objects.filter(code=demo_uuid("org", f"city-{CITY_CODE}")).first()
    pref_org = Organization.objects.filter(code=demo_uuid("org", "pref")).first()
    if city_org is None or pref_org is None:
        return None
    today = today or timezone.localdate()
    fy = fiscal_year(today)
    if ProgrammeTable.objects.filter(owner=city_org, fiscal_year=fy).exists():
        return None
    city = _login(city_org, CITY_LOGIN, Role.MUNICIPAL_OFFICER, "地域 推進（デモ）")
    pref = _login(pref_org, PREF_LOGIN, Role.PREFECTURAL_OFFICER, "県 連携（デモ）")

    if not ProgrammeTable.objects.filter(owner=pref_org, fiscal_year=2019).exists():
        r1 = make_table(
            pref,
            2019,
            "在宅医療と介護の連携に係る県の主な取組み（令和元年度）",
            lines=PREFECTURE_LINES,
            results_as_of=dt.date(2020, 2, 29),
        )
        actions.roll_over(r1, by=pref)

    table = make_table(
        city, fy, "横須賀市在宅医療・介護連携推進事業一覧（予算分）", lines=CITY_LINES
    )
    lines = {ln.name: ln for ln in table.lines.all()}
    bodies = _meeting_year(city, fy)
    _issues(city, fy, bodies, lines)
    _contractor(city, lines)
    return table


def _contractor(city: Membership, lines: dict[str, ProgrammeLine]) -> None:
    """The 医師会 that runs the city's センター line reads it and enters its 実績 (ADR 0031)."""
    ishikai = Organization.objects.get(code=demo_uuid("org", "programmes-ishikai"))
    _login(ishikai, ISHIKAI_LOGIN, Role.DOCTOR, "医師会 事務局（デモ）")
    for line in lines.values():
        if line.contractor_name == ishikai.name:
            contracts.add_contractor(
                line, by=city, data=contracts.ContractorInput(organization=str(ishikai.code))
            )


def _meeting_year(city: Membership, fy: int) -> dict[str, MeetingBody]:
    ishikai = _org(
        "programmes-ishikai",
        "横須賀みなと医師会",
        OrgKind.MEDICAL_ASSOCIATION,
        CITY_CODE,
        "office@minato-ishikai.example.jp",
    )
    hospital = _org(
        "programmes-hospital",
        "みなと中央病院",
        OrgKind.HOSPITAL,
        CITY_CODE,
        "renkei@minato-hp.example.jp",
    )
    houkatsu = _org(
        "programmes-houkatsu",
        "地域包括支援センター うみかぜ",
        OrgKind.COMMUNITY_CENTER,
        CITY_CODE,
        "umikaze@example.jp",
    )
    plenary = make_body(
        city,
        "在宅療養連携会議 全体会議",
        "plenary",
        items=["i"],
        purpose="在宅療養推進のための多職種連携を図り、課題解決策を検討する。",
        meetings_per_year=4,
    )
    teams = [
        (
            "広報啓発検討専門部会",
            "Aチーム",
            ["ki"],
            "在宅療養シンポジウム、リビング・ウィルの普及方法の検討",
        ),
        (
            "連携手法検討専門部会",
            "Bチーム",
            ["ka", "u", "o"],
            "広域多職種合同研修会、エチケット集の改訂、相談対応体制",
        ),
        (
            "研修・セミナー検討専門部会",
            "Cチーム",
            ["ka"],
            "病院出前セミナー、介護職向け在宅療養セミナー",
        ),
    ]
    committees = [
        make_body(
            city,
            name,
            "committee",
            parent=str(plenary.code),
            team=team,
            items=items,
            purpose=purpose,
        )
        for name, team, items, purpose in teams
    ]
    block = make_body(
        city, "在宅医療ブロック会議（東ブロック）", "block", items=["u"], meetings_per_year=3
    )
    liaison = make_body(
        city, "4市1町在宅医療・介護連携推進担当者会議", "liaison", items=["ku"], meetings_per_year=2
    )
    members = [
        actions.BodyMemberInput(organization=str(ishikai.code), name="港 誠一", title="委員長"),
        actions.BodyMemberInput(organization=str(hospital.code), name="中央 美和", title="委員"),
        actions.BodyMemberInput(organization=str(houkatsu.code), name="浜 正子", title="委員"),
        actions.BodyMemberInput(
            name="潮見 花子",
            affiliation="訪問看護ステーションしおさい",
            title="委員",
            email="shiosai@example.jp",
        ),
        actions.BodyMemberInput(name="岬 健", affiliation="居宅介護支援事業所みさき", title="委員"),
    ]
    for body in (plenary, *committees):
        for data in members:
            actions.add_member(body, by=city, data=data)
    for data in members[:2]:
        actions.add_member(block, by=city, data=data)
    for town in ("鎌倉市", "逗子市", "三浦市", "葉山町"):
        actions.add_member(
            liaison,
            by=city,
            data=actions.BodyMemberInput(affiliation=f"{town} 高齢福祉担当", title="担当者"),
        )

    dates = [dt.date(fy, 5, 29), dt.date(fy, 8, 28), dt.date(fy, 11, 27), dt.date(fy + 1, 2, 26)]
    for body in (plenary, *committees):
        actions.plan_year(
            body,
            by=city,
            data=actions.ScheduleInput(fiscal_year=fy, dates=dates, place="市役所 3階会議室"),
        )
    actions.plan_year(
        block,
        by=city,
        data=actions.ScheduleInput(
            fiscal_year=fy,
            dates=[dt.date(fy, 6, 20), dt.date(fy, 10, 17), dt.date(fy + 1, 1, 23)],
            place="みなと中央病院 講堂",
        ),
    )
    actions.plan_year(
        liaison,
        by=city,
        data=actions.ScheduleInput(
            fiscal_year=fy, dates=[dt.date(fy, 7, 10), dt.date(fy + 1, 1, 15)]
        ),
    )

    first = plenary.meetings.get(fiscal_year=fy, number=1)
    actions.save_meeting(
        plenary,
        by=city,
        meeting=first,
        data=actions.MeetingInput(
            fiscal_year=fy,
            number=1,
            held_on=first.held_on,
            starts_at=dt.time(14, 0),
            place="市役所 3階会議室",
            status="held",
            agenda="1 今年度の事業計画について\n2 専門部会の検討テーマについて\n3 在宅医同行研修の企画について",
            minutes="事務局から今年度の事業一覧（予算分）を説明。各専門部会の検討テーマを確認した。"
            "在宅療養支援診療所の数が伸びていないことが課題として挙がった。",
        ),
    )
    member_codes = [str(mm.code) for mm in plenary.members.all()]
    actions.record_attendance(
        first,
        by=city,
        data=actions.MeetingAttendanceInput(
            rows=[
                actions.AttendanceRow(
                    member=c,
                    status=AttendanceStatus.ABSENT if i == 4 else AttendanceStatus.PRESENT,
                )
                for i, c in enumerate(member_codes)
            ]
        ),
    )
    actions.add_decision(
        first,
        by=city,
        data=actions.MeetingDecisionInput(text="在宅医同行研修を年2回に拡充し、医師会と共催する"),
    )
    actions.add_decision(
        first,
        by=city,
        data=actions.MeetingDecisionInput(text="退院調整ルールの周知状況を病院ごとに確認する"),
    )
    return {"plenary": plenary, "a": committees[0], "block": block}


def _issues(
    city: Membership, fy: int, bodies: dict[str, MeetingBody], lines: dict[str, Any]
) -> None:
    from renkei.pdca.catalogue import ensure_indicators

    catalogue = ensure_indicators()

    def indicators(*codes: str) -> list[str]:
        return [c for c in codes if c in catalogue]

    first = bodies["plenary"].meetings.get(fiscal_year=fy, number=1)
    d1, d2 = list(first.decisions.all())
    doctors = make_issue(
        city,
        "在宅医療を担う医師（在宅療養支援診療所）が増えない",
        first.held_on,
        source="meeting",
        meeting=str(first.code),
        scenes=["daily", "end_of_life"],
        items=["ka", "u"],
        description="在宅療養支援診療所は43か所で横ばい。2025年を見据え、開業医の参入と診診連携が必要。",
    )
    m1 = actions.save_countermeasure(
        doctors,
        by=city,
        data=actions.CountermeasureInput(
            title="在宅医同行研修を年2回に拡充する",
            responsible_name="地域医療推進課・医師会",
            due_on=dt.date(fy + 1, 3, 31),
            status="active",
            decision=str(d1.code),
            programme_lines=[str(lines["開業医対象研修（在宅医療セミナー・在宅医同行研修）"].code)],
            indicators=indicators("mentoring.done", "events.attended.doctor"),
        ),
    )
    actions.note_progress(
        m1,
        by=city,
        data=actions.ProgressInput(
            written_on=dt.date(fy, 7, 15), text="医師会と日程調整。第1回の指導医3名が決定。"
        ),
    )
    actions.save_countermeasure(
        doctors,
        by=city,
        data=actions.CountermeasureInput(
            title="ブロック内の在宅医サポート隊（東ブロック）で新規在宅医を支える",
            responsible_name="東ブロック連携拠点",
            due_on=dt.date(fy + 1, 3, 31),
            programme_lines=[str(lines["ブロック連携拠点運営委託"].code)],
        ),
    )
    discharge = make_issue(
        city,
        "退院時の情報共有が病院によってばらつく",
        first.held_on,
        source="meeting",
        meeting=str(first.code),
        scenes=["discharge"],
        items=["u", "e"],
    )
    actions.save_countermeasure(
        discharge,
        by=city,
        data=actions.CountermeasureInput(
            title="退院調整ルールの周知状況を病院ごとに確認し、出前セミナーで説明する",
            responsible_name="Cチーム（研修・セミナー検討専門部会）",
            due_on=dt.date(fy, 12, 25),
            status="active",
            decision=str(d2.code),
            programme_lines=[str(lines["病院医療職対象研修（病院内在宅療養出前セミナー）"].code)],
            indicators=indicators("referrals.days", "desk.consultations.discharge"),
        ),
    )
    acp = make_issue(
        city,
        "看取りや人生会議について市民の相談先が知られていない",
        dt.date(fy, 6, 12),
        source="desk",
        scenes=["end_of_life"],
        items=["ki", "o"],
        description="相談窓口への問い合わせで、リビング・ウィルの書き方と相談先を尋ねる声が続いた。",
    )
    m3 = actions.save_countermeasure(
        acp,
        by=city,
        data=actions.CountermeasureInput(
            title="在宅療養シンポジウムと出前講座で、相談窓口とリビング・ウィルを紹介する",
            responsible_name="Aチーム（広報啓発検討専門部会）",
            due_on=dt.date(fy + 1, 2, 28),
            programme_lines=[
                str(lines["市民啓発事業"].code),
                str(lines["センター連携拠点運営委託"].code),
            ],
        ),
    )
    actions.note_progress(
        m3,
        by=city,
        data=actions.ProgressInput(
            written_on=dt.date(fy, 8, 28),
            text="Aチームでシンポジウムのテーマを「わが家で迎える最期」に決定。",
        ),
    )
