"""Refused reads of protected records are audited: who tried which record (issue 17 §7)."""

from __future__ import annotations

import uuid

from django.test import Client
from django.urls import reverse

from renkei.accounts.models import AuditEntry, Membership
from renkei.desk.models import Desk
from renkei.desk.testing import make_consultation
from renkei.desk.tests.conftest import login


def test_an_outsiders_404_is_logged_with_who_and_which_record(
    client: Client, desk: Desk, counselor: Membership, charlie: Membership
) -> None:
    """Another desk's counselor asks for a consultation by its code, on the screen and through
    the API: both answer 404, and the log holds two refusals naming charlie and the record,
    which survive the rolled-back request."""
    case = make_consultation(desk, counselor, subject_name="相談 太郎（仮名）")
    login(client, charlie)
    assert client.get(reverse("desk:detail", args=[case.code])).status_code == 404
    assert client.get(f"/api/v1/desk/consultations/{case.code}").status_code == 404
    refused = AuditEntry.objects.filter(action="access.refused").order_by("id")
    assert [(e.actor, e.target_type, e.target_id) for e in refused] == [
        (charlie.user, "desk.Consultation", str(case.code)),
        (charlie.user, "desk.Consultation", str(case.code)),
    ]
    assert refused[0].organization == charlie.organization
    assert refused[0].ip == "127.0.0.1"
    assert refused[0].detail["status"] == 404


def test_an_unknown_id_is_not_a_refusal_and_the_owner_is_not_refused(
    client: Client, desk: Desk, counselor: Membership
) -> None:
    case = make_consultation(desk, counselor)
    login(client, counselor)
    assert client.get(reverse("desk:detail", args=[uuid.uuid4()])).status_code == 404
    assert client.get(reverse("desk:detail", args=[case.code])).status_code == 200
    assert not AuditEntry.objects.filter(action="access.refused").exists()


def test_anonymous_is_refused_without_reaching_the_record(
    client: Client, desk: Desk, counselor: Membership
) -> None:
    """Anonymous callers are sent to sign in before any lookup: nothing to log as a read."""
    case = make_consultation(desk, counselor)
    response = client.get(reverse("desk:detail", args=[case.code]))
    assert response.status_code in (302, 401, 404)
    assert not AuditEntry.objects.filter(action="access.refused", actor__isnull=False).exists()
