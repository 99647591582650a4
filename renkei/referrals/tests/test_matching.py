from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from renkei.accounts.models import Membership
from renkei.directory.models import CareLevel, Facility, FacilityKind, SexAccepted, VacancyStatus
from renkei.lib.geo import KM_PER_DEG_LAT
from renkei.referrals.inputs import RequestAnswerInput
from renkei.referrals.matching import (
    Criteria,
    MatchResult,
    _served_ids,
    candidate_rows,
    find_candidates,
    find_hospitals,
)
from renkei.referrals.models import Answer, CaseDementiaLevel, CaseSex, Infection, PlacementRequest
from renkei.referrals.testing import make_case, make_receiver, send
from renkei.referrals.tests.conftest import FUJISAWA
from renkei.testing import make_facility

pytestmark = pytest.mark.django_db


def north(km: float) -> tuple[float, float]:
    """A point `km` north of 藤沢市役所 (the residence point in these tests)."""
    return FUJISAWA[0] + km / KM_PER_DEG_LAT, FUJISAWA[1]


def place(name: str, kind: str = FacilityKind.TOKUYO, km: float = 2.0, **fields: Any) -> Facility:
    lat, lng = north(km)
    lat, lng = fields.pop("lat", lat), fields.pop("lng", lng)
    fields.setdefault("vacancy", VacancyStatus.AVAILABLE)
    fields.setdefault("confirmed_days_ago", 1)
    fields.setdefault("accepts_dementia", True)
    return make_facility(name, kind, lat=lat, lng=lng, **fields)


def by_name(result: MatchResult) -> dict[str, Any]:
    return {c.facility.name: c for c in result.all()}


def test_every_required_procedure_must_be_covered(msw: Membership) -> None:
    """All procedures covered is a match; one or two missing is a near-miss naming them; three is out."""
    place("全部", capability_codes=["suction", "ventilator", "tube-feeding"])
    place("一つ不足", capability_codes=["suction", "tube-feeding"])
    place("二つ不足", capability_codes=["tube-feeding"])
    place("三つ不足")
    case = make_case(msw, capability_codes=["suction", "ventilator", "tube-feeding"])
    result = find_candidates(case)
    assert [c.facility.name for c in result.matches] == ["全部"]
    found = by_name(result)
    assert found["一つ不足"].missing == ["不足: 人工呼吸器（レスピレーター）"]
    assert sorted(found["二つ不足"].missing) == [
        "不足: 人工呼吸器（レスピレーター）",
        "不足: 喀痰吸引",
    ]
    assert "三つ不足" not in found
    # Capabilities are listed in the vocabulary's order.
    assert "処置: 経管栄養・人工呼吸器（レスピレーター）・喀痰吸引 対応可" in found["全部"].reasons


def test_care_level_uses_the_facility_range_then_the_statutory_floor(msw: Membership) -> None:
    """要介護2: 特養 without its own floor misses (要介護3以上); a set range decides when present."""
    place("特養", FacilityKind.TOKUYO)
    place("老健", FacilityKind.ROKEN)
    place("特養（特例入所あり）", FacilityKind.TOKUYO, care_level_min=CareLevel.CARE_1)
    place("軽度のみ", FacilityKind.ROKEN, care_level_max=CareLevel.CARE_1)
    case = make_case(
        msw, care_level=CareLevel.CARE_2, destinations=[FacilityKind.TOKUYO, FacilityKind.ROKEN]
    )
    found = by_name(find_candidates(case))
    assert found["特養"].missing == ["要介護度: 要介護3以上が対象（本人 要介護2）"]
    assert found["老健"].is_match
    assert found["特養（特例入所あり）"].is_match
    assert found["軽度のみ"].missing == ["要介護度: 要介護1までが対象（本人 要介護2）"]


def test_care_level_pending_passes_and_is_flagged(msw: Membership) -> None:
    """申請中 passes every floor but is listed under 要確認."""
    place("特養", FacilityKind.TOKUYO)
    case = make_case(msw, care_level=None)
    cand = by_name(find_candidates(case))["特養"]
    assert cand.is_match
    assert "要確認: 要介護度（申請中）" in cand.to_confirm


