"""FHIR R4B read API at /api/fhir/: the public directory as Organization, Location and
HealthcareService, in the shape of IHE mCSD with JP Core address conventions.

Ids are those of the HSDS feed (renkei.directory.interop): HealthcareService/{Facility.code},
Location/{location id}, Organization/{organisation id}. Resources are built with
fhir.resources, so what leaves here has passed its structural validation.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from typing import Any

from django.db.models import F, Q, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_safe
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.healthcareservice import HealthcareService
from fhir.resources.R4B.location import Location
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.organization import Organization

from renkei.directory import interop
from renkei.directory.interop import OrgRecord
from renkei.directory.models import Capability, Facility
from renkei.directory.search import MAX_PAGE, MAX_PER_PAGE, FacilitySearch, SearchError
from renkei.lib import fhir as fhir_registry
from renkei.lib.text import nfkc

FHIR_VERSION = "4.3.0"
CONTENT_TYPE = "application/fhir+json; charset=utf-8"
VACANCY_EXTENSION = f"{interop.CANONICAL}/StructureDefinition/vacancy"
ORG_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/organization-type"
PHYSICAL_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/location-physical-type"
SERVICE_PREFETCH = ("capabilities", "service_municipalities", "services", "specialties")

FACILITY_PARAMS = [
    ("name", "string", "名称・ふりがな・法人名（かな・全角半角を区別しない部分一致）"),
    ("address-city", "string", "市区町村名（前方一致。「横浜市」で各区も）"),
    ("address-state", "string", "都道府県名"),
    ("address-postalcode", "string", "郵便番号"),
    ("near", "special", "緯度|経度|距離|単位（km または m）。距離の近い順"),
    ("identifier", "token", "医療機関ID・介護事業所番号・法人番号（system|value）"),
    ("organization", "reference", "運営する組織"),
    ("service-category", "token", f"施設種別（{interop.KIND_SYSTEM}）"),
    (
        "characteristic",
        "token",
        f"対応できる処置（{interop.CAPABILITY_SYSTEM}）。カンマ区切りはいずれか、繰り返しはすべて",
    ),
]
ORG_PARAMS = [
    ("name", "string", "組織名・施設名（かな・全角半角を区別しない部分一致）"),
    ("identifier", "token", "法人番号・医療機関ID・介護事業所番号（system|value）"),
]


class BadRequest(ValueError):
    """A search the server refuses; the message is the OperationOutcome's diagnostics."""


# Responses --------------------------------------------------------------------
def _fhir(resource: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(resource.model_dump_json(), content_type=CONTENT_TYPE, status=status)


def _outcome(message: str, code: str, status: int) -> HttpResponse:
    issue = {
        "severity": "error",
        "code": code,
        "diagnostics": message,
        "details": {"text": message},
    }
    outcome = OperationOutcome.model_validate({"issue": [issue]})
    return _fhir(outcome, status)


def _not_found(kind: str, id: str) -> HttpResponse:
    return _outcome(
        f"{kind}/{id} は見つかりません（掲載を終了した可能性があります）", "not-found", 404
    )


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("fhir:metadata")).removesuffix("metadata")


