"""Recording, editing and confirming a consultation: the screen and the API act alike.

Each test drives the same input through both doors and compares what the database holds
afterwards (or, for a refusal, the message and that nothing changed).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from renkei.accounts.models import AuditEntry, Membership
from renkei.desk import actions
from renkei.desk.models import Consultation, Desk
from renkei.desk.testing import make_consultation
from renkei.desk.tests.conftest import login
from renkei.desk.tests.test_record_consultation import form_data
from renkei.desk.tests.test_versioning import edit_data
from renkei.testing import make_facility


def state(c: Consultation) -> dict[str, Any]:
    """Everything a door could have written for one consultation, without its own ids."""
    c.refresh_from_db()
    return {
        "content": c.snapshot(),
        "entered_by": c.entered_by_id,
        "confirmed_by": c.confirmed_by_id,
        "version": c.version,
        "versions": [(v.number, v.changes, v.reason) for v in c.versions.all()],
        "followups": [(f.due_date, f.note, f.assignee_id) for f in c.followups.all()],
        "audit": list(
            AuditEntry.objects.filter(target_id=str(c.code))
            .order_by("id")
            .values_list("action", flat=True)
        ),
    }


def api_body(desk: Desk, form: dict[str, Any]) -> dict[str, Any]:
    """The API's JSON for what form_data() posts to the screen."""
    body = {
        k: v
        for k, v in form.items()
        if k
        not in (
            "received_date",
            "received_time",
            "followup_due",
            "followup_note",
            "followup_assignee",
        )
    }
    body["received_at"] = f"{form['received_date']}T{form['received_time']}:00"
    body["subject_age"] = int(form["subject_age"]) if form.get("subject_age") else None
    body["subject_municipality"] = form["subject_municipality"] or None
    body["consent_date"] = form["consent_date"] or None
    if form.get("followup_due") or form.get("followup_note"):
        body["followup"] = {
            "due_date": form.get("followup_due") or None,
            "note": form.get("followup_note", ""),
            "assignee": form.get("followup_assignee") or None,
        }
    return body


def post_api(client: Client, url: str, body: dict[str, Any], method: str = "post") -> Any:
    return getattr(client, method)(url, json.dumps(body), content_type="application/json")


def test_recording_through_either_door_writes_the_same_record(
    client: Client, desk: Desk, counselor: Membership, clerk: Membership
) -> None:
    """The same consultation, follow-up and referred facility, recorded on the screen and
    through the API, gives records equal in every field, with the same audit trail."""
    station = make_facility("見本訪問看護（仮名）", "visiting_nurse", municipality_code="142158")
    form = form_data(
        desk,
        referred_facilities=[str(station.code)],
        subject_municipality="",
        followup_assignee=clerk.user.username,
    )
    login(client, counselor)
    html = client.post(reverse("desk:new", args=[desk.code]), form)
    assert html.status_code == 302, html.content.decode()
    api = post_api(client, f"/api/v1/desk/desks/{desk.code}/consultations", api_body(desk, form))
    assert api.status_code == 201, api.content
    by_screen, by_api = Consultation.objects.order_by("pk")
    assert state(by_screen) == state(by_api)
    assert state(by_api)["followups"] == [
        (timezone.localdate() + dt.timedelta(days=7), "利用開始できたか確認する", clerk.user_id)
    ]


def test_confirming_on_entry_through_either_door(
    client: Client, desk: Desk, counselor: Membership
) -> None:
    """「この内容で確定する」 on the form and confirm=true in the API both write version 1."""
    form = form_data(desk, confirm="on", followup_due="", followup_note="")
    login(client, counselor)
    assert client.post(reverse("desk:new", args=[desk.code]), form).status_code == 302
    body = {**api_body(desk, form), "confirm": True}
    assert (
        post_api(client, f"/api/v1/desk/desks/{desk.code}/consultations", body).status_code == 201
    )
    by_screen, by_api = Consultation.objects.order_by("pk")
    assert state(by_screen) == state(by_api)
    assert state(by_api)["versions"] == [(1, {}, "確定")]