def test_unknown_acceptance_passes_but_refusal_fails(msw: Membership) -> None:
    """A NULL (not declared) passes with 要確認; an explicit 受け入れない is a failed condition."""
    place("認知症可", accepts_dementia=True, accepts_infection=True)
    place("未登録", accepts_dementia=None, accepts_infection=None)
    place("認知症不可", accepts_dementia=False, accepts_infection=True)
    place("感染症不可", accepts_dementia=True, accepts_infection=False)
    case = make_case(msw, dementia=CaseDementiaLevel.IIIA, infections=[Infection.MRSA])
    found = by_name(find_candidates(case))
    assert found["認知症可"].is_match and not found["認知症可"].to_confirm
    assert found["未登録"].is_match
    assert found["未登録"].to_confirm == [
        "要確認: 認知症の受入れ（未登録）",
        "要確認: 感染症の受入れ（未登録）",
    ]
    assert found["認知症不可"].missing == ["認知症の方の受入れ不可"]
    assert found["感染症不可"].missing == ["感染症の方の受入れ不可"]


def test_mild_dementia_does_not_require_acceptance(msw: Membership) -> None:
    """自立度Ⅰ lives independently: a facility refusing dementia care still qualifies."""
    place("認知症不可", accepts_dementia=False)
    case = make_case(msw, dementia=CaseDementiaLevel.I)
    assert by_name(find_candidates(case))["認知症不可"].is_match


def test_sex_restriction(msw: Membership) -> None:
    """A women-only facility is a near-miss for a man and a match for a woman."""
    place("女性のみ", sex_accepted=SexAccepted.FEMALE)
    man = make_case(msw, sex=CaseSex.MALE)
    woman = make_case(msw, sex=CaseSex.FEMALE)
    assert by_name(find_candidates(man))["女性のみ"].missing == ["性別: 女性のみ"]
    assert by_name(find_candidates(woman))["女性のみ"].is_match


def test_distance_and_desired_areas(msw: Membership) -> None:
    """Within the radius matches; just outside is a near-miss with the distance; far is out;
    a facility in a desired municipality matches whatever the distance."""
    place("近い", km=5)
    place("少し遠い", km=24, municipality_code="141011")
    place("遠い", km=45, municipality_code="141011")
    place(
        "希望地域の施設",
        km=0,
        municipality_code="143821",
        lat=35.2324,
        lng=139.1069,
    )
    case = make_case(msw, radius_km=20, desired_codes=["143821"])
    found = by_name(find_candidates(case))
    assert found["近い"].is_match
    assert "居住地から約5.0km" in found["近い"].reasons
    assert found["少し遠い"].missing == ["範囲外: 約24.0km（希望20km以内）"]
    assert "遠い" not in found
    assert found["希望地域の施設"].is_match
    assert "希望地域内（足柄下郡箱根町）" in found["希望地域の施設"].reasons


def test_only_desired_kinds_are_candidates(msw: Membership) -> None:
    """A 老健 is not a near-miss of a request for 特養: kind is scope, not a condition."""
    place("特養", FacilityKind.TOKUYO)
    place("老健", FacilityKind.ROKEN)
    place("訪問介護", FacilityKind.HOME_HELP)
    case = make_case(msw, destinations=[FacilityKind.TOKUYO])
    assert set(by_name(find_candidates(case))) == {"特養"}


def test_budget(msw: Membership) -> None:
    """cost_min above the budget is a near-miss with both amounts; unknown cost is 要確認."""
    place("予算内", cost_min=120000)
    place("予算超過", cost_min=180000)
    place("費用未登録")
    case = make_case(msw, budget_monthly=150000)
    found = by_name(find_candidates(case))
    assert "費用: 月12万円〜（予算内）" in found["予算内"].reasons
    assert found["予算超過"].missing == ["費用: 月18万円〜（予算15万円）"]
    assert "要確認: 月額費用（未登録）" in found["費用未登録"].to_confirm


def test_home_care_must_serve_the_residence(msw: Membership) -> None:
    """在宅: a station listing the residence serves; one listing only elsewhere is a near-miss."""
    place(
        "訪看（藤沢対応）",
        FacilityKind.VISITING_NURSE,
        km=8,
        municipality_code="142077",
        service_municipality_codes=["142051"],
    )
    place(
        "訪看（茅ヶ崎のみ）",
        FacilityKind.VISITING_NURSE,
        km=8,
        municipality_code="142077",
        service_municipality_codes=["142077"],
    )
    place(
        "訪看（半径10km）",
        FacilityKind.VISITING_NURSE,
        km=8,
        municipality_code="142077",
        service_radius_km=10,
    )
    place("在支診", FacilityKind.CLINIC, km=3, is_home_care_support=True)
    place("一般診療所", FacilityKind.CLINIC, km=3, is_home_care_support=False)
    case = make_case(msw, destinations=["home"], care_level=CareLevel.CARE_2)
    found = by_name(find_candidates(case))
    assert found["訪看（藤沢対応）"].is_match
    assert "訪問エリア内（藤沢市）" in found["訪看（藤沢対応）"].reasons
    assert found["訪看（茅ヶ崎のみ）"].missing == ["訪問エリア外: 約8.0km"]
    assert found["訪看（半径10km）"].is_match
    assert found["在支診"].is_match
    assert "一般診療所" not in found


