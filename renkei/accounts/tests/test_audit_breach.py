"""The auditor narrows the log by actor, address and a time window, and exports the breach
scope: each record touched, once (issue 17 §7, for the 個人情報保護委員会 report)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from unittest import mock

import pytest
from django.urls import reverse

from renkei.accounts.models import AuditEntry, Membership, Organization, OrgKind, Role
from renkei.accounts.tests.test_audit_view import verified_client
from renkei.testing import make_member, make_org

pytestmark = pytest.mark.django_db

AUDIT = reverse("accounts:audit")
JST = dt.timezone(dt.timedelta(hours=9))


@pytest.fixture
def hospital() -> Organization:
    return make_org("藤沢テスト病院", OrgKind.HOSPITAL, municipality_code="142051")


@pytest.fixture
def auditor(hospital: Organization) -> Membership:
    return make_member(hospital, Role.AUDITOR, username="audit-reviewer")


@pytest.fixture
def intruder(hospital: Organization) -> Membership:
    return make_member(hospital, Role.CARE_WORKER, username="intruder")


def entry(
    when: dt.datetime, member: Membership, ip: str, target: Organization | None = None
) -> AuditEntry:
    with mock.patch("django.utils.timezone.now", return_value=when):
        e = AuditEntry(
            action="access.refused" if target else "auth.login",
            actor=member.user,
            actor_label=member.user.username,
            organization=member.organization,
            ip=ip,
            target_type=target._meta.label if target else "",
            target_id=str(target.code) if target else "",
            target_repr=str(target) if target else "",
        )
        e.save()
        return e


@pytest.fixture
def incident(intruder: Membership, auditor: Membership, hospital: Organization) -> list[AuditEntry]:
    """The intruder, from 203.0.113.9 between 02:00 and 02:30 JST, touches two records (one
    twice); the auditor's own entries, another address and other hours must stay out."""
    others = [make_org(f"記録{i}", OrgKind.CLINIC, municipality_code="142051") for i in range(2)]
    day = dt.datetime(2026, 11, 20, tzinfo=JST)
    return [
        entry(day.replace(hour=1, minute=50), intruder, "203.0.113.9", hospital),  # before
        entry(day.replace(hour=2, minute=5), intruder, "203.0.113.9", others[0]),
        entry(day.replace(hour=2, minute=10), intruder, "203.0.113.9", others[1]),
        entry(day.replace(hour=2, minute=30), intruder, "203.0.113.9", others[0]),
        entry(day.replace(hour=2, minute=15), intruder, "198.51.100.4", hospital),  # other ip
        entry(day.replace(hour=2, minute=31), intruder, "203.0.113.9", hospital),  # after
        entry(day.replace(hour=2, minute=20), auditor, "203.0.113.9"),  # other actor
    ]


WINDOW = {
    "actor": "intruder",
    "ip": "203.0.113.9",
    "date_from": "2026-11-20",
    "time_from": "02:00",
    "date_to": "2026-11-20",
    "time_to": "02:30",
}


def test_filter_by_actor_address_and_time_window(
    auditor: Membership, incident: list[AuditEntry]
) -> None:
    page = verified_client(auditor).get(AUDIT, WINDOW).context["page"]
    assert [e.pk for e in page.object_list] == [incident[3].pk, incident[2].pk, incident[1].pk]


def test_breach_scope_lists_each_touched_record_once(
    auditor: Membership, incident: list[AuditEntry]
) -> None:
    response = verified_client(auditor).get(AUDIT, {**WINDOW, "format": "scope"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert table[0][:4] == ["対象種別", "対象ID", "対象", "記録数"]
    scope = {(r[1], r[3], r[4], r[5]) for r in table[1:]}
    assert scope == {
        (incident[1].target_id, "2", "2026-11-20T02:05:00+09:00", "2026-11-20T02:30:00+09:00"),
        (incident[2].target_id, "1", "2026-11-20T02:10:00+09:00", "2026-11-20T02:10:00+09:00"),
    }
    assert table[1][6] == "閲覧の拒否（権限のない記録）"
    exported = AuditEntry.objects.get(action="audit.scope_exported")
    assert exported.actor == auditor.user and exported.detail["ip"] == "203.0.113.9"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"ip": "203.0.113"}, "IP"),
        ({"time_from": "02:00"}, "開始日も指定"),
        (
            {
                "date_from": "2026-11-20",
                "date_to": "2026-11-20",
                "time_from": "03:00",
                "time_to": "02:00",
            },
            "終了時刻は開始時刻より後",
        ),
        ({"date_from": "2026-11-20", "time_from": "25:00"}, "時刻"),
    ],
)
def test_bad_filters_get_a_message_and_no_export(
    auditor: Membership, incident: list[AuditEntry], query: dict[str, str], message: str
) -> None:
    response = verified_client(auditor).get(AUDIT, {**query, "format": "scope"})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not AuditEntry.objects.filter(action="audit.scope_exported").exists()


def test_scope_export_is_for_reviewers_only(
    intruder: Membership, incident: list[AuditEntry]
) -> None:
    response = verified_client(intruder).get(AUDIT, {"format": "scope"})
    assert response.status_code == 404