@pytest.mark.parametrize(
    "overrides, message",
    [
        (
            {"consent": "given", "consent_date": ""},
            "同意の有無を記録する場合は、確認した日を入力してください",
        ),
        (
            {"received_date": (timezone.localdate() + dt.timedelta(days=1)).isoformat()},
            "受付日時に未来の日付は入力できません",
        ),
        (
            {"referred_facilities": ["00000000-0000-0000-0000-000000000000"]},
            actions.FACILITY_UNKNOWN,
        ),
        ({"followup_note": "  "}, "フォローアップの内容を入力してください"),
        ({"followup_due": "", "followup_note": "電話する"}, "期日を入力してください"),
        (
            {"followup_due": (timezone.localdate() + dt.timedelta(days=4 * 366)).isoformat()},
            "期日は2000年以降、3年以内の日付を入力してください",
        ),
        ({"subject_age": "131"}, "130"),
    ],
)
@pytest.mark.parametrize("door", ["html", "api"])
def test_the_same_bad_entry_gets_the_same_message_on_both_doors(
    client: Client,
    desk: Desk,
    counselor: Membership,
    door: str,
    overrides: dict[str, Any],
    message: str,
) -> None:
    """A refused entry names the same fault on the screen and in the API, and saves nothing."""
    form = form_data(desk, subject_municipality="", **overrides)
    login(client, counselor)
    if door == "html":
        response = client.post(reverse("desk:new", args=[desk.code]), form)
        text = response.content.decode()
    else:
        response = post_api(
            client, f"/api/v1/desk/desks/{desk.code}/consultations", api_body(desk, form)
        )
        text = response.json()["detail"]
    assert response.status_code == 400
    assert message in text
    assert not Consultation.objects.exists()
    assert not AuditEntry.objects.filter(action="desk.consultation_created").exists()


@pytest.mark.parametrize("door", ["html", "api"])
def test_another_desks_topic_is_refused_on_both_doors(
    client: Client, desk: Desk, other_desk: Desk, counselor: Membership, door: str
) -> None:
    """A category that belongs to another desk is not silently dropped: refused, same words."""
    foreign = other_desk.own_topics.create(name="厚木独自の分類", sort_order=500)
    form = form_data(desk, subject_municipality="", topics=[foreign.pk])
    login(client, counselor)
    if door == "html":
        response = client.post(reverse("desk:new", args=[desk.code]), form)
        text = response.content.decode()
    else:
        body = api_body(desk, form)
        response = post_api(client, f"/api/v1/desk/desks/{desk.code}/consultations", body)
        text = response.json()["detail"]
    assert response.status_code == 400
    assert actions.TOPIC_NOT_OF_DESK in text
    assert not Consultation.objects.exists()


@pytest.mark.parametrize("door", ["html", "api"])
def test_confirm_on_entry_by_a_non_confirmer_is_refused_not_dropped(
    client: Client, desk: Desk, clerk: Membership, door: str
) -> None:
    """A 介護職 who sends confirm gets 403 with the rule, and nothing is recorded (before,
    the screen dropped the box it had not shown and saved an unconfirmed record)."""
    form = form_data(desk, subject_municipality="", confirm="on")
    login(client, clerk)
    if door == "html":
        response = client.post(reverse("desk:new", args=[desk.code]), form)
        text = response.content.decode()
    else:
        body = {**api_body(desk, form), "confirm": True}
        response = post_api(client, f"/api/v1/desk/desks/{desk.code}/consultations", body)
        text = response.json()["detail"]
    assert response.status_code == 403
    assert "記録を確定できるのは" in text
    assert not Consultation.objects.exists()


def edit_body(c: Consultation, **changes: Any) -> dict[str, Any]:
    return actions.ConsultationEditInput.of(c, **changes).model_dump(mode="json")


