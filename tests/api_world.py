"""The seeded world the API fuzz test runs against: the demo builders' data, members in the roles
that unlock each app, their signed-in sessions, and values of seeded records for the path
parameters and body fields that name them."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone

from renkei.accounts.models import Membership, OrgKind, Role
from renkei.api import api
from renkei.courses.models import DispatchRequest, Material
from renkei.demo.courses import seed_courses
from renkei.demo.desk import seed_desk
from renkei.demo.events import seed_events
from renkei.demo.mentoring import seed_mentoring
from renkei.demo.referrals import seed_referrals
from renkei.demo.seed import seed_demo
from renkei.desk.models import Consultation, Desk, FollowUp
from renkei.directory.models import Facility
from renkei.events.models import Applicant, Application, Event
from renkei.mentoring.models import Match, Mentor, TraineeApplication, TrainingProgram
from renkei.referrals.models import PlacementCase, PlacementRequest
from renkei.referrals.surveys import PlacementSurveyInput, create_survey
from renkei.testing import make_member, make_org, sign_in
from tests.api_world_apps import app_rules, seed_apps

# Django accepts an unmasked 32-character secret as both the cookie and the header value.
CSRF_TOKEN = "SchemathesisCsrfToken0123456789a"


@dataclass
class World:
    sessions: dict[str, str] = field(default_factory=dict)
    # Operation path template -> path parameter sets naming seeded objects.
    path_parameters: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    # Body field name -> values the server accepts (codes it looks up, addresses it checks).
    body_values: dict[str, list[Any]] = field(default_factory=dict)
    # Screen route (regex over the URLconf's route) -> its path parameters naming seeded objects.
    html_parameters: dict[str, dict[str, str]] = field(default_factory=dict)


def _session(member: Membership) -> str:
    client = Client()
    sign_in(client, member.user)
    return client.cookies["sessionid"].value


# The world is built by module-scoped fixtures, before the root conftest's per-test fast hasher
# applies: the demo's logins would be hashed with Argon2 (32 of them, a quarter of a second each).
# Nothing signs these users in with a password: sessions are made by force_login.
@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
def build_world() -> World:
    # The demo region (its organisations and logins) is what the later apps' seeds build on.
    seed_demo(facilities=20)
    refs = seed_referrals()
    desk_data = seed_desk(count=8)
    seed_events()
    seed_mentoring()
    course_data = seed_courses()

    members: dict[str, Membership] = {
        "msw": Membership.objects.get(user__username="demo-msw"),
        "receiver": Membership.objects.get(user__username="demo-roken"),
        "counselor": Membership.objects.get(user__username="desk-counselor"),
        "office": Membership.objects.get(user__username="mentoring-office"),
    }
    # 藤沢市 curates the directory where the referral network's facilities are and may read
    # the 効果検証 dashboard.
    city = make_org(
        "藤沢市 地域包括ケア推進課（テスト）", OrgKind.MUNICIPALITY, municipality_code="142051"
    )
    members["officer"] = make_member(city, Role.MUNICIPAL_OFFICER, username="fuzz-officer")
    today = timezone.localdate()
    survey = create_survey(
        by=members["officer"],
        data=PlacementSurveyInput(
            title="入退院調整の所要時間アンケート",
            opens_on=today - dt.timedelta(days=7),
            closes_on=today + dt.timedelta(days=30),
        ),
    )
    ebina = Event.objects.filter(title="在宅での看取りを支える多職種連携").get().organization
    members["organiser"] = make_member(ebina, Role.COUNSELOR, username="fuzz-organiser")
    members["courses"] = Membership.objects.get(user__username="courses-pref")
    members.update(seed_apps())

    world = World(sessions={role: _session(m) for role, m in members.items()})

    cases = [str(c) for c in PlacementCase.objects.order_by("pk").values_list("code", flat=True)]
    requests = [
        str(c) for c in PlacementRequest.objects.order_by("pk").values_list("code", flat=True)
    ]
    facilities = [str(f.code) for f in refs["facilities"]] + [
        str(c) for c in Facility.objects.order_by("pk").values_list("code", flat=True)[:5]
    ]
    desk: Desk = desk_data["desk"]
    consultations = [
        str(c) for c in Consultation.objects.order_by("pk").values_list("code", flat=True)
    ]
    versions = [
        {"code": str(c.code), "number": str(n)}
        for c in Consultation.objects.order_by("pk")
        for n in c.versions.order_by("number").values_list("number", flat=True)
    ]
    followups = [str(pk) for pk in FollowUp.objects.order_by("pk").values_list("pk", flat=True)]
    events = [str(c) for c in Event.objects.order_by("pk").values_list("code", flat=True)]
    applications = [a.signed_token for a in Application.objects.order_by("pk")[:20]]
    applicants = [
        {"code": str(a.event.code), "applicant": str(a.code)}
        for a in Applicant.objects.select_related("event").order_by("-pk")[:20]
    ]
    programs = [
        str(c) for c in TrainingProgram.objects.order_by("pk").values_list("code", flat=True)
    ]
    trainees = [
        str(c) for c in TraineeApplication.objects.order_by("pk").values_list("code", flat=True)
    ]
    matches = list(Match.objects.order_by("pk"))
    report_tokens = [m.token(side) for m in matches for side in Match.Side.values]

    intro = course_data.intro
    course_round = intro.rounds.get(number=1)
    course_session = course_round.sessions.order_by("pk")[0]
    course_app = Application.objects.filter(event=course_round.event).order_by("pk")[0]
    dispatches = list(DispatchRequest.objects.order_by("pk")[:6])
    material = Material.objects.order_by("pk")[0]
    material_version = material.versions.order_by("pk")[0]
    course_params = {
        "code": str(intro.code),
        "number": "1",
        "session": str(course_session.code),
    }

    def one(name: str, values: list[str]) -> list[dict[str, str]]:
        return [{name: v} for v in values]

    rules: list[tuple[str, list[dict[str, str]]]] = [
        (r"/directory/facilities/\{code\}", one("code", facilities)),
        (r"/referrals/cases/\{code\}", one("code", cases)),
        (r"/referrals/requests/\{code\}", one("code", requests)),
        (r"/referrals/surveys/\{code\}", one("code", [str(survey.code)])),
        (r"/desk/desks/\{desk\}", one("desk", [str(desk.code)])),
        (r"/desk/consultations/\{code\}/versions/\{number\}", versions),
        (r"/desk/consultations/\{code\}", one("code", consultations)),
        (r"/desk/followups/\{followup_id\}", one("followup_id", followups)),
        (r"/events/manage/events/\{code\}/applicants/\{applicant\}", applicants),
        (r"/events/manage/events/\{code\}", one("code", events)),
        (r"/events/applications/\{token\}", one("token", applications)),
        (r"/events/\{code\}", one("code", events)),
        (r"/courses/courses/\{code\}", [course_params]),
        (r"/courses/manage/courses/\{code\}", [course_params]),
        (r"/courses/progress/\{token\}", one("token", [course_app.signed_token])),
        (r"/courses/dispatch/requests/\{code\}", one("code", [str(d.code) for d in dispatches])),
        (
            r"/courses/dispatch/reports/\{token\}",
            one("token", [d.report_token for d in dispatches]),
        ),
        (r"/courses/materials/\{code\}", one("code", [str(material.code)])),
        (r"/mentoring/programs/\{code\}", one("code", programs)),
        (r"/mentoring/applications/\{code\}", one("code", trainees)),
        (r"/mentoring/matches/\{code\}", one("code", [str(m.code) for m in matches])),
        (r"/mentoring/reports/\{token\}", one("token", report_tokens)),
        *app_rules(members),
    ]
    now = timezone.now()
    receivers = [str(f.code) for f in refs["facilities"]]
    topic_ids = list(desk.topics().order_by("pk").values_list("pk", flat=True))
    world.body_values = {
        # 入退院支援
        "residence": ["142051", "142077"],
        "desired_municipalities": [["142051"], ["142051", "142077"]],
        "required_capabilities": [[], ["suction"], ["suction", "oxygen"]],
        "facilities": [receivers[:1], receivers[:3]],
        "request": requests,
        "username": ["demo-discharge-nurse", "demo-msw"],
        "deadline": [(now + dt.timedelta(days=3)).isoformat()],
        # 相談窓口
        "topics": [topic_ids[:1], topic_ids[:3]],
        "subject_municipality": ["142158", None],
        "referred_facilities": [[], facilities[:2]],
        "received_at": [(now - dt.timedelta(days=1)).isoformat()],
        # 研修
        "municipality_code": ["142158", "142051"],
        "starts_at": [(now + dt.timedelta(days=40)).isoformat()],
        "contact_email": ["office@example.jp"],
        "agree": [True],
        # 同行研修
        "preferred_areas": [["142018"]],
        "areas": [["142018"], ["142018", "142042"]],
        "email": ["fuzz@example.jp"],
        "mentor": [str(c) for c in Mentor.objects.order_by("pk").values_list("code", flat=True)],
    }

    own_event = Event.objects.filter(organization=ebina).order_by("pk").first()
    applicant = Applicant.objects.filter(event=own_event).order_by("pk").first()
    case = PlacementCase.objects.filter(requests__isnull=False).order_by("pk").first()
    followup = FollowUp.objects.order_by("pk").first()
    world.html_parameters = {
        r"directory/handbook/": {"code": "142051"},
        r"directory/<uuid": {"code": facilities[0]},
        r"referrals/cases/": {
            "code": str(case.code) if case else cases[0],
            "request_code": str(case.requests.order_by("pk")[0].code) if case else requests[0],
        },
        r"referrals/requests/": {"code": requests[0]},
        r"referrals/surveys/": {"code": str(survey.code)},
        r"desk/followups/": {"pk": str(followup.pk) if followup else "1"},
        r"desk/c/": {"code": consultations[0], "number": "1"},
        r"desk/": {"desk": str(desk.code), "fmt": "csv"},
        r"events/manage/": {
            "code": str(own_event.code) if own_event else events[0],
            "applicant_code": str(applicant.code) if applicant else "",
            "fmt": "csv",
        },
        r"events/a/": {"token": applications[0] if applications else "x"},
        r"events/": {"code": events[0]},
        r"courses/dispatch/r/": {"token": dispatches[0].report_token},
        r"courses/dispatch/": {"code": str(dispatches[0].code)},
        r"courses/progress/": {"token": course_app.signed_token},
        r"courses/": {**course_params, "fmt": "csv"},
        r"materials/": {"code": str(material.code), "pk": str(material_version.pk)},
        r"mentoring/p/": {"code": programs[0], "fmt": "csv"},
        r"mentoring/a/": {"code": trainees[0]},
        r"mentoring/m/": {"code": str(matches[0].code)},
        r"mentoring/mentors/": {"code": world.body_values["mentor"][0]},
        r"mentoring/r/": {"token": report_tokens[0]},
        r"api/hsds/services/": {"id": facilities[0]},
        r"api/fhir/HealthcareService/": {"id": facilities[0]},
        r"": {"fmt": "csv"},
    }

    for path in api.get_openapi_schema()["paths"]:
        for pattern, values in rules:
            if re.match(r"^/api/v1" + pattern + r"(/|$)", path) and values:
                world.path_parameters[path] = values
                break
    # The world is built inside the module's transaction, and its foreign keys are checked at the
    # commit (deferred). Django checks them at the end of every test too, inside that test's
    # savepoint: PostgreSQL then fires every pending check of the world's rows, and the
    # savepoint's rollback queues them again for the next test (80 % of the API fuzz file's time
    # on PostgreSQL). Checked once here, at the module's level, they leave the queue for good.
    connection.check_constraints()
    return world
