"""The rotas' demo: 県央みらい医師会's night and holiday rota for 県央 and a hospital duty rota,
this month and next, published (names （仮名）)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from renkei.accounts.models import Membership, Organization, OrgKind
from renkei.demo.common import demo_uuid
from renkei.oncall.models import Rota, RotaKind
from renkei.oncall.testing import HOSPITAL_RULES, make_rota, publish
from renkei.testing import make_org

NIGHT_ROTA = "県央地区 夜間・休日当番医（デモ）"
HOSPITAL_ROTA = "県央地区 在宅患者の入院受入れ当番病院（デモ）"

_CLINICS = [
    ("oncall-1", "あおば在宅クリニック（仮名）", "142123"),
    ("oncall-2", "えびな内科・在宅診療所（仮名）", "142158"),
    ("oncall-3", "ざま訪問診療クリニック（仮名）", "142166"),
    ("oncall-4", "あやせファミリークリニック（仮名）", "142182"),
]
_HOSPITALS = [
    ("oncall-h1", "県央中央病院（仮名）", "142123"),
    ("oncall-h2", "大和さくら病院（仮名）", "142131"),
]


def _org(key: str, name: str, kind: str, municipality: str) -> Organization:
    code = demo_uuid("org", key)
    found = Organization.objects.filter(code=code).first()
    return found or make_org(name, kind, municipality_code=municipality, code=code)


def seed_oncall(today: dt.date | None = None) -> Rota | None:
    """Idempotent: nothing happens when the demo's night rota exists already."""
    organiser = (
        Membership.objects.filter(
            user__username="ishikai", organization__kind=OrgKind.MEDICAL_ASSOCIATION
        )
        .select_related("organization")
        .first()
    )
    if organiser is None or Rota.objects.filter(name=NIGHT_ROTA).exists():
        return None
    today = today or timezone.localdate()
    this = today.replace(day=1)
    months = [f"{this:%Y-%m}", f"{(this + dt.timedelta(days=32)).replace(day=1):%Y-%m}"]
    # はまかぜ在宅クリニック (the homedoc login) takes part, so a member's view can be tried.
    homedoc = Organization.objects.filter(code=demo_uuid("org", "clinic")).first()
    clinics = [_org(k, n, OrgKind.CLINIC, m) for k, n, m in _CLINICS]
    night = make_rota(
        organiser,
        [*clinics, *([homedoc] if homedoc else [])],
        name=NIGHT_ROTA,
        swap_freely=False,
    )
    hospitals = [_org(k, n, OrgKind.HOSPITAL, m) for k, n, m in _HOSPITALS]
    duty = make_rota(
        organiser,
        hospitals,
        name=HOSPITAL_ROTA,
        kind=RotaKind.HOSPITAL,
        rules=HOSPITAL_RULES,
        swap_freely=True,
        phones=["046-221-0001", "046-260-0002"],
    )
    for rota in (night, duty):
        for month in months:
            publish(rota, organiser, month)
    return night


# 主治医・副主治医 pairs on the care demo's patients (ADR 0036): the care-doctor's clinic with
# あおば在宅クリニック as 副主治医; the 夜間体制 is the clinic's own mobile.
_PAIRS: list[tuple[str, str, str, str]] = [
    # patient name, 副主治医 clinic key, 副主治医, patient's municipality
    ("見本 花子（仮名）", "oncall-1", "青葉 次郎（仮名）", "142051"),
    ("例示 トメ（仮名）", "oncall-2", "海老名 三郎（仮名）", "142077"),
]


def seed_cover(today: dt.date | None = None) -> int:
    """Idempotent: pairs only for the care demo patients that have no agreement yet."""
    from renkei.care.models import CareTeamMember, Patient
    from renkei.oncall import cover
    from renkei.oncall.models import CoverAgreement

    doctor = Membership.objects.filter(user__username="care-doctor").first()
    if doctor is None:
        return 0
    today = today or timezone.localdate()
    on_team = CareTeamMember.objects.current(today).filter(membership=doctor)
    patients = {p.name: p for p in Patient.objects.filter(pk__in=on_team.values("patient_id"))}
    made = 0
    for name, clinic_key, secondary_doctor, municipality in _PAIRS:
        p = patients.get(name)
        clinic = next(_org(k, n, OrgKind.CLINIC, m) for k, n, m in _CLINICS if k == clinic_key)
        if p is None or CoverAgreement.objects.filter(patient=p).exists():
            continue
        cover.save_cover(
            p,
            by=doctor,
            data=cover.CoverInput(
                primary_doctor=str(doctor.user),
                primary_phone=doctor.organization.phone or "0466-00-1000",
                night_arrangement="夜間・休日は院長の携帯に転送（デモ）",
                night_phone="090-0000-1000",
                secondary=clinic.code,
                secondary_doctor=secondary_doctor,
                secondary_phone="046-200-0001" if clinic_key == "oncall-1" else "046-200-0002",
                agreed_on=today.replace(day=1),
                municipality=municipality,
                valid_from=today.replace(day=1),
            ),
        )
        made += 1
    return made


