"""Shared forms (issue 13 §4, ADR 0046): drafted from the record, versioned, sent inside the
consent with a 第29条 record, received with a receipt, replied to, printed, sealed at rest."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from renkei.accounts.models import AuditEntry, Membership, Organization, OrgKind, Role
from renkei.care.actions import consent as consent_actions
from renkei.care.actions import forms as fa
from renkei.care.models import (
    ConsentScope,
    Patient,
    ProvisionRecord,
    SharedForm,
    SharedFormVersion,
    TeamRole,
    admission_timeliness,
)
from renkei.care.testing import add_to_team, make_consent
from renkei.care.tests.conftest import verified
from renkei.testing import make_member, make_org

pytestmark = pytest.mark.django_db


@pytest.fixture
def cm_office(db: None) -> Organization:
    return make_org("海老名ケアプランセンター", OrgKind.CARE_MANAGEMENT, municipality_code="142158")


@pytest.fixture
def cm(cm_office: Organization) -> Membership:
    return make_member(
        cm_office, Role.CARE_MANAGER, username="cm_suzuki", display_name="鈴木ケアマネ"
    )


@pytest.fixture
def liaison(other_org: Organization) -> Membership:
    return make_member(other_org, Role.MSW, username="msw_kato", display_name="加藤MSW（連携室）")


@pytest.fixture
def team(patient: Patient, doctor: Membership, cm: Membership, liaison: Membership) -> Patient:
    """The clinic's patient (consent 一括) with a care manager and the hospital's 連携室."""
    add_to_team(patient, cm, by=doctor, team_role=TeamRole.CARE_MANAGER)
    add_to_team(patient, liaison, by=doctor, team_role=TeamRole.HOSPITAL_LIAISON)
    return patient


def _api(client: Client, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    if method == "get":
        return client.get(url)
    return getattr(client, method)(url, json.dumps(body or {}), content_type="application/json")


def _base(p: Patient) -> str:
    return f"/api/v1/care/patients/{p.code}/forms"


def _draft(p: Patient, by: Membership, kind: str = "admission") -> SharedForm:
    return fa.create_form(
        p,
        by=by,
        data=fa.NewFormInput.model_validate({"kind": kind, "admission_date": "2026-12-01"}),
    )


def test_a_draft_is_prefilled_from_the_record_and_the_team(
    team: Patient, cm: Membership, doctor: Membership
) -> None:
    client = verified(Client(), cm)
    r = _api(client, "post", _base(team), {"kind": "admission", "admission_date": "2026-12-01"})
    assert r.status_code == 201, r.content
    body = r.json()
    c = body["content"]
    assert c["kind"] == "admission" and body["status"] == "下書き" and body["version"] == 1
    assert c["patient_name"] == "連携 花子" and c["birth_date"] == "1938-04-12"
    assert c["care_level"] == "要介護2" and c["key_person"].startswith("連携 一郎")
    assert c["hospital_name"] == "厚木中央病院"  # the team's 病院の連携室
    assert c["doctor_name"] == "佐藤医師" and c["doctor_clinic"] == "えびな在宅クリニック"
    assert c["office_name"] == "海老名ケアプランセンター" and c["care_manager"] == "鈴木ケアマネ"


def test_send_receive_with_receipt_and_provision_record(
    team: Patient, cm: Membership, liaison: Membership, other_org: Organization
) -> None:
    sender, hospital = verified(Client(), cm), verified(Client(), liaison)
    code = _api(sender, "post", _base(team), {"kind": "admission", "admission_date": "2026-12-01"})
    form = code.json()
    url = f"{_base(team)}/{form['code']}"
    content = form["content"] | {"services": "訪問介護 週3回、通所介護 週2回", "paralysis": "軽度"}
    r = _api(sender, "put", url, {"content": content, "admission_date": "2026-12-01", "version": 1})
    assert r.status_code == 200, r.content
    assert r.json()["version"] == 2 and r.json()["content"]["paralysis"] == "軽度"

    # Before sending, the hospital does not see it at all.
    assert _api(hospital, "get", url).status_code == 404
    r = _api(sender, "post", f"{url}/send", {"recipient": str(other_org.code), "version": 2})
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "送付済み" and r.json()["sent_version"] == 2
    record = ProvisionRecord.objects.get(
        patient=team, recipient=other_org, items="入院時情報提供書"
    )
    assert record.consent is not None and record.recorded_by == cm

    inbox = _api(hospital, "get", "/api/v1/care/forms/inbox").json()
    assert [f["code"] for f in inbox] == [form["code"]] and inbox[0]["delivered_at"]
    assert inbox[0]["read_at"] is None  # listed is delivered, not read

    r = _api(hospital, "get", url)
    assert r.status_code == 200
    assert r.json()["content"]["services"].startswith("訪問介護")
    assert AuditEntry.objects.filter(actor=liaison.user, action="care.form_received").count() == 1
    seen = _api(sender, "get", url).json()
    assert seen["status"] == "受領済み" and seen["read_by"] == "加藤MSW（連携室）"

    # The sender edits again: the hospital still sees the sent version until it is resent.
    content2 = content | {"services": "変更後の内容"}
    _api(sender, "put", url, {"content": content2, "admission_date": "2026-12-01", "version": 2})
    assert _api(hospital, "get", url).json()["content"]["services"].startswith("訪問介護")
    _api(sender, "post", f"{url}/send", {"recipient": str(other_org.code), "version": 3})
    sf = SharedForm.objects.get(code=form["code"])
    assert sf.read_at is None and sf.sent_version == 3  # a new version needs a new receipt
    assert _api(hospital, "get", url).json()["content"]["services"] == "変更後の内容"
    assert SharedFormVersion.objects.filter(form=sf).count() == 3


def test_a_stale_save_is_409_on_both_doors(team: Patient, cm: Membership) -> None:
    sf = _draft(team, cm)
    api_client = verified(Client(), cm)
    content = fa.content_of(sf).model_dump(mode="json")
    url = f"{_base(team)}/{sf.code}"
    assert _api(api_client, "put", url, {"content": content, "version": 1}).status_code == 200
    stale = _api(api_client, "put", url, {"content": content, "version": 1})
    assert stale.status_code == 409
    page = api_client.post(
        reverse("care:form_edit", args=[team.code, sf.code]),
        {"patient_name": "連携 花子", "version": "1"},
    )
    assert page.status_code == 409
    assert SharedForm.objects.get(pk=sf.pk).version == 2


def test_screen_and_api_store_the_same_items(team: Patient, cm: Membership) -> None:
    a, b = _draft(team, cm, "doctor_cm"), _draft(team, cm, "doctor_cm")
    client = verified(Client(), cm)
    screen = {
        "patient_name": "連携 花子",
        "direction": "ケアマネジャーから医師へ",
        "purposes": ["ケアプランの作成・変更についての意見", "病状・治療方針の確認"],
        "message": "退院後の訪問看護の回数についてご意見をください。",
        "reply_wanted": "返信を希望する",
        "version": "1",
    }
    r = client.post(reverse("care:form_edit", args=[team.code, a.code]), screen)
    assert r.status_code == 302, r.content.decode()[:2000]
    body = {k: v for k, v in screen.items() if k != "version"} | {"kind": "doctor_cm"}
    full = fa.content_of(b).model_dump(mode="json") | body
    r = _api(client, "put", f"{_base(team)}/{b.code}", {"content": full, "version": 1})
    assert r.status_code == 200, r.content
    got_a = fa.content_of(SharedForm.objects.get(pk=a.pk)).model_dump()
    got_b = fa.content_of(SharedForm.objects.get(pk=b.pk)).model_dump()
    # The screen posts only what the person typed: the prefilled items it left out are blank
    # there, so compare what both doors were given.
    for k in body:
        assert got_a[k] == got_b[k], k
    assert got_a["purposes"] == ["ケアプランの作成・変更についての意見", "病状・治療方針の確認"]


def test_bad_items_are_refused_with_the_same_message_on_both_doors(
    team: Patient, cm: Membership
) -> None:
    sf = _draft(team, cm)
    client = verified(Client(), cm)
    content = fa.content_of(sf).model_dump(mode="json") | {"birth_date": "9999-01-01"}
    r = _api(client, "put", f"{_base(team)}/{sf.code}", {"content": content, "version": 1})
    assert r.status_code in (400, 422)
    page = client.post(
        reverse("care:form_edit", args=[team.code, sf.code]),
        {"birth_date": "2999-01-01", "version": "1"},
    )
    assert page.status_code == 400
    assert "生年月日は1900年以降、今日までの日付を入力してください" in page.content.decode()
    wrong = {"kind": "discharge", "patient_name": "連携 花子"}
    r = _api(client, "put", f"{_base(team)}/{sf.code}", {"content": wrong, "version": 1})
    assert r.status_code == 400 and "様式の種類は変更できません" in r.json()["detail"]
    assert SharedForm.objects.get(pk=sf.pk).version == 1


def test_sending_outside_the_consent_is_refused_with_the_organisation_named(
    team: Patient,
    doctor: Membership,
    cm: Membership,
    other_org: Organization,
    cm_office: Organization,
) -> None:
    # 一括 replaced by a 施設リスト without the hospital: the hospital may no longer receive.
    for c in team.consents.all():
        consent_actions.revoke_consent(
            c, by=doctor, data=consent_actions.RevokeInput(reason="範囲の見直し")
        )
    make_consent(team, by=doctor, scope=ConsentScope.ORGANIZATIONS, organizations=[cm_office])
    sf = _draft(team, cm)
    r = _api(
        verified(Client(), cm),
        "post",
        f"{_base(team)}/{sf.code}/send",
        {"recipient": str(other_org.code)},
    )
    assert r.status_code == 403
    assert "厚木中央病院は本人の同意の範囲に含まれていないため送付できません" in r.json()["detail"]
    assert SharedForm.objects.get(pk=sf.pk).sent_at is None
    assert not ProvisionRecord.objects.filter(recipient=other_org, items="入院時情報提供書")
    assert other_org not in fa.recipients(sf)  # the screen does not offer it either


def test_only_a_team_organisation_other_than_the_sender_can_receive(
    team: Patient, cm: Membership, cm_office: Organization
) -> None:
    stranger = make_org("関係のない病院", OrgKind.HOSPITAL, municipality_code="142123")
    sf = _draft(team, cm)
    client = verified(Client(), cm)
    for org in (stranger, cm_office):
        r = _api(client, "post", f"{_base(team)}/{sf.code}/send", {"recipient": str(org.code)})
        assert r.status_code == 400 and r.json()["field"] == "recipient"


def test_admission_forms_need_the_admission_date_to_be_sent(
    team: Patient, cm: Membership, other_org: Organization
) -> None:
    sf = fa.create_form(team, by=cm, data=fa.NewFormInput(kind="admission"))
    r = _api(
        verified(Client(), cm),
        "post",
        f"{_base(team)}/{sf.code}/send",
        {"recipient": str(other_org.code)},
    )
    assert r.status_code == 400 and r.json()["field"] == "admission_date"


def test_other_team_members_and_outsiders_get_404_on_a_form(
    team: Patient, cm: Membership, nurse: Membership, outsider: Membership, other_org: Organization
) -> None:
    sf = _draft(team, cm)
    fa.send_form(sf, by=cm, data=fa.SendInput(recipient=other_org.code))
    url = f"{_base(team)}/{sf.code}"
    # The nurse is on the team but the form is addressed to the hospital.
    assert _api(verified(Client(), nurse), "get", url).status_code == 404
    page = verified(Client(), nurse).get(reverse("care:form", args=[team.code, sf.code]))
    assert page.status_code == 404
    # The outsider is the hospital's administrator, but not on the team.
    assert _api(verified(Client(), outsider), "get", url).status_code == 404
    assert _api(Client(), "get", url).status_code == 401
    anonymous = Client().get(reverse("care:form_print", args=[team.code, sf.code]))
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert _api(verified(Client(), outsider), "get", "/api/v1/care/forms/inbox").json() == []


def test_doctor_and_care_manager_note_is_replied_by_the_recipient(
    team: Patient, cm: Membership, doctor: Membership, nurse: Membership
) -> None:
    sf = _draft(team, cm, "doctor_cm")
    assert fa.content_of(sf).direction == "ケアマネジャーから医師へ"  # type: ignore[attr-defined]
    assert fa.content_of(sf).to_name == "佐藤医師"  # type: ignore[attr-defined]
    fa.send_form(sf, by=cm, data=fa.SendInput(recipient=doctor.organization.code))
    url = f"{_base(team)}/{sf.code}/reply"
    assert _api(verified(Client(), cm), "post", url, {"reply": "自分で"}).status_code == 403
    assert _api(verified(Client(), doctor), "post", url, {"reply": " "}).status_code == 400
    r = _api(verified(Client(), doctor), "post", url, {"reply": "週2回で結構です。"})
    assert r.status_code == 200 and r.json()["reply"] == "週2回で結構です。"
    assert r.json()["status"] == "返信あり"
    page = verified(Client(), cm).get(reverse("care:form", args=[team.code, sf.code]))
    assert "週2回で結構です。" in page.content.decode()


def test_the_screens_draft_send_and_receive(
    team: Patient, cm: Membership, liaison: Membership, other_org: Organization
) -> None:
    client = verified(Client(), cm)
    r = client.post(
        reverse("care:forms", args=[team.code]),
        {"kind": "admission", "admission_date": "2026-12-01"},
    )
    assert r.status_code == 302
    sf = SharedForm.objects.get(patient=team)
    edit = client.get(r["Location"])
    assert edit.status_code == 200 and "1. 利用者（患者）基本情報" in edit.content.decode()
    r = client.post(
        reverse("care:form_send", args=[team.code, sf.code]),
        {"recipient": str(other_org.code), "version": "1"},
    )
    assert r.status_code == 302
    hospital = verified(Client(), liaison)
    inbox = hospital.get(reverse("care:inbox")).content.decode()
    assert "入院時情報提供書" in inbox and "連携 花子" in inbox
    page = hospital.get(reverse("care:form", args=[team.code, sf.code])).content.decode()
    assert "受領済み" in page
    printed = hospital.get(reverse("care:form_print", args=[team.code, sf.code]))
    text = printed.content.decode()
    assert "no-store" in printed["Cache-Control"]
    assert "@page { size: A4" in text and "☑要介護2" not in text  # care level is text
    assert "☐戸建て" in text and "入院時情報提供書" in text
    assert "受領済み" in client.get(reverse("care:forms", args=[team.code])).content.decode()


def test_form_items_and_replies_are_sealed_at_rest(
    team: Patient, cm: Membership, doctor: Membership
) -> None:
    sf = _draft(team, cm, "doctor_cm")
    sf = fa.send_form(sf, by=cm, data=fa.SendInput(recipient=doctor.organization.code))
    fa.reply_form(sf, by=doctor, data=fa.ReplyInput(reply="秘密の返信内容です"))
    with connection.cursor() as cur:
        cur.execute("SELECT content FROM care_sharedformversion WHERE form_id = %s", [sf.pk])
        raw = cur.fetchone()[0]
        cur.execute("SELECT reply FROM care_sharedform WHERE id = %s", [sf.pk])
        reply = cur.fetchone()[0]
    assert raw.startswith("e1$") and "連携" not in raw and "1938" not in raw
    assert reply.startswith("e1$") and "秘密" not in reply


def test_days_from_admission_to_sending_for_the_indicator(
    team: Patient, cm: Membership, other_org: Organization
) -> None:
    today = timezone.localdate()
    for days in (0, 3, 5):
        sf = fa.create_form(
            team,
            by=cm,
            data=fa.NewFormInput(kind="admission", admission_date=today - dt.timedelta(days=days)),
        )
        fa.send_form(sf, by=cm, data=fa.SendInput(recipient=other_org.code))
    draft = _draft(team, cm)
    assert draft.days_to_send() is None
    forms = SharedForm.objects.filter(patient=team)
    days_list = [f.days_to_send() for f in forms.admission_sent()]
    assert sorted(d for d in days_list if d is not None) == [0, 3, 5] and None not in days_list
    assert admission_timeliness(forms) == {"sent": 3, "within": 2, "days": 3}
    assert admission_timeliness(forms, days=0) == {"sent": 3, "within": 1, "days": 0}


def test_every_read_is_audited_with_the_form(team: Patient, cm: Membership) -> None:
    sf = _draft(team, cm)
    verified(Client(), cm).get(reverse("care:form_print", args=[team.code, sf.code]))
    entry = AuditEntry.objects.filter(actor=cm.user, action="care.patient_viewed").latest("id")
    assert entry.target_id == str(team.code)
    assert entry.detail["what"] == f"shared_form:{sf.code}"


def test_a_systems_read_is_not_the_recipients_read_receipt(
    team: Patient, cm: Membership, liaison: Membership, other_org: Organization
) -> None:
    """The hospital's system fetching the form by token (ADR 0044) is audited, but the sender's
    「受領済み」 waits for a person at the hospital to open it."""
    sf = _draft(team, cm)
    sf = fa.send_form(sf, by=cm, data=fa.SendInput(recipient=other_org.code))
    fa.view_form(sf, by=liaison, receipt=False)
    sf.refresh_from_db()
    assert sf.read_at is None
    assert not AuditEntry.objects.filter(action="care.form_received").exists()
    fa.view_form(sf, by=liaison)
    read = SharedForm.objects.get(pk=sf.pk)
    assert read.read_at is not None and read.read_by == liaison
