"""Who reads event applicants, course participants and 同行研修 applications is the organisation's
setting, as for named consultations (ADR 0043, issue 17 §7): a 介護職 member of the organiser gets
403 on the lists and exports and 404 on a single record, on the screens and the API, and writes
no name; a 行政担当 (a default named-read role) reads, and the read is audited."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from renkei.accounts.models import AuditEntry, Membership, Organization, OrgKind, Role
from renkei.accounts.named import NAMED_REFUSAL
from renkei.courses.testing import apply_nurses, make_course
from renkei.events.models import Applicant, Event
from renkei.events.testing import make_application, make_event, person
from renkei.mentoring import testing as mentoring
from renkei.mentoring.models import TraineeApplication, TrainingProgram
from renkei.testing import make_member, make_org, sign_in

pytestmark = pytest.mark.django_db

TRAINEE = "受講 花子（仮名）"


@pytest.fixture
def org() -> Organization:
    return make_org("横須賀市 地域医療推進課", OrgKind.MUNICIPALITY, municipality_code="142018")


@pytest.fixture
def officer(org: Organization) -> Membership:
    return make_member(org, Role.MUNICIPAL_OFFICER, username="officer")


@pytest.fixture
def carer(org: Organization) -> Membership:
    return make_member(org, Role.CARE_WORKER, username="carer")


@pytest.fixture
def event(org: Organization) -> Event:
    event = make_event(org)
    make_application(event, [person(1), person(2)], notify=False)
    return event


@pytest.fixture
def program(org: Organization) -> TrainingProgram:
    return mentoring.make_program(org)


@pytest.fixture
def trainee(program: TrainingProgram) -> TraineeApplication:
    return mentoring.make_application(program, TRAINEE)


def _event_urls(event: Event) -> dict[str, tuple[str, int]]:
    applicant = event.applicants.order_by("position")[0]
    one = [event.code, applicant.code]
    return {
        "list": (reverse("events:manage_event", args=[event.code]), 403),
        "attendance": (reverse("events:attendance", args=[event.code]), 403),
        "csv": (reverse("events:applicants_export", args=[event.code, "csv"]), 403),
        "xlsx": (reverse("events:applicants_export", args=[event.code, "xlsx"]), 403),
        "proxy": (reverse("events:proxy_apply", args=[event.code]), 403),
        "one": (reverse("events:organiser_cancel", args=one), 404),
        "api list": (f"/api/v1/events/manage/events/{event.code}/applicants", 403),
    }


def test_a_care_worker_of_the_organiser_reads_no_applicant_on_either_door(
    client: Client, event: Event, carer: Membership
) -> None:
    sign_in(client, carer)
    applicant = event.applicants.order_by("position")[0]
    for name, (url, status) in _event_urls(event).items():
        response = client.get(url)
        assert response.status_code == status, name
        assert applicant.name not in response.content.decode("utf-8", "replace"), name
    # The single applicant on the API: the 404 of an unknown one, and nothing changes.
    base = f"/api/v1/events/manage/events/{event.code}/applicants/{applicant.code}"
    response = client.post(f"{base}/attendance", {"attended": True}, "application/json")
    assert response.status_code == 404
    assert client.post(f"{base}/cancel").status_code == 404
    attend = reverse("events:attendance_toggle", args=[event.code, applicant.code])
    assert client.post(attend, {"attended": "1"}).status_code == 404
    applicant.refresh_from_db()
    assert not applicant.attended and applicant.status != Applicant.Status.CANCELLED
    # The event itself stays theirs to manage (its title, dates, the counts).
    assert client.get(reverse("events:edit", args=[event.code])).status_code == 200
    assert client.get(f"/api/v1/events/manage/events/{event.code}/tally").status_code == 200
    assert not AuditEntry.objects.filter(action="events.applicants_viewed").exists()


def test_the_refused_screen_says_why_and_who_can_change_it(
    client: Client, event: Event, carer: Membership
) -> None:
    """A 403 page that only says 「権限がありません」 leaves the carer guessing: it names the setting."""
    sign_in(client, carer)
    response = client.get(reverse("events:manage_event", args=[event.code]))
    assert response.status_code == 403
    assert NAMED_REFUSAL in response.content.decode()


def test_an_officer_reads_the_applicants_and_the_read_is_audited(
    client: Client, event: Event, officer: Membership
) -> None:
    sign_in(client, officer)
    applicant = event.applicants.order_by("position")[0]
    page = client.get(reverse("events:manage_event", args=[event.code]))
    assert page.status_code == 200 and applicant.name in page.content.decode()
    api = client.get(f"/api/v1/events/manage/events/{event.code}/applicants")
    assert api.status_code == 200 and applicant.name in api.content.decode()
    export = client.get(reverse("events:applicants_export", args=[event.code, "csv"]))
    assert export.status_code == 200 and applicant.name in export.content.decode("utf-8-sig")
    viewed = AuditEntry.objects.filter(action="events.applicants_viewed", actor=officer.user)
    assert viewed.count() == 2
    assert AuditEntry.objects.filter(action="events.applicants_exported").count() == 1


def test_the_organisation_can_let_care_workers_read_applicants(
    client: Client, event: Event, carer: Membership
) -> None:
    """The setting is the organisation's, not a constant (and its administrators always read)."""
    sign_in(client, carer)
    url = f"/api/v1/events/manage/events/{event.code}/applicants"
    assert client.get(url).status_code == 403
    org = event.organization
    org.named_read_roles += f"{Role.CARE_WORKER},"
    org.save()
    assert sign_in(Client(), carer).get(url).status_code == 200
    admin = make_member(org, Role.CARE_WORKER, username="carer-admin", is_org_admin=True)
    assert sign_in(Client(), admin).get(url).status_code == 200


