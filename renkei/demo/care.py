"""The care-team demo: three synthetic patients （仮名） with teams across the demo organisations,
one consent of each shape, timeline posts, and care logins with published TOTP secrets.

The care screens need a second factor, so each care login gets a TOTP device whose secret is
derived from its name and printed in the logins table (renkei.demo.authenticators).
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from renkei.accounts.models import Membership, Organization, Role
from renkei.care.actions import emergency as em
from renkei.care.actions import forms as fa
from renkei.care.form_kinds import Purpose, ReplyMethod, ReplyWanted
from renkei.care.models import ConsentScope, FormKind, Patient, Resuscitation
from renkei.care.testing import add_to_team, make_consent, make_patient, make_post
from renkei.demo.authenticators import give_device
from renkei.demo.common import demo_uuid
from renkei.testing import DEMO_PASSWORD, make_member

# username, display name, role, organisation key
CARE_LOGINS: list[tuple[str, str, str, str]] = [
    ("care-doctor", "在宅 医師（仮名）", Role.DOCTOR, "clinic"),
    ("care-nurse", "訪問 看護師（仮名）", Role.VISITING_NURSE, "vnurse"),
    ("care-cm", "介護支援 専門員（仮名）", Role.CARE_MANAGER, "caremgmt"),
    ("care-pharmacist", "在宅 薬剤師（仮名）", Role.PHARMACIST, "pharmacy"),
    ("care-msw", "病院 連携室（仮名）", Role.MSW, "hospital"),
]


def _login(username: str, name: str, role: str, org_key: str) -> Membership | None:
    existing = Membership.objects.filter(user__username=username).first()
    if existing is not None:
        return existing
    org = Organization.objects.filter(code=demo_uuid("org", org_key)).first()
    if org is None:
        return None
    m = make_member(org, role, username=username, password=DEMO_PASSWORD, display_name=name)
    give_device(m.user)
    return m


def seed_care() -> list[Patient]:
    """Idempotent: does nothing when the care logins already exist."""
    if Membership.objects.filter(user__username="care-doctor").exists():
        return []
    members = {u: _login(u, n, r, o) for u, n, r, o in CARE_LOGINS}
    doctor, nurse, cm, pharmacist = (
        members["care-doctor"],
        members["care-nurse"],
        members["care-cm"],
        members["care-pharmacist"],
    )
    if doctor is None or nurse is None or cm is None or pharmacist is None:
        return []
    today = timezone.localdate()

    # 1. 一括: the whole team, with a timeline.
    hanako = make_patient(
        doctor,
        name="見本 花子（仮名）",
        kana="みほん はなこ",
        birth_date=dt.date(1936, 5, 20),
        sex="female",
        care_level="care3",
        address="神奈川県藤沢市鵠沼海岸一丁目（デモ）",
        phone="0466-00-0001",
        insured_number="1400000101",
        key_person="見本 一郎（長男・仮名）0466-00-0002",
        emergency_contacts="見本 一郎（長男・仮名）090-0000-0002",
    )
    make_consent(hanako, by=doctor, given_by="本人（長男同席）")
    add_to_team(hanako, nurse, by=doctor, team_role="visiting_nurse")
    add_to_team(hanako, cm, by=doctor, team_role="care_manager")
    add_to_team(hanako, pharmacist, by=doctor, team_role="pharmacist")
    first = make_post(
        hanako,
        nurse,
        category="visit",
        body="定期訪問。食事は7割摂取。仙骨部の発赤は軽快。@主治医 ご確認ください。",
        next_visit=today + dt.timedelta(days=3),
        care_points="仙骨部の除圧を継続。水分1日1,000mLを目安に。",
    )
    make_post(hanako, doctor, body="確認しました。次回往診で診ます。", parent=first)
    make_post(
        hanako,
        doctor,
        category="prescription",
        body="@薬剤師 酸化マグネシウムを1日2回に減量しました。残薬の確認をお願いします。",
        reply_due=today + dt.timedelta(days=2),
    )
    make_post(hanako, cm, category="contact", body="来週からデイサービスを週2回に増やします。")
    em.save_sheet(
        hanako,
        by=doctor,
        data=em.SheetInput(
            diagnoses="慢性心不全、2型糖尿病、仙骨部褥瘡（治癒過程）",
            medicines="フロセミド 20mg 朝1錠\n酸化マグネシウム 330mg 1日2回",
            allergies="ペニシリン系抗菌薬（発疹）",
            family_doctor="デモ在宅クリニック（仮名）",
            resuscitation=Resuscitation.NO_CPR,
            resuscitation_confirmed_on=today - dt.timedelta(days=20),
        ),
    )
    em.save_acp(
        hanako,
        by=doctor,
        data=em.AcpInput(
            what_matters="自宅で家族と過ごすこと。好きな庭を見ていたい。",
            place_of_care="自宅",
            place_of_death="自宅（苦痛が強ければ緩和ケア病棟）",
            treatment_wishes="苦痛を和らげる治療を希望。人工呼吸器と胃ろうは望まない。",
            proxy="見本 一郎（長男・仮名）090-0000-0002",
            participants="本人、長男、主治医、訪問看護師、ケアマネジャー",
            discussed_on=today - dt.timedelta(days=20),
            next_review_on=today + dt.timedelta(days=160),
        ),
    )

    # 2. 施設リスト: the visiting-nurse station only (the care manager cannot be invited).
    ichiro = make_patient(
        doctor,
        name="試験 一郎（仮名）",
        kana="しけん いちろう",
        birth_date=dt.date(1941, 11, 3),
        sex="male",
        care_level="care2",
        address="神奈川県藤沢市辻堂二丁目（デモ）",
        phone="0466-00-0003",
        insured_number="1400000102",
    )
    make_consent(
        ichiro, by=doctor, scope=ConsentScope.ORGANIZATIONS, organizations=[nurse.organization]
    )
    add_to_team(ichiro, nurse, by=doctor, team_role="visiting_nurse")
    make_post(ichiro, nurse, category="vitals", body="体温36.8℃、血圧128/76、SpO2 96%。")

    # 3. 個人: registered by the care manager, shared with the named doctor only.
    tome = make_patient(
        cm,
        name="例示 トメ（仮名）",
        kana="れいじ とめ",
        birth_date=dt.date(1932, 2, 14),
        sex="female",
        care_level="care4",
        address="神奈川県茅ヶ崎市（デモ）",
        phone="0467-00-0004",
        insured_number="1400000103",
        team_role="care_manager",
        key_person="例示 幸子（長女・仮名）",
    )
    make_consent(tome, by=cm, scope=ConsentScope.PEOPLE, people=[doctor.user], given_by="長女")
    add_to_team(tome, doctor, by=cm, team_role="primary_doctor")
    make_post(tome, cm, category="request", body="@care-doctor 主治医意見書の更新時期です。")

    # Shared forms (ADR 0046): a 連絡票 the care manager sent to the doctor, a draft
    # 入院時情報提供書 prefilled from 見本 花子's record.
    note = fa.create_form(hanako, by=cm, data=fa.NewFormInput(kind=FormKind.DOCTOR_CM))
    content = fa.content_of(note).model_copy(
        update={
            "purposes": [Purpose.CARE_PLAN, Purpose.MEDICAL_SERVICE],
            "message": "デイサービスを週2回に増やします。入浴時の褥瘡の処置について、"
            "ご指示をいただけますか。",
            "reply_wanted": ReplyWanted.YES,
            "reply_method": ReplyMethod.FORM,
        }
    )
    fa.save_form(note, by=cm, data=fa.FormSaveInput(content=content, version=1))
    fa.send_form(note, by=cm, data=fa.SendInput(recipient=doctor.organization.code))
    fa.create_form(
        hanako,
        by=cm,
        data=fa.NewFormInput(kind=FormKind.ADMISSION, admission_date=today),
    )
    return [hanako, ichiro, tome]


# What the logins table says about each (who sees which patient).
CARE_HINTS: list[tuple[str, str]] = [
    ("care-doctor", "患者情報共有: 3名すべて（見本 花子・試験 一郎・例示 トメ）"),
    ("care-nurse", "患者情報共有: 見本 花子・試験 一郎。スマートフォン幅で訪問後に投稿"),
    ("care-cm", "患者情報共有: 見本 花子・例示 トメ（試験 一郎は同意の範囲外）"),
    ("care-pharmacist", "患者情報共有: 見本 花子（返信依頼あり）"),
    ("care-msw", "患者情報共有: 担当患者なし。緊急時の閲覧（みほん はなこ・1936-05-20）"),
]
