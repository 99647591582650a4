from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from renkei.accounts.models import Membership
from renkei.desk import actions
from renkei.desk.models import (
    ConfirmedRecordError,
    Consultation,
    ConsultationVersion,
    Desk,
    verify_history,
)
from renkei.desk.testing import make_consultation
from renkei.desk.tests.conftest import login
from renkei.lib.actions import ActionError, Forbidden


def edit_data(c: Consultation, **overrides: object) -> dict[str, object]:
    from renkei.desk.forms import initial_from

    data: dict[str, object] = {}
    for key, value in initial_from(c).items():
        if key == "topics":
            data[key] = [t.pk for t in value]
        elif value is None:
            data[key] = ""
        elif hasattr(value, "isoformat"):
            data[key] = value.isoformat()
        else:
            data[key] = value
    data.update(overrides)
    return data


def test_confirmed_record_edits_become_new_versions(
    client: Client, desk: Desk, counselor: Membership, clerk: Membership
) -> None:
    """After 確定, an edit keeps version 1 intact and writes version 2 with editor, reason and diff."""
    c = make_consultation(desk, clerk, summary="初回の相談内容")
    login(client, counselor)
    client.post(reverse("desk:confirm", args=[c.code]), {"version": c.version})
    c.refresh_from_db()
    assert c.confirmed_by == counselor.user and c.confirmed_at is not None
    assert c.entered_by == clerk.user

    login(client, clerk)
    no_reason = client.post(
        reverse("desk:edit", args=[c.code]), edit_data(c, summary="修正後の内容")
    )
    assert no_reason.status_code == 400
    assert "修正理由" in no_reason.content.decode()
    response = client.post(
        reverse("desk:edit", args=[c.code]),
        edit_data(c, summary="修正後の内容", reason="聞き取りの誤りを訂正"),
    )
    assert response.status_code == 302

    v1, v2 = ConsultationVersion.objects.filter(consultation=c).order_by("number")
    assert v1.data["summary"] == "初回の相談内容" and v1.created_by == counselor.user
    assert v2.data["summary"] == "修正後の内容"
    assert v2.created_by == clerk.user and v2.reason == "聞き取りの誤りを訂正"
    assert v2.changes == {"summary": {"before": "初回の相談内容", "after": "修正後の内容"}}
    page = client.get(reverse("desk:version", args=[c.code, 1]))
    assert "初回の相談内容" in page.content.decode()
    api = client.get(f"/api/v1/desk/consultations/{c.code}/versions/1").json()
    assert api["data"]["summary"] == "初回の相談内容"
    assert verify_history(c)


def test_confirmed_row_cannot_be_overwritten_in_place(desk: Desk, counselor: Membership) -> None:
    """A plain save() of a confirmed consultation raises; versions cannot be changed or deleted."""
    c = make_consultation(desk, counselor, confirm=True)
    c.summary = "こっそり書き換え"
    with pytest.raises(ConfirmedRecordError):
        c.save()
    v = c.versions.get()
    with pytest.raises(ConfirmedRecordError):
        v.save()
    with pytest.raises(ConfirmedRecordError):
        ConsultationVersion.objects.filter(pk=v.pk).update(reason="x")
    with pytest.raises(ConfirmedRecordError):
        v.delete()
    assert Consultation.objects.get(pk=c.pk).summary != "こっそり書き換え"


def test_altered_version_row_is_detected(desk: Desk, counselor: Membership) -> None:
    """A version changed behind the ORM's back breaks the digest chain."""
    c = make_consultation(desk, counselor, confirm=True)
    actions.update_consultation(
        c,
        by=counselor,
        data=actions.ConsultationEditInput.of(c, summary="二版目", reason="追記"),
    )
    assert verify_history(c)
    table = ConsultationVersion._meta.db_table
    with connection.cursor() as cur:
        cur.execute(f"UPDATE {table} SET reason = %s WHERE number = 2", ["改ざん"])  # noqa: S608
    assert not verify_history(c)


def test_only_confirmers_can_confirm(desk: Desk, clerk: Membership) -> None:
    """A 介護職 member may record but not confirm; nothing changes when refused."""
    c = make_consultation(desk, clerk)
    with pytest.raises(Forbidden):
        actions.confirm_consultation(c, by=clerk, data=actions.ConfirmInput())
    c.refresh_from_db()
    assert c.confirmed_at is None and c.versions.count() == 0


def test_unchanged_revision_is_refused(desk: Desk, counselor: Membership) -> None:
    """Saving a confirmed record with no change creates no empty version."""
    c = make_consultation(desk, counselor, confirm=True)
    with pytest.raises(ActionError, match="変更された項目がありません"):
        actions.update_consultation(
            c, by=counselor, data=actions.ConsultationEditInput.of(c, reason="確認")
        )
    assert c.versions.count() == 1