# Resources ----------------------------------------------------------------------
def _coding(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def _facility_identifiers(f: Facility) -> list[dict[str, Any]]:
    found = []
    if f.medical_id:
        found.append(
            {
                "use": "official",
                "system": interop.MEDICAL_ID_SYSTEM,
                "value": f.medical_id,
                "type": {"text": "医療機関ID（医療情報ネット）"},
            }
        )
    if f.care_office_number:
        found.append(
            {
                "use": "official",
                "system": interop.CARE_OFFICE_SYSTEM,
                "value": f.care_office_number,
                "type": {"text": "介護事業所番号"},
            }
        )
    return found


def _telecom(f: Facility) -> list[dict[str, Any]]:
    found = []
    if f.phone:
        found.append({"system": "phone", "value": f.phone, "use": "work"})
    if f.fax:
        found.append({"system": "fax", "value": f.fax, "use": "work"})
    if f.website:
        found.append({"system": "url", "value": f.website})
    return found


def _address(f: Facility) -> dict[str, Any]:
    """JP Core: state = 都道府県, city = 市区町村, postalCode NNN-NNNN, line below the city."""
    line = [x for x in (interop.address_line(f), f.address_extra) if x]
    return {
        "use": "work",
        "type": "physical",
        "text": interop.full_address(f),
        "line": line or None,
        "city": f.municipality.name,
        "state": f.municipality.prefecture.name,
        "postalCode": interop.postal_code(f) or None,
        "country": "JP",
    }


def _hours(f: Facility) -> interop.Hours | None:
    hours = interop.parse_hours(f.hours)
    return hours if hours is not None and hours.days else None


def _org_reference(f: Facility) -> dict[str, Any]:
    org = interop.org_of(f)
    return {"reference": f"Organization/{org.id}", "display": org.name}


def organization_resource(org: OrgRecord) -> Organization:
    data: dict[str, Any] = {
        "id": str(org.id),
        "active": True,
        "name": org.name,
        "type": [_coding(ORG_TYPE_SYSTEM, "prov", "Healthcare Provider")],
    }
    if org.is_corporation:
        data["identifier"] = [
            {
                "use": "official",
                "system": interop.CORPORATE_NUMBER_SYSTEM,
                "value": org.corporation_number,
                "type": {"text": "法人番号"},
            }
        ]
    else:
        f = org.representative
        data["identifier"] = _facility_identifiers(f) or None
        data["telecom"] = _telecom(f) or None
        data["address"] = [_address(f)]
    return Organization.model_validate(data)


def location_resource(f: Facility) -> Location:
    data: dict[str, Any] = {
        "id": str(interop.location_id(f)),
        "identifier": _facility_identifiers(f) or None,
        "status": "active",
        "name": f.name,
        "alias": [a for a in (f.short_name, f.kana) if a] or None,
        "mode": "instance",
        "type": [_coding(interop.KIND_SYSTEM, f.kind, f.get_kind_display())],
        "telecom": _telecom(f) or None,
        "address": _address(f),
        "physicalType": _coding(PHYSICAL_TYPE_SYSTEM, "bu", "Building"),
        "managingOrganization": _org_reference(f),
        "availabilityExceptions": f"休業日：{f.closed_days}" if f.closed_days else None,
    }
    if f.lat is not None and f.lng is not None:
        data["position"] = {"latitude": f.lat, "longitude": f.lng}
    hours = _hours(f)
    if hours is not None:
        data["hoursOfOperation"] = [
            {
                "daysOfWeek": [interop.WEEKDAYS_FHIR[d] for d in hours.days],
                "openingTime": f"{hours.opens}:00" if hours.opens else None,
                "closingTime": f"{hours.closes}:00" if hours.closes else None,
                "allDay": None,
            }
        ]
    return Location.model_validate(data)


def _coverage(f: Facility) -> list[dict[str, Any]]:
    areas: list[dict[str, Any]] = [
        {
            "identifier": {"system": interop.MUNICIPALITY_SYSTEM, "value": m.code},
            "display": m.name,
        }
        for m in f.service_municipalities.all()
    ]
    if f.service_radius_km:
        areas.append({"display": f"事業所から半径{f.service_radius_km:g}km"})
    return areas


def healthcare_service_resource(f: Facility) -> HealthcareService:
    hours = _hours(f)
    vacancy = interop.public_vacancy(f)
    vacancy_parts: list[dict[str, Any]] = [
        {"url": "status", "valueCode": vacancy["status"]},
        {"url": "stale", "valueBoolean": vacancy["stale"]},
    ]
    if vacancy["confirmed_at"]:
        vacancy_parts.append({"url": "confirmedAt", "valueDateTime": vacancy["confirmed_at"]})
    eligibility = interop.eligibility_text(f)
    data: dict[str, Any] = {
        "id": str(f.code),
        "meta": {"lastUpdated": interop.iso(f.updated_at)},
        "extension": [{"url": VACANCY_EXTENSION, "extension": vacancy_parts}],
        "identifier": _facility_identifiers(f) or None,
        "active": True,
        "providedBy": _org_reference(f),
        "category": [_coding(interop.KIND_SYSTEM, f.kind, f.get_kind_display())],
        "type": [
            _coding(interop.KAIGO_SERVICE_SYSTEM, s.service_code, s.service_name)
            for s in f.services.all()
        ]
        or None,
        "specialty": [
            _coding(interop.SPECIALTY_SYSTEM, s.code, s.name) for s in f.specialties.all()
        ]
        or None,
        "location": [{"reference": f"Location/{interop.location_id(f)}", "display": f.name}],
        "name": f.name,
        "comment": interop.fees_text(f) or None,
        "extraDetails": f.description or None,
        "telecom": _telecom(f) or None,
        "coverageArea": _coverage(f) or None,
        "eligibility": [{"comment": eligibility}] if eligibility else None,
        "characteristic": [
            _coding(interop.CAPABILITY_SYSTEM, c.code, c.name) for c in f.capabilities.all()
        ]
        or None,
        "availabilityExceptions": "　".join(
            x for x in (f.hours, f"休業日：{f.closed_days}" if f.closed_days else "") if x
        )
        or None,
    }
    if hours is not None:
        data["availableTime"] = [
            {
                "daysOfWeek": [interop.WEEKDAYS_FHIR[d] for d in hours.days],
                "availableStartTime": f"{hours.opens}:00" if hours.opens else None,
                "availableEndTime": f"{hours.closes}:00" if hours.closes else None,
            }
        ]
    return HealthcareService.model_validate(data)


# Searching ------------------------------------------------------------------------
def _int(data: QueryDict, name: str, default: int, maximum: int | None = None) -> int:
    try:
        return interop.integer_param(data, name, default, minimum=0, maximum=maximum)
    except SearchError as e:
        raise BadRequest(str(e)) from None


def _tokens(data: QueryDict, name: str) -> list[list[tuple[str | None, str]]]:
    """Each repetition of a token parameter (AND) as its comma-separated values (OR)."""
    groups = []
    for raw in data.getlist(name):
        values = []
        for part in raw.split(","):
            part = part.strip()
            if not part:
                continue
            system, _, code = part.rpartition("|") if "|" in part else (None, "", part)
            values.append((system or None, code))
        if values:
            groups.append(values)
    return groups


def _coded(data: QueryDict, name: str, system: str) -> list[list[str]]:
    """Codes of our own code system; a value in another system can match nothing."""
    return [[code for s, code in group if s in (None, system)] for group in _tokens(data, name)]


def _identifier_q(data: QueryDict, *, organisations: bool) -> Q:
    condition = Q()
    for group in _tokens(data, "identifier"):
        any_of = Q(pk__in=[])
        for system, value in group:
            fields = {
                interop.MEDICAL_ID_SYSTEM: ["medical_id"],
                interop.CARE_OFFICE_SYSTEM: ["care_office_number"],
                interop.CORPORATE_NUMBER_SYSTEM: ["corporation_number"],
                None: ["medical_id", "care_office_number", "corporation_number"],
            }.get(system, [])
            for name in fields:
                if organisations and name != "corporation_number":
                    # A facility number names the facility's own organisation only.
                    any_of |= Q(**{name: value}, corporation_number="")
                else:
                    any_of |= Q(**{name: value})
        condition &= any_of
    return condition


def _near(raw: str) -> tuple[str, str, str | None]:
    parts = [p.strip() for p in raw.split("|")]
    if not 2 <= len(parts) <= 4 or not all(parts[:2]):
        raise BadRequest(
            "near は 緯度|経度|距離|単位 の形式で指定してください（例: 35.33|139.49|10|km）"
        )
    radius: str | None = None
    if len(parts) >= 3 and parts[2]:
        unit = parts[3] if len(parts) == 4 and parts[3] else "km"
        try:
            distance = float(parts[2])
        except ValueError:
            raise BadRequest(f"near の距離は数値で指定してください（{parts[2]}）") from None
        if unit not in ("km", "m"):
            raise BadRequest(f"near の単位は km か m で指定してください（{unit}）")
        radius = str(distance / 1000 if unit == "m" else distance)
    return parts[0], parts[1], radius


def _facilities(data: QueryDict) -> QuerySet[Facility]:
    """Public facilities matching the FHIR search, ordered as on the search screen."""
    q = QueryDict(mutable=True)
    q["q"] = data.get("name", "")
    near = data.get("near") or ""
    if near:
        q["lat"], q["lng"], radius = _near(near)
        if radius is not None:
            q["radius_km"] = radius
    try:
        qs = FacilitySearch.from_querydict(q).queryset()
    except SearchError as e:
        raise BadRequest(str(e)) from None
    for city in data.getlist("address-city"):
        qs = qs.filter(municipality__name__startswith=nfkc(city))
    for state in data.getlist("address-state"):
        qs = qs.filter(municipality__prefecture__name__startswith=nfkc(state))
    for postal in data.getlist("address-postalcode"):
        digits = "".join(c for c in nfkc(postal) if c.isdigit())
        if len(digits) != 7:
            raise BadRequest(f"address-postalcode は7桁の郵便番号で指定してください（{postal}）")
        qs = qs.filter(Q(postal_code=digits) | Q(postal_code=f"{digits[:3]}-{digits[3:]}"))
    for kinds in _coded(data, "service-category", interop.KIND_SYSTEM):
        qs = qs.filter(kind__in=kinds)
    for i, codes in enumerate(_coded(data, "characteristic", interop.CAPABILITY_SYSTEM)):
        mask = Capability.objects.mask_of(codes)
        field = f"_any_of_{i}"
        qs = qs.annotate(**{field: F("capability_mask").bitand(mask)}).exclude(**{field: 0})
    qs = qs.filter(_identifier_q(data, organisations=False))
    for raw in data.getlist("organization"):
        value = interop.parse_uuid(raw.removeprefix("Organization/"))
        if value is None:
            raise BadRequest(
                f"organization は Organization/{{id}} の形式で指定してください（{raw}）"
            )
        condition = interop.org_filter(value)
        qs = qs.none() if condition is None else qs.filter(condition)
    return qs


def _paging(data: QueryDict) -> tuple[int, int]:
    if (data.get("_format") or "json").split(";")[0].strip() not in (
        "json",
        "application/json",
        "application/fhir+json",
    ):
        raise BadRequest("_format は JSON（application/fhir+json）のみに対応しています")
    # The offset is bounded like the pages of every other door (renkei.directory.search).
    offset_limit = MAX_PAGE * MAX_PER_PAGE
    return _int(data, "_count", 20, MAX_PER_PAGE), _int(data, "_offset", 0, offset_limit)


def _bundle(
    request: HttpRequest, kind: str, resources: list[Any], total: int, offset: int, count: int
) -> Bundle:
    base = _base(request)

    def link(relation: str, at: int) -> dict[str, str]:
        params = request.GET.copy()
        params["_offset"], params["_count"] = str(at), str(count)
        return {"relation": relation, "url": f"{base}{kind}?{params.urlencode()}"}

    links = [link("self", offset)]
    if count and offset + count < total:
        links.append(link("next", offset + count))
    if offset > 0:
        links.append(link("previous", max(0, offset - count)))
    if count and total:
        links.append(link("last", (math.ceil(total / count) - 1) * count))
    return Bundle.model_validate(
        {
            "id": str(uuid.uuid4()),
            "type": "searchset",
            "timestamp": timezone.now().isoformat(),
            "total": total,
            "link": links,
            "entry": [
                {
                    "fullUrl": f"{base}{kind}/{r.id}",
                    "resource": r,
                    "search": {"mode": "match"},
                }
                for r in resources
            ],
        }
    )


View = Callable[..., HttpResponse]


def _refusing_bad_input(view: View) -> View:
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except BadRequest as e:
            return _outcome(str(e), "invalid", 400)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return require_safe(wrapper)


def _facility_search(
    request: HttpRequest, kind: str, build: Callable[[Facility], Any], prefetch: tuple[str, ...]
) -> HttpResponse:
    count, offset = _paging(request.GET)
    qs = _facilities(request.GET)
    total = qs.count()
    page = (
        list(
            qs.select_related("municipality__prefecture").prefetch_related(*prefetch)[
                offset : offset + count
            ]
        )
        if count
        else []
    )
    return _fhir(_bundle(request, kind, [build(f) for f in page], total, offset, count))


def _facility(id: str, entity: str | None, prefetch: tuple[str, ...] = ()) -> Facility | None:
    value = interop.parse_uuid(id)
    if value is None:
        return None
    code = interop.code_from(entity, value) if entity else value
    return interop.public_facilities().prefetch_related(*prefetch).filter(code=code).first()


# Views --------------------------------------------------------------------------------
@_refusing_bad_input
def metadata(request: HttpRequest) -> HttpResponse:
    def resource(kind: str, params: list[tuple[str, str, str]]) -> dict[str, Any]:
        return {
            "type": kind,
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": [
                {"name": n, "type": t, "documentation": doc}
                for n, t, doc in [*params, ("_count", "number", "1ページの件数（0〜100）")]
            ],
        }

    statement = CapabilityStatement.model_validate(
        {
            "status": "active",
            "date": timezone.localdate().isoformat(),
            "publisher": "Renkei",
            "kind": "instance",
            "software": {"name": "Renkei 在宅医療・介護連携プラットフォーム"},
            "implementation": {
                "description": "在宅医療・介護の資源名簿（公開情報のみ、読み取り専用）",
                "url": _base(request),
            },
            "fhirVersion": FHIR_VERSION,
            "format": ["application/fhir+json", "json"],
            "rest": [
                {
                    "mode": "server",
                    "documentation": "_offset で読み飛ばす件数を指定してページを移動します。",
                    "resource": [
                        resource("Organization", ORG_PARAMS),
                        resource("Location", FACILITY_PARAMS),
                        resource("HealthcareService", FACILITY_PARAMS),
                        # Other apps' resources (care, signed-in only), registered at start.
                        *fhir_registry.statement_entries(),
                    ],
                }
            ],
        }
    )
    return _fhir(statement)


