"""The placement network's demo: a hospital, five receivers and a case in each state."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from renkei.accounts.models import Organization, Role
from renkei.directory.models import CareLevel, FacilityKind, VacancyStatus
from renkei.referrals import actions
from renkei.referrals.inputs import HandoverInput, RequestAnswerInput, WithdrawCaseInput
from renkei.referrals.models import (
    AgeBand,
    Answer,
    CaseDementiaLevel,
    CaseSex,
    DeclineReason,
    PlacementRequest,
    WithdrawalReason,
)
from renkei.referrals.testing import make_case, make_hospital, make_receiver, send
from renkei.testing import make_member


def seed_referrals() -> dict[str, Any]:
    """A small placement network in 湘南西部/湘南東部 for the demo: one hospital, five receivers,
    and cases in each state. Call after the directory and regions are loaded. Idempotent by name:
    an existing hospital of the same name means the seed already ran."""
    hospital_name = "湘南さくら総合病院（デモ）"
    existing = Organization.objects.filter(name=hospital_name).first()
    if existing is not None:
        return {"hospital": existing, "created": False}
    msw = make_hospital(
        hospital_name, municipality_code="142051", username="demo-msw", with_facility=False
    )
    nurse = make_member(msw.organization, Role.DISCHARGE_NURSE, username="demo-discharge-nurse")
    common: dict[str, Any] = {
        "confirmed_days_ago": 1,
        "accepts_dementia": True,
        "accepts_infection": True,
    }
    tokuyo, tokuyo_staff = make_receiver(
        "特別養護老人ホーム なぎさ苑（デモ）",
        FacilityKind.TOKUYO,
        municipality_code="142051",
        username="demo-tokuyo",
        lat=35.3312,
        lng=139.4801,
        capability_codes=["suction", "tube-feeding", "gastrostomy", "end-of-life"],
        vacancy=VacancyStatus.AVAILABLE,
        vacancy_count=2,
        cost_min=90000,
        cost_max=150000,
        **common,
    )
    roken, roken_staff = make_receiver(
        "介護老人保健施設 ひかりの丘（デモ）",
        FacilityKind.ROKEN,
        municipality_code="142077",
        username="demo-roken",
        lat=35.3331,
        lng=139.4040,
        capability_codes=["suction", "tube-feeding", "insulin", "oxygen"],
        vacancy=VacancyStatus.FEW,
        vacancy_count=1,
        cost_min=100000,
        cost_max=160000,
        **common,
    )
    hospital_b, hospital_b_staff = make_receiver(
        "湘南リハビリテーション病院（デモ）",
        FacilityKind.HOSPITAL,
        municipality_code="142077",
        username="demo-rehab",
        role=Role.MSW,
        lat=35.3401,
        lng=139.3901,
        capability_codes=["suction", "tube-feeding", "oxygen", "ivh", "tracheostomy"],
        vacancy=VacancyStatus.AVAILABLE,
        wards=[("recovery", 60, 3), ("community", 40, 2)],
        **common,
    )
    nurse_st, nurse_st_staff = make_receiver(
        "訪問看護ステーション はまかぜ（デモ）",
        FacilityKind.VISITING_NURSE,
        municipality_code="142051",
        username="demo-houkan",
        role=Role.VISITING_NURSE,
        lat=35.3452,
        lng=139.4870,
        capability_codes=["suction", "tube-feeding", "oxygen", "ventilator", "terminal-care"],
        service_municipality_codes=["142051", "142077"],
        service_radius_km=10,
        **common,
    )
    gh, gh_staff = make_receiver(
        "グループホーム やまゆり（デモ）",
        FacilityKind.GROUP_HOME,
        municipality_code="142051",
        username="demo-gh",
        lat=35.3601,
        lng=139.4702,
        capability_codes=["bpsd"],
        vacancy=VacancyStatus.NONE,
        cost_min=130000,
        **common,
    )
    # One case still searching, one waiting for answers, one decided, one withdrawn.
    searching = make_case(
        msw,
        capability_codes=["suction", "tube-feeding"],
        destinations=[FacilityKind.TOKUYO, FacilityKind.ROKEN],
        budget_monthly=150000,
        note="胃ろう造設後、経過良好。日中は車椅子で過ごされている。",
    )
    waiting = make_case(
        nurse,
        capability_codes=["oxygen"],
        destinations=["recovery_hospital", FacilityKind.ROKEN],
        age_band=AgeBand.AGE_80,
        sex=CaseSex.MALE,
        care_level=CareLevel.CARE_2,
        dementia=CaseDementiaLevel.I,
        note="在宅酸素 2L。リハビリ継続の希望あり。",
    )
    send(waiting, nurse, [roken, hospital_b])
    actions.answer_request(
        PlacementRequest.objects.get(case=waiting, facility=roken),
        by=roken_staff,
        data=RequestAnswerInput(
            answer=Answer.INTERVIEW, interview_dates=[timezone.now() + dt.timedelta(days=2)]
        ),
    )
    decided = make_case(
        msw,
        capability_codes=["suction"],
        destinations=[FacilityKind.TOKUYO, FacilityKind.ROKEN],
        care_level=CareLevel.CARE_4,
    )
    reqs = send(decided, msw, [tokuyo, roken])
    actions.answer_request(
        reqs[0], by=tokuyo_staff, data=RequestAnswerInput(answer=Answer.ACCEPTED)
    )
    actions.answer_request(
        reqs[1],
        by=roken_staff,
        data=RequestAnswerInput(answer=Answer.DECLINED, decline_reason=DeclineReason.FULL),
    )
    actions.confirm_placement(decided, reqs[0], by=msw)
    actions.record_handover(
        decided,
        by=msw,
        data=HandoverInput(kind="nursing_summary", exchanged_on=timezone.localdate()),
    )
    withdrawn = make_case(
        msw, destinations=["home"], care_level=None, key_person="unclear", key_person_relation=""
    )
    send(withdrawn, msw, [nurse_st])
    actions.withdraw_case(withdrawn, by=msw, data=WithdrawCaseInput(reason=WithdrawalReason.FAMILY))
    return {
        "hospital": msw.organization,
        "created": True,
        "members": [
            msw,
            nurse,
            tokuyo_staff,
            roken_staff,
            hospital_b_staff,
            nurse_st_staff,
            gh_staff,
        ],
        "cases": [searching, waiting, decided, withdrawn],
        "facilities": [tokuyo, roken, hospital_b, nurse_st, gh],
    }
