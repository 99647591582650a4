"""Open Referral HSDS 3.0 read API (HSDA) at /api/hsds/: the public directory as services.

One facility is one service, one physical location and the service_at_location joining
them; its organisation is the corporation (法人番号) or, without one, the facility itself.
The 処置項目 and the facility kinds are two taxonomies linked through service attributes.
Extra properties (allowed by HSDS) carry what the standard has no field for; their names
start with ``x_``. See ``profile`` for the list.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.urls import path, reverse
from django.views.decorators.http import require_safe

from renkei.directory import interop
from renkei.directory.interop import OrgRecord, Term
from renkei.directory.models import Facility
from renkei.directory.search import FacilitySearch, SearchError
from renkei.lib.text import normalize_search

HSDS_VERSION = "3.0"
SCHEMA_BASE = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema"
LIST_PREFETCH = ("capabilities", "service_municipalities")


# Responses ----------------------------------------------------------------
def _json(data: dict[str, Any], status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})


def _error(message: str, status: int) -> JsonResponse:
    return _json({"detail": message}, status)


def _not_found(what: str) -> JsonResponse:
    return _error(f"指定された{what}は見つかりません（掲載を終了した可能性があります）", 404)


def _compact(data: dict[str, Any]) -> dict[str, Any]:
    """HSDS types optional fields as plain strings and numbers: absent, never null."""
    return {k: v for k, v in data.items() if v is not None}


def _page(contents: list[dict[str, Any]], total: int, page: int, per_page: int) -> dict[str, Any]:
    total_pages = math.ceil(total / per_page)
    return {
        "total_items": total,
        "total_pages": total_pages,
        "page_number": page,
        "size": len(contents),
        "first_page": page == 1,
        "last_page": page >= total_pages,
        "empty": not contents,
        "contents": contents,
    }


# Mapping --------------------------------------------------------------------
def taxonomy_out(name: str) -> dict[str, Any]:
    return {
        "id": str(interop.taxonomy_id(name)),
        "name": name,
        "description": interop.TAXONOMY_DESCRIPTIONS[name],
        "uri": interop.TAXONOMY_URIS[name],
        "version": "1",
    }


def term_out(t: Term) -> dict[str, Any]:
    return _compact(
        {
            "id": str(t.id),
            "code": t.code,
            "name": t.name,
            "description": t.description,
            "taxonomy": t.taxonomy,
            "taxonomy_id": str(interop.taxonomy_id(t.taxonomy)),
            "taxonomy_detail": taxonomy_out(t.taxonomy),
            "language": "ja",
            "term_uri": f"{t.system}#{t.code}",
            "x_group": t.group or None,
        }
    )


def _attribute(f: Facility, t: Term, link_type: str) -> dict[str, Any]:
    return {
        "id": str(interop.child_id("attribute", f.code, t.taxonomy, t.code)),
        "link_id": str(f.code),
        "link_type": link_type,
        "link_entity": "service",
        "taxonomy_term_id": str(t.id),
        "taxonomy_term": term_out(t),
    }


def _address(f: Facility) -> dict[str, Any]:
    return _compact(
        {
            "id": str(interop.child_id("address", f.code)),
            "location_id": str(interop.location_id(f)),
            "address_1": interop.address_line(f),
            "address_2": f.address_extra or None,
            "city": f.municipality.name,
            "state_province": f.municipality.prefecture.name,
            "postal_code": interop.postal_code(f),
            "country": "JP",
            "address_type": "physical",
        }
    )


def _external_identifier(f: Facility) -> tuple[str | None, str | None]:
    if f.medical_id:
        return f.medical_id, "医療機関ID（医療情報ネット）"
    if f.care_office_number:
        return f.care_office_number, "介護事業所番号"
    return None, None


def location_out(f: Facility, *, full: bool) -> dict[str, Any]:
    external, external_type = _external_identifier(f)
    data = _compact(
        {
            "id": str(interop.location_id(f)),
            "location_type": "physical",
            "organization_id": str(interop.org_id_of(f)),
            "name": f.name,
            "alternate_name": f.short_name or None,
            "latitude": f.lat,
            "longitude": f.lng,
            "external_identifier": external,
            "external_identifier_type": external_type,
            "x_municipality_code": f.municipality.code,
        }
    )
    if full:
        data["addresses"] = [_address(f)]
    return data


def _phones(f: Facility) -> list[dict[str, Any]]:
    return [
        {
            "id": str(interop.child_id("phone", f.code, kind)),
            "service_id": str(f.code),
            "number": number,
            "type": kind,
        }
        for kind, number in (("voice", f.phone), ("fax", f.fax))
        if number
    ]


def _schedules(f: Facility) -> list[dict[str, Any]]:
    if not (f.hours or f.closed_days):
        return []
    hours = interop.parse_hours(f.hours)
    schedule: dict[str, Any] = {
        "id": str(interop.child_id("schedule", f.code)),
        "service_id": str(f.code),
        "description": f.hours or None,
        "notes": f"休業日：{f.closed_days}" if f.closed_days else None,
        "timezone": 9,
    }
    if hours is not None:
        schedule["opens_at"] = hours.opens
        schedule["closes_at"] = hours.closes
        if hours.days:
            schedule["freq"] = "WEEKLY"
            schedule["wkst"] = "MO"
            schedule["byday"] = ",".join(interop.WEEKDAYS_ICAL[d] for d in hours.days)
    return [_compact(schedule)]


def _service_areas(f: Facility) -> list[dict[str, Any]]:
    areas: list[dict[str, Any]] = [
        {
            "id": str(interop.child_id("service_area", f.code, m.code)),
            "service_id": str(f.code),
            "name": m.name,
            "description": f"{m.name}（市区町村コード {m.code}）",
            "x_municipality_code": m.code,
        }
        for m in f.service_municipalities.all()
    ]
    if f.service_radius_km:
        areas.append(
            {
                "id": str(interop.child_id("service_area", f.code, "radius")),
                "service_id": str(f.code),
                "name": f"事業所から半径{f.service_radius_km:g}km",
                "description": f"{f.name}の所在地から半径{f.service_radius_km:g}kmの範囲",
                "x_radius_km": f.service_radius_km,
            }
        )
    return areas


def _org_identifiers(org: OrgRecord) -> list[dict[str, Any]]:
    if org.is_corporation:
        return [
            {
                "id": str(interop.child_id("organization_identifier", org.id)),
                "organization_id": str(org.id),
                "identifier_scheme": interop.CORPORATE_NUMBER_SCHEME,
                "identifier_type": "法人番号",
                "identifier": org.corporation_number,
            }
        ]
    f = org.representative
    return [
        {
            "id": str(interop.child_id("organization_identifier", org.id, kind)),
            "organization_id": str(org.id),
            "identifier_type": label,
            "identifier": value,
        }
        for kind, label, value in (
            ("medical", "医療機関ID（医療情報ネット）", f.medical_id),
            ("care", "介護事業所番号", f.care_office_number),
        )
        if value
    ]


def organization_out(org: OrgRecord, *, full: bool) -> dict[str, Any]:
    website = None if org.is_corporation else (org.representative.website or None)
    data = _compact(
        {
            "id": str(org.id),
            "name": org.name,
            "description": org.description(),
            "website": website,
            "x_facility_count": org.facility_count,
        }
    )
    if full:
        data["organization_identifiers"] = _org_identifiers(org)
        data["locations"] = [location_out(f, full=True) for f in org.facilities]
        data["services"] = [
            {"id": str(f.code), "organization_id": str(org.id), "name": f.name, "status": "active"}
            for f in org.facilities
        ]
    return data


def _identifiers(f: Facility) -> list[dict[str, str]]:
    return [
        {"identifier_type": label, "identifier": value}
        for label, value in (
            ("法人番号", f.corporation_number),
            ("医療機関ID（医療情報ネット）", f.medical_id),
            ("介護事業所番号", f.care_office_number),
        )
        if value
    ]


def service_out(
    f: Facility, request: HttpRequest, *, full: bool, with_locations: bool = True
) -> dict[str, Any]:
    assured = f.info_updated_at.date() if f.info_updated_at else f.source_date
    data = _compact(
        {
            "id": str(f.code),
            "organization_id": str(interop.org_id_of(f)),
            "name": f.name,
            "alternate_name": f.short_name or None,
            "description": f.description or f"{f.get_kind_display()}（{f.municipality.name}）",
            "url": f.website or None,
            "status": "active",
            "eligibility_description": interop.eligibility_text(f) or None,
            "fees_description": interop.fees_text(f) or None,
            "assured_date": assured.isoformat() if assured else None,
            "last_modified": interop.iso(f.updated_at),
            "organization": organization_out(interop.org_of(f), full=False),
            "x_kana": f.kana or None,
            "x_facility_kind": {"code": f.kind, "label": f.get_kind_display()},
            "x_vacancy": interop.public_vacancy(f),
            "x_acceptance": interop.acceptance(f),
            "x_identifiers": _identifiers(f),
            "x_home_care_support": f.is_home_care_support,
            "x_backup_hospital": f.is_backup_hospital,
            "x_detail_url": request.build_absolute_uri(f.get_absolute_url()),
            "x_distance_km": interop.distance_km(f),
        }
    )
    if full:
        kind = interop.kind_term(f.kind)
        caps = [interop.capability_term(c) for c in f.capabilities.all()]
        data["attributes"] = [_attribute(f, kind, "facility_kind")] + [
            _attribute(f, t, "capability") for t in caps
        ]
        data["phones"] = _phones(f)
        data["schedules"] = _schedules(f)
        data["service_areas"] = _service_areas(f)
        if with_locations:
            data["service_at_locations"] = [service_at_location_out(f, request, full=True)]
    return data


def service_at_location_out(
    f: Facility, request: HttpRequest, *, full: bool, with_service: bool = False
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(interop.service_at_location_id(f)),
        "service_id": str(f.code),
        "location_id": str(interop.location_id(f)),
        "location": location_out(f, full=full),
    }
    if with_service:
        data["service"] = service_out(f, request, full=full, with_locations=False)
    return data


# Queries --------------------------------------------------------------------
def _search_querydict(data: QueryDict) -> QueryDict:
    """HSDA parameter names onto the search screen's, so both behave the same."""
    if (data.get("format") or "json") != "json":
        raise SearchError("format は json のみに対応しています")
    q = data.copy()
    search = data.get("search") or ""
    if search:
        q["q"] = search
    postcode = (data.get("postcode") or "").strip()
    proximity = (data.get("proximity") or "").strip()
    if proximity and not postcode:
        raise SearchError("proximity を使うには postcode も指定してください")
    if postcode and proximity:
        try:
            metres = float(proximity)
        except ValueError:
            raise SearchError(
                f"proximity はメートル単位の数値で指定してください（{proximity}）"
            ) from None
        q["postal"], q["radius_km"] = postcode, str(metres / 1000)
    elif postcode:
        q["serves"] = postcode
    return q


