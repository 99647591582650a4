"""The second factor is required for every membership that can read named personal data, and
for administrators; the set is derived from the permissions that grant the reading, so a role
that reads named data and is exempt fails here (security R03, ADR 0043).

For each role, a member in an organisation holding every kind of named record (a desk with a
named consultation, an event with applicants, a 同行研修 programme with an application) and a
member in an organisation holding none are asked the real access code what they can read; who
reads anything named must be required to use the second factor."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from renkei.accounts import named
from renkei.accounts.models import (
    DEFAULT_NAMED_READ_ROLES,
    AuditEntry,
    Membership,
    Organization,
    OrgKind,
    Role,
    TwoFactorPolicy,
)
from renkei.accounts.named import NamedReadRefused, require_named_reader
from renkei.care.models import Patient
from renkei.care.models.patients import may_use_care
from renkei.desk.models import Consultation
from renkei.desk.testing import make_consultation, make_desk, make_desk_member
from renkei.events.models import Applicant, Event
from renkei.events.testing import make_application, make_event
from renkei.mentoring import testing as mentoring
from renkei.mentoring.models import TraineeApplication
from renkei.testing import DEMO_PASSWORD, make_member, make_org, make_user, sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def holder() -> Organization:
    """An organisation holding every kind of named record."""
    org = make_org("海老名市 在宅医療相談室", OrgKind.MUNICIPALITY, municipality_code="142158")
    desk = make_desk("えびな在宅医療相談室", organization=org)
    make_consultation(desk, make_desk_member(desk, username="seed"), subject_name="見本 一（仮名）")
    make_application(make_event(org), 1, notify=False)
    mentoring.make_application(mentoring.make_program(org))
    return org


@pytest.fixture
def bystander() -> Organization:
    """An organisation holding none (a prefecture's office with no desk, event or programme)."""
    return make_org("神奈川県 医療課", OrgKind.PREFECTURE, prefecture_code="14")


def _passes(check: Callable[[Membership], None], m: Membership) -> bool:
    try:
        check(m)
    except NamedReadRefused:
        return False
    return True


def reads_named(m: Membership) -> list[str]:
    """What the access code of each app lets this membership read, named."""
    found = []
    if Consultation.objects.visible_to(m).exclude(subject_name="", subject_kana="").exists():
        found.append("consultations")
    organised = Applicant.objects.filter(event__in=Event.objects.organised_by(m.organization))
    if organised.exists() and _passes(require_named_reader, m):
        found.append("applicants")
    if TraineeApplication.objects.for_office(m).exists():
        found.append("mentoring")
    if m.can_review_audit:
        found.append("audit log")
    # Any care profession may open a patient (on a team, or by break-glass).
    if may_use_care(m):
        found.append("patients")
    return found


@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize("admin", [False, True])
def test_every_role_that_reads_named_data_must_use_the_second_factor(
    holder: Organization, bystander: Organization, role: str, admin: bool
) -> None:
    for org in (holder, bystander):
        m = make_member(org, role, username=f"{org.pk}-{role}-{admin}", is_org_admin=admin)
        reads = reads_named(m)
        if reads or admin:
            assert Membership.objects.filter(pk=m.pk).filter(named.readers()).exists(), reads
            assert TwoFactorPolicy.required_for(m.user), (org.name, role, reads)


def test_the_check_has_teeth(holder: Organization, bystander: Organization) -> None:
    """Somebody reads named data, somebody does not, and the policy tells them apart."""
    reader = make_member(holder, Role.COUNSELOR, username="reader")
    outsider = make_member(bystander, Role.PREFECTURAL_OFFICER, username="outsider")
    assert reads_named(reader) and TwoFactorPolicy.required_for(reader.user)
    assert not reads_named(outsider) and not TwoFactorPolicy.required_for(outsider.user)
    assert Patient.objects.visible_to(outsider).count() == 0


def test_staff_and_superusers_always_need_the_second_factor() -> None:
    staff = make_user("staff-person")
    staff.is_staff = True
    staff.save()
    root = make_user("root-person")
    root.is_superuser = True
    root.save()
    assert TwoFactorPolicy.required_for(staff) and TwoFactorPolicy.required_for(root)
    client = Client()
    client.post(reverse("accounts:login"), {"username": "root-person", "password": DEMO_PASSWORD})
    for url in ("/admin/", reverse("accounts:profile")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == reverse("accounts:otp_setup")


def test_a_new_organisation_gets_the_default_readers_and_not_care_workers(
    bystander: Organization,
) -> None:
    assert bystander.named_roles() == set(DEFAULT_NAMED_READ_ROLES)
    assert Role.CARE_WORKER not in bystander.named_roles()
    assert {Role.COUNSELOR, Role.MUNICIPAL_OFFICER} <= bystander.named_roles()


def test_an_exemption_for_a_named_data_role_is_refused_loudly() -> None:
    for role in (Role.COUNSELOR, Role.CARE_WORKER, Role.AUDITOR):
        with pytest.raises(ValidationError, match="任意にはできません"):
            TwoFactorPolicy(role=role, required=False).save()
    assert not TwoFactorPolicy.objects.exists()
    TwoFactorPolicy.objects.create(role=Role.PREFECTURAL_OFFICER, required=True)  # adding is fine


def test_a_policy_row_adds_a_role(bystander: Organization) -> None:
    m = make_member(bystander, Role.PREFECTURAL_OFFICER, username="added")
    assert not TwoFactorPolicy.required_for(m.user)
    TwoFactorPolicy.objects.create(role=Role.PREFECTURAL_OFFICER, required=True)
    assert TwoFactorPolicy.required_for(m.user)


# The organisation's screen ---------------------------------------------------------------

SCREEN = reverse("accounts:named_roles")


def test_the_admin_changes_the_readers_on_the_screen_and_it_is_audited(
    holder: Organization,
) -> None:
    admin = make_member(holder, Role.MUNICIPAL_OFFICER, username="org-admin", is_org_admin=True)
    client = sign_in(Client(), admin)
    page = client.get(SCREEN)
    assert page.status_code == 200 and "介護職" in page.content.decode()
    roles = [Role.COUNSELOR, Role.CARE_WORKER]
    response = client.post(SCREEN, {"roles": roles})
    assert response.status_code == 302
    holder.refresh_from_db()
    assert holder.named_roles() == set(roles)
    entry = AuditEntry.objects.get(action="accounts.named_roles_changed")
    assert entry.actor == admin.user and entry.organization == holder
    assert Role.CARE_WORKER in entry.detail["added"]
    assert Role.MUNICIPAL_OFFICER in entry.detail["removed"]
    assert entry.action_label == "氏名入りの記録を閲覧できる職種の変更"


def test_a_bad_role_is_refused_with_a_message_and_nothing_changes(holder: Organization) -> None:
    admin = make_member(holder, Role.MUNICIPAL_OFFICER, username="org-admin", is_org_admin=True)
    client = sign_in(Client(), admin)
    before = holder.named_read_roles
    response = client.post(SCREEN, {"roles": ["superuser"]})
    assert response.status_code == 400
    assert "職種の選択が正しくありません" in response.content.decode()
    holder.refresh_from_db()
    assert holder.named_read_roles == before
    assert not AuditEntry.objects.filter(action="accounts.named_roles_changed").exists()


def test_members_who_are_not_admins_get_404_and_change_nothing(holder: Organization) -> None:
    member = make_member(holder, Role.COUNSELOR, username="plain")
    client = sign_in(Client(), member)
    before = holder.named_read_roles
    assert client.get(SCREEN).status_code == 404
    assert client.post(SCREEN, {"roles": [Role.CARE_WORKER]}).status_code == 404
    holder.refresh_from_db()
    assert holder.named_read_roles == before


def test_another_organisations_admin_changes_only_their_own(
    holder: Organization, bystander: Organization
) -> None:
    other = make_member(
        bystander, Role.PREFECTURAL_OFFICER, username="pref-admin", is_org_admin=True
    )
    before = holder.named_read_roles
    client = sign_in(Client(), other)
    assert client.post(SCREEN, {"roles": [Role.CARE_WORKER]}).status_code == 302
    holder.refresh_from_db()
    bystander.refresh_from_db()
    assert holder.named_read_roles == before
    assert bystander.named_roles() == {Role.CARE_WORKER}


def test_anonymous_is_sent_to_sign_in(client: Client) -> None:
    for response in (client.get(SCREEN), client.post(SCREEN, {"roles": [Role.CARE_WORKER]})):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))
