"""The audit log viewer: who may see it, filters, Japan time, CSV (security R10)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from renkei.accounts.audit_views import PER_PAGE
from renkei.accounts.models import AuditEntry, Membership, Organization, OrgKind, Role
from renkei.testing import make_member, make_org, sign_in

pytestmark = pytest.mark.django_db

AUDIT = reverse("accounts:audit")
UTC = dt.UTC


def verified_client(member: Membership) -> Client:
    """Signed in with password and a confirmed TOTP device, as after the real 2FA step."""
    device = TOTPDevice.objects.create(user=member.user, name="test", confirmed=True)
    client = Client()
    sign_in(client, member.user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def record_at(when: dt.datetime, action: str, member: Membership | None, **kw: str) -> AuditEntry:
    with mock.patch("django.utils.timezone.now", return_value=when):
        return AuditEntry.record(
            action,
            actor=member.user if member else None,
            membership=member,
            actor_label=kw.get("actor_label", ""),
        )


@pytest.fixture
def hospital() -> Organization:
    return make_org("藤沢テスト病院", OrgKind.HOSPITAL, municipality_code="142051")


@pytest.fixture
def other_hospital() -> Organization:
    return make_org("横浜テスト病院", OrgKind.HOSPITAL, municipality_code="141003")


@pytest.fixture
def auditor(hospital: Organization) -> Membership:
    return make_member(hospital, Role.AUDITOR, username="audit-reviewer")


def rows(response: object) -> list[AuditEntry]:
    page = response.context["page"]  # type: ignore[attr-defined]
    return list(page.object_list)


def test_anonymous_is_sent_to_login() -> None:
    """Without signing in the viewer redirects to the login page."""
    response = Client().get(AUDIT)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("role", [Role.MSW, Role.DOCTOR, Role.MUNICIPAL_OFFICER])
def test_other_roles_get_404(hospital: Organization, role: str) -> None:
    """Members who are neither auditors nor administrators cannot tell the page exists."""
    member = make_member(hospital, role, username=f"not-reviewer-{role}")
    assert verified_client(member).get(AUDIT).status_code == 404


def test_reviewer_without_second_factor_is_sent_to_setup(auditor: Membership) -> None:
    """An auditor who signed in with a password only must set up 2FA first."""
    client = Client()
    client.force_login(auditor.user)
    response = client.get(AUDIT)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:otp_setup")


def test_auditor_sees_only_their_organisations_entries(
    auditor: Membership, other_hospital: Organization
) -> None:
    """An organisation's auditor sees its rows, not another organisation's."""
    colleague = make_member(auditor.organization, Role.MSW, username="colleague")
    outsider = make_member(other_hospital, Role.MSW, username="outsider")
    mine = AuditEntry.record("auth.login", actor=colleague.user, membership=colleague)
    theirs = AuditEntry.record("auth.login", actor=outsider.user, membership=outsider)
    response = verified_client(auditor).get(AUDIT, {"action": "auth.login"})
    assert response.status_code == 200
    shown = rows(response)
    assert mine in shown
    assert theirs not in shown


def test_operator_administrator_sees_everything(
    auditor: Membership, other_hospital: Organization
) -> None:
    """The operator's system administrator reviews the whole platform."""
    operator = make_org("運営事務局", OrgKind.OPERATOR, prefecture_code="14")
    admin = make_member(operator, Role.ADMIN, username="platform-admin")
    outsider = make_member(other_hospital, Role.MSW, username="outsider")
    theirs = AuditEntry.record("auth.login", actor=outsider.user, membership=outsider)
    anonymous_failure = AuditEntry.record("auth.login_failed", actor_label="ghost")
    shown = rows(verified_client(admin).get(AUDIT))
    assert theirs in shown
    assert anonymous_failure in shown


def test_times_are_shown_in_japan_time(auditor: Membership) -> None:
    """An entry stored at 15:30 UTC on 31 March is shown as 00:30 on 1 April."""
    record_at(dt.datetime(2026, 3, 31, 15, 30, tzinfo=UTC), "auth.login", auditor)
    body = verified_client(auditor).get(AUDIT, {"action": "auth.login"}).content.decode()
    assert "2026-04-01 00:30:00" in body
    assert "2026-03-31 15:30" not in body