def _uuid_list(data: QueryDict, name: str) -> list[uuid.UUID]:
    values = []
    for raw in data.getlist(name):
        for part in raw.split(","):
            if part.strip():
                value = interop.parse_uuid(part.strip())
                if value is None:
                    raise SearchError(f"{name} はUUIDで指定してください（{part.strip()}）")
                values.append(value)
    return values


def facility_page(
    data: QueryDict, prefetch: tuple[str, ...]
) -> tuple[list[Facility], int, int, int]:
    """The requested page of public facilities, in a number of queries fixed by ``prefetch``."""
    s = FacilitySearch.from_querydict(_search_querydict(data))
    qs: QuerySet[Facility] = s.queryset()
    if s.serves_municipality is not None:
        qs = qs.distinct()  # the service-area join can repeat a facility
    modified_after = interop.datetime_param(data, "modified_after")
    if modified_after is not None:
        qs = qs.filter(updated_at__gte=modified_after)
    terms = _uuid_list(data, "taxonomy_term_id")
    if terms:
        qs = interop.filter_by_terms(qs, terms)
    taxonomy = interop.uuid_param(data, "taxonomy_id")
    if taxonomy is not None:
        qs = interop.filter_by_taxonomy(qs, taxonomy)
    organization = interop.uuid_param(data, "organization_id")
    if organization is not None:
        condition = interop.org_filter(organization)
        qs = qs.none() if condition is None else qs.filter(condition)
    total = qs.count()
    start = (s.page - 1) * s.per_page
    items = list(
        qs.select_related("municipality__prefecture").prefetch_related(*prefetch)[
            start : start + s.per_page
        ]
    )
    return items, total, s.page, s.per_page


