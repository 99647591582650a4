"""Registering and editing patients: both doors alike, the duplicate check, sealed columns."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from renkei.accounts.models import AuditEntry, Membership, Role
from renkei.care.models import CareTeamMember, Patient, kana_birth_key, number_key
from renkei.care.testing import make_patient
from renkei.care.tests.conftest import verified
from renkei.lib import crypto
from renkei.testing import make_member

pytestmark = pytest.mark.django_db

BODY: dict[str, Any] = {
    "name": "海老名 太郎",
    "kana": "エビナ タロウ",
    "birth_date": "1940-02-03",
    "sex": "male",
    "address": "神奈川県海老名市国分南1-2-3",
    "phone": "046-111-2222",
    "insured_number": "1412345678",
    "care_level": "care3",
    "key_person": "海老名 次郎（次男）",
    "emergency_contacts": "海老名 次郎 090-1111-2222",
    "team_role": "primary_doctor",
}


def post_json(client: Client, url: str, body: dict[str, Any], method: str = "post") -> Any:
    return getattr(client, method)(url, json.dumps(body), content_type="application/json")


def state(p: Patient) -> tuple[Any, ...]:
    fields = ("name", "kana", "birth_date", "sex", "address", "phone", "insured_number")
    team = list(
        CareTeamMember.objects.filter(patient=p).values_list("membership_id", "team_role", "status")
    )
    return (
        *[getattr(p, f) for f in fields],
        p.care_level,
        p.key_person,
        p.kana_birth_index,
        p.phone_index,
        p.owner_id,
        team,
    )


def test_registering_through_either_door_writes_the_same_record(doctor: Membership) -> None:
    """The same body through the form and the API: the same sealed record, team and audit."""
    client = verified(Client(), doctor)
    html = client.post(reverse("care:new"), BODY)
    assert html.status_code == 302
    api = post_json(client, "/api/v1/care/patients", {**BODY, "allow_duplicate": True})
    assert api.status_code == 201, api.content
    assert api.json()["name"] == "海老名 太郎"
    first, second = Patient.objects.order_by("pk")
    assert state(first) == state(second)
    assert first.kana_birth_index == kana_birth_key("えびなたろう", dt.date(1940, 2, 3))
    assert AuditEntry.objects.filter(action="care.patient_created").count() == 2


@pytest.mark.parametrize(
    "change, message",
    [
        ({"name": " "}, "氏名を入力してください"),
        ({"kana": "Ebina"}, "ふりがなは、ひらがなかカタカナで入力してください"),
        ({"birth_date": "1899-12-31"}, "生年月日は1900年以降、今日までの日付を入力してください"),
        ({"insured_number": "12-34"}, "被保険者番号は6〜10桁の数字で入力してください"),
        ({"phone": "046-abc"}, "電話番号は数字とハイフンで入力してください"),
    ],
)
@pytest.mark.parametrize("door", ["html", "api"])
def test_bad_input_is_refused_with_the_same_message_on_both_doors(
    doctor: Membership, door: str, change: dict[str, str], message: str
) -> None:
    client = verified(Client(), doctor)
    body = {**BODY, **change}
    if door == "html":
        response = client.post(reverse("care:new"), body)
        text = response.content.decode()
        assert "海老名市国分南" in text  # the input is kept
    else:
        response = post_json(client, "/api/v1/care/patients", body)
        text = response.json()["detail"]
    assert response.status_code == 400
    assert message in text
    assert not Patient.objects.exists()


@pytest.mark.parametrize("door", ["html", "api"])
def test_same_kana_and_birth_date_is_refused_unless_marked_as_another_person(
    doctor: Membership, door: str
) -> None:
    """Kana folded (katakana, width, spaces): 「ｴﾋﾞﾅﾀﾛｳ」 is the same key as 「えびな たろう」."""
    make_patient(doctor, name="海老名 太郎", kana="えびな たろう", birth_date=dt.date(1940, 2, 3))
    client = verified(Client(), doctor)
    body = {**BODY, "kana": "ｴﾋﾞﾅﾀﾛｳ"}
    if door == "html":
        response = client.post(reverse("care:new"), body)
        text = response.content.decode()
    else:
        response = post_json(client, "/api/v1/care/patients", body)
        text = response.json()["detail"]
    assert response.status_code == 409
    assert "同じふりがな・生年月日の患者が既に登録されています" in text
    assert Patient.objects.count() == 1
    if door == "html":
        assert (
            client.post(reverse("care:new"), {**body, "allow_duplicate": "on"}).status_code == 302
        )
    else:
        ok = post_json(client, "/api/v1/care/patients", {**body, "allow_duplicate": True})
        assert ok.status_code == 201
    assert Patient.objects.count() == 2


def test_another_organisations_patient_of_the_same_kana_is_not_revealed(
    doctor: Membership, outsider: Membership
) -> None:
    """The duplicate check looks only at what the registrant's organisation holds or sees."""
    make_patient(outsider, name="海老名 太郎", kana="えびなたろう", birth_date=dt.date(1940, 2, 3))
    response = post_json(verified(Client(), doctor), "/api/v1/care/patients", BODY)
    assert response.status_code == 201


