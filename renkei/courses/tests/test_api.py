"""The API door: the same actions and getters as the screens; outsiders 404, anonymous 401."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from renkei.accounts.models import Membership, OrgKind, Role
from renkei.courses.models import Course, Enrolment
from renkei.courses.testing import apply_nurses, course_application, nurse
from renkei.courses.tests.conftest import client_for
from renkei.testing import make_member, make_org

pytestmark = pytest.mark.django_db


def send(c: Client, method: str, url: str, body: Any = None) -> Any:
    return getattr(c, method)(url, data=json.dumps(body or {}), content_type="application/json")


def test_the_public_applies_through_the_api(course: Course, client: Client) -> None:
    detail = client.get(f"/api/v1/courses/courses/{course.code}").json()
    assert [r["number"] for r in detail["rounds"]] == [1, 2]
    assert detail["rounds"][1]["places_left"] == 30
    body = course_application([nurse(1), nurse(2)]).model_dump(mode="json")
    r = send(client, "post", f"/api/v1/courses/courses/{course.code}/rounds/2/applications", body)
    assert r.status_code == 201, r.json()
    assert Enrolment.objects.filter(round__number=2).count() == 2
    body["applicants"][0]["occupation"] = "care_worker"
    body["contact_email"] = "other@example.jp"
    body["applicants"][0]["email"] = "x1@example.jp"
    body["applicants"][1]["email"] = "x2@example.jp"
    r = send(client, "post", f"/api/v1/courses/courses/{course.code}/rounds/1/applications", body)
    assert r.status_code == 400 and "対象職種" in r.json()["detail"]
    r = send(client, "post", f"/api/v1/courses/courses/{course.code}/rounds/99/applications", body)
    assert r.status_code == 404


def test_the_same_form_and_body_store_the_same(course: Course, client: Client) -> None:
    """The HTML form and the API body are one input: the same enrolment either way."""
    body = course_application([nurse(7, years=6)], contact_email="api@example.jp").model_dump(
        mode="json"
    )
    send(client, "post", f"/api/v1/courses/courses/{course.code}/rounds/1/applications", body)
    form = {
        "office_name": body["office_name"],
        "employer_kind": body["employer_kind"],
        "municipality_code": body["municipality_code"],
        "contact_name": body["contact_name"],
        "contact_email": "html@example.jp",
        "contact_phone": body["contact_phone"],
        "agree": "on",
        "a-TOTAL_FORMS": "1",
        "a-INITIAL_FORMS": "0",
        "a-0-name": body["applicants"][0]["name"],
        "a-0-kana": body["applicants"][0]["kana"],
        "a-0-email": "html-person@example.jp",
        "a-0-occupation": "nurse",
        "a-0-years_experience": "6",
    }
    assert client.post(f"/courses/{course.code}/2/apply/", form).status_code == 302
    rows = list(
        Enrolment.objects.order_by("round__number").values_list(
            "years_experience", "employer_kind", "municipality__code", "applicant__occupation"
        )
    )
    assert rows[0] == rows[1] == (6, "visiting_nurse", "142158", "nurse")


def test_organiser_routes_are_scoped(
    course: Course, alice: Membership, charlie: Membership, client: Client
) -> None:
    apply_nurses(course, 1, 2)
    base = f"/api/v1/courses/manage/courses/{course.code}/rounds/1"
    session = course.rounds.get(number=1).sessions.first()
    assert session is not None
    own, other = client_for(alice), client_for(charlie)
    people = own.get(f"{base}/participants").json()
    assert len(people) == 2
    assert other.get(f"{base}/participants").status_code == 404
    assert client.get(f"{base}/participants").status_code == 401
    put = f"{base}/sessions/{session.code}/attendance"
    body = {"applicant": people[0]["code"], "attended": True}
    assert send(other, "put", put, body).status_code == 404
    r = send(own, "put", put, body)  # the round is 40 days ahead: attendance waits for the day
    assert r.status_code == 409 and "当日以降" in r.json()["detail"]
    assert send(other, "post", f"{base}/certificates").status_code == 404
    r = send(own, "post", f"{base}/certificates")
    assert r.status_code == 400 and "最終日以降" in r.json()["detail"]
    fys = {r.fiscal_year for r in course.rounds.all()}
    fy = min(fys)
    counted = own.get(f"/api/v1/courses/manage/yearly?fy={fy}").json()["rounds"]
    assert counted == (2 if len(fys) == 1 else 1)
    assert other.get(f"/api/v1/courses/manage/yearly?fy={fy}").json()["rounds"] == 0


def test_dispatch_through_the_api(alice: Membership, charlie: Membership, client: Client) -> None:
    city = make_member(
        make_org("厚木市 介護福祉課", OrgKind.MUNICIPALITY, municipality_code="142123"),
        Role.MUNICIPAL_OFFICER,
        username="atsugi-api",
    )
    pref = client_for(alice)
    r = send(
        pref,
        "post",
        "/api/v1/courses/dispatch/specialists",
        {"name": "海老名 栄", "kind": "dietitian", "email": "sakae@example.jp"},
    )
    assert r.status_code == 201, r.json()
    specialist = r.json()["code"]
    day = timezone.localdate() + dt.timedelta(days=10)
    body = {
        "date": day.isoformat(),
        "starts": "10:00",
        "ends": "12:00",
        "purpose": "training",
        "kind": "dietitian",
        "venue": "厚木市保健センター",
    }
    assert send(pref, "post", "/api/v1/courses/dispatch/requests", body).status_code == 403
    r = send(client_for(city), "post", "/api/v1/courses/dispatch/requests", body)
    assert r.status_code == 201
    code = r.json()["code"]
    assert client_for(charlie).get(f"/api/v1/courses/dispatch/requests/{code}").status_code == 404
    assert client.get(f"/api/v1/courses/dispatch/requests/{code}").status_code == 401
    r = send(
        pref,
        "post",
        f"/api/v1/courses/dispatch/requests/{code}/decision",
        {"specialist": specialist},
    )
    assert r.status_code == 200 and r.json()["status"] == "confirmed"
    r = send(
        pref,
        "post",
        f"/api/v1/courses/dispatch/requests/{code}/decision",
        {"specialist": specialist},
    )
    assert r.status_code == 409
    fy = day.year if day.month >= 4 else day.year - 1
    year = pref.get(f"/api/v1/courses/dispatch/yearly?fy={fy}").json()
    fy_total = year["total"]
    assert fy_total == 1 and year["by_purpose"] == [{"label": "研修・勉強会の講師", "count": 1}]