View = Callable[..., HttpResponse]


def _refusing_bad_input(view: View) -> View:
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except SearchError as e:
            return _error(str(e), 400)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return require_safe(wrapper)


# Views ------------------------------------------------------------------------
@_refusing_bad_input
def index(request: HttpRequest) -> HttpResponse:
    return _json(
        {
            "version": HSDS_VERSION,
            "profile": request.build_absolute_uri(reverse("hsds:profile")),
            "openapi_url": request.build_absolute_uri(reverse("hsds:openapi")),
        }
    )


@_refusing_bad_input
def services(request: HttpRequest) -> HttpResponse:
    full = interop.bool_param(request.GET, "full")
    items, total, page, per_page = facility_page(request.GET, LIST_PREFETCH if full else ())
    return _json(_page([service_out(f, request, full=full) for f in items], total, page, per_page))


def _facility(id: str, prefetch: tuple[str, ...] = LIST_PREFETCH) -> Facility | None:
    code = interop.parse_uuid(id)
    if code is None:
        return None
    return interop.public_facilities().prefetch_related(*prefetch).filter(code=code).first()


@_refusing_bad_input
def service(request: HttpRequest, id: str) -> HttpResponse:
    f = _facility(id)
    if f is None:
        return _not_found("サービス")
    return _json(service_out(f, request, full=True))


