"""The audit log records sign-in events and cannot be changed (security R08, R09, R11)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse

from renkei.accounts.models import AuditEntry, Membership, OrgKind, Role
from renkei.testing import DEMO_PASSWORD, make_member, make_org, pass_second_factor

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")


@pytest.fixture
def member() -> Membership:
    org = make_org("藤沢テスト病院", OrgKind.HOSPITAL, municipality_code="142051")
    return make_member(org, Role.MSW, username="audit-msw")


@pytest.fixture
def entry(member: Membership) -> AuditEntry:
    return AuditEntry.record("auth.login", actor=member.user, membership=member)


def test_sign_in_is_recorded_with_who_organisation_and_address(
    client: Client, member: Membership
) -> None:
    """A successful sign-in writes one row: user, organisation, role, IP and an aware UTC time."""
    client.post(LOGIN, {"username": "audit-msw", "password": DEMO_PASSWORD})
    row = AuditEntry.objects.get(action="auth.login")
    assert row.actor == member.user
    assert row.organization == member.organization
    assert row.role == Role.MSW
    assert row.ip == "127.0.0.1"
    assert row.at.utcoffset() == dt.timedelta(0)


def test_failed_sign_in_is_recorded_without_the_password(
    client: Client, member: Membership
) -> None:
    """A wrong password writes a failure row naming the ID tried, never the password typed."""
    client.post(LOGIN, {"username": "audit-msw", "password": "secret-guess-42"})
    row = AuditEntry.objects.get(action="auth.login_failed")
    assert row.actor is None
    assert row.actor_label == "audit-msw"
    assert row.organization == member.organization
    assert "secret-guess-42" not in str(row.detail)
    assert not AuditEntry.objects.filter(action="auth.login").exists()


def test_failed_sign_in_for_unknown_id_is_recorded(client: Client) -> None:
    """Attempts on IDs that do not exist are logged too (password spraying shows up)."""
    client.post(LOGIN, {"username": "no-such-person", "password": "x"})
    row = AuditEntry.objects.get(action="auth.login_failed")
    assert row.actor_label == "no-such-person"
    assert row.organization is None
    assert row.detail["known_user"] is False


def test_sign_out_is_recorded(client: Client, member: Membership) -> None:
    """Logging out writes a logout row for the user."""
    client.post(LOGIN, {"username": "audit-msw", "password": DEMO_PASSWORD})
    pass_second_factor(client, member.user)  # until then the session acts for no organisation
    client.post(reverse("accounts:logout"))
    row = AuditEntry.objects.get(action="auth.logout")
    assert row.actor == member.user
    assert row.organization == member.organization


def test_saving_an_existing_entry_raises(entry: AuditEntry) -> None:
    """Changing a stored entry through the ORM is refused."""
    entry.action = "auth.logout"
    with pytest.raises(PermissionDenied):
        entry.save()
    assert AuditEntry.objects.get(pk=entry.pk).action == "auth.login"


def test_deleting_an_entry_raises(entry: AuditEntry) -> None:
    """Deleting an entry through the ORM is refused."""
    with pytest.raises(PermissionDenied):
        entry.delete()
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_queryset_update_and_delete_raise(entry: AuditEntry) -> None:
    """Bulk update, bulk_update and bulk delete are refused as well."""
    with pytest.raises(PermissionDenied):
        AuditEntry.objects.filter(pk=entry.pk).update(action="tampered")
    with pytest.raises(PermissionDenied):
        AuditEntry.objects.all().delete()
    entry.action = "tampered"
    with pytest.raises(PermissionDenied), transaction.atomic():
        AuditEntry.objects.bulk_update([entry], ["action"])
    assert AuditEntry.objects.get(pk=entry.pk).action == "auth.login"


def test_new_instance_with_an_existing_id_cannot_overwrite(entry: AuditEntry) -> None:
    """Saving a fresh object that reuses a stored ID fails instead of replacing the row."""
    forged = AuditEntry(pk=entry.pk, action="tampered")
    with pytest.raises(DatabaseError), transaction.atomic():
        forged.save()
    assert AuditEntry.objects.get(pk=entry.pk).action == "auth.login"


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL")
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE accounts_auditentry SET action = 'tampered' WHERE id = %s",
        "DELETE FROM accounts_auditentry WHERE id = %s",
    ],
)
def test_raw_sql_update_and_delete_are_blocked_on_postgresql(entry: AuditEntry, sql: str) -> None:
    """The database trigger refuses UPDATE and DELETE even when the ORM is bypassed."""
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [entry.pk])
    assert AuditEntry.objects.get(pk=entry.pk).action == "auth.login"
