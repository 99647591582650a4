"""Consent as the limit of sharing (revocation stops the next read) and the team timeline."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from renkei.accounts.models import AuditEntry, Membership
from renkei.care.models import Consent, ConsentScope, Patient, Post, PostRead, unread_counts
from renkei.care.testing import make_consent, make_patient, make_post
from renkei.care.tests.conftest import verified

pytestmark = pytest.mark.django_db


def post_json(client: Client, url: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(url, json.dumps(body or {}), content_type="application/json")


@pytest.mark.parametrize("door", ["html", "api"])
def test_revoking_the_consent_stops_the_next_read_of_another_organisation(
    doctor: Membership, nurse: Membership, patient: Patient, door: str
) -> None:
    nurse_client = verified(Client(), nurse)
    url = f"/api/v1/care/patients/{patient.code}"
    assert nurse_client.get(url).status_code == 200
    consent = Consent.objects.get(patient=patient)
    client = verified(Client(), doctor)
    if door == "html":
        revoke = client.post(
            reverse("care:consent_revoke", args=[patient.code, consent.code]),
            {"reason": "家族の希望"},
        )
        assert revoke.status_code == 302
    else:
        revoke = post_json(
            client, f"{url}/consents/{consent.code}/revoke", {"reason": "家族の希望"}
        )
        assert revoke.status_code == 200 and revoke.json()["active"] is False
    assert nurse_client.get(url).status_code == 404
    assert nurse_client.get(reverse("care:patient", args=[patient.code])).status_code == 404
    # The registering clinic keeps reading its own record.
    assert client.get(url).status_code == 200


def test_consent_shapes_through_either_door_and_the_scanned_form(
    doctor: Membership, nurse: Membership
) -> None:
    p = make_patient(doctor)
    client = verified(Client(), doctor)
    body = {
        "scope": "organizations",
        "purpose": "在宅療養の情報共有",
        "given_by": "本人",
        "valid_from": timezone.localdate().isoformat(),
        "organizations": [str(nurse.organization.code)],
    }
    api = post_json(client, f"/api/v1/care/patients/{p.code}/consents", body)
    assert api.status_code == 201, api.content
    pdf = SimpleUploadedFile("同意書 連携花子.pdf", b"%PDF-1.4 scanned", "application/pdf")
    html = client.post(reverse("care:consents", args=[p.code]), {**body, "form_file": pdf})
    assert html.status_code == 302
    first, second = Consent.objects.filter(patient=p).order_by("pk")
    assert [o.pk for o in first.organizations.all()] == [o.pk for o in second.organizations.all()]
    assert "連携" not in (second.form_file.name or "")  # the stored name is not the uploaded one
    got = client.get(reverse("care:consent_form", args=[p.code, second.code]))
    assert got.status_code == 200 and b"".join(got.streaming_content).startswith(b"%PDF")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"scope": "organizations"}, "施設リストの同意では、共有先の組織を1つ以上選んでください"),
        ({"scope": "people"}, "個人の同意では、共有先の職員のログインIDを1つ以上入力してください"),
        ({"valid_until": "2000-01-01"}, "有効期間の終了は開始以降の日付にしてください"),
        ({"given_by": ""}, "同意した人（本人、家族（続柄）など）を入力してください"),
    ],
)
@pytest.mark.parametrize("door", ["html", "api"])
def test_a_bad_consent_is_refused_alike(
    doctor: Membership, patient: Patient, door: str, change: dict[str, str], message: str
) -> None:
    body = {
        "scope": "all",
        "purpose": "共有",
        "given_by": "本人",
        "valid_from": timezone.localdate().isoformat(),
        **change,
    }
    client = verified(Client(), doctor)
    before = Consent.objects.count()
    if door == "html":
        response = client.post(reverse("care:consents", args=[patient.code]), body)
        text = response.content.decode()
    else:
        response = post_json(client, f"/api/v1/care/patients/{patient.code}/consents", body)
        text = response.json()["detail"]
    assert response.status_code == 400
    assert message in text
    assert Consent.objects.count() == before


def test_a_consent_for_named_people_covers_only_them(
    doctor: Membership, nurse: Membership, station_admin: Membership
) -> None:
    p = make_patient(doctor)
    make_consent(p, by=doctor, scope=ConsentScope.PEOPLE, people=[nurse.user])
    from renkei.care.testing import add_to_team

    add_to_team(p, nurse, by=doctor)
    refused = post_json(
        verified(Client(), doctor),
        f"/api/v1/care/patients/{p.code}/team",
        {
            "organization": str(station_admin.organization.code),
            "username": "ns_admin",
            "team_role": "visiting_nurse",
        },
    )
    # Inviting checks the organisation (one of its people is named); reading checks the
    # person: the station's administrator, though on the team, is not named and cannot read.
    assert refused.status_code == 201
    from renkei.care.models import CareTeamMember

    row = CareTeamMember.objects.get(membership=station_admin)
    admin_client = verified(Client(), station_admin)
    post_json(admin_client, f"/api/v1/care/invitations/{row.pk}/accept")
    assert admin_client.get(f"/api/v1/care/patients/{p.code}").status_code == 404
    assert verified(Client(), nurse).get(f"/api/v1/care/patients/{p.code}").status_code == 200


# Timeline ---------------------------------------------------------------------------


def posts_state() -> list[tuple[Any, ...]]:
    return [
        (p.category, p.body, p.author_id, p.reply_due, p.next_visit, p.plan_changed, p.plan_summary)
        for p in Post.objects.order_by("pk")
    ]


VISIT = {
    "category": "visit",
    "body": "訪問。褥瘡は改善傾向。@主治医 ご確認ください",
    "next_visit": "2026-12-20",
    "plan_changed": True,
    "plan_summary": "入浴をシャワー浴に変更",
    "care_points": "仙骨部の除圧",
}


def test_posting_through_either_door_writes_the_same_and_mails_a_link_only(
    nurse: Membership, doctor: Membership, patient: Patient, django_capture_on_commit_callbacks: Any
) -> None:
    client = verified(Client(), nurse)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("care:post", args=[patient.code]), VISIT).status_code == 302
        api = post_json(client, f"/api/v1/care/patients/{patient.code}/posts", VISIT)
    assert api.status_code == 201, api.content
    assert api.json()["mentioned_roles"] == ["primary_doctor"]
    first, second = posts_state()
    assert first == second
    # The mention of the role reached the doctor, twice, without the patient's data.
    assert [m.to for m in mail.outbox] == [[doctor.user.email]] * 2
    assert all("褥瘡" not in m.body and "連携 花子" not in m.body for m in mail.outbox)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"next_visit": ""}, "訪問記録には次回の訪問予定日を入力してください"),
        ({"plan_summary": ""}, "方針の変更がある場合は、変更の概要を入力してください"),
        ({"body": " "}, "本文を入力してください"),
    ],
)
@pytest.mark.parametrize("door", ["html", "api"])
def test_a_visit_note_without_its_items_is_refused_alike(
    nurse: Membership, patient: Patient, door: str, change: dict[str, str], message: str
) -> None:
    body = {**VISIT, **change}
    client = verified(Client(), nurse)
    if door == "html":
        response = client.post(reverse("care:post", args=[patient.code]), body)
        text = response.content.decode()
    else:
        api_body = {
            k: (v if v != "" else None) if k == "next_visit" else v for k, v in body.items()
        }
        response = post_json(client, f"/api/v1/care/patients/{patient.code}/posts", api_body)
        text = response.json()["detail"]
    assert response.status_code == 400
    assert message in text
    assert not Post.objects.exists()


def test_unread_counts_receipts_replies_and_search(
    nurse: Membership, doctor: Membership, patient: Patient
) -> None:
    make_post(patient, doctor, body="血圧 150/90、経過観察")
    asked = make_post(
        patient,
        doctor,
        body="@ns_tanaka 次回の訪問で服薬状況を確認してください",
        category="request",
        reply_due=timezone.localdate() + dt.timedelta(days=2),
    )
    assert unread_counts(nurse) == {patient.pk: 2}
    assert unread_counts(doctor) == {}
    make_post(patient, nurse, body="承知しました", parent=asked)
    client = verified(Client(), nurse)
    page = client.get(f"/api/v1/care/patients/{patient.code}/posts?q=ケツアツ").json()
    assert page["count"] == 0  # kana of a kanji word does not match; the search is literal
    page = client.get(f"/api/v1/care/patients/{patient.code}/posts?q=服薬").json()
    assert page["count"] == 1 and page["items"][0]["replies"][0]["body"] == "承知しました"
    # What was shown is now read; the other post stays unread.
    assert unread_counts(nurse) == {patient.pk: 1}
    assert PostRead.objects.filter(post=asked, user=nurse.user).exists()
    listing = client.get("/api/v1/care/patients").json()
    assert listing[0]["unread"] == 1
    html = client.get(reverse("care:patient", args=[patient.code])).content.decode()
    assert "既読: 佐藤医師、田中看護師" in html
    assert unread_counts(nurse) == {}


def test_print_view_lists_every_post_oldest_first(
    nurse: Membership, doctor: Membership, patient: Patient
) -> None:
    make_post(patient, doctor, body="一つ目")
    make_post(patient, nurse, body="二つ目")
    html = verified(Client(), nurse).get(reverse("care:timeline_print", args=[patient.code]))
    text = html.content.decode()
    assert text.index("一つ目") < text.index("二つ目")


def test_what_changed_since_my_last_visit(
    patient: Patient, doctor: Membership, nurse: Membership
) -> None:
    from renkei.care.actions import timeline as tl

    before = make_post(patient, nurse, body="訪問前の記録")
    first = tl.changes_since_last_visit(patient, by=doctor)
    assert first.since is None and [p.code for p in first.posts] == [before.code]
    mine = make_post(patient, doctor, body="往診しました", category="daily")
    after = make_post(patient, nurse, body="夜間に発熱 38.2℃", category="vitals")
    reply = make_post(patient, nurse, body="解熱しました", parent=mine)
    changes = tl.changes_since_last_visit(patient, by=doctor)
    assert changes.since == mine.created_at
    assert [p.code for p in changes.posts] == [reply.code, after.code]  # newest first
    assert not changes.sheet_updated and changes.acp_versions == 0
    entry = AuditEntry.objects.filter(actor=doctor.user).latest("id")
    assert entry.detail["what"] == "since_last_visit" and entry.target_id == str(patient.code)
    page = verified(Client(), doctor).get(reverse("care:since", args=[patient.code]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "夜間に発熱" in body and "訪問前の記録" not in body and "往診しました" not in body
    api = verified(Client(), doctor).get(f"/api/v1/care/patients/{patient.code}/since").json()
    assert [p["code"] for p in api["posts"]] == [str(reply.code), str(after.code)]
    assert api["posts"][0]["parent"] == str(mine.code)