@_refusing_bad_input
def service_at_locations(request: HttpRequest) -> HttpResponse:
    full = interop.bool_param(request.GET, "full")
    items, total, page, per_page = facility_page(request.GET, LIST_PREFETCH if full else ())
    contents = [service_at_location_out(f, request, full=full, with_service=True) for f in items]
    return _json(_page(contents, total, page, per_page))


@_refusing_bad_input
def service_at_location(request: HttpRequest, id: str) -> HttpResponse:
    value = interop.parse_uuid(id)
    f = _facility(str(interop.code_from("service_at_location", value))) if value else None
    if f is None:
        return _not_found("サービス提供場所")
    return _json(service_at_location_out(f, request, full=True, with_service=True))


@_refusing_bad_input
def organizations(request: HttpRequest) -> HttpResponse:
    if (request.GET.get("format") or "json") != "json":
        raise SearchError("format は json のみに対応しています")
    page, per_page = interop.page_params(request.GET)
    full = interop.bool_param(request.GET, "full") or interop.bool_param(
        request.GET, "full_service"
    )
    records, total = interop.organizations_page(
        request.GET.get("search", ""), (page - 1) * per_page, per_page, all_facilities=full
    )
    contents = [organization_out(o, full=full) for o in records]
    return _json(_page(contents, total, page, per_page))


@_refusing_bad_input
def organization(request: HttpRequest, id: str) -> HttpResponse:
    value = interop.parse_uuid(id)
    org = interop.get_organization(value) if value else None
    if org is None:
        return _not_found("組織")
    return _json(organization_out(org, full=True))


def _matches(text: str, *fields: str) -> bool:
    needle = normalize_search(text)
    return not needle or any(needle in normalize_search(f) for f in fields)


