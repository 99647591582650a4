from __future__ import annotations

import datetime as dt

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from renkei.accounts.models import AuditEntry, Membership
from renkei.desk.models import Consultation, Desk
from renkei.desk.testing import make_consultation
from renkei.desk.tests.conftest import at, login
from renkei.desk.views import PER_PAGE


def reads(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


def test_detail_read_writes_one_audit_entry(
    client: Client, desk: Desk, counselor: Membership
) -> None:
    """Opening a consultation writes exactly one entry naming the reader and the record."""
    c = make_consultation(desk, counselor, subject_name="相談 太郎（仮名）")
    login(client, counselor)
    client.get(reverse("desk:detail", args=[c.code]))
    client.get(f"/api/v1/desk/consultations/{c.code}")
    entries = reads("desk.consultation_viewed")
    assert len(entries) == 2
    for e in entries:
        assert e.actor == counselor.user
        assert e.organization == desk.organization
        assert e.target_id == str(c.code)
        assert e.detail["ids"] == [str(c.code)]
        assert e.detail["named"] == [str(c.code)]
        assert "相談 太郎" not in str(e.detail)


def test_list_page_writes_one_entry_listing_the_ids_shown(
    client: Client, desk: Desk, counselor: Membership
) -> None:
    """A list page audits once, with the ids of exactly the rows on that page."""
    day = timezone.localdate() - dt.timedelta(days=1)
    made = [
        make_consultation(
            desk,
            counselor,
            received_at=at(day) - dt.timedelta(minutes=i),
            subject_name="連携 花子（仮名）" if i % 2 else "",
        )
        for i in range(PER_PAGE + 3)
    ]
    login(client, counselor)
    client.get(reverse("desk:list", args=[desk.code]))
    client.get(reverse("desk:list", args=[desk.code]), {"page": 2})
    first, second = reads("desk.consultations_listed")
    assert first.detail["ids"] == [str(c.code) for c in made[:PER_PAGE]]
    assert second.detail["ids"] == [str(c.code) for c in made[PER_PAGE:]]
    assert set(first.detail["named"]) == {str(c.code) for c in made[:PER_PAGE] if c.is_named}


def test_export_audits_every_exported_id(client: Client, desk: Desk, counselor: Membership) -> None:
    """CSV and Excel exports each write one entry listing every exported record."""
    made = [make_consultation(desk, counselor) for _ in range(3)]
    login(client, counselor)
    assert client.get(reverse("desk:export", args=[desk.code, "csv"])).status_code == 200
    assert client.get(reverse("desk:export", args=[desk.code, "xlsx"])).status_code == 200
    entries = reads("desk.consultations_exported")
    assert [e.detail["format"] for e in entries] == ["csv", "xlsx"]
    for e in entries:
        assert sorted(e.detail["ids"]) == sorted(str(c.code) for c in made)


def test_refused_read_writes_no_read_entry(
    client: Client, desk: Desk, counselor: Membership, charlie: Membership
) -> None:
    """An outsider's 404 leaves no 'viewed' entry: nothing was read."""
    c = make_consultation(desk, counselor)
    login(client, charlie)
    assert client.get(reverse("desk:detail", args=[c.code])).status_code == 404
    assert reads("desk.consultation_viewed") == []
    assert Consultation.objects.count() == 1
