"""The surveys' and indicators' demo: 県央's survey of its seven municipalities (seed 002's
questions, last year's answers submitted, this year's partly answered) and two fiscal years
of indicators computed from the demo's records, with the 65+ population entered.

The answers paraphrase the kinds of programme seed 002 lists; the population figures are
rounded demo values, not statistics."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from renkei.accounts.models import Membership, Organization, OrgKind, Role
from renkei.demo.common import demo_uuid
from renkei.pdca import actions
from renkei.pdca.catalogue import POPULATION_65, ensure_indicators
from renkei.pdca.compute import compute
from renkei.pdca.models import IndicatorValue, Response, Survey
from renkei.regions.models import Municipality, SecondaryArea
from renkei.testing import DEMO_PASSWORD, make_member, make_org

TITLE = "病院・在宅医療・介護連携の取組状況・課題等について（デモ）"

# municipality code: (65+ population (demo), 取組概要, 受け止め, 課題, 意見・要望)
_KENOU: dict[str, tuple[int, str, str, str, str]] = {
    "142123": (
        58_000,
        "連携推進事業の一部を医師会へ委託。資源マップの作成、相談窓口、多職種研修会、市民向け講演会を実施。",
        "三師会・介護事業者・行政のネットワークが自主的に活動しており、多職種の連携体制はできている。",
        "緊急時の対応（消防との連携）のノウハウ不足。事業を担う人材の不足。市民啓発が全世代に届いていない。",
        "高齢者の救急搬送が増えている。救急患者に対応する仕組みを作れないか。",
    ),
    "142131": (
        57_000,
        "医師会へ委託し、医療資源アンケートと医療機関一覧の作成、地域ケア会議（入退院支援）、相談窓口、出前講座を実施。",
        "各種会議や連絡会を通じて、診療所・訪問看護・ケアマネジャーの連携体制ができている。",
        "療養型病院がなく長期療養の受け皿が不足。介護従事者の不足。事業の必要性の周知。",
        "ICTでの情報連携を進めてほしい。",
    ),
    "142158": (
        33_000,
        "市内の医療機関を訪問し受入れ状況を把握。連携協議会の開催、在宅医療相談室の運営、多職種研修を実施。",
        "相談室への相談が定着し、入退院時の連携が進んでいる。",
        "指標を設定して事業を評価することが難しい。看取りの普及啓発。",
        "急変時の受入れ病院の当番を整えてほしい。",
    ),
    "142166": (
        35_000,
        "相談窓口の設置、多職種連携研修、市民向けの人生会議の講座を実施。",
        "顔の見える関係づくりは進んだが、病院との連携に課題が残る。",
        "入退院支援のルールの周知。事業評価の方法。",
        "",
    ),
    "142182": (
        23_000,
        "近隣市と共同で相談窓口を運営。研修会と出前講座を実施。",
        "小規模な市のため単独での事業実施に限界がある。",
        "医療資源（在宅医・訪問看護）の不足。人材の確保。",
        "県による広域での調整を望む。",
    ),
    "144011": (
        13_000,
        "在宅医療介護連携推進協議会の開催、多職種研修会、住民向けの普及啓発を実施。",
        "協議会を通じて関係者の共通理解が進んでいる。",
        "町内の医療資源が少なく、近隣市の資源に頼っている。",
        "",
    ),
    "144029": (
        1_300,
        "町村会と共同で研修会に参加。相談は地域包括支援センターで受けている。",
        "村単独では事業の実施が難しい。",
        "訪問診療・訪問看護の担い手の確保。",
        "広域での連携の枠組みを続けてほしい。",
    ),
}


def _officer(m: Municipality) -> Membership:
    """The municipality's demo office and a member who answers (the printed login for 厚木)."""
    org = (
        Organization.objects.filter(code=demo_uuid("org", f"city-{m.code}")).first()
        or Organization.objects.filter(kind=OrgKind.MUNICIPALITY, municipality=m).first()
    )
    if org is None:
        org = make_org(
            f"{m.name} 在宅医療・介護連携担当", OrgKind.MUNICIPALITY, municipality_code=m.code
        )
    found = Membership.objects.filter(organization=org, is_active=True).first()
    return found or make_member(
        org,
        Role.MUNICIPAL_OFFICER,
        username=f"kenou-{m.code}",
        password=DEMO_PASSWORD,
        display_name=f"{m.name} 担当（仮名）",
    )


def seed_pdca() -> Survey | None:
    """Idempotent: nothing happens when this year's demo survey exists already."""
    pref = (
        Membership.objects.filter(
            user__username="pref-kanagawa", organization__kind=OrgKind.PREFECTURE
        )
        .select_related("organization")
        .first()
    )
    if pref is None:
        return None
    this_year, last_year = actions.default_years()[1], actions.default_years()[0]
    if Survey.objects.filter(title=TITLE, fiscal_year=this_year).exists():
        return None
    area = SecondaryArea.objects.get(prefecture__code="14", name="県央")
    munis = {m.code: m for m in Municipality.objects.in_area(area).filter(parent__isnull=True)}
    officers = {code: _officer(m) for code, m in munis.items()}
    deadline = timezone.localdate() + dt.timedelta(days=14)

    def send(fy: int) -> Survey:
        return actions.send_survey(
            by=pref,
            data=actions.SurveyInput(
                title=TITLE, fiscal_year=fy, deadline=deadline, area_id=area.pk
            ),
        )

    with transaction.atomic():
        last = send(last_year)
        for code, (_pop, torikumi, uketome, kadai, iken) in _KENOU.items():
            r = Response.objects.get(survey=last, municipality__code=code)
            actions.save_answers(
                r,
                by=officers[code],
                data=actions.AnswerInput(
                    answers={
                        "torikumi": torikumi,
                        "uketome": uketome,
                        "kadai": kadai,
                        "iken": iken,
                    },
                    submit=True,
                ),
            )
        current = send(this_year)
        # This year: four have answered (one of them twice), one keeps a draft, two not yet.
        for i, code in enumerate(["142123", "142131", "142158", "142166", "142182"]):
            r = Response.objects.get(survey=current, municipality__code=code)
            kadai = _KENOU[code][3] + "（今年度）人材の確保が一層難しくなった。"
            actions.save_answers(
                r,
                by=officers[code],
                data=actions.AnswerInput(answers={"kadai": kadai}, submit=i < 4),
            )
            if i == 0:
                r.refresh_from_db()
                actions.save_answers(
                    r,
                    by=officers[code],
                    data=actions.AnswerInput(
                        answers={"iken": _KENOU[code][4] + "ICTの統一を県に要望する。"},
                        submit=True,
                    ),
                )

    with transaction.atomic():
        pop = ensure_indicators()[POPULATION_65]
        for code, (population, *_rest) in _KENOU.items():
            for fy, n in ((last_year, population - population // 50), (this_year, population)):
                IndicatorValue.objects.update_or_create(
                    indicator=pop,
                    municipality=munis[code],
                    fiscal_year=fy,
                    defaults={"numerator": n, "value": n},
                )
    compute([last_year, this_year])
    return current