def test_editing_through_either_door_writes_the_same_change(
    client: Client, desk: Desk, counselor: Membership
) -> None:
    """A draft edited on the screen and one edited through the API end up equal: content,
    version and audit trail."""
    made = [make_consultation(desk, counselor, summary="元の内容") for _ in range(2)]
    login(client, counselor)
    html = client.post(
        reverse("desk:edit", args=[made[0].code]),
        edit_data(made[0], summary="直した内容", asker_type="hospital"),
    )
    assert html.status_code == 302
    api = post_api(
        client,
        f"/api/v1/desk/consultations/{made[1].code}",
        edit_body(made[1], summary="直した内容", asker_type="hospital"),
        method="put",
    )
    assert api.status_code == 200, api.content
    a, b = (state(c) for c in made)
    a["content"].pop("received_at"), b["content"].pop("received_at")
    assert a == b
    assert a["content"]["summary"] == "直した内容" and a["version"] == 2


def test_revising_a_confirmed_record_through_either_door_writes_the_same_version(
    client: Client, desk: Desk, counselor: Membership
) -> None:
    """After 確定, both doors ask for a reason in the same words, then write version 2 alike."""
    made = [make_consultation(desk, counselor, summary="初回", confirm=True) for _ in range(2)]
    login(client, counselor)
    url_html = reverse("desk:edit", args=[made[0].code])
    url_api = f"/api/v1/desk/consultations/{made[1].code}"
    refused_html = client.post(url_html, edit_data(made[0], summary="訂正"))
    refused_api = post_api(client, url_api, edit_body(made[1], summary="訂正"), method="put")
    assert refused_html.status_code == refused_api.status_code == 400
    assert actions.REASON_REQUIRED in refused_html.content.decode()
    assert refused_api.json() == {"detail": actions.REASON_REQUIRED, "field": "reason"}

    ok_html = client.post(url_html, edit_data(made[0], summary="訂正", reason="聞き取り誤り"))
    ok_api = post_api(
        client, url_api, edit_body(made[1], summary="訂正", reason="聞き取り誤り"), method="put"
    )
    assert (ok_html.status_code, ok_api.status_code) == (302, 200)
    a, b = (state(c) for c in made)
    a["content"].pop("received_at"), b["content"].pop("received_at")
    assert a == b
    assert a["versions"][-1] == (
        2,
        {"summary": {"before": "初回", "after": "訂正"}},
        "聞き取り誤り",
    )


def test_confirming_through_either_door_freezes_the_same_version(
    client: Client, desk: Desk, counselor: Membership, clerk: Membership
) -> None:
    """確定 on the record's page and through the API record the same confirmer and version;
    a second confirmation is refused with the same message."""
    made = [make_consultation(desk, clerk) for _ in range(2)]
    login(client, counselor)
    client.post(reverse("desk:confirm", args=[made[0].code]), {"version": made[0].version})
    api = post_api(
        client, f"/api/v1/desk/consultations/{made[1].code}/confirm", {"version": made[1].version}
    )
    assert api.status_code == 200
    a, b = (state(c) for c in made)
    a["content"].pop("received_at"), b["content"].pop("received_at")
    assert a == b and a["confirmed_by"] == counselor.user_id and a["version"] == 2

    again_html = client.post(reverse("desk:confirm", args=[made[0].code]), follow=True)
    again_api = post_api(client, f"/api/v1/desk/consultations/{made[1].code}/confirm", {})
    assert "この相談記録は既に確定されています" in again_html.content.decode()
    assert again_api.status_code == 409
    assert again_api.json()["detail"] == "この相談記録は既に確定されています"


@pytest.mark.parametrize("door", ["html", "api"])
def test_a_non_confirmer_is_refused_with_the_same_words(
    client: Client, desk: Desk, clerk: Membership, door: str
) -> None:
    """A 介護職 cannot confirm on either door; the record stays a draft."""
    c = make_consultation(desk, clerk)
    login(client, clerk)
    if door == "html":
        text = client.post(reverse("desk:confirm", args=[c.code]), follow=True).content.decode()
    else:
        response = post_api(client, f"/api/v1/desk/consultations/{c.code}/confirm", {})
        assert response.status_code == 403
        text = response.json()["detail"]
    assert "記録を確定できるのは" in text
    c.refresh_from_db()
    assert c.confirmed_at is None and not c.versions.exists()