def test_course_participants_follow_the_same_setting(
    client: Client, org: Organization, officer: Membership, carer: Membership
) -> None:
    course = make_course(officer)
    apply_nurses(course, 1, 2)
    api = f"/api/v1/courses/manage/courses/{course.code}/rounds/1/participants"
    pages = [
        reverse("courses:manage_round", args=[course.code, 1]),
        reverse("courses:certificates", args=[course.code, 1]),
        reverse("courses:completers_export", args=[course.code, 1, "csv"]),
    ]
    sign_in(client, carer)
    for url in [*pages, api]:
        assert client.get(url).status_code == 403, url
    certificates = f"/api/v1/courses/manage/courses/{course.code}/rounds/1/certificates"
    assert client.post(certificates).status_code == 403
    assert not AuditEntry.objects.filter(action="courses.round_viewed").exists()
    reader = sign_in(Client(), officer)
    response = reader.get(api)
    assert response.status_code == 200 and len(response.json()) == 2
    assert reader.get(pages[0]).status_code == 200
    assert AuditEntry.objects.filter(action="courses.round_viewed", actor=officer.user).count() == 2


def test_a_care_worker_of_the_office_reads_no_mentoring_application(
    client: Client, program: TrainingProgram, trainee: TraineeApplication, carer: Membership
) -> None:
    sign_in(client, carer)
    for url, status in (
        (reverse("mentoring:program", args=[program.code]), 403),
        (reverse("mentoring:application_new", args=[program.code]), 403),
        (reverse("mentoring:application", args=[trainee.code]), 404),
        (f"/api/v1/mentoring/programs/{program.code}/applications", 403),
        (f"/api/v1/mentoring/applications/{trainee.code}", 404),
    ):
        response = client.get(url)
        assert response.status_code == status, url
        assert TRAINEE not in response.content.decode(), url
    home = client.get(reverse("mentoring:home"))
    assert home.status_code == 200 and TRAINEE not in home.content.decode()
    # The refused read of the single application is logged with who tried, as an outsider's.
    assert AuditEntry.objects.filter(action="access.refused", actor=carer.user).exists()
    # Nor may they write a name they could not read back (a complete, valid application).
    response = client.post(
        f"/api/v1/mentoring/programs/{program.code}/applications",
        {
            "trainee_name": "別人 太郎（仮名）",
            "trainee_kana": "べつじん たろう",
            "profession": "clinic_new",
            "affiliation": "見本診療所（仮名）",
            "email": "other@example.jp",
            "phone": "046-000-0002",
            "preferred_areas": ["142018"],
            "preferred_weekdays": [1],
        },
        "application/json",
    )
    assert response.status_code == 403, response.content
    assert TraineeApplication.objects.filter(program=program).count() == 1


def test_an_officer_of_the_office_reads_the_applications(
    client: Client, program: TrainingProgram, trainee: TraineeApplication, officer: Membership
) -> None:
    sign_in(client, officer)
    for url in (
        reverse("mentoring:program", args=[program.code]),
        reverse("mentoring:application", args=[trainee.code]),
        reverse("mentoring:home"),
        f"/api/v1/mentoring/programs/{program.code}/applications",
        f"/api/v1/mentoring/applications/{trainee.code}",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert TRAINEE in response.content.decode(), url