def test_recovery_hospitals_need_a_post_acute_ward(msw: Membership) -> None:
    """回復期・慢性期: hospitals with only acute wards are out; wards are shown as reasons."""
    from renkei.directory.models import Ward

    rehab = place("回復期病院", FacilityKind.HOSPITAL)
    Ward.objects.create(facility=rehab, kind="recovery", beds=50, vacant_beds=3)
    acute = place("急性期病院", FacilityKind.HOSPITAL)
    Ward.objects.create(facility=acute, kind="acute", beds=300, vacant_beds=10)
    place("病棟未登録の病院", FacilityKind.HOSPITAL)
    case = make_case(msw, destinations=["recovery_hospital"])
    found = by_name(find_candidates(case))
    assert "回復期リハビリテーション病棟（空床3）" in found["回復期病院"].reasons
    assert "急性期病院" not in found
    assert "要確認: 病棟情報（未登録）" in found["病棟未登録の病院"].to_confirm


def test_group_home_needs_dementia(msw: Membership) -> None:
    """A GH is for people with dementia: without it, the GH is a near-miss that says so."""
    place("GH", FacilityKind.GROUP_HOME)
    case = make_case(
        msw,
        dementia=CaseDementiaLevel.NONE,
        care_level=CareLevel.SUPPORT_2,
        destinations=[FacilityKind.GROUP_HOME],
    )
    assert by_name(find_candidates(case))["GH"].missing == [
        "認知症グループホームは認知症の方が対象"
    ]


def test_ranking_prefers_vacancy_freshness_and_nearness(msw: Membership) -> None:
    """Other things equal: available > few > unknown > full, fresh over stale, near over far."""
    place("空きあり・近い", km=2, vacancy=VacancyStatus.AVAILABLE, confirmed_days_ago=1)
    place("空きあり・遠い", km=15, vacancy=VacancyStatus.AVAILABLE, confirmed_days_ago=1)
    place("空きあり・古い情報", km=2, vacancy=VacancyStatus.AVAILABLE, confirmed_days_ago=90)
    place("残りわずか", km=2, vacancy=VacancyStatus.FEW, confirmed_days_ago=1)
    place("未登録", km=2, vacancy=VacancyStatus.UNKNOWN, confirmed_days_ago=None)
    place("満床", km=2, vacancy=VacancyStatus.NONE, confirmed_days_ago=1)
    case = make_case(msw)
    names = [c.facility.name for c in find_candidates(case).matches]

    def before(a: str, b: str) -> bool:
        return names.index(a) < names.index(b)

    assert names[0] == "空きあり・近い"
    assert before("空きあり・近い", "空きあり・遠い")
    assert before("空きあり・近い", "空きあり・古い情報")
    assert before("残りわずか", "未登録")
    assert before("空きあり・古い情報", "未登録")
    assert names[-1] == "満床"


def test_ranking_rewards_answering_and_accepting(
    msw: Membership, tokuyo: tuple[Facility, Membership], third: tuple[Facility, Membership]
) -> None:
    """Of two otherwise equal facilities, the one that answered and accepted before ranks first."""
    good, good_staff = tokuyo
    silent, _ = third
    Facility.objects.filter(pk__in=[good.pk, silent.pk]).update(
        lat=north(3)[0],
        lng=north(3)[1],
        vacancy_status=VacancyStatus.AVAILABLE,
        vacancy_confirmed_at=timezone.now(),
        capability_mask=0,
        accepts_dementia=True,
    )
    Facility.objects.filter(pk=good.pk).update(geo_cell=silent.geo_cell)
    for _i in range(3):
        past = make_case(msw)
        reqs = send(past, msw, [good, silent])
        from renkei.referrals import actions

        actions.answer_request(
            reqs[0], by=good_staff, data=RequestAnswerInput(answer=Answer.ACCEPTED)
        )
        PlacementRequest.objects.filter(pk=reqs[1].pk).update(deadline=timezone.now())
    case = make_case(msw)
    result = find_candidates(case)
    order = [c.facility.name for c in result.matches]
    assert order.index(good.name) < order.index(silent.name)
    good_cand = by_name(result)[good.name]
    assert good_cand.history.answered == 3 and good_cand.history.positive == 3
    assert by_name(result)[silent.name].history.answered == 0