@_refusing_bad_input
def organizations(request: HttpRequest) -> HttpResponse:
    count, offset = _paging(request.GET)
    records, total = interop.organizations_page(
        request.GET.get("name", ""),
        offset,
        count,
        all_facilities=False,
        condition=_identifier_q(request.GET, organisations=True),
    )
    resources = [organization_resource(o) for o in records]
    return _fhir(_bundle(request, "Organization", resources, total, offset, count))


@_refusing_bad_input
def organization(request: HttpRequest, id: str) -> HttpResponse:
    value = interop.parse_uuid(id)
    org = interop.get_organization(value) if value else None
    if org is None:
        return _not_found("Organization", id)
    return _fhir(organization_resource(org))


@_refusing_bad_input
def locations(request: HttpRequest) -> HttpResponse:
    return _facility_search(request, "Location", location_resource, ())


@_refusing_bad_input
def location(request: HttpRequest, id: str) -> HttpResponse:
    f = _facility(id, "location")
    if f is None:
        return _not_found("Location", id)
    return _fhir(location_resource(f))


@_refusing_bad_input
def healthcare_services(request: HttpRequest) -> HttpResponse:
    return _facility_search(
        request, "HealthcareService", healthcare_service_resource, SERVICE_PREFETCH
    )


@_refusing_bad_input
def healthcare_service(request: HttpRequest, id: str) -> HttpResponse:
    f = _facility(id, None, SERVICE_PREFETCH)
    if f is None:
        return _not_found("HealthcareService", id)
    return _fhir(healthcare_service_resource(f))


app_name = "fhir"
urlpatterns = [
    path("metadata", metadata, name="metadata"),
    path("Organization", organizations, name="organizations"),
    path("Organization/<str:id>", organization, name="organization"),
    path("Location", locations, name="locations"),
    path("Location/<str:id>", location, name="location"),
    path("HealthcareService", healthcare_services, name="healthcare_services"),
    path("HealthcareService/<str:id>", healthcare_service, name="healthcare_service"),
]