@_refusing_bad_input
def taxonomies(request: HttpRequest) -> HttpResponse:
    page, per_page = interop.page_params(request.GET)
    search = request.GET.get("search", "")
    found = [
        taxonomy_out(name)
        for name in (interop.KIND_TAXONOMY, interop.CAPABILITY_TAXONOMY)
        if _matches(search, name, interop.TAXONOMY_DESCRIPTIONS[name])
    ]
    start = (page - 1) * per_page
    return _json(_page(found[start : start + per_page], len(found), page, per_page))


@_refusing_bad_input
def taxonomy(request: HttpRequest, id: str) -> HttpResponse:
    value = interop.parse_uuid(id)
    for name in (interop.KIND_TAXONOMY, interop.CAPABILITY_TAXONOMY):
        if value == interop.taxonomy_id(name):
            return _json(taxonomy_out(name))
    return _not_found("分類")


@_refusing_bad_input
def taxonomy_terms(request: HttpRequest) -> HttpResponse:
    page, per_page = interop.page_params(request.GET)
    search = request.GET.get("search", "")
    wanted = interop.uuid_param(request.GET, "taxonomy_id")
    found = [
        term_out(t)
        for t in interop.all_terms()
        if _matches(search, t.name, t.code, t.description)
        and (wanted is None or wanted == interop.taxonomy_id(t.taxonomy))
    ]
    start = (page - 1) * per_page
    return _json(_page(found[start : start + per_page], len(found), page, per_page))


@_refusing_bad_input
def taxonomy_term(request: HttpRequest, id: str) -> HttpResponse:
    value = interop.parse_uuid(id)
    for t in interop.all_terms():
        if value == t.id:
            return _json(term_out(t))
    return _not_found("分類語")


# A service and its one service_at_location are searched alike.
_SERVICE_PARAMETERS = [
    "search",
    "page",
    "per_page",
    "format",
    "full",
    "taxonomy_term_id",
    "taxonomy_id",
    "organization_id",
    "modified_after",
    "postcode",
    "proximity",
]
LIST_PARAMETERS = {
    "services": _SERVICE_PARAMETERS,
    "service_at_locations": _SERVICE_PARAMETERS,
    "organizations": ["search", "page", "per_page", "format", "full", "full_service"],
    "taxonomies": ["search", "page", "per_page"],
    "taxonomy_terms": ["search", "page", "per_page", "taxonomy_id"],
}
ITEM_SCHEMAS = {
    "services": ("compiled/service_list.json", "compiled/service.json"),
    "service_at_locations": (
        "compiled/service_at_location_list.json",
        "compiled/service_at_location.json",
    ),
    "organizations": ("compiled/organization_list.json", "compiled/organization.json"),
    "taxonomies": ("taxonomy.json", "taxonomy.json"),
    "taxonomy_terms": ("taxonomy_term.json", "taxonomy_term.json"),
}


