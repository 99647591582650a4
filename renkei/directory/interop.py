"""What the HSDS (/api/hsds/) and FHIR (/api/fhir/) feeds share: ids, organisations, vocabularies.

Both feeds publish the same public directory, so one facility has the same ids in both:
the service / HealthcareService is the Facility.code, and every other id is derived from
it deterministically (see ``derived_id``) so that consumers can keep references across
harvests. Only fields the public detail page shows are used here; the member-only fields
(空き数, 空き状況の補足, 連携窓口, 受入れ条件の補足) never are.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    Min,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Cast, Concat, NullIf
from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from renkei.directory.models import Capability, CareLevel, Facility, FacilityKind, SexAccepted
from renkei.directory.search import MAX_PAGE, MAX_PER_PAGE, SearchError
from renkei.lib.text import nfkc, normalize_search

# Changing either constant changes every published id and code system: never edit them.
NAMESPACE = uuid.UUID("d592409e-aa91-5c26-9477-6a36dc13360a")
CANONICAL = "https://renkei.example.jp/fhir"

CAPABILITY_TAXONOMY = "renkei-capabilities"
KIND_TAXONOMY = "renkei-facility-kinds"
CAPABILITY_SYSTEM = f"{CANONICAL}/CodeSystem/capability"
KIND_SYSTEM = f"{CANONICAL}/CodeSystem/facility-kind"
KAIGO_SERVICE_SYSTEM = f"{CANONICAL}/CodeSystem/kaigo-service-code"
SPECIALTY_SYSTEM = f"{CANONICAL}/CodeSystem/medical-specialty-code"
# 法人番号 is registered at org-id.guide as JP-JCN (National Tax Agency).
CORPORATE_NUMBER_SCHEME = "JP-JCN"
CORPORATE_NUMBER_SYSTEM = "https://org-id.guide/list/JP-JCN"
# JP Core defines only the 10-digit 保険医療機関番号 system; the 13-digit 医療情報ネット ID and
# the 10-digit 介護事業所番号 have no national FHIR system, so they get ours.
MEDICAL_ID_SYSTEM = f"{CANONICAL}/NamingSystem/iryou-joho-net-id"
CARE_OFFICE_SYSTEM = f"{CANONICAL}/NamingSystem/kaigo-jigyosho-bango"
MUNICIPALITY_SYSTEM = f"{CANONICAL}/NamingSystem/jis-x0402-municipality-code"

TAXONOMY_DESCRIPTIONS = {
    CAPABILITY_TAXONOMY: "施設・事業所が対応できる医療的ケア・処置項目（Renkei 独自の分類）",
    KIND_TAXONOMY: "施設・事業所の種別（Renkei 独自の分類）",
}
TAXONOMY_URIS = {CAPABILITY_TAXONOMY: CAPABILITY_SYSTEM, KIND_TAXONOMY: KIND_SYSTEM}

FULL_PREFETCH = ("capabilities", "service_municipalities", "services", "specialties")


# Ids ---------------------------------------------------------------------
_VERSION_AND_VARIANT = (0xF << 76) | (0x3 << 62)


@functools.cache
def _mask(entity: str) -> int:
    return uuid.uuid5(NAMESPACE, f"mask/{entity}").int & ~_VERSION_AND_VARIANT


def derived_id(entity: str, code: uuid.UUID) -> uuid.UUID:
    """A stable id for something that exists once per facility (its location, its
    service_at_location, the organisation a facility without 法人番号 stands for).

    The facility code XOR a uuid5-derived mask per entity: deterministic like a uuid5, but
    reversible, so ``GET /Location/{id}`` is one indexed lookup by Facility.code instead of
    hashing every facility. Version and variant bits are left as they are, so the result is
    a well-formed UUID of the same version as the code.
    """
    return uuid.UUID(int=code.int ^ _mask(entity))


def code_from(entity: str, value: uuid.UUID) -> uuid.UUID:
    return derived_id(entity, value)  # XOR is its own inverse


def child_id(kind: str, code: uuid.UUID, *parts: str) -> uuid.UUID:
    """Ids of parts that are only ever read nested in their facility (addresses, phones…)."""
    return uuid.uuid5(NAMESPACE, "/".join([kind, str(code), *parts]))


def corporation_id(number: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"organization/{CORPORATE_NUMBER_SCHEME}/{number}")


def taxonomy_id(name: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"taxonomy/{name}")


def term_id(taxonomy: str, code: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"taxonomy_term/{taxonomy}/{code}")


def parse_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError):
        return None


def location_id(f: Facility) -> uuid.UUID:
    return derived_id("location", f.code)


def service_at_location_id(f: Facility) -> uuid.UUID:
    return derived_id("service_at_location", f.code)


# Organisations --------------------------------------------------------------
def org_id_of(f: Facility) -> uuid.UUID:
    """The corporation when the facility has a 法人番号, else the facility itself."""
    if f.corporation_number:
        return corporation_id(f.corporation_number)
    return derived_id("organization", f.code)


@dataclass
class OrgRecord:
    id: uuid.UUID
    corporation_number: str
    name: str
    facilities: list[Facility] = field(default_factory=list)
    facility_count: int = 0

    @property
    def is_corporation(self) -> bool:
        return bool(self.corporation_number)

    @property
    def representative(self) -> Facility:
        return self.facilities[0]

    def description(self) -> str:
        if self.is_corporation:
            return (
                f"法人番号 {self.corporation_number} の法人。"
                f"この名簿に{self.facility_count}件の施設・事業所が掲載されています。"
            )
        f = self.representative
        return f.description or f"{f.get_kind_display()}（{f.municipality.name}）"


def _org_name(f: Facility, corporation_name: str | None = None) -> str:
    if f.corporation_number:
        return corporation_name or f.corporation_name or f"法人番号{f.corporation_number}の法人"
    return f.name


def org_of(f: Facility) -> OrgRecord:
    """The organisation of one facility, without queries (for nesting in a service)."""
    return OrgRecord(
        id=org_id_of(f),
        corporation_number=f.corporation_number,
        name=_org_name(f),
        facilities=[f],
        facility_count=1,
    )


def public_facilities() -> QuerySet[Facility]:
    return Facility.objects.public().select_related("municipality__prefecture")


def organizations_page(
    search: str, offset: int, limit: int, *, all_facilities: bool, condition: Q | None = None
) -> tuple[list[OrgRecord], int]:
    """One page of organisations and their total, in three queries whatever the page size.

    An organisation matches ``search`` when its name or the name of one of its facilities
    does, the same kana- and width-insensitive match as the search screen.
    """
    qs = Facility.objects.public()
    needle = normalize_search(search)
    if needle:
        qs = qs.filter(search_text__contains=needle)
    if condition is not None:
        qs = qs.filter(condition)
    groups = (
        qs.annotate(
            org_key=Case(
                When(corporation_number="", then=Concat(Value("f:"), Cast("id", CharField()))),
                default=Concat(Value("c:"), F("corporation_number")),
                output_field=CharField(),
            ),
            org_name=Case(
                When(corporation_number="", then=F("name")),
                default=NullIf(F("corporation_name"), Value("")),
                output_field=CharField(),
            ),
        )
        .values("org_key")
        .annotate(n=Count("id"), group_name=Min("org_name"), first=Min("id"))
        # NULL names (a corporation with no 法人名) sort last on SQLite and PostgreSQL alike.
        .order_by(F("group_name").asc(nulls_last=True), "org_key")
    )
    total = groups.count()
    rows = list(groups[offset : offset + limit]) if limit else []
    numbers = [r["org_key"][2:] for r in rows if r["org_key"].startswith("c:")]
    firsts = [r["first"] for r in rows]
    members = public_facilities().order_by("kana", "name", "id")
    if all_facilities:
        members = members.filter(Q(corporation_number__in=numbers) | Q(pk__in=firsts))
    else:
        members = members.filter(pk__in=firsts)
    by_key: dict[str, list[Facility]] = {}
    for f in members:
        key = f"c:{f.corporation_number}" if f.corporation_number else f"f:{f.pk}"
        by_key.setdefault(key, []).append(f)
    records = []
    for r in rows:
        facilities = by_key.get(r["org_key"], [])
        if not facilities:  # deactivated between the two queries
            continue
        f = facilities[0]
        records.append(
            OrgRecord(
                id=org_id_of(f),
                corporation_number=f.corporation_number,
                name=_org_name(f, r["group_name"]),
                facilities=facilities,
                facility_count=r["n"],
            )
        )
    return records, total


def resolve_org(value: uuid.UUID) -> tuple[str, str] | None:
    """("corporation", 法人番号) or ("facility", code) for a published organisation id."""
    code = code_from("organization", value)
    if Facility.objects.public().filter(code=code, corporation_number="").exists():
        return "facility", str(code)
    numbers = (
        Facility.objects.public()
        .exclude(corporation_number="")
        .values_list("corporation_number", flat=True)
        .distinct()
    )
    # uuid5 cannot be reversed; the corporations are few enough (thousands) to hash them all.
    for number in numbers.iterator():
        if corporation_id(number) == value:
            return "corporation", number
    return None


def org_filter(value: uuid.UUID) -> Q | None:
    resolved = resolve_org(value)
    if resolved is None:
        return None
    kind, key = resolved
    return Q(corporation_number=key) if kind == "corporation" else Q(code=key)


def get_organization(value: uuid.UUID) -> OrgRecord | None:
    condition = org_filter(value)
    if condition is None:
        return None
    facilities = list(public_facilities().filter(condition).order_by("kana", "name", "id"))
    if not facilities:
        return None
    f = facilities[0]
    names = sorted({x.corporation_name for x in facilities if x.corporation_name})
    return OrgRecord(
        id=value,
        corporation_number=f.corporation_number,
        name=_org_name(f, names[0] if names else None),
        facilities=facilities,
        facility_count=len(facilities),
    )


# Vocabularies ---------------------------------------------------------------
@dataclass(frozen=True)
class Term:
    taxonomy: str
    code: str
    name: str
    description: str
    group: str = ""
    bit: int | None = None  # capabilities only

    @property
    def id(self) -> uuid.UUID:
        return term_id(self.taxonomy, self.code)

    @property
    def system(self) -> str:
        return TAXONOMY_URIS[self.taxonomy]


def capability_term(c: Capability) -> Term:
    return Term(
        CAPABILITY_TAXONOMY,
        c.code,
        c.name,
        c.description or (f"{c.group}：{c.name}" if c.group else c.name),
        c.group,
        c.bit,
    )


def kind_term(kind: str) -> Term:
    label = str(FacilityKind(kind).label)
    return Term(KIND_TAXONOMY, kind, label, f"施設・事業所の種別：{label}")


def all_terms() -> list[Term]:
    """Every taxonomy term, kinds first: one query (the capabilities)."""
    return [kind_term(k) for k in FacilityKind.values] + [
        capability_term(c) for c in Capability.objects.all()
    ]


# Addresses, hours, conditions ---------------------------------------------
def postal_code(f: Facility) -> str:
    digits = re.sub(r"\D", "", nfkc(f.postal_code))
    return f"{digits[:3]}-{digits[3:]}" if len(digits) == 7 else ""


def address_line(f: Facility) -> str:
    """The address below the municipality (番地 and town), as FHIR line / HSDS address_1."""
    text = nfkc(f.address)
    for prefix in (f.municipality.prefecture.name, f.municipality.name):
        if text.startswith(prefix) and len(text) > len(prefix):
            text = text[len(prefix) :]
    return text.strip()


def full_address(f: Facility) -> str:
    parts = [f.municipality.prefecture.name, f.municipality.name, address_line(f)]
    if f.address_extra:
        parts.append(" " + f.address_extra)
    return "".join(parts)


WEEKDAYS_ICAL = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
WEEKDAYS_FHIR = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_CHARS = "月火水木金土日"
_DAY_RANGE = re.compile(r"([月火水木金土日])(?:曜日?)?[〜~\-ー－‐]([月火水木金土日])")
_DAY_LIST = re.compile(r"[月火水木金土日](?:曜日?)?(?:[・、,][月火水木金土日](?:曜日?)?)+")
_TIME_RANGE = re.compile(
    r"(\d{1,2})(?:[:時](\d{2})分?|時)\s*[〜~\-ー－‐]\s*(\d{1,2})(?:[:時](\d{2})分?|時)"
)


@dataclass(frozen=True)
class Hours:
    """The regular opening hours, when the free text states one plain weekly pattern."""

    days: tuple[int, ...]  # 0 = Monday
    opens: str | None  # "09:00"
    closes: str | None


def parse_hours(text: str) -> Hours | None:
    """「月〜金 9:00〜17:00」 → Mon–Fri 09:00–17:00. Anything less plain (two time bands,
    different hours per day) returns None and is published as text only."""
    s = nfkc(text)
    if not s:
        return None
    times = _TIME_RANGE.findall(s)
    opens = closes = None
    if len(times) > 1:
        return None
    if times:
        h1, m1, h2, m2 = times[0]
        start, end = (int(h1), int(m1 or 0)), (int(h2), int(m2 or 0))
        if not (start < end and end[0] <= 23 and end[1] < 60 and start[1] < 60):
            return None
        opens, closes = f"{start[0]:02d}:{start[1]:02d}", f"{end[0]:02d}:{end[1]:02d}"
    days: tuple[int, ...] = ()
    ranges = _DAY_RANGE.findall(s)
    lists = _DAY_LIST.findall(s)
    if len(ranges) == 1 and not lists:
        a, b = _DAY_CHARS.index(ranges[0][0]), _DAY_CHARS.index(ranges[0][1])
        if a <= b:
            days = tuple(range(a, b + 1))
    elif len(lists) == 1 and not ranges:
        days = tuple(sorted({_DAY_CHARS.index(c) for c in lists[0] if c in _DAY_CHARS}))
    elif not ranges and not lists:
        if "平日" in s:
            days = (0, 1, 2, 3, 4)
        elif "毎日" in s or "年中無休" in s:
            days = tuple(range(7))
    if not days and opens is None:
        return None
    return Hours(days, opens, closes)


def care_level_label(level: int | None) -> str | None:
    return str(CareLevel(level).label) if level is not None else None


def eligibility_text(f: Facility) -> str:
    parts = []
    if f.care_level_min is not None or f.care_level_max is not None:
        lo = care_level_label(f.care_level_min) or str(CareLevel.INDEPENDENT.label)
        hi = care_level_label(f.care_level_max) or str(CareLevel.CARE_5.label)
        parts.append(f"要介護度：{lo}〜{hi}")
    for label, value in (("認知症", f.accepts_dementia), ("感染症", f.accepts_infection)):
        if value is not None:
            parts.append(f"{label}：{'受入れ可' if value else '受入れ不可'}")
    if f.sex_accepted != SexAccepted.ANY:
        parts.append(f"性別：{f.get_sex_accepted_display()}")
    return "。".join(parts)


def fees_text(f: Facility) -> str:
    if not (f.cost_min or f.cost_max):
        return ""
    lo = f"{f.cost_min:,}円" if f.cost_min else ""
    hi = f"{f.cost_max:,}円" if f.cost_max else ""
    return f"月額費用の目安：{lo}〜{hi}"


def acceptance(f: Facility) -> dict[str, Any]:
    """The public 受入れ条件 as structured data (the screens show the same)."""
    return {
        "care_level_min": f.care_level_min,
        "care_level_max": f.care_level_max,
        "accepts_dementia": f.accepts_dementia,
        "accepts_infection": f.accepts_infection,
        "sex_accepted": f.sex_accepted,
        "cost_min": f.cost_min,
        "cost_max": f.cost_max,
        "capacity": f.capacity,
        "beds": f.beds,
    }


def public_vacancy(f: Facility) -> dict[str, Any]:
    """Status and freshness only: the count and the note are for signed-in members."""
    return {
        "status": f.vacancy_status,
        "label": f.get_vacancy_status_display(),
        "confirmed_at": iso(f.vacancy_confirmed_at),
        "stale": f.vacancy_is_stale(),
    }


def iso(value: dt.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value is not None else None


def distance_km(f: Facility) -> float | None:
    d2 = getattr(f, "dist2", None)
    return round(math.sqrt(d2), 2) if d2 is not None else None


# Query parameters -------------------------------------------------------------
def integer_param(
    data: QueryDict, name: str, default: int, *, minimum: int, maximum: int | None = None
) -> int:
    raw = (data.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise SearchError(f"{name} は{minimum}以上の整数で指定してください（{raw}）")
    value = int(raw)
    if value < minimum or (maximum is not None and value > maximum):
        upper = f"{maximum}以下の" if maximum is not None else ""
        raise SearchError(f"{name} は{minimum}以上{upper}整数で指定してください（{raw}）")
    return value


def page_params(data: QueryDict) -> tuple[int, int]:
    return (
        integer_param(data, "page", 1, minimum=1, maximum=MAX_PAGE),
        integer_param(data, "per_page", 20, minimum=1, maximum=MAX_PER_PAGE),
    )


def bool_param(data: QueryDict, name: str) -> bool:
    raw = (data.get(name) or "").strip().lower()
    if raw in ("", "false", "0", "no"):
        return False
    if raw in ("true", "1", "yes"):
        return True
    raise SearchError(f"{name} は true か false で指定してください（{raw}）")


def datetime_param(data: QueryDict, name: str) -> dt.datetime | None:
    raw = (data.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = parse_datetime(raw.replace(" ", "+"))  # an unescaped "+09:00" arrives as " 09:00"
        if value is None and (day := parse_date(raw)) is not None:
            value = dt.datetime.combine(day, dt.time())
    except ValueError:
        value = None
    if value is None:
        raise SearchError(
            f"{name} は ISO 8601 の日付または日時で指定してください（例: 2025-04-01T00:00:00+09:00）"
        )
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def uuid_param(data: QueryDict, name: str) -> uuid.UUID | None:
    raw = (data.get(name) or "").strip()
    if not raw:
        return None
    value = parse_uuid(raw)
    if value is None:
        raise SearchError(f"{name} はUUIDで指定してください（{raw}）")
    return value


def filter_by_terms(qs: QuerySet[Facility], term_ids: Iterable[uuid.UUID]) -> QuerySet[Facility]:
    """Facilities that carry every one of these taxonomy terms; none when a term is unknown."""
    by_id = {t.id: t for t in all_terms()}
    mask = 0
    for value in set(term_ids):
        term = by_id.get(value)
        if term is None:
            return qs.none()
        if term.bit is None:
            qs = qs.filter(kind=term.code)
        else:
            mask |= 1 << term.bit
    if not mask:
        return qs
    return qs.annotate(_terms=F("capability_mask").bitand(mask)).filter(_terms=mask)


def filter_by_taxonomy(qs: QuerySet[Facility], value: uuid.UUID) -> QuerySet[Facility]:
    """Facilities that carry any term of this taxonomy (every facility has a kind)."""
    if value == taxonomy_id(KIND_TAXONOMY):
        return qs
    if value == taxonomy_id(CAPABILITY_TAXONOMY):
        return qs.exclude(capability_mask=0)
    return qs.none()