# Backup beds and a 副主治医 search (ADR 0047, 0016): 県央中央病院 offers backup beds with
# 見本 花子 registered and accepted; the care-doctor's search for 例示 トメ is open, with
# あおば在宅クリニック volunteering as 副主治医.
BED_LOGIN = "beds-msw"
COVER_LOGIN = "cover-doctor"


def seed_beds() -> int:
    """Idempotent: each step only when its record is missing. Returns records made."""
    from renkei.accounts.models import Role
    from renkei.care.models import Patient
    from renkei.lib.actions import ActionError
    from renkei.oncall import beds, search
    from renkei.oncall.models import (
        BackupBedOffer,
        BackupBedRegistration,
        BedOutcome,
        BedScheme,
        CoverRole,
        CoverSearch,
        DiseaseGroup,
    )
    from renkei.testing import make_member

    doctor = Membership.objects.filter(user__username="care-doctor").first()
    if doctor is None:
        return 0
    made = 0
    hospital = _org("oncall-h1", "県央中央病院（仮名）", OrgKind.HOSPITAL, "142123")
    msw = Membership.objects.filter(user__username=BED_LOGIN).first() or make_member(
        hospital, Role.MSW, username=BED_LOGIN, display_name="地域連携室 見本（仮名）"
    )
    offer = BackupBedOffer.objects.filter(hospital=hospital).first()
    if offer is None:
        offer = beds.save_offer(
            by=msw,
            data=beds.OfferInput(
                scheme=BedScheme.SUPPORT_HOSPITAL,
                name="県央中央病院 在宅療養後方支援病床（デモ）",
                phone="046-221-0100",
                beds=4,
                note="事前登録の患者は24時間受け入れます（デモ）",
            ),
        )
        made += 1
    patients = {p.name: p for p in Patient.objects.filter(owner_id=doctor.organization_id)}
    hanako = patients.get("見本 花子（仮名）")
    if hanako is not None and not BackupBedRegistration.objects.filter(patient=hanako).exists():
        try:
            reg = beds.register_patient(
                hanako,
                by=doctor,
                data=beds.RegisterInput(
                    offer=offer.code,
                    summary="慢性心不全（NYHA III）。急変時は入院を希望（本人・長男と確認済み）。"
                    "利尿薬の調整中。（デモ）",
                ),
            )
            beds.decide_registration(reg, by=msw, data=beds.DecisionInput(accept=True))
            # One use of the bed, for the hospital's 利用状況 (a short stay, home again).
            admitted = timezone.localdate() - dt.timedelta(days=40)
            beds.record_use(
                reg,
                by=msw,
                data=beds.BedUseInput(
                    admitted_on=admitted,
                    outcome=BedOutcome.HOME,
                    discharged_on=admitted + dt.timedelta(days=6),
                ),
            )
            made += 1
        except ActionError:
            pass  # the demo patient's consent or team changed: nothing to show
    clinic = _org("oncall-1", "あおば在宅クリニック（仮名）", OrgKind.CLINIC, "142123")
    volunteer = Membership.objects.filter(user__username=COVER_LOGIN).first() or make_member(
        clinic, Role.DOCTOR, username=COVER_LOGIN, display_name="青葉 次郎（仮名）"
    )
    tome = next((p for p in Patient.objects.all() if p.name == "例示 トメ（仮名）"), None)
    if tome is not None and not CoverSearch.objects.filter(patient=tome).exists():
        try:
            s = search.post_search(
                tome,
                by=doctor,
                data=search.SearchInput(
                    wanted=CoverRole.SECONDARY,
                    municipality="142123",
                    disease_group=DiseaseGroup.DEMENTIA,
                    needs="認知症と慢性腎臓病。夜間の不穏時に往診できる医療機関を探しています。",
                ),
            )
            search.volunteer(
                s,
                by=volunteer,
                data=search.VolunteerInput(
                    role=CoverRole.SECONDARY,
                    doctor="青葉 次郎（仮名）",
                    phone="046-200-0001",
                    message="平日夜間と土曜は対応できます。",
                ),
            )
            made += 1
        except ActionError:
            pass
    return made
