"""Directory endpoints of /api/v1/: everything the search, detail and edit screens do."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.security import SessionAuth

from renkei.accounts.models import Membership
from renkei.directory import actions
from renkei.directory.models import (
    ACCEPTANCE_FIELDS,
    Capability,
    Facility,
    FacilityKind,
    vacancy_is_stale,
    vocabulary,
)
from renkei.directory.search import (
    JAPAN_LAT,
    JAPAN_LNG,
    MAX_RADIUS_KM,
    FacilitySearch,
    SearchError,
)
from renkei.lib import ratelimit
from renkei.lib.api import WRITE_ERRORS, ErrorOut
from renkei.lib.dates import ago_ja
from renkei.lib.http import json_bytes
from renkei.lib.inputs import CapabilityCode, Input, MunicipalityCode, PageNumber, PerPage
from renkei.regions.models import Municipality, SecondaryArea

router = Router(tags=["directory"])


class CapabilityOut(Schema):
    code: str
    name: str
    group: str


class KindOut(Schema):
    code: str
    name: str


class MunicipalityOut(Schema):
    code: str
    name: str
    kana: str
    prefecture: str
    area: str | None


class AreaOut(Schema):
    id: int
    name: str
    prefecture: str


class FacilityOut(Schema):
    """Public fields: what an anonymous visitor may see."""

    code: uuid.UUID
    kind: str
    kind_label: str
    name: str
    kana: str
    municipality_code: str
    municipality: str
    postal_code: str
    address: str
    lat: float | None
    lng: float | None
    phone: str
    fax: str
    website: str
    hours: str
    capacity: int | None
    beds: int | None
    capabilities: list[str]
    care_level_min: int | None
    care_level_max: int | None
    accepts_dementia: bool | None
    accepts_infection: bool | None
    sex_accepted: str
    cost_min: int | None
    cost_max: int | None
    vacancy_status: str
    vacancy_confirmed_at: dt.datetime | None
    vacancy_freshness: str
    vacancy_stale: bool
    distance_km: float | None = None
    medical_id: str | None
    care_office_number: str | None


class FacilityMemberOut(FacilityOut):
    """Adds what only signed-in professionals see."""

    vacancy_count: int | None
    vacancy_note: str
    liaison_contact: str
    conditions_note: str
    version: int


class FacilityPage(Schema):
    count: int = Field(
        description="該当件数。count_exact が false のときは下限（SEARCH_COUNT_LIMIT 件を超えた）か、"
        "条件なしの検索での推定値"
    )
    count_exact: bool = True
    page: int
    per_page: int
    items: list[FacilityMemberOut] | list[FacilityOut]


def _member(request: HttpRequest) -> Membership | None:
    return getattr(request, "membership", None)


# The Facility columns behind FacilityOut and what FacilityMemberOut adds.
PUBLIC_COLUMNS = (
    "code",
    "kind",
    "name",
    "kana",
    "postal_code",
    "address",
    "lat",
    "lng",
    "phone",
    "fax",
    "website",
    "hours",
    "capacity",
    "beds",
    *ACCEPTANCE_FIELDS,
    "vacancy_status",
    "vacancy_confirmed_at",
    "medical_id",
    "care_office_number",
)
MEMBER_COLUMNS = ("vacancy_count", "vacancy_note", "liaison_contact", "conditions_note", "version")
KIND_LABELS: dict[str, str] = dict(FacilityKind.choices)


def facility_out(f: Facility, member: bool) -> dict[str, Any]:
    values = {c: getattr(f, c) for c in PUBLIC_COLUMNS + (MEMBER_COLUMNS if member else ())}
    values.update(
        municipality_code=f.municipality.code,
        municipality_name=f.municipality.name,
        distance_km=getattr(f, "distance_km", None),
        # Decoded from the mask as a search page's rows are (the shared vocabulary): the
        # link table would be a statement an answer (ADR 0076).
        capability_codes=vocabulary(mask=f.capability_mask).codes_of(f.capability_mask),
    )
    return facility_dict(values, member)


def facility_dict(
    v: dict[str, Any], member: bool, now: dt.datetime | None = None
) -> dict[str, Any]:
    """FacilityOut (or FacilityMemberOut) from a facility's column values, as given by
    facility_out() for one Facility or by FacilitySearch.rows() for a search page."""
    now = now or timezone.now()
    confirmed = v["vacancy_confirmed_at"]
    distance = v["distance_km"]
    data: dict[str, Any] = {
        "code": v["code"],
        "kind": v["kind"],
        "kind_label": KIND_LABELS.get(v["kind"], v["kind"]),
        "name": v["name"],
        "kana": v["kana"],
        "municipality_code": v["municipality_code"],
        "municipality": v["municipality_name"],
        "postal_code": v["postal_code"],
        "address": v["address"],
        "lat": v["lat"],
        "lng": v["lng"],
        "phone": v["phone"],
        "fax": v["fax"],
        "website": v["website"],
        "hours": v["hours"],
        "capacity": v["capacity"],
        "beds": v["beds"],
        "capabilities": v["capability_codes"],
        "care_level_min": v["care_level_min"],
        "care_level_max": v["care_level_max"],
        "accepts_dementia": v["accepts_dementia"],
        "accepts_infection": v["accepts_infection"],
        "sex_accepted": v["sex_accepted"],
        "cost_min": v["cost_min"],
        "cost_max": v["cost_max"],
        "vacancy_status": v["vacancy_status"],
        "vacancy_confirmed_at": confirmed,
        "vacancy_freshness": ago_ja(confirmed, now),
        "vacancy_stale": vacancy_is_stale(confirmed, now),
        "distance_km": round(distance, 2) if distance is not None else None,
        "medical_id": v["medical_id"],
        "care_office_number": v["care_office_number"],
    }
    if member:
        data.update(
            vacancy_count=v["vacancy_count"],
            vacancy_note=v["vacancy_note"],
            liaison_contact=v["liaison_contact"],
            conditions_note=v["conditions_note"],
            version=v["version"],
        )
    return data


class FacilityQuery(Input):
    """The search's parameters as the schema states them. FacilitySearch reads the same query
    string (shared with the screen and the exports) and holds the rules across parameters and
    against the data (an area, a postal code or a facility that must exist; a radius or the
    distance order only with a point), which are 400s with a Japanese message."""

    q: str = Field("", description="名称・住所などの一部（かな・全角半角を区別しません）")
    kind: list[FacilityKind] = Field(default_factory=list, description="施設種別（いずれか）")
    capability: list[CapabilityCode] = Field(
        default_factory=list, description="処置項目のコード（すべてに対応）"
    )
    municipality: list[MunicipalityCode] = Field(default_factory=list, description="市区町村")
    prefecture: str = Field(
        "", pattern=r"^(0[1-9]|[1-3][0-9]|4[0-7])?$", description="都道府県コード（01〜47）"
    )
    area: int | None = Field(None, ge=1, description="二次保健医療圏のID")
    vacancy: bool = Field(False, description="空きのある施設だけ")
    serves: str = Field("", description="この住所・郵便番号を対象地域に含む施設")
    lat: float | None = Field(None, ge=JAPAN_LAT[0], le=JAPAN_LAT[1], description="緯度")
    lng: float | None = Field(None, ge=JAPAN_LNG[0], le=JAPAN_LNG[1], description="経度")
    postal: str = Field("", pattern=r"^(\d{3}-?\d{4})?$", description="郵便番号（地点）")
    near: uuid.UUID | None = Field(None, description="基準施設のコード（地点）")
    radius_km: float | None = Field(None, gt=0, le=MAX_RADIUS_KM, description="半径（km）")
    sort: Literal["distance", "name", "fresh"] | None = Field(None, description="並び順")
    page: PageNumber = 1
    per_page: PerPage = 20


@router.get(
    "/facilities",
    response={200: FacilityPage, 400: ErrorOut, 429: ErrorOut},
    summary="施設を検索する",
    auth=None,
)
def search_facilities(
    request: HttpRequest, filters: Query[FacilityQuery]
) -> Status[dict[str, Any]] | HttpResponse:
    """Free text (kana/width insensitive), kind, capabilities (all of), municipality or area,
    vacancy, "serves this address", distance from a point, postal code or facility."""
    ratelimit.check(request, "search", ratelimit.by_user_or_ip)
    member = _member(request) is not None
    try:
        s = FacilitySearch.from_querydict(request.GET)
        rows, total = s.rows(PUBLIC_COLUMNS + (MEMBER_COLUMNS if member else ()))
    except SearchError as e:
        return Status(400, {"detail": str(e)})
    now = timezone.now()
    body = {
        "count": total,
        "count_exact": s.total_exact,
        "page": s.page,
        "per_page": s.per_page,
        "items": [facility_dict(row, member, now) for row in rows],
    }
    # facility_dict builds exactly FacilityOut / FacilityMemberOut (test_search_page checks it);
    # re-validating twenty items through pydantic cost a tenth of the request
    # (docs/benchmarks.md), so the search renders its JSON as the API's renderer would, directly.
    return HttpResponse(json_bytes(body), content_type="application/json; charset=utf-8")


@router.get(
    "/facilities/{code}",
    response={200: FacilityMemberOut | FacilityOut, 404: ErrorOut},
    summary="施設の詳細",
    auth=None,
)
def get_facility(request: HttpRequest, code: uuid.UUID) -> Status[dict[str, Any]]:
    f = get_object_or_404(
        Facility.objects.public().select_related("municipality"),
        code=code,
    )
    return Status(200, facility_out(f, _member(request) is not None))


def _editable(request: HttpRequest, code: uuid.UUID) -> tuple[Facility, Membership]:
    membership = _member(request)
    if membership is None:
        raise HttpError(403, "所属組織のある利用者だけが更新できます")
    f = get_object_or_404(
        Facility.objects.curated_by(membership.organization).select_related("municipality"),
        code=code,
    )
    return f, membership


@router.put(
    "/facilities/{code}/vacancy",
    response={200: FacilityMemberOut, **WRITE_ERRORS},
    auth=SessionAuth(),
    summary="空き状況を更新する",
)
def put_vacancy(
    request: HttpRequest, code: uuid.UUID, payload: actions.VacancyInput
) -> Status[dict[str, Any]]:
    f, membership = _editable(request, code)
    # Refusals (ActionError, StaleVersion) become {"detail"} with their status in renkei.api.
    actions.update_vacancy(f, by=membership, data=payload, request=request)
    # The facility as the action wrote it, its municipality as read (ADR 0076): a refresh
    # read the row again and dropped the municipality, a statement each.
    return Status(200, facility_out(f, True))


@router.post(
    "/facilities/{code}/vacancy/confirm",
    response={200: FacilityMemberOut, **WRITE_ERRORS},
    auth=SessionAuth(),
    summary="空き状況は変わりなし（確認日時を更新する）",
)
def confirm_vacancy(
    request: HttpRequest, code: uuid.UUID, payload: actions.VacancyConfirmInput
) -> Status[dict[str, Any]]:
    f, membership = _editable(request, code)
    actions.confirm_vacancy(f, by=membership, data=payload, request=request)
    return Status(200, facility_out(f, True))  # as written, as put_vacancy


@router.patch(
    "/facilities/{code}",
    response={200: FacilityMemberOut, **WRITE_ERRORS},
    auth=SessionAuth(),
    summary="連絡先・対応できる処置・受入れ条件を更新する（送った項目だけ）",
)
def patch_facility(
    request: HttpRequest, code: uuid.UUID, payload: actions.ProfileInput
) -> Status[dict[str, Any]]:
    f, membership = _editable(request, code)
    # Refusals (unknown codes, the model's rules, a stale version) are the action layer's errors,
    # answered by renkei.api's handler with their status.
    actions.update_facility(f, by=membership, data=payload, request=request)
    f.refresh_from_db()
    return Status(200, facility_out(f, True))


@router.get("/capabilities", response=list[CapabilityOut], auth=None, summary="処置項目の一覧")
def list_capabilities(request: HttpRequest) -> list[Capability]:
    return list(Capability.objects.all())


@router.get("/kinds", response=list[KindOut], auth=None, summary="施設種別の一覧")
def list_kinds(request: HttpRequest) -> list[dict[str, str]]:
    return [{"code": c, "name": n} for c, n in FacilityKind.choices]


@router.get("/areas", response=list[AreaOut], auth=None, summary="二次保健医療圏の一覧")
def list_areas(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {"id": a.pk, "name": a.name, "prefecture": a.prefecture.name}
        for a in SecondaryArea.objects.select_related("prefecture")
    ]


@router.get(
    "/municipalities",
    response={200: list[MunicipalityOut], 400: ErrorOut},
    auth=None,
    summary="市区町村の一覧",
)
def list_municipalities(
    request: HttpRequest,
    prefecture: Annotated[
        str, Field(pattern=r"^(\d{2})?$", description="都道府県コード（2桁）")
    ] = "",
    q: str = "",
) -> Status[Any]:
    """The prefecture's municipalities (two-digit code; HOME_PREFECTURE when not given)."""
    prefecture = prefecture or settings.HOME_PREFECTURE
    qs = Municipality.objects.filter(prefecture__code=prefecture).select_related(
        "prefecture", "secondary_area", "parent__secondary_area"
    )
    if q:
        qs = qs.filter(Q(name__contains=q) | Q(kana__contains=q))
    return Status(
        200,
        [
            {
                "code": m.code,
                "name": m.name,
                "kana": m.kana,
                "prefecture": m.prefecture.name,
                "area": m.area.name if m.area else None,
            }
            for m in qs
        ],
    )