def test_sql_and_python_agree_on_failed_conditions(msw: Membership) -> None:
    """The SQL `fails` count equals the number of missing items the reasons list shows."""
    place("a", capability_codes=["suction"], sex_accepted=SexAccepted.MALE, cost_min=100000)
    place("b", capability_codes=["suction", "oxygen"], accepts_dementia=False)
    place("c", km=22, municipality_code="141011", capability_codes=["oxygen"])
    place("d", FacilityKind.ROKEN, capability_codes=["suction", "oxygen"], care_level_max=1)
    place("e", capability_codes=["suction", "oxygen"], cost_min=300000, accepts_infection=False)
    case = make_case(
        msw,
        capability_codes=["suction", "oxygen"],
        destinations=[FacilityKind.TOKUYO, FacilityKind.ROKEN],
        dementia=CaseDementiaLevel.IIB,
        budget_monthly=200000,
    )
    criteria = Criteria.of(case)
    sql = {f.name: f.fails for f in candidate_rows(criteria, _served_ids(criteria))}
    python = {c.facility.name: len(c.missing) for c in find_candidates(case).all()}
    assert sql == python == {"a": 2, "b": 1, "c": 2, "d": 1, "e": 1}


def test_matching_runs_in_a_bounded_number_of_queries(
    msw: Membership, django_assert_max_num_queries: Any
) -> None:
    """Thirty candidates cost the same handful of queries as three (no per-facility query)."""
    for i in range(30):
        place(f"施設{i:02d}", km=1 + i * 0.3, capability_codes=["suction"])
    case = make_case(msw, capability_codes=["suction"])
    case.refresh_from_db()
    with django_assert_max_num_queries(8):
        result = find_candidates(case)
        assert len(result.matches) == 30


def test_admission_search_by_ward_capability_and_vacant_beds(db: None) -> None:
    """Hospitals for an admission: by ward kind, vacant beds, capability; backup hospitals first."""
    from renkei.directory.models import Ward

    def hospital(name: str, km: float, wards: list[tuple[str, int, int]], **f: Any) -> Facility:
        h = place(name, FacilityKind.HOSPITAL, km=km, **f)
        for kind, beds, vacant in wards:
            Ward.objects.create(facility=h, kind=kind, beds=beds, vacant_beds=vacant)
        return h

    hospital("地域包括・空床あり", 5, [("community", 40, 2)], capability_codes=["oxygen"])
    hospital("地域包括・満床", 3, [("community", 40, 0)], capability_codes=["oxygen"])
    hospital("急性期のみ", 2, [("acute", 200, 10)], capability_codes=["oxygen"])
    hospital(
        "後方支援・空床あり",
        8,
        [("community", 30, 1)],
        capability_codes=["oxygen"],
        is_backup_hospital=True,
    )
    hospital("酸素不可", 1, [("community", 30, 5)])
    hits = find_hospitals(
        point=FUJISAWA, ward_kinds=["community"], capability_codes=["oxygen"], vacant_only=True
    )
    assert [h.facility.name for h in hits] == ["後方支援・空床あり", "地域包括・空床あり"]
    assert "在宅療養後方支援病院" in hits[0].reasons
    assert "地域包括ケア病棟 40床（空床2）" in hits[1].reasons
    assert hits[1].vacant_beds == 2


def test_receivers_outside_the_network_cannot_be_requested(msw: Membership) -> None:
    """A directory entry without an organisation is listed but cannot be selected."""
    place("未参加の特養")
    facility, _ = make_receiver(
        "参加している特養",
        lat=north(2)[0],
        lng=north(2)[1],
        vacancy=VacancyStatus.AVAILABLE,
        confirmed_days_ago=1,
        accepts_dementia=True,
    )
    case = make_case(msw)
    found = by_name(find_candidates(case))
    assert found["未参加の特養"].can_request is False
    assert found["参加している特養"].can_request is True
    send(case, msw, [facility])
    found = by_name(find_candidates(case))
    assert found["参加している特養"].requested_status == "sent"
    assert found["参加している特養"].can_request is False
