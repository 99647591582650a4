"""Builders for surveys and indicators, shared by the tests and the demo seed."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from renkei.accounts.models import Membership, Organization, OrgKind, Role
from renkei.pdca import actions
from renkei.pdca.models import Response, Survey
from renkei.regions.models import SecondaryArea
from renkei.testing import make_member, make_org

KENOU = ("142123", "142131", "142158", "142166", "142182", "144011", "144029")


def make_prefecture_officer(username: str = "pref-officer") -> Membership:
    org = make_org("神奈川県 医療課（テスト）", OrgKind.PREFECTURE, prefecture_code="14")
    return make_member(org, Role.PREFECTURAL_OFFICER, username=username)


def make_city_officer(code: str, name: str, *, username: str | None = None) -> Membership:
    org = make_org(
        f"{name} 地域包括ケア推進課（テスト）", OrgKind.MUNICIPALITY, municipality_code=code
    )
    return make_member(org, Role.MUNICIPAL_OFFICER, username=username or f"city-{code}")


def send_kenou_survey(
    by: Membership,
    *,
    fiscal_year: int = 2026,
    deadline: dt.date | None = None,
    title: str = "病院・在宅医療・介護連携の取組状況・課題等について",
) -> Survey:
    area = SecondaryArea.objects.get(prefecture__code="14", name="県央")
    return actions.send_survey(
        by=by,
        data=actions.SurveyInput(
            title=title,
            fiscal_year=fiscal_year,
            deadline=deadline or timezone.localdate() + dt.timedelta(days=20),
            area_id=area.pk,
        ),
    )


def answer(
    survey: Survey, by: Membership, answers: dict[str, str], *, submit: bool = True
) -> Response:
    org: Organization = by.organization
    response = Response.objects.get(survey=survey, municipality_id=org.municipality_id or 0)
    return actions.save_answers(
        response, by=by, data=actions.AnswerInput(answers=answers, submit=submit)
    )