@_refusing_bad_input
def openapi(request: HttpRequest) -> HttpResponse:
    """The subset of the HSDS 3.0 OpenAPI this server implements, with its own server URL."""
    paths: dict[str, Any] = {
        "/": {"get": {"summary": "API情報（HSDSのバージョンとプロファイル）", "responses": {}}}
    }
    for name, params in LIST_PARAMETERS.items():
        list_schema, item_schema = ITEM_SCHEMAS[name]
        paths[f"/{name}"] = {
            "get": {
                "parameters": [
                    {"name": p, "in": "query", "required": False, "schema": {"type": "string"}}
                    for p in params
                ],
                "responses": {
                    "200": {
                        "description": "ページ分割された一覧",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "allOf": [{"$ref": "#/components/schemas/Page"}],
                                    "properties": {
                                        "contents": {
                                            "type": "array",
                                            "items": {"$ref": f"{SCHEMA_BASE}/{list_schema}"},
                                        }
                                    },
                                }
                            }
                        },
                    },
                    "400": {"description": "パラメータの誤り（detail に理由）"},
                },
            }
        }
        paths[f"/{name}/{{id}}"] = {
            "get": {
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": {
                        "description": "1件",
                        "content": {
                            "application/json": {"schema": {"$ref": f"{SCHEMA_BASE}/{item_schema}"}}
                        },
                    },
                    "404": {"description": "見つからない、または掲載終了"},
                },
            }
        }
    page_props = {
        "total_items": {"type": "integer"},
        "total_pages": {"type": "integer"},
        "page_number": {"type": "integer"},
        "size": {"type": "integer"},
        "first_page": {"type": "boolean"},
        "last_page": {"type": "boolean"},
        "empty": {"type": "boolean"},
    }
    return _json(
        {
            "openapi": "3.1.0",
            "info": {
                "title": "Renkei 資源名簿 HSDS API",
                "version": HSDS_VERSION,
                "description": "在宅医療・介護の施設・事業所名簿を Open Referral HSDS 3.0 で公開します。",
            },
            "servers": [{"url": request.build_absolute_uri(reverse("hsds:index"))}],
            "paths": paths,
            "components": {"schemas": {"Page": {"type": "object", "properties": page_props}}},
        }
    )


@_refusing_bad_input
def profile(request: HttpRequest) -> HttpResponse:
    """What this profile adds to HSDS 3.0: the taxonomies and the x_ extension properties."""
    return _json(
        {
            "name": "Renkei 在宅医療・介護連携プロファイル",
            "base": f"HSDS {HSDS_VERSION}",
            "taxonomies": [taxonomy_out(n) for n in interop.TAXONOMY_DESCRIPTIONS],
            "extensions": {
                "service.x_kana": "施設名のふりがな",
                "service.x_facility_kind": "施設・事業所の種別（code, label）",
                "service.x_vacancy": "空き状況（status: available|few|none|unknown, label, confirmed_at, stale）。空き数は公開しません",
                "service.x_acceptance": "受入れ条件（要介護度の範囲、認知症・感染症、性別、月額費用、定員、病床数）",
                "service.x_identifiers": "法人番号・医療機関ID・介護事業所番号",
                "service.x_home_care_support": "在宅療養支援診療所・病院",
                "service.x_backup_hospital": "在宅療養後方支援病院",
                "service.x_detail_url": "名簿の詳細画面",
                "service.x_distance_km": "地点を指定した検索での距離",
                "location.x_municipality_code": "市区町村コード（JIS X 0402、検査数字付き6桁）",
                "service_area.x_municipality_code": "サービス提供地域の市区町村コード",
                "service_area.x_radius_km": "事業所からの訪問範囲（半径km）",
                "organization.x_facility_count": "この名簿に掲載されている施設・事業所の数",
                "taxonomy_term.x_group": "処置項目の分類",
            },
            "search_parameters": {
                "search": "名称・ふりがな・法人名（かな・全角半角を区別しない）",
                "postcode": "この郵便番号の地域にサービスを提供する施設。proximity（メートル）と併用すると郵便番号の地点からの距離で絞り込み",
                "other": "名簿の検索画面と同じ kind, capability, municipality, area, vacancy, lat, lng, radius_km, sort も使えます",
            },
        }
    )


app_name = "hsds"
urlpatterns = [
    path("", index, name="index"),
    path("openapi.json", openapi, name="openapi"),
    path("profile", profile, name="profile"),
    path("services", services, name="services"),
    path("services/<str:id>", service, name="service"),
    path("service_at_locations", service_at_locations, name="service_at_locations"),
    path("service_at_locations/<str:id>", service_at_location, name="service_at_location"),
    path("organizations", organizations, name="organizations"),
    path("organizations/<str:id>", organization, name="organization"),
    path("taxonomies", taxonomies, name="taxonomies"),
    path("taxonomies/<str:id>", taxonomy, name="taxonomy"),
    path("taxonomy_terms", taxonomy_terms, name="taxonomy_terms"),
    path("taxonomy_terms/<str:id>", taxonomy_term, name="taxonomy_term"),
]