def test_date_range_uses_japan_days(auditor: Membership) -> None:
    """Filtering by 1 April includes 00:30 JST that day and excludes 23:30 JST the day before."""
    inside = record_at(dt.datetime(2026, 3, 31, 15, 30, tzinfo=UTC), "auth.login", auditor)
    before = record_at(dt.datetime(2026, 3, 31, 14, 30, tzinfo=UTC), "auth.login", auditor)
    after = record_at(dt.datetime(2026, 4, 1, 15, 0, tzinfo=UTC), "auth.login", auditor)
    client = verified_client(auditor)
    shown = rows(client.get(AUDIT, {"date_from": "2026-04-01", "date_to": "2026-04-01"}))
    assert shown == [inside]
    assert before not in shown and after not in shown


def test_actor_and_action_filters(auditor: Membership) -> None:
    """The actor filter matches the login ID; the action filter matches one kind of event."""
    colleague = make_member(auditor.organization, Role.MSW, username="colleague-nurse")
    login = AuditEntry.record("auth.login", actor=colleague.user, membership=colleague)
    logout = AuditEntry.record("auth.logout", actor=colleague.user, membership=colleague)
    AuditEntry.record("auth.login", actor=auditor.user, membership=auditor)
    client = verified_client(auditor)
    assert rows(client.get(AUDIT, {"actor": "colleague", "action": "auth.login"})) == [login]
    assert rows(client.get(AUDIT, {"actor": "colleague"})) == [logout, login]


@pytest.mark.parametrize(
    "params, message",
    [
        ({"date_from": "2026-13-01"}, "日付を正しく入力してください"),
        ({"date_from": "2026-04-02", "date_to": "2026-04-01"}, "終了日は開始日と同じか"),
        ({"action": "no.such.action"}, "正しく選択してください"),
    ],
)
def test_bad_filters_get_400_with_japanese_message(
    auditor: Membership, params: dict[str, str], message: str
) -> None:
    """Malformed filters are refused with a Japanese explanation and no listing."""
    response = verified_client(auditor).get(AUDIT, params)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_pagination(auditor: Membership) -> None:
    """Entries are paged; the second page holds the rest, newest first across pages."""
    for i in range(PER_PAGE + 5):
        AuditEntry.record("directory.exported", membership=auditor, detail={"i": i})
    client = verified_client(auditor)
    first = rows(client.get(AUDIT, {"action": "directory.exported"}))
    second = rows(client.get(AUDIT, {"action": "directory.exported", "page": "2"}))
    assert len(first) == PER_PAGE
    assert len(second) == 5
    assert first[0].detail["i"] == PER_PAGE + 4
    assert second[-1].detail["i"] == 0


def test_viewing_is_itself_audited(auditor: Membership) -> None:
    """Opening the viewer writes an audit.viewed row with the filters used."""
    verified_client(auditor).get(AUDIT, {"actor": "someone"})
    row = AuditEntry.objects.get(action="audit.viewed")
    assert row.actor == auditor.user
    assert row.organization == auditor.organization
    assert row.detail["actor"] == "someone"


def test_csv_export_has_filtered_rows_in_japan_time(auditor: Membership) -> None:
    """The CSV holds the filtered rows with JST timestamps, and the export is audited."""
    record_at(dt.datetime(2026, 3, 31, 15, 30, tzinfo=UTC), "auth.login", auditor)
    record_at(dt.datetime(2026, 3, 31, 15, 31, tzinfo=UTC), "auth.logout", auditor)
    response = verified_client(auditor).get(
        AUDIT, {"action": "auth.login", "date_to": "2026-04-30", "format": "csv"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert table[0][0] == "日時（日本時間）"
    assert [r[5] for r in table[1:]] == ["auth.login"]
    assert table[1][0] == "2026-04-01T00:30:00+09:00"
    exported = AuditEntry.objects.get(action="audit.exported")
    assert exported.detail["rows"] == 1


def test_csv_export_neutralises_formulas(auditor: Membership) -> None:
    """A login ID typed as a spreadsheet formula is exported as inert text."""
    AuditEntry.record("auth.login_failed", membership=auditor, actor_label='=HYPERLINK("http://x")')
    response = verified_client(auditor).get(AUDIT, {"action": "auth.login_failed", "format": "csv"})
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert table[1][1] == '\'=HYPERLINK("http://x")'


def test_rows_name_organisation_role_and_action_in_japanese(auditor: Membership) -> None:
    """Each row shows the organisation, the role and the action in Japanese."""
    AuditEntry.record("auth.logout", actor=auditor.user, membership=auditor)
    body = verified_client(auditor).get(AUDIT, {"action": "auth.logout"}).content.decode()
    assert "藤沢テスト病院" in body
    assert "監査担当" in body
    assert "ログアウト" in body