def test_editing_checks_the_version_and_audits_field_names_only(
    doctor: Membership, patient: Patient
) -> None:
    client = verified(Client(), doctor)
    body = {k: v for k, v in BODY.items() if k != "team_role"}
    ok = post_json(client, f"/api/v1/care/patients/{patient.code}", {**body, "version": 1}, "put")
    assert ok.status_code == 200 and ok.json()["version"] == 2
    stale = post_json(
        client, f"/api/v1/care/patients/{patient.code}", {**body, "version": 1}, "put"
    )
    assert stale.status_code == 409
    entry = AuditEntry.objects.get(action="care.patient_updated")
    assert "name" in entry.detail["fields"]
    assert "海老名" not in json.dumps(entry.detail, ensure_ascii=False)
    patient.refresh_from_db()
    assert patient.phone_index == number_key("0461112222", "phone")


def test_a_municipal_officer_cannot_register_a_patient(clinic: Any) -> None:
    officer = make_member(clinic, Role.MUNICIPAL_OFFICER, username="officer")
    response = post_json(verified(Client(), officer), "/api/v1/care/patients", BODY)
    assert response.status_code == 403
    assert not Patient.objects.exists()


def test_a_password_alone_does_not_open_patients(doctor: Membership, patient: Patient) -> None:
    """Two factors for every account that can see a patient: the screen sends the doctor to
    set one up, the API refuses with the reason."""
    client = Client()
    client.force_login(doctor.user)
    page = client.get(reverse("care:patient", args=[patient.code]))
    assert page.status_code == 302 and page["Location"] == reverse("accounts:otp_setup")
    api = client.get(f"/api/v1/care/patients/{patient.code}")
    assert api.status_code == 403
    assert "二要素認証" in api.json()["detail"]
    assert not AuditEntry.objects.filter(action="care.patient_viewed").exists()


SEALED = ("name", "kana", "birth_date", "address", "phone", "insured_number", "key_person")


def raw_row(p: Patient) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(SEALED)} FROM care_patient WHERE id = %s", [p.pk])
        return dict(zip(SEALED, cursor.fetchone(), strict=True))


def test_the_raw_table_holds_no_plaintext(doctor: Membership) -> None:
    """Runs on SQLite and, in CI, on PostgreSQL (.ci/run): the columns hold tokens only."""
    p = make_patient(doctor, name="暗号 確認", kana="あんごう かくにん", phone="046-999-8888")
    raw = raw_row(p)
    dump = json.dumps(raw, ensure_ascii=False)
    for plain in ("暗号", "あんごう", "046-999-8888", "0469998888", "1938-04-12", "1400000001"):
        assert plain not in dump
    assert all(value.startswith("e1$") for value in raw.values())


def test_rotating_the_keys_reseals_and_the_data_still_reads(
    doctor: Membership, settings: Any
) -> None:
    p = make_patient(doctor)
    old_kid = crypto.key_id(raw_row(p)["name"])
    new_key = "new1:" + base64.b64encode(b"k" * 32).decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, *settings.FIELD_ENCRYPTION_KEYS]
    call_command("rotate_field_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert {crypto.key_id(v) for v in raw_row(p).values()} == {"new1"} != {old_kid}
    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key dropped
    again = Patient.objects.get(pk=p.pk)
    assert (again.name, again.birth_date) == ("連携 花子", dt.date(1938, 4, 12))
